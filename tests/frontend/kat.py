"""Known answers of the lgrin-speech front-end, in export/tests/data/frontend/: a synthetic signal
(silence, a voiced glide with a DC offset, noise, a clipped tone) as a 16 kHz int16 WAV and a 22.05 kHz
float WAV, and numpy's frames of each (float32, frames x P). ``python -m tests.frontend.kat`` rewrites
them; the ctest (lgrin_frontend --check) and tests/frontend read them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lgrin_edge.atomic import write_bytes
from lgrin_edge.export.tolerances import FRONTEND_KAT as KAT
from lgrin_edge.frontend import SpeechSpec, frames, wav

DATA = Path(__file__).resolve().parents[2] / "export" / "tests" / "data" / "frontend"
LIST = DATA / "kat.txt"
# (file, rate, seconds, sample type)
CASES = (("kat_16k.wav", 16000, 0.45, np.int16), ("kat_22k.wav", 22050, 0.3, np.float32))
# no frame's voicing this close to the threshold, so no platform's rounding can flip a decision
MARGIN = 0.02


def signal(rate: int, seconds: float) -> np.ndarray:
    """The test signal in [-1, 1] at ``rate``."""
    n = round(rate * seconds)
    t = np.arange(n) / rate
    x = np.zeros(n)
    voiced = (t >= 0.05) & (t < 0.18)
    f0 = 140.0 + 50.0 * (t - 0.05) / 0.13  # a glide 140 -> 190 Hz
    phase = 2 * np.pi * np.cumsum(np.where(voiced, f0, 0.0)) / rate
    for k in range(1, 21):  # a sawtooth's harmonics below 0.45 rate
        x += np.where(voiced & (k * f0 < 0.45 * rate), 0.3 / k * np.sin(k * phase), 0.0)
    x += np.where(voiced, 0.05, 0.0)
    state, noise = 12345, np.zeros(n)
    for i in range(n):  # a fixed linear congruential generator: the same numbers everywhere
        state = (1103515245 * state + 12345) % 2**31
        noise[i] = state / 2**31 - 0.5
    x += np.where((t >= 0.18) & (t < 0.24), 0.2 * noise, 0.0)
    x += np.where(t >= 0.24, np.clip(0.9 * np.sin(2 * np.pi * 300.0 * t), -0.5, 0.5), 0.0)
    return x


def write_all() -> None:
    lines = ["# lgrin-speech known answers (tests/frontend/kat.py): WAV EXPECTED.f32 FRAMES P TOLERANCE"]
    spec = SpeechSpec()
    for name, rate, seconds, dtype in CASES:
        x = signal(rate, seconds)
        samples = np.round(x * 32767).astype(np.int16) if dtype == np.int16 else x.astype(np.float32)
        wav.write(DATA / name, samples, rate)
        got, _ = wav.read(DATA / name)
        result = frames(got, rate, spec)
        voicing = result[:, spec.descriptors.index("voicing")]
        close = np.abs(voicing - spec.voicing_threshold) < MARGIN
        if close.any():
            raise SystemExit(f"{name}: frames {np.flatnonzero(close)} have voicing near the threshold")
        expected = name.replace(".wav", ".f32")
        write_bytes(DATA / expected, result.astype("<f4").tobytes())
        lines.append(f"{name} {expected} {result.shape[0]} {result.shape[1]} {KAT:g}")
    write_bytes(LIST, ("\n".join(lines) + "\n").encode())


def cases() -> list[tuple[Path, Path, int, int, float]]:
    """(wav, expected frames, frames, P, tolerance) of each line of kat.txt."""
    out = []
    for line in LIST.read_text().splitlines():
        if line and not line.startswith("#"):
            w, f, t, p, tol = line.split()
            out.append((DATA / w, DATA / f, int(t), int(p), float(tol)))
    return out


if __name__ == "__main__":
    write_all()
    print(LIST.read_text(), end="")
