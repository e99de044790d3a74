"""Motion sensors -> model frames: accelerometer and gyroscope samples at any rate, with irregular
timestamps, become frames at the model's frame rate (BasicMotions: 10 Hz), whole or streaming.

The rule (export/include/lgrin_input.h computes the same, operation for operation in double):

- Each sample is mapped to the model's channels by a table of :class:`Axis` (source index, sign, scale):
  ``channel c = sign_c * (scale_c * value[source_c])``, which fixes the device's axis order, directions
  and units (e.g. g -> m/s^2 with :data:`STANDARD_GRAVITY`, deg/s -> rad/s with :data:`RAD_PER_DEG`).
- The signal is the piecewise-linear curve through the mapped samples (linear interpolation, the
  simplest reconstruction that needs no samples beyond the next one), held at the first sample's value
  before it. Equal timestamps make a step.
- Frame k is the mean of that curve over [t0 + k / rate, t0 + (k + 1) / rate), t0 the start (the first
  sample's time, or ``start``). The mean is a boxcar filter one frame long: response
  sinc(f / rate), so -0.9 dB at rate / 4, -3.9 dB at the frame rate's Nyquist frequency and zero at every
  multiple of the rate, where point sampling would fold a component straight onto 0 Hz. It is the
  integral of the samples weighted by the time each stands for (trapezoids), so jitter, a change of rate
  mid-stream or a short gap shifts nothing; a gap is bridged by the straight line, and one longer than
  ``max_gap`` is refused. A constant or a straight line comes through exactly; input sampled at 50, 100
  or 200 Hz gives the same frames to within the interpolation error.
- Frame k is out as soon as a sample at or after its end has arrived; a last partial frame never is.

Each segment between two samples is cut at the frame edges ``k / rate``; every piece adds
``(e - a) * 0.5 * (v(a) + v(e))`` to its frame's integral, ``v(t) = x0 + (x1 - x0) * ((t - u0) / (u1 - u0))``
(``x1`` itself at ``u1``); a frame's mean is its integral / (edge(k + 1) - edge(k)), rounded to float32.
Times are taken relative to t0 first.

BasicMotions' units are not published. Its accelerometer channels average about 0 while standing (so
gravity is removed: Android's linear acceleration, not the raw accelerometer), and its gyroscope
peaks at 34.87, 2000 deg/s in rad/s, a common full scale: m/s^2 and rad/s fit. About 11% of its
consecutive rows repeat in all six channels at once: its rows look like the latest sample of a stream
near 10 Hz taken at each tick, with no filter of its own.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from lgrin_edge.cli import UserError

MAX_CHANNELS = 16
MAX_RATE = 10000.0
MAX_SCALE = 1e6
MAX_SPAN = 2.0**52  # (time - start) x frame_rate stays below this, so frame edges k / rate are exact
STANDARD_GRAVITY = 9.80665  # m/s^2 per g
RAD_PER_DEG = 0.017453292519943295  # pi / 180


@dataclasses.dataclass(frozen=True)
class Axis:
    """Model channel = sign * (scale * device value ``source``)."""

    source: int
    sign: int = 1
    scale: float = 1.0


def identity(channels: int = 6) -> tuple[Axis, ...]:
    return tuple(Axis(c) for c in range(channels))


@dataclasses.dataclass(frozen=True)
class MotionSpec:
    """Every parameter of the motion rule; defaults: BasicMotions' 10 Hz, its 6 channels as they come."""

    frame_rate: float = 10.0
    in_channels: int = 6
    axes: tuple[Axis, ...] = identity()
    max_gap: float = 0.5  # seconds; 0: any gap is bridged
    start: float | None = None  # frame 0 starts here; None: at the first sample

    @property
    def channels(self) -> int:
        return len(self.axes)

    def problem(self) -> str | None:
        """What is wrong with this spec, in one line, or None (lgrin_motion_check's rules)."""
        if not 0 < self.frame_rate <= MAX_RATE:
            return f"frame_rate must lie in (0, {MAX_RATE:g}] Hz, got {self.frame_rate!r}"
        if not (np.isfinite(self.max_gap) and self.max_gap >= 0):
            return f"max_gap must be 0 (no limit) or a positive number of seconds, got {self.max_gap!r}"
        if self.start is not None and not np.isfinite(self.start):
            return f"start must be a finite time in seconds, got {self.start!r}"
        if not 1 <= self.in_channels <= MAX_CHANNELS or not 1 <= self.channels <= MAX_CHANNELS:
            return (
                f"1..{MAX_CHANNELS} input values and model channels, got {self.in_channels} and "
                f"{self.channels}"
            )
        for c, a in enumerate(self.axes):
            if not 0 <= a.source < self.in_channels:
                return f"axis {c}: source {a.source} is not one of the {self.in_channels} input values"
            if a.sign not in (1, -1):
                return f"axis {c}: sign must be 1 or -1, got {a.sign!r}"
            if not 0 < a.scale <= MAX_SCALE:
                return f"axis {c}: scale must lie in (0, {MAX_SCALE:g}], got {a.scale!r}"
        return None


def _edge(k: int, rate: float) -> float:
    """Start of frame k relative to t0 (one division, as in C)."""
    return float(k) / rate


def _ended_by(u: float, rate: float) -> int:
    """How many frames have ended by relative time u (lgrin_input.c: ended_by)."""
    if not u > 0:
        return 0
    j = int(u * rate)
    while j > 0 and _edge(j, rate) > u:
        j -= 1
    while _edge(j + 1, rate) <= u:
        j += 1
    return j


