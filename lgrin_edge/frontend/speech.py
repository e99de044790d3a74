"""The lgrin-speech front-end in numpy: PCM -> (T, P) float32 frames, whole or streaming.

Frame t covers samples [t hop, t hop + frame_length) of the signal at the spec's rate (resampled first
when another rate comes in); only whole frames exist (the last partial one is dropped). Per frame:
- rms: sqrt(mean x^2) of the raw frame (short-time energy, Rabiner & Schafer);
- zcr: sign changes between neighbours (x >= 0 counts as positive) / frame_length (Rabiner & Schafer);
- mfcc k: pre-emphasis, Hamming window, power spectrum |FFT|^2 (fft_size), mel triangles, natural log
  with the spec's floor, orthonormal DCT-II, HTK lifter (Davis & Mermelstein 1980; The HTK Book);
  logmel k: the log mel energies themselves;
- voicing, f0, hnr: Boersma (1993): the pitch window (Hann, pitch_length, same centre as the frame,
  zeros outside the signal) minus its mean; its autocorrelation by FFT, normalised at lag 0 and divided
  by the window's own normalised autocorrelation: r(lag). A parabola through each local maximum at lags
  rate/f0_max..rate/f0_min and its neighbours gives the peak's lag and r; the chosen peak has the
  largest r - octave_cost log2(f0_min lag / rate) (the lag's whole samples in the cost). voicing = r
  clipped to [0, 1]; f0 = rate / lag when voicing >= voicing_threshold, else 0; hnr = 10 log10(r / (1 - r))
  with r clipped to [hnr_r_eps, 1 - hnr_r_eps]. A window whose windowed RMS is below silence_rms has r = 0.
Then the HTK delta regression of every descriptor (:func:`deltas`), the first and last frames replicated.
All in float64; the frames are rounded to float32 at the end. export/src/lgrin_frontend.c computes the
same, in the same order where a decision depends on it.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from lgrin_edge.cli import UserError

from .resample import Resampler, ratio
from .spec import SpeechSpec
from .tables import Tables, autocorrelation, tables

_BLOCK = 512  # frames analysed at once (bounds the memory of a long signal)


def frames(signal: np.ndarray, rate: int, spec: SpeechSpec | None = None) -> np.ndarray:
    """(T, P) float32 frames of a whole mono signal (float samples in [-1, 1], or int16)."""
    stream = Stream(rate, spec)
    return np.concatenate([stream.push(signal), stream.flush()])


class Stream:
    """Push samples in chunks of any size, then flush: the frames are those of :func:`frames` on the
    whole signal however it is cut (no frame's arithmetic depends on the cut). A frame comes out once the
    end of its pitch window and delta_window more hops have arrived."""

    def __init__(self, rate: int, spec: SpeechSpec | None = None) -> None:
        self.spec = spec = spec or SpeechSpec()
        ratio(rate, spec.sample_rate)  # a rate it cannot take fails here, before any sample
        self.rate = rate
        self._tables: Tables = tables(spec)
        self._resampler = None if rate == spec.sample_rate else Resampler(rate, spec)
        lo, _ = spec.context
        self._buf = np.zeros(-lo)  # the signal from index _buf_start on; zeros before its start
        self._buf_start = lo
        self._received = 0  # samples at the spec's rate
        self._next_frame = 0
        self._lld = np.zeros((0, len(spec.descriptors)))  # rows the next deltas read (edge-padded)
        self._seen = False
        self._flushed = False

    def push(self, pcm: np.ndarray) -> np.ndarray:
        """The frames that became complete, (k, P) float32."""
        x = samples(pcm)
        if self._flushed:
            raise UserError("push after flush: start a new Stream")
        y = self._resampler.push(x) if self._resampler else x
        return self._advance(y, final=False)

    def flush(self) -> np.ndarray:
        """The remaining frames: zeros pad the signal's end, the last frame is replicated for the deltas."""
        if self._flushed:
            return np.zeros((0, self.spec.width), np.float32)
        y = self._resampler.flush() if self._resampler else np.zeros(0)
        self._flushed = True
        return self._advance(y, final=True)

    def _advance(self, y: np.ndarray, final: bool) -> np.ndarray:
        spec = self.spec
        hop, lo, hi = spec.hop, *spec.context
        self._buf = np.concatenate([self._buf, y])
        self._received += len(y)
        if final:  # every whole frame, its pitch window padded with zeros past the end
            last = (self._received - spec.frame_length) // hop
            self._buf = np.concatenate(
                [self._buf, np.zeros(max(0, last * hop + hi - self._buf_start - len(self._buf)))]
            )
        else:
            last = (self._received - hi) // hop
        starts = np.arange(self._next_frame, last + 1) * hop + lo - self._buf_start
        lld = []
        if len(starts):
            windows = sliding_window_view(self._buf, hi - lo)
            lld = [
                analyse(windows[s], spec, self._tables)
                for s in np.array_split(starts, -(-len(starts) // _BLOCK))
            ]
        self._next_frame = max(self._next_frame, last + 1)
        drop = self._next_frame * hop + lo - self._buf_start
        self._buf, self._buf_start = self._buf[drop:], self._buf_start + drop
        return self._emit(np.concatenate([self._lld[:0], *lld]), final)

    def _emit(self, lld: np.ndarray, final: bool) -> np.ndarray:
        w = self.spec.delta_window
        if len(lld) and not self._seen:
            lld = np.concatenate([np.repeat(lld[:1], w, axis=0), lld])
            self._seen = True
        rows = np.concatenate([self._lld, lld])
        if final and self._seen:
            rows = np.concatenate([rows, np.repeat(rows[-1:], w, axis=0)])
        count = max(0, len(rows) - 2 * w)
        self._lld = rows[count:]
        out = np.concatenate([rows[w : w + count], deltas(rows[: count + 2 * w], w)], axis=1)
        return out.astype(np.float32)


def samples(pcm: np.ndarray) -> np.ndarray:
    """float64 samples of a 1-D int16 (/ 32768) or float (rounded to float32 first, as C takes them)
    array; UserError for anything else."""
    x = np.asarray(pcm)
    if x.ndim != 1:
        raise UserError(f"expected a 1-D mono signal, got shape {x.shape}")
    if x.dtype == np.int16:
        return x.astype(np.float64) / 32768.0
    if not np.issubdtype(x.dtype, np.floating):
        raise UserError(f"expected int16 or float samples, got {x.dtype}")
    x = x.astype(np.float32).astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(x))
    if len(bad):
        raise UserError(f"the signal holds {len(bad)} NaN or infinite samples (first at sample {bad[0]})")
    return x


def deltas(rows: np.ndarray, window: int) -> np.ndarray:
    """HTK delta regression (The HTK Book, sec. 5.9): d_t = sum_k k (c_{t+k} - c_{t-k}) / (2 sum_k k^2),
    k = 1..window, for every row that has ``window`` rows on both sides."""
    count = max(0, len(rows) - 2 * window)
    acc = np.zeros((count, rows.shape[1]))
    for k in range(1, window + 1):
        acc = acc + k * (rows[window + k : window + k + count] - rows[window - k : window - k + count])
    return acc / (2 * sum(k * k for k in range(1, window + 1)))


def analyse(seg: np.ndarray, spec: SpeechSpec, tab: Tables) -> np.ndarray:
    """The descriptors (T, D) of the frames whose context (spec.context) the rows of ``seg`` hold."""
    lo, _ = spec.context
    n = spec.frame_length
    x = seg[:, -lo : -lo + n]
    sign = x >= 0
    values = {
        "rms": np.sqrt(np.sum(x * x, axis=1) / n),
        "zcr": np.count_nonzero(sign[:, 1:] != sign[:, :-1], axis=1) / n,
    }
    emphasised = (x - spec.preemphasis * seg[:, -lo - 1 : -lo - 1 + n]) * tab.hamming
    spectrum = np.fft.rfft(emphasised, n=spec.fft_size, axis=1)
    logmel = np.log(np.maximum((spectrum.real**2 + spectrum.imag**2) @ tab.mel, spec.log_floor))
    mfcc = (logmel @ tab.dct.T) * tab.lifter
    values |= {f"logmel{k + 1}": logmel[:, k] for k in range(spec.mel_bands)}
    values |= {f"mfcc{k + 1}": mfcc[:, k] for k in range(spec.cepstra)}
    if spec.needs_pitch:
        start = spec.pitch_offset - lo
        values |= pitch(seg[:, start : start + spec.pitch_length], spec, tab)
    return np.stack([values[d] for d in spec.descriptors], axis=1).astype(np.float64)


def pitch(x: np.ndarray, spec: SpeechSpec, tab: Tables) -> dict[str, np.ndarray]:
    """voicing, f0 and hnr of pitch windows (T, pitch_length) (Boersma 1993; see the module text)."""
    tmin, tmax = spec.lag_range
    windowed = (x - np.mean(x, axis=1, keepdims=True)) * tab.hann
    ac = autocorrelation(windowed, spec.pitch_fft_size, tmax + 2)
    energy = ac[:, 0]
    silent = ~(energy > 0) | (energy / tab.window_energy < spec.silence_rms * spec.silence_rms)
    r = ac / np.where(silent, 1.0, energy)[:, None] / tab.window_ac
    left, mid, right = r[:, tmin - 1 : tmax], r[:, tmin : tmax + 1], r[:, tmin + 1 : tmax + 2]
    is_peak = (mid >= left) & (mid > right)
    # parabolic interpolation through each peak and its neighbours: the lag shift and the peak's value
    den = left - 2.0 * mid + right
    shift = np.where(den < 0, 0.5 * (left - right) / np.where(den < 0, den, -1.0), 0.0)
    value = mid - 0.25 * (left - right) * shift
    best = np.argmax(np.where(is_peak, value - tab.octave[tmin : tmax + 1], -np.inf), axis=1)
    found = is_peak.any(axis=1) & ~silent
    rows = np.arange(len(x))
    peak = np.where(found, value[rows, best], 0.0)
    lag = tmin + best + shift[rows, best]
    voicing = np.clip(peak, 0.0, 1.0)
    voiced = found & (voicing >= spec.voicing_threshold)
    f0 = np.where(voiced, spec.sample_rate / lag, 0.0)
    clipped = np.clip(peak, spec.hnr_r_eps, 1.0 - spec.hnr_r_eps)
    return {"voicing": voicing, "f0": f0, "hnr": 10.0 * np.log10(clipped / (1.0 - clipped))}
