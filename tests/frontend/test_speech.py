"""The numpy front-end: known answers on synthetic signals, the frame grid, streaming, input checks, and
the stored known answers (export/tests/data/frontend)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft

from lgrin_edge.cli import UserError
from lgrin_edge.frontend import SpeechSpec, Stream, frames, wav
from lgrin_edge.frontend.speech import deltas
from tests.frontend import kat

RATE = 16000
SPEC = SpeechSpec.preset("lld16+hnr")
COL = {name: i for i, name in enumerate(SPEC.names)}


def _sawtooth(f0: float, seconds: float = 1.0, rate: int = RATE) -> np.ndarray:
    """The naive digital sawtooth (its sampled edges repeat exactly only when rate / f0 is whole)."""
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * (2 * ((f0 * t) % 1) - 1)).astype(np.float32)


def _band_limited_sawtooth(f0: float, rate: int = RATE) -> np.ndarray:
    """Its harmonics below 7.9 kHz: periodic at any f0."""
    t = np.arange(rate) / rate
    return (sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, int(7900 / f0) + 1)) / np.pi).astype(
        np.float32
    )


def test_200_hz_sawtooth_gives_its_f0_and_high_voicing():
    out = frames(_sawtooth(200.0), RATE, SPEC)[3:-3]  # the pitch window is all signal from frame 3 on
    assert np.max(np.abs(out[:, COL["f0"]] - 200.0)) < 1.0
    assert np.min(out[:, COL["voicing"]]) > 0.9 and np.min(out[:, COL["hnr"]]) > 9.5


@pytest.mark.parametrize("f0", [52.0, 80.0, 120.0, 350.0, 497.0])
def test_f0_range(f0):
    out = frames(_band_limited_sawtooth(f0), RATE, SPEC)[3:-3]
    assert np.max(np.abs(out[:, COL["f0"]] - f0)) < 1.0
    assert np.min(out[:, COL["voicing"]]) > 0.95


def test_sawtooth_at_another_rate():
    out = frames(_sawtooth(200.0, rate=44100), 44100, SPEC)[3:-3]
    assert np.max(np.abs(out[:, COL["f0"]] - 200.0)) < 1.0


def test_white_noise_is_unvoiced():
    out = frames(np.random.default_rng(0).normal(0, 0.1, RATE).astype(np.float32), RATE, SPEC)
    assert np.mean(out[:, COL["voicing"]]) < 0.3 and np.mean(out[:, COL["f0"]] > 0) < 0.05
    assert abs(np.mean(out[:, COL["zcr"]]) - 0.5) < 0.05  # a sign change every other sample


def test_silence_is_finite_and_defined():
    out = frames(np.zeros(RATE, np.int16), RATE, SPEC)
    assert np.isfinite(out).all()
    for name in ("rms", "zcr", "voicing", "f0", "rms_de", "f0_de"):
        assert np.all(out[:, COL[name]] == 0)
    assert np.allclose(out[:, COL["hnr"]], 10 * np.log10(SPEC.hnr_r_eps / (1 - SPEC.hnr_r_eps)))
    assert np.max(np.abs(out[:, COL["mfcc1"] : COL["mfcc12"] + 1])) < 1e-9  # the DCT of a constant
    logmel = frames(np.zeros(RATE, np.float32), RATE, SpeechSpec.preset("logmel"))[:, :26]
    assert np.allclose(logmel, np.log(SPEC.log_floor))


def test_mfcc_is_the_lifted_orthonormal_dct_of_the_log_mel_energies():
    x = np.random.default_rng(1).normal(0, 0.1, 8000).astype(np.float32)
    logmel = frames(x, RATE, SpeechSpec.preset("logmel"))[:, :26].astype(np.float64)
    mfcc = frames(x, RATE)[:, 4:16]
    k = np.arange(1, 13)
    expect = scipy.fft.dct(logmel, type=2, norm="ortho", axis=1)[:, 1:13] * (1 + 11 * np.sin(np.pi * k / 22))
    assert np.allclose(mfcc, expect, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize(("n", "count"), [(0, 0), (399, 0), (400, 1), (559, 1), (560, 2), (16000, 98)])
def test_frame_grid(n, count):
    """Only whole frames: T = 1 + (N - 400) // 160."""
    assert frames(np.zeros(n, np.float32), RATE).shape == (count, 32)


def test_deltas_follow_the_htk_regression():
    ramp = np.arange(10.0)[:, None]
    padded = np.concatenate([np.repeat(ramp[:1], 2, 0), ramp, np.repeat(ramp[-1:], 2, 0)])
    d = deltas(padded, 2)[:, 0]
    assert np.allclose(d[2:-2], 1.0)  # slope 1 inside
    assert np.allclose(
        d[[0, 1, -2, -1]], [0.5, 0.8, 0.8, 0.5]
    )  # (1*1 + 2*2) / 10 etc. at the replicated edges


@pytest.mark.parametrize("rate", [16000, 44100, 8000])
@pytest.mark.parametrize("dtype", [np.float32, np.int16])
def test_chunks_give_the_frames_of_the_whole_signal(rate, dtype):
    rng = np.random.default_rng(rate)
    x = rng.normal(0, 3000, 3 * rate + 17).astype(dtype)
    if dtype == np.float32:
        x = x / np.float32(32768)
    whole = frames(x, rate, SPEC)
    stream, parts, at = Stream(rate, SPEC), [], 0
    for size in [0, 1, 2, 159, 160, 161, *rng.integers(0, 5000, 40)]:
        parts.append(stream.push(x[at : at + size]))
        at += size
    parts += [stream.push(x[at:]), stream.flush(), stream.flush()]
    assert np.array_equal(np.concatenate(parts), whole)


@pytest.mark.parametrize(
    ("signal", "message"),
    [
        (np.array([0.0, np.nan]), "NaN or infinite"),
        (np.zeros((2, 100), np.float32), "1-D mono"),
        (np.zeros(100, np.int32), "int16 or float"),
    ],
)
def test_bad_signals(signal, message):
    with pytest.raises(UserError, match=message):
        frames(signal, RATE)


def test_push_after_flush():
    stream = Stream(RATE)
    stream.flush()
    with pytest.raises(UserError, match="push after flush"):
        stream.push(np.zeros(10, np.float32))


@pytest.mark.parametrize("case", kat.cases(), ids=lambda c: c[0].name)
def test_known_answers(case):
    path, expected, count, width, tolerance = case
    samples, rate = wav.read(path)
    got = frames(samples, rate)
    want = np.fromfile(expected, "<f4").reshape(count, width)
    assert got.shape == want.shape
    assert np.all(np.abs(got - want) <= tolerance * (1 + np.abs(want)))