class Stream:
    """Push samples in chunks of any size; each push returns the frames that became complete, (k, C)
    float32. Chunking never changes the frames. A bad chunk raises :class:`UserError` and is not used."""

    def __init__(self, spec: MotionSpec | None = None) -> None:
        self.spec = spec = spec or MotionSpec()
        bad = spec.problem()
        if bad:
            raise UserError(f"motion spec: {bad}")
        self._source = np.array([a.source for a in spec.axes], np.int64)
        self._scale = np.array([a.scale for a in spec.axes], np.float64)
        self._negate = np.array([a.sign < 0 for a in spec.axes])
        self.reset()

    def reset(self) -> None:
        """Start a new stream with the same spec."""
        self._started = False
        self._t0 = 0.0 if self.spec.start is None else float(self.spec.start)
        self._u = 0.0  # the newest sample's time - t0
        self._x = np.zeros(self.spec.channels)  # the newest sample, mapped
        self._k = 0  # the frame being accumulated
        self._acc = np.zeros(self.spec.channels)  # integral from frame k's start to _u

    def map(self, values: np.ndarray) -> np.ndarray:
        """(n, in_channels) device values -> (n, C) float64 in the model's channels and units."""
        v = np.asarray(values, np.float32)[:, self._source].astype(np.float64) * self._scale
        return np.where(self._negate, -v, v)

    def max_frames(self, time: np.ndarray) -> int:
        """Exactly how many frames :meth:`push` of these timestamps returns."""
        t = self._check_times(time)
        if len(t) == 0:
            return 0
        return max(0, _ended_by(float(t[-1]) - self._chunk_t0(t), self.spec.frame_rate) - self._k)

    def push(self, time: np.ndarray, values: np.ndarray) -> np.ndarray:
        t = self._check_times(time)
        x = np.asarray(values)
        if len(t) == 0 and x.size == 0:
            return np.zeros((0, self.spec.channels), np.float32)
        if x.ndim != 2 or x.shape != (len(t), self.spec.in_channels):
            raise UserError(
                f"motion values must be (n, {self.spec.in_channels}) for {len(t)} timestamps, got {x.shape}"
            )
        mapped = self.map(x)
        if not np.isfinite(mapped).all():
            row = int(np.flatnonzero(~np.isfinite(mapped).all(axis=1))[0])
            raise UserError(f"motion sample {row} of the chunk holds NaN or infinity")
        out: list[np.ndarray] = []
        for i in range(len(t)):
            if not self._started:
                if self.spec.start is None:
                    self._t0 = float(t[0])
                u = float(t[i]) - self._t0
                self._u, self._x, self._started = u if u < 0.0 else 0.0, mapped[i], True
            self._segment(float(t[i]) - self._t0, mapped[i], out)
        return np.array(out, np.float32).reshape(len(out), self.spec.channels)

    def _chunk_t0(self, t: np.ndarray) -> float:
        return self._t0 if self._started or self.spec.start is not None else float(t[0])

    def _check_times(self, time: np.ndarray) -> np.ndarray:
        t = np.asarray(time, np.float64)
        if t.ndim != 1:
            raise UserError(f"motion timestamps must be one value per sample, got shape {t.shape}")
        if len(t) == 0:
            return t
        t0, prev, rate, gap = self._chunk_t0(t), self._u, self.spec.frame_rate, self.spec.max_gap
        for i, ti in enumerate(t.tolist()):
            u = ti - t0
            if not (np.isfinite(ti) and np.isfinite(u) and -MAX_SPAN < u * rate < MAX_SPAN):
                raise UserError(
                    f"motion timestamp {i} of the chunk is {ti!r}: not finite or too far from the start"
                )
            if i == 0 and not self._started:
                prev = u if u < 0.0 else 0.0  # the curve is held at the first value back to the start
            if u < prev:
                raise UserError(f"motion timestamp {i} of the chunk ({ti!r} s) is before the previous one")
            if gap > 0 and u - prev > gap:
                raise UserError(
                    f"motion samples {u - prev:.6g} s apart before timestamp {i} of the chunk, more than "
                    f"max_gap {gap:g} s: reset the stream"
                )
            prev = u
        return t

    def _segment(self, u1: float, x1: np.ndarray, out: list[np.ndarray]) -> None:
        """The segment from the newest sample to (u1, x1): completes every frame that ends by u1."""
        rate = self.spec.frame_rate
        # the larger, picked as C picks it (the same zero when both are zeros)
        a = self._u if self._u > _edge(self._k, rate) else _edge(self._k, rate)
        while _edge(self._k + 1, rate) <= u1:
            e = _edge(self._k + 1, rate)
            if e > a:
                self._piece(u1, x1, a, e)
            out.append(self._acc / (e - _edge(self._k, rate)))
            self._acc = np.zeros(self.spec.channels)
            self._k += 1
            a = e
        if u1 > a:
            self._piece(u1, x1, a, u1)
        self._u, self._x = u1, x1

    def _piece(self, u1: float, x1: np.ndarray, a: float, e: float) -> None:
        """Add the curve's integral over [a, e] of the segment (trapezoid; lgrin_input.c: add_piece)."""
        u0, x0 = self._u, self._x
        fa, fe = (a - u0) / (u1 - u0), (e - u0) / (u1 - u0)
        w = (e - a) * 0.5
        d = x1 - x0
        va = x0 + d * fa
        ve = x1 if e == u1 else x0 + d * fe
        self._acc = self._acc + w * (va + ve)


def frames(time: np.ndarray, values: np.ndarray, spec: MotionSpec | None = None) -> np.ndarray:
    """(T, C) float32 frames of a whole recording: timestamps (n,) in seconds, values (n, in_channels)."""
    return Stream(spec).push(time, values)
