#!/usr/bin/env python3
"""Recorded streams and small models for the live modes' desktop check (android_demo/ci.sh):

    python android_demo/tests/make_live_inputs.py OUT

writes into OUT
- speech.lgrn: an int8 L-GrIN of random weights over the lgrin-speech front-end's frames (16 kHz, two
  classes), and tones.wav: 3.2 s of 16-bit PCM at 16 kHz, a low and a high tone taking turns, with noise;
- motion.lgrn: an int8 L-GrIN of random weights over BasicMotions' six channels (accelerometer x, y, z,
  gyroscope x, y, z at 10 frames/s, four classes), and motion.csv: 12 s of samples 15 to 25 ms apart (a
  phone's sensor rate), times in whole nanoseconds as SensorEvent.timestamp gives them.
The weights are random: the check is that the app's Java path and lgrin_live print the same timeline, not
what the labels are.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from lgrin_edge.deploy.folded import FoldedLGrIN
from lgrin_edge.export.c_runtime import encode_model
from lgrin_edge.frontend import SpeechSpec, wav
from lgrin_edge.spec import FeatureSpec, Named, speech_frontend_spec

MOTION_CHANNELS = [f"{s}_{a}" for s in ("accelerometer", "gyroscope") for a in "xyz"]


def random_model(m: int, p: int, c: int, seed: int, spec: FeatureSpec) -> bytes:
    """An int8 model file of random weights, calibrated on random inputs, carrying ``spec``."""
    model, mean, std = FoldedLGrIN.random(m, p, c, eta=(8, 4), L=2, seed=seed)
    cal = (mean + std * np.random.default_rng(seed).normal(size=(32, m, p))).astype(np.float32)
    return encode_model(model, cal, feature_spec=spec.to_json())


def speech(out: Path) -> None:
    front = SpeechSpec()
    spec = speech_frontend_spec(front.to_dict(), ["low", "high"]).for_run(40, "resample", ["low", "high"])
    (out / "speech.lgrn").write_bytes(random_model(40, spec.num_features, 2, 3, spec))
    rate = 16000
    t = np.arange(int(3.2 * rate)) / rate
    tone = np.where((t // 0.4) % 2 == 0, np.sin(2 * np.pi * 150 * t), np.sin(2 * np.pi * 750 * t))
    noise = np.random.default_rng(4).normal(size=len(t))
    wav.write(out / "tones.wav", (0.3 * 32767 * tone + 300 * noise).astype(np.int16), rate)


def motion(out: Path) -> None:
    channels = tuple(Named(n, "m/s²" if n.startswith("acc") else "rad/s") for n in MOTION_CHANNELS)
    spec = FeatureSpec(
        extractor_id="phone-sensors",
        extractor_version="1",
        params={},
        features=channels,
        input_kind="motion",
        sample_rate_hz=50,
        channels=channels,
        frame_rate_hz=10,
    ).for_run(20, "resample", ["standing", "walking", "running", "badminton"])
    (out / "motion.lgrn").write_bytes(random_model(20, 6, 4, 5, spec))
    rng = np.random.default_rng(6)
    nanos = 1_000_000_000 + np.cumsum(rng.integers(15_000_000, 25_000_001, 600))
    t = nanos / 1e9
    values = np.stack([np.sin(t * (1 + k)) * (9.8 if k < 3 else 1.0) for k in range(6)], 1)
    values += 0.1 * rng.normal(size=values.shape)
    rows = [
        f"{n // 10**9}.{n % 10**9:09d}," + ",".join(f"{v:.5f}" for v in row)
        for n, row in zip(nanos, values, strict=True)
    ]
    (out / "motion.csv").write_text("time," + ",".join(MOTION_CHANNELS) + "\n" + "\n".join(rows) + "\n")


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    speech(out)
    motion(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
