"""The polyphase resampler: lengths, gain, the stop band, streaming, and the rates it refuses."""

from __future__ import annotations

import numpy as np
import pytest

from lgrin_edge.cli import UserError
from lgrin_edge.frontend.resample import Resampler, ratio
from lgrin_edge.frontend.spec import SpeechSpec


def _whole(x: np.ndarray, rate: int) -> np.ndarray:
    r = Resampler(rate, SpeechSpec())
    return np.concatenate([r.push(x), r.flush()])


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 44100, 48000])
def test_length_gain_and_passband(rate):
    n = rate // 2 + 7
    t = np.arange(n) / rate
    y = _whole(np.sin(2 * np.pi * 1000.0 * t), rate)
    up, down = ratio(rate, 16000)
    assert len(y) == -(-n * up // down)
    t16 = np.arange(len(y)) / 16000
    middle = slice(200, len(y) - 200)  # away from the zero padding at both ends
    assert np.max(np.abs(y[middle] - np.sin(2 * np.pi * 1000.0 * t16[middle]))) < 2e-3
    assert np.allclose(_whole(np.ones(n), rate)[middle], 1.0, atol=2e-3)


@pytest.mark.parametrize("rate", [44100, 48000])
def test_stop_band(rate):
    """A tone above the output's Nyquist frequency (8 kHz) is removed, not folded back."""
    t = np.arange(rate) / rate
    y = _whole(np.sin(2 * np.pi * 9000.0 * t), rate)
    assert np.sqrt(np.mean(y[400:-400] ** 2)) < 1e-4  # -77 dB of the tone's RMS (measured: below -90 dB)


def test_chunks_do_not_change_the_output():
    x = np.random.default_rng(0).standard_normal(20000)
    whole = _whole(x, 44100)
    r, parts, at = Resampler(44100, SpeechSpec()), [], 0
    for size in np.random.default_rng(1).integers(0, 700, 100):
        parts.append(r.push(x[at : at + size]))
        at += size
    parts += [r.push(x[at:]), r.flush()]
    assert np.array_equal(np.concatenate(parts), whole)


@pytest.mark.parametrize(("rate", "message"), [(16001, "polyphase filters"), (0, "1..192000")])
def test_rates_it_cannot_take(rate, message):
    with pytest.raises(UserError, match=message):
        ratio(rate, 16000)
