"""Rational-ratio resampling to the spec's rate by a windowed-sinc polyphase FIR, streaming.

Output sample n sits at input time t = n M / L (L / M = out_rate / in_rate in lowest terms) and is
y[n] = sum_k x[k] h(t - k), the ideal band-limited interpolation (Shannon; Smith & Gossett 1984) with
h(tau) = fc sinc(fc tau) w(tau / W): cutoff fc = resample_cutoff x min(1, L / M) in cycles per two input
samples, Kaiser window w(u) = I0(beta sqrt(1 - u^2)) / I0(beta) (Kaiser 1974) over a half-width W of
resample_zero_crossings samples of the lower rate. Input before the first and after the last sample is
zero; a stream of N samples gives ceil(N L / M) outputs. With the defaults, from 44.1 or 48 kHz: flat to
6 kHz, -3.5 dB at 7 kHz, -6 dB at 7.2 kHz, below -85 dB from 8 kHz on. The taps are tabulated once per phase
p = n M mod L; each output sums its K taps left to right, as the C loop does, so both agree bit for bit.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from lgrin_edge.cli import UserError

from .spec import MAX_PHASES, SpeechSpec


def ratio(in_rate: int, out_rate: int) -> tuple[int, int]:
    """(L, M) with L / M = out_rate / in_rate in lowest terms; UserError for rates this cannot take."""
    if not isinstance(in_rate, int) or not 1 <= in_rate <= 192000:
        raise UserError(f"sample rate {in_rate!r} Hz: expected a whole number of Hz in 1..192000")
    g = math.gcd(in_rate, out_rate)
    up, down = out_rate // g, in_rate // g
    if up > MAX_PHASES:
        raise UserError(
            f"sample rate {in_rate} Hz: resampling to {out_rate} Hz needs {up} polyphase filters, more than "
            f"{MAX_PHASES}; resample the audio to a common rate (8, 16, 22.05, 44.1, 48 kHz) first"
        )
    return up, down


def _bessel_i0(x: float) -> float:
    """Modified Bessel function of order 0 by its power series, a fixed 50 terms (as in C)."""
    half, term, total = x / 2.0, 1.0, 1.0
    for k in range(1, 51):
        f = half / k
        term = term * f * f
        total = total + term
    return total


@functools.lru_cache(maxsize=8)
def taps(in_rate: int, spec: SpeechSpec) -> np.ndarray:
    """(L, K) table: row p holds h(p / L + K/2 - 1 - j) for j < K, the weights of inputs
    floor(t) - K/2 + 1 + j."""
    up, down = ratio(in_rate, spec.sample_rate)
    zc = spec.resample_zero_crossings
    # half-width in input samples, W = zc / min(1, L / M), and K = 2 ceil(W) taps per phase
    half_taps = zc if up >= down else (zc * down + up - 1) // up
    width = zc if up >= down else zc * down / up
    fc = spec.resample_cutoff * (1.0 if up >= down else up / down)
    beta = spec.resample_kaiser_beta
    i0_beta = _bessel_i0(beta)
    table = np.zeros((up, 2 * half_taps))
    for p in range(up):
        for j in range(2 * half_taps):
            tau = p / up + (half_taps - 1 - j)
            u = tau / width
            if u * u >= 1.0:
                continue
            arg = math.pi * fc * tau
            sinc = 1.0 if tau == 0 else math.sin(arg) / arg
            table[p, j] = fc * sinc * (_bessel_i0(beta * math.sqrt(1.0 - u * u)) / i0_beta)
    return table


class Resampler:
    """Streaming resampler from ``in_rate`` to ``spec.sample_rate``: push(x) returns the outputs whose
    inputs have all arrived, flush() the rest (inputs past the end taken as zero)."""

    def __init__(self, in_rate: int, spec: SpeechSpec) -> None:
        self.up, self.down = ratio(in_rate, spec.sample_rate)
        self.taps = taps(in_rate, spec)
        self.half = self.taps.shape[1] // 2
        self._tail = np.zeros(self.taps.shape[1])  # inputs from index _base on (zeros before the start)
        self._base = -self.taps.shape[1]
        self._received = 0
        self._next = 0  # index of the next output

    def push(self, x: np.ndarray) -> np.ndarray:
        self._tail = np.concatenate([self._tail, np.asarray(x, np.float64)])
        self._received += len(x)
        # output n needs inputs up to floor(n M / L) + K/2
        ready = max(0, ((self._received - self.half) * self.up - 1) // self.down + 1)
        return self._emit(ready)

    def flush(self) -> np.ndarray:
        self._tail = np.concatenate([self._tail, np.zeros(self.half + 1)])
        return self._emit(-(-self._received * self.up // self.down))

    def _emit(self, end: int) -> np.ndarray:
        blocks = [
            self._block(n)
            for n in np.array_split(np.arange(self._next, max(end, self._next)), _blocks(end - self._next))
        ]
        self._next = max(end, self._next)
        keep = self._next * self.down // self.up - self.half + 1  # first input the next output reads
        self._tail = self._tail[keep - self._base :]
        self._base = keep
        return np.concatenate(blocks) if blocks else np.zeros(0)

    def _block(self, n: np.ndarray) -> np.ndarray:
        q, p = n * self.down // self.up, n * self.down % self.up
        start = q - self.half + 1 - self._base
        out = np.zeros(len(n))
        for j in range(self.taps.shape[1]):  # tap by tap: each output's sum runs left to right, as in C
            out = out + self._tail[start + j] * self.taps[p, j]
        return out


def _blocks(n: int, size: int = 1 << 16) -> int:
    """How many blocks of at most ``size`` outputs (bounds the gather's memory on long inputs)."""
    return max(1, -(-n // size))
