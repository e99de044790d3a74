"""The constant tables of a SpeechSpec, built element by element with Python's ``math`` (the platform's
libm, as in C) in the formulas and operation order of lgrin_frontend_init, so numpy and C start from the
same bits."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from .mel import triangles
from .spec import SpeechSpec

TWO_PI = 2.0 * math.pi


@dataclass(frozen=True)
class Tables:
    hamming: np.ndarray  # (frame_length,)
    hann: np.ndarray  # (pitch_length,)
    mel: np.ndarray  # (fft_size // 2 + 1, bands): triangle weights per FFT bin
    dct: np.ndarray  # (cepstra, bands): sqrt(2/M) cos(pi k (j + 0.5) / M), k = 1..cepstra
    lifter: np.ndarray  # (cepstra,)
    octave: np.ndarray  # (longest lag + 2,): octave_cost * log2(f0_min tau / rate), 0 outside the range
    window_ac: np.ndarray  # (longest lag + 2,): the Hann window's autocorrelation / its value at lag 0
    window_energy: float  # that value at lag 0, sum of the squared window


@functools.lru_cache(maxsize=8)
def tables(spec: SpeechSpec) -> Tables:
    n, npitch = spec.frame_length, spec.pitch_length
    hamming = np.array([0.54 - 0.46 * math.cos(TWO_PI * i / (n - 1)) for i in range(n)])
    hann = np.array([0.5 - 0.5 * math.cos(TWO_PI * i / (npitch - 1)) for i in range(npitch)])
    mel = triangles(spec.sample_rate, spec.fft_size, spec.mel_bands, spec.mel_low_hz, spec.mel_high_hz)
    bands = spec.mel_bands
    dct = np.array(
        [
            [math.sqrt(2.0 / bands) * math.cos(math.pi * k * (j + 0.5) / bands) for j in range(bands)]
            for k in range(1, spec.cepstra + 1)
        ]
    )
    lift = spec.lifter
    lifter = np.array(
        [
            1.0 + lift / 2.0 * math.sin(math.pi * k / lift) if lift > 0 else 1.0
            for k in range(1, spec.cepstra + 1)
        ]
    )
    tmin, tmax = spec.lag_range
    octave = np.zeros(tmax + 2)
    for tau in range(tmin, tmax + 1):
        octave[tau] = spec.octave_cost * math.log2(spec.f0_min_hz * tau / spec.sample_rate)
    window_ac = autocorrelation(hann[None, :], spec.pitch_fft_size, tmax + 2)[0]
    return Tables(hamming, hann, mel, dct, lifter, octave, window_ac / window_ac[0], float(window_ac[0]))


def autocorrelation(x: np.ndarray, nfft: int, lags: int) -> np.ndarray:
    """The rows' autocorrelation at lags 0..lags-1: the inverse FFT of the zero-padded rows' power
    spectrum (Wiener-Khinchin; Boersma 1993 computes it so)."""
    spectrum = np.fft.rfft(x, n=nfft, axis=-1)
    return np.fft.irfft(spectrum.real**2 + spectrum.imag**2, n=nfft, axis=-1)[..., :lags]
