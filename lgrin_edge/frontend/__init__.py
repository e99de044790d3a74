"""lgrin-speech: a speech front-end defined in :mod:`.spec` (every parameter of a frame of RMS energy,
zero-crossing rate, voicing, F0, MFCC 1-12, optionally HNR or log mel energies, and their deltas) and
computed alike in numpy (:mod:`.speech`) and C99 (export/include/lgrin_frontend.h, :mod:`.native`).

    frames(signal, rate)                          # (T, P) float32, P = 32 with the default spec
    s = Stream(rate); s.push(chunk) ...; s.flush()  # the same frames, streamed
    python -m lgrin_edge.frontend IN.wav --out OUT.npy [--spec SPEC.json]

A frame every 10 ms; frame t is out 37.5 ms after its 25 ms end (its 60 ms pitch window, then two hops
for the deltas). Input at other rates than 16 kHz is resampled first (:mod:`.resample`).
"""

from .spec import DESCRIPTOR_SETS, SpeechSpec
from .speech import Stream, frames

__all__ = ["DESCRIPTOR_SETS", "SpeechSpec", "Stream", "frames"]
