"""The mel filterbank: triangles equally spaced on the HTK mel scale (Davis & Mermelstein 1980; Young
et al., The HTK Book), built element by element with Python's ``math`` in the order of mel_weight() in
lgrin_frontend.c."""

from __future__ import annotations

import functools
import math

import numpy as np


def hz_to_mel(f: float) -> float:
    """2595 log10(1 + f / 700)."""
    return 2595.0 * math.log10(1.0 + f / 700.0)


@functools.lru_cache(maxsize=8)
def triangles(rate: int, nfft: int, bands: int, low_hz: float, high_hz: float) -> np.ndarray:
    """(nfft // 2 + 1, bands) weights: unit-peak triangles from low_hz to high_hz, evaluated in mel at each
    FFT bin's frequency k rate / nfft (HTK's way). A band may hold no bin (SpeechSpec refuses that)."""
    lo, hi = hz_to_mel(low_hz), hz_to_mel(high_hz)
    centres = [lo + b * (hi - lo) / (bands + 1) for b in range(bands + 2)]
    bin_mel = [hz_to_mel(k * rate / nfft) for k in range(nfft // 2 + 1)]
    weights = np.zeros((nfft // 2 + 1, bands))
    for b in range(1, bands + 1):
        left, mid, right = centres[b - 1], centres[b], centres[b + 1]
        for k, m in enumerate(bin_mel):
            if left < m < mid:
                weights[k, b - 1] = (m - left) / (mid - left)
            elif mid <= m < right:
                weights[k, b - 1] = (right - m) / (right - mid)
    weights.flags.writeable = False
    return weights
