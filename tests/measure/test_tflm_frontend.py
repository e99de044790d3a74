"""TensorFlow Lite Micro's audio front-end as the benchmarks assemble it (lgrin_edge/measure/
tflm_frontend.py): its tables cover what they should, PCAN's gain table reads back as the gain curve, and
TFLite Micro runs the model to a log mel spectrum (a tone lands in its own channel)."""

import numpy as np
import pytest

from lgrin_edge.measure import tflm_frontend as tflm

OK, WHY = tflm.status()


def test_every_bin_of_the_band_is_in_one_region():
    bank = tflm.mel_bank()
    widths, starts = bank["widths"].astype(int), bank["freq_starts"].astype(int)
    assert widths.sum() == bank["end"] - bank["start"] == len(bank["weights"])
    filled = widths > 0
    assert np.array_equal(starts[filled][1:], (starts + widths)[filled][:-1])  # contiguous, in order
    assert np.all((bank["weights"] >= 0) & (bank["weights"] + bank["unweights"] == 1 << tflm.WEIGHT_BITS))


def test_pcan_table_reads_back_as_the_gain_curve():
    lut = tflm.pcan_lut().astype(np.int64)
    input_bits = tflm.SMOOTHING_BITS - tflm.CORRECTION_BITS

    def read(x: int) -> int:  # how the operator evaluates the table (documented in pcan_lut)
        if x <= 2:
            return int(lut[x])
        k = x.bit_length()
        a, b, c = lut[4 * k - 6 : 4 * k - 3]
        frac = ((x << (11 - k)) if k < 11 else (x >> (k - 11))) & 0x3FF
        return int(a + ((((c * frac) >> 5) + (b << 5)) * frac + (1 << 14) >> 15))

    for x in (0, 2, 3, 7, 100, 1000, 54321, 10**6, 2**31 + 12345):
        want = min(
            2**tflm.PCAN_GAIN_BITS * (x / 2**input_bits + tflm.PCAN_OFFSET) ** -tflm.PCAN_STRENGTH, 32767
        )
        assert read(x) == pytest.approx(want, rel=0.02, abs=2)  # a quadratic per octave


@pytest.mark.skipif(not OK, reason=f"TensorFlow Lite Micro's front-end cannot run here: {WHY}")
def test_a_tone_lands_in_its_channel_at_any_level():
    """PCAN is a gain control: a tone 34 dB louder comes out about as large, in the same channel."""
    fe = tflm.SignalFrontend()
    t = np.arange(tflm.RATE // 10) / tflm.RATE
    edges = np.linspace(tflm._mel(tflm.BAND_HZ[0]), tflm._mel(tflm.BAND_HZ[1]), tflm.CHANNELS + 2)
    nearest = int(np.argmin(np.abs(edges[1:-1] - tflm._mel(1000.0))))
    assert not fe.frames(np.zeros(len(t), np.int16)).any()
    peaks = []
    for amplitude in (0.01, 0.5):
        first = fe.frames(np.round(amplitude * 32767 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16))[0]
        assert abs(int(np.argmax(first)) - nearest) <= 1
        peaks.append(int(first.max()))
    assert peaks[0] > 0 and abs(peaks[1] - peaks[0]) < 0.2 * peaks[0]
