"""Motion samples -> model frames (lgrin_edge/frontend/motion.py), against a reference computed here
independently (np.interp + trapezoids on every breakpoint) and against signal-processing facts (a line
comes through exactly, the boxcar's null at the frame rate, 50/100/200 Hz giving the same frames);
irregular timestamps, rate changes, gaps and steps; streaming; and the C stream (lgrin_input.h, through
ctypes) bit for bit. ``python -m tests.frontend.test_motion`` rewrites the known answers
(export/tests/data/input/motion.txt and its files), which the C tool and the Java test read too."""

from __future__ import annotations

import ctypes
import dataclasses

import numpy as np
import pytest

from lgrin_edge.atomic import write_bytes
from lgrin_edge.cli import UserError
from lgrin_edge.frontend.motion import RAD_PER_DEG as DEG
from lgrin_edge.frontend.motion import STANDARD_GRAVITY as G
from lgrin_edge.frontend.motion import Axis, MotionSpec, Stream, frames, identity
from lgrin_edge.frontend.native_input import CMotionSpec
from lgrin_edge.frontend.native_input import library as clib
from tests.frontend.test_graph_rule import DATA, needs_cc

# ------------------------------------------------------------------------------ helpers


def signal(t: np.ndarray, channels: int = 6, seed: int = 0) -> np.ndarray:
    """(n, channels) float32: a few slow sinusoids per channel (below 3 Hz) and a little noise."""
    rng = np.random.default_rng(seed)
    f = rng.uniform(0.2, 3.0, (3, channels))
    a = rng.uniform(0.5, 4.0, (3, channels))
    ph = rng.uniform(0, 2 * np.pi, (3, channels))
    x = (a[None] * np.sin(2 * np.pi * f[None] * t[:, None, None] + ph[None])).sum(axis=1)
    return (x + 0.05 * rng.standard_normal(x.shape)).astype(np.float32)


def times(rate: float, seconds: float, jitter: float = 0.0, start: float = 0.0, seed: int = 0) -> np.ndarray:
    """Sample times at ``rate`` Hz, each interval varied by up to +-jitter of itself (irregular)."""
    rng = np.random.default_rng(seed)
    n = int(rate * seconds)
    dt = (1.0 / rate) * (1.0 + jitter * rng.uniform(-1, 1, n))
    return start + np.concatenate([[0.0], np.cumsum(dt[:-1])])


def reference(t: np.ndarray, x: np.ndarray, rate: float, t0: float, count: int) -> np.ndarray:
    """Mean of the piecewise-linear curve through (t, x) over [t0 + k/rate, t0 + (k+1)/rate), k < count,
    computed independently: every breakpoint inside the frame, np.interp (held at the ends), trapezoids."""
    out = np.zeros((count, x.shape[1]))
    for k in range(count):
        lo, hi = t0 + k / rate, t0 + (k + 1) / rate
        pts = np.unique(np.concatenate([[lo, hi], t[(t > lo) & (t < hi)]]))
        for c in range(x.shape[1]):
            v = np.interp(pts, t, x[:, c])
            out[k, c] = np.sum((v[1:] + v[:-1]) * np.diff(pts) / 2) / (hi - lo)
    return out


def push_in_chunks(stream, t: np.ndarray, x: np.ndarray, sizes) -> np.ndarray:
    parts, at = [], 0
    for size in sizes:
        parts.append(stream.push(t[at : at + size], x[at : at + size]))
        at += size
    parts.append(stream.push(t[at:], x[at:]))
    return np.concatenate(parts)


class CMotion:
    """lgrin_motion_* through ctypes, with :class:`Stream`'s push (a refusal raises with its status)."""

    def __init__(self, spec: MotionSpec) -> None:
        self.lib, self.spec = clib(), spec
        c = CMotionSpec()
        c.frame_rate, c.max_gap = spec.frame_rate, spec.max_gap
        c.has_start, c.start = spec.start is not None, spec.start or 0.0
        c.in_channels, c.channels = spec.in_channels, spec.channels
        for i, a in enumerate(spec.axes):
            c.map[i].source, c.map[i].sign, c.map[i].scale = a.source, a.sign, a.scale
        self._cspec = c
        self.size = self.lib.lgrin_motion_state_size()
        self._state = np.zeros(self.size // 8 + 1, np.float64)  # 8-byte aligned
        rc = self.lib.lgrin_motion_init(self._state.ctypes.data, self.size, ctypes.byref(c))
        if rc:
            raise RuntimeError(self.lib.lgrin_input_strerror(rc).decode())

    def max_frames(self, t: np.ndarray) -> int:
        t = np.ascontiguousarray(t, np.float64)
        return self.lib.lgrin_motion_max_frames(self._state.ctypes.data, t.ctypes.data, len(t))

    def push(self, t: np.ndarray, x: np.ndarray, room: int | None = None) -> np.ndarray:
        t = np.ascontiguousarray(t, np.float64)
        x = np.ascontiguousarray(x, np.float32)
        want = self.max_frames(t)
        room = max(want, 0) if room is None else room
        out = np.zeros((room + 1, self.spec.channels), np.float32)
        n = self.lib.lgrin_motion_push(
            self._state.ctypes.data, t.ctypes.data, x.ctypes.data, len(t), out.ctypes.data, room
        )
        if n < 0:
            raise RuntimeError(f"{n}: {self.lib.lgrin_input_strerror(n).decode()}")
        assert n == want
        return out[:n]


PHONE = (  # a phone's accelerometer (g, x and y swapped, z flipped) and gyroscope (deg/s), a 7th value unused
    Axis(1, 1, G), Axis(0, 1, G), Axis(2, -1, G), Axis(4, 1, DEG), Axis(3, -1, DEG), Axis(5, 1, DEG),
)  # fmt: skip


def recordings() -> list[tuple[str, MotionSpec, np.ndarray, np.ndarray]]:
    """(name, spec, time, values): the known answers' recordings, each one of the conditions a device
    brings."""
    out = []
    t = times(50, 12.0)
    out.append(("watch50", MotionSpec(), t, signal(t)))
    t = times(100, 8.0, jitter=0.3, seed=1)
    x = np.concatenate([signal(t, 6, seed=1) / np.float32(9.8), np.ones((len(t), 1), np.float32)], axis=1)
    out.append(("phone100_jitter_map", MotionSpec(in_channels=7, axes=PHONE), t, x))
    t = np.concatenate([times(200, 2.0, 0.1, seed=2), times(50, 2.0, 0.2, start=2.0, seed=3),
                        times(100, 2.0, start=4.4, seed=4)])  # fmt: skip
    t = np.sort(np.concatenate([t, t[[50, 51, 300]]]))  # repeated timestamps: steps
    x = signal(t, 6, seed=2)
    out.append(("rates_gap_steps", MotionSpec(), t, x))
    t = times(60, 3.0, 0.05, start=5.0, seed=5)
    spec = MotionSpec(frame_rate=25.0, in_channels=3, axes=identity(3), start=4.75, max_gap=0.0)
    out.append(("start_before_25hz", spec, t, signal(t, 3, seed=5)))
    t = 123456.789012345 + times(200, 2.5, 0.4, seed=6)  # seconds since boot, as Android's nanoseconds give
    out.append(("uptime200_irregular", MotionSpec(max_gap=0.0), t, signal(t, 6, seed=6)))
    t = np.arange(400) / 100.0  # every 10th sample exactly on a frame's end (k / 10 is the same double)
    out.append(("on_edges100", MotionSpec(), t, signal(t, 6, seed=7)))
    return out


def _map_text(spec: MotionSpec) -> str:
    return ",".join(f"{a.source}:{a.sign}:{a.scale!r}" for a in spec.axes)


def known_answers() -> tuple[str, dict[str, bytes]]:
    lines = [
        "# lgrin_input motion known answers (tests/frontend/test_motion.py: lgrin_edge.frontend.motion)",
        "# NAME FRAME_RATE MAX_GAP START(- none) IN_CHANNELS MAP(source:sign:scale,..) SAMPLES FRAMES",
        "# files NAME.time.f64 (s), NAME.values.f32 (SAMPLES x IN_CHANNELS), NAME.frames.f32; bit-exact",
    ]
    files = {}
    for name, spec, t, x in recordings():
        f = frames(t, x, spec)
        start = "-" if spec.start is None else repr(spec.start)
        lines.append(
            f"{name} {spec.frame_rate!r} {spec.max_gap!r} {start} {spec.in_channels} {_map_text(spec)} "
            f"{len(t)} {len(f)}"
        )
        files[f"{name}.time.f64"] = np.asarray(t, "<f8").tobytes()
        files[f"{name}.values.f32"] = np.asarray(x, "<f4").tobytes()
        files[f"{name}.frames.f32"] = np.asarray(f, "<f4").tobytes()
    return "\n".join(lines) + "\n", files


def write_known_answers() -> None:
    text, files = known_answers()
    for name, data in files.items():
        write_bytes(DATA / name, data)
    write_bytes(DATA / "motion.txt", text.encode())


# ------------------------------------------------------------------------------ the rule, in numpy


def test_a_constant_and_a_straight_line_come_through_exactly():
    t = times(100, 3.0, jitter=0.4, seed=7)
    x = np.stack([np.full(len(t), 2.5), 1.0 + 3.0 * (t - t[0])], axis=1).astype(np.float32)
    spec = MotionSpec(in_channels=2, axes=identity(2))
    f = frames(t, x, spec)
    assert len(f) == int((t[-1] - t[0]) * 10)
    assert np.all(f[:, 0] == np.float32(2.5))
    centres = (np.arange(len(f)) + 0.5) / 10  # the mean of a line over a frame is its value at the centre
    line = (1.0 + 3.0 * (t - t[0])).astype(np.float32).astype(np.float64)  # the samples as float32 gave them
    assert np.allclose(f[:, 1], np.interp(centres, t - t[0], line), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", [r[0] for r in recordings()])
def test_frames_are_the_mean_of_the_linear_curve_over_each_frame(name):
    """The rule against an independent computation of its definition, on every recording (irregular,
    jittered, rate changes, gaps, steps are left out of the reference: np.interp cannot step)."""
    _, spec, t, x = next(r for r in recordings() if r[0] == name)
    f = frames(t, x, spec)
    keep = np.concatenate([[True], np.diff(t) > 0])  # a step: the reference keeps one side of it
    mapped = Stream(spec).map(x)
    t0 = t[0] if spec.start is None else spec.start
    ref = reference(t[keep], mapped[keep], spec.frame_rate, t0, len(f))
    steps = np.flatnonzero(~keep)
    clean = np.ones(len(f), bool)
    for s in steps:  # frames containing a step differ from the one-sided reference
        clean[int((t[s] - t0) * spec.frame_rate)] = False
    scale = np.abs(ref).max()
    assert np.max(np.abs(f[clean] - ref[clean])) <= 2e-6 * scale


@pytest.mark.parametrize("rate", [50, 100, 200])
@pytest.mark.parametrize("jitter", [0.0, 0.45])
def test_every_input_rate_gives_the_same_frames(rate, jitter):
    """Sinusoids up to 3 Hz sampled at 50/100/200 Hz, regular or irregular: the frames equal the exact
    mean of the continuous signal over each frame, to within linear interpolation's error, which
    shrinks with the square of the sample spacing."""
    f_hz, amp = np.array([0.7, 1.9, 3.0]), np.array([1.0, 0.5, 0.25])
    t = times(rate, 6.0, jitter=jitter, seed=rate)
    x = (amp * np.sin(2 * np.pi * f_hz * t[:, None])).sum(axis=1, keepdims=True).astype(np.float32)
    out = frames(t, x, MotionSpec(in_channels=1, axes=identity(1)))[:, 0]
    lo = np.arange(len(out)) / 10
    w = 2 * np.pi * f_hz
    exact = (amp * (np.cos(w * lo[:, None]) - np.cos(w * (lo[:, None] + 0.1))) / w).sum(axis=1) / 0.1
    h = (1 + jitter) / rate
    bound = (amp * w**2).sum() * h**2 / 8 + 1e-6  # |x''| h^2 / 8, the linear interpolation error
    assert np.max(np.abs(out - exact)) <= bound


def test_the_frame_rate_itself_is_removed_not_folded_to_zero_hertz():
    """A 10 Hz vibration at 10 frames/s: point sampling would read a constant offset (aliased to 0 Hz);
    the mean over each frame is ~0. 13 Hz folds onto 3 Hz, but with |sinc(1.3)| = 0.20 of its amplitude."""
    t = times(200, 5.0, jitter=0.2, seed=3)
    spec = MotionSpec(in_channels=1, axes=identity(1))
    at_rate = frames(t, np.sin(2 * np.pi * 10 * t + 1.0)[:, None].astype(np.float32), spec)[:, 0]
    assert np.max(np.abs(at_rate)) < 0.01  # a point sample at each frame start would read sin(1.0) = 0.84
    above = frames(t, np.sin(2 * np.pi * 13 * t + 1.0)[:, None].astype(np.float32), spec)[:, 0]
    assert abs(np.sqrt(2 * np.mean(above**2)) - abs(np.sinc(1.3))) < 0.02


def test_a_gap_is_bridged_by_the_line_and_a_longer_one_refused():
    t = np.concatenate([times(100, 1.0), 1.4 + times(100, 1.0)])  # a 0.41 s gap
    x = signal(t, 2, seed=9)
    spec = MotionSpec(in_channels=2, axes=identity(2))
    f = frames(t, x, spec)
    assert np.allclose(f, reference(t, x.astype(np.float64), 10.0, t[0], len(f)), atol=2e-6 * np.abs(x).max())
    with pytest.raises(UserError, match=r"more than max_gap 0\.4 s"):
        frames(t, x, dataclasses.replace(spec, max_gap=0.4))
    assert len(frames(t, x, dataclasses.replace(spec, max_gap=0.0))) == len(f)  # 0: no limit


def test_equal_timestamps_make_a_step():
    t = np.array([0.0, 0.05, 0.05, 0.1, 0.2])
    x = np.array([[0.0], [0.0], [1.0], [1.0], [1.0]], np.float32)
    f = frames(t, x, MotionSpec(in_channels=1, axes=identity(1)))
    assert f[:, 0].tolist() == [0.5, 1.0]


@pytest.mark.parametrize("t", [times(100, 4.0, jitter=0.45, seed=11), np.arange(400) / 100.0])
def test_frames_come_out_when_a_sample_reaches_their_end_and_chunks_change_nothing(t):
    x = signal(t, 6, seed=11)
    whole = frames(t, x)
    s, got, edges = Stream(), [], np.arange(1, 100) / 10
    for i in range(len(t)):
        assert s.max_frames(t[i : i + 1]) == np.sum(edges <= t[i] - t[0]) - len(got)
        got.extend(s.push(t[i : i + 1], x[i : i + 1]))
    assert np.array_equal(np.array(got), whole)
    sizes = np.random.default_rng(0).integers(0, 40, 30)
    assert np.array_equal(push_in_chunks(Stream(), t, x, sizes), whole)


def test_the_axis_table_permutes_flips_and_scales_each_channel():
    t = times(100, 3.0, jitter=0.2, seed=12)
    x = signal(t, 7, seed=12)
    base = frames(t, x, MotionSpec(in_channels=7, axes=identity(7))).astype(np.float64)
    flips = tuple(Axis(a.source, a.sign) for a in PHONE)  # scale 1: exact
    got = frames(t, x, MotionSpec(in_channels=7, axes=flips))
    want = base[:, [a.source for a in PHONE]] * [a.sign for a in PHONE]
    assert np.array_equal(got, want.astype(np.float32))
    scaled = frames(t, x, MotionSpec(in_channels=7, axes=PHONE)).astype(np.float64)
    assert np.allclose(scaled, want * [a.scale for a in PHONE], rtol=1e-6, atol=1e-6)


def test_two_sensors_with_a_common_start_give_aligned_frames():
    """Android reports accelerometer and gyroscope apart: one stream each, the same start, frame k of
    each covers the same interval."""
    acc_t, gyr_t = times(100, 3.0, 0.3, start=10.013, seed=1), times(50, 3.0, 0.3, start=10.031, seed=2)
    spec = MotionSpec(in_channels=1, axes=identity(1), start=10.0)
    a, g = frames(acc_t, _slow(acc_t), spec), frames(gyr_t, _slow(gyr_t), spec)
    n = min(len(a), len(g))
    # frame 0 holds each sensor's first value for a different while (13 and 31 ms): compare from frame 1
    assert abs(len(a) - len(g)) <= 1 and np.max(np.abs(a[1:n] - g[1:n])) < 2e-3
    # before the first sample the curve is held: three whole frames of the first value
    early = frames(acc_t, _slow(acc_t), dataclasses.replace(spec, start=acc_t[0] - 0.3))
    assert np.all(early[:3, 0] == _slow(acc_t[:1])[0, 0]) and early[3, 0] != early[2, 0]


def _slow(t: np.ndarray) -> np.ndarray:
    """A slow signal (0.5 Hz) as (n, 1) float32."""
    return np.sin(2 * np.pi * 0.5 * t)[:, None].astype(np.float32)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (MotionSpec(frame_rate=0.0), "frame_rate"),
        (MotionSpec(max_gap=-1.0), "max_gap"),
        (MotionSpec(start=float("nan")), "start"),
        (MotionSpec(in_channels=3), "source 3"),
        (MotionSpec(axes=(Axis(0, 2),)), "sign"),
        (MotionSpec(axes=(Axis(0, 1, 0.0),)), "scale"),
        (MotionSpec(axes=identity(17), in_channels=17), "1..16"),
    ],
)
def test_bad_specs_are_one_line_errors(spec, message):
    with pytest.raises(UserError, match=message):
        Stream(spec)


def test_bad_samples_are_refused_before_anything_is_used():
    s = Stream()
    t, x = times(100, 1.0), signal(times(100, 1.0))
    first = s.push(t[:50], x[:50])
    bad_t = t[50:].copy()
    bad_t[5] = bad_t[4] - 0.001
    with pytest.raises(UserError, match="before the previous one"):
        s.push(bad_t, x[50:])
    bad_x = x[50:].copy()
    bad_x[3, 2] = np.nan
    with pytest.raises(UserError, match="NaN"):
        s.push(t[50:], bad_x)
    with pytest.raises(UserError, match=r"\(n, 6\)"):
        s.push(t[50:], x[50:, :5])
    with pytest.raises(UserError, match="not finite"):
        s.push(np.array([np.inf]), x[:1])
    rest = s.push(t[50:], x[50:])
    assert np.array_equal(np.concatenate([first, rest]), frames(t, x))


def test_known_answers_are_numpys_today():
    text, files = known_answers()
    assert (DATA / "motion.txt").read_text() == text
    for name, data in files.items():
        assert (DATA / name).read_bytes() == data, name


# ------------------------------------------------------------------------------ C, bit for bit


def _random_case(seed: int) -> tuple[MotionSpec, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    parts, at = [], float(rng.uniform(-5, 5)) * 10 ** int(rng.integers(0, 6))
    for _ in range(int(rng.integers(1, 4))):  # a few stretches at different rates
        rate, seconds = float(rng.choice([50, 100, 200, 87.3])), float(rng.uniform(0.3, 2.0))
        part = times(rate, seconds, jitter=float(rng.uniform(0, 0.5)), start=at, seed=seed)
        parts.append(part)
        at = part[-1] + float(rng.uniform(0.001, 0.3))  # a gap
    t = np.concatenate(parts)
    if rng.random() < 0.5:
        t = np.sort(np.concatenate([t, rng.choice(t, 3)]))  # steps
    in_ch = int(rng.integers(1, 9))
    axes = tuple(
        Axis(int(rng.integers(0, in_ch)), int(rng.choice([-1, 1])), float(rng.choice([1.0, G, DEG])))
        for _ in range(int(rng.integers(1, 9)))
    )
    start = None if rng.random() < 0.5 else float(t[0] + rng.uniform(-0.5, 0.2))
    gap = 0.0 if start is not None and start < t[0] - 0.3 else 0.5
    rate = float(rng.choice([10.0, 25.0, 7.5, 30.0]))
    spec = MotionSpec(frame_rate=rate, in_channels=in_ch, axes=axes, max_gap=gap, start=start)
    x = (rng.standard_normal((len(t), in_ch)) * 10 ** rng.uniform(-3, 3)).astype(np.float32)
    return spec, t, x


@needs_cc
@pytest.mark.parametrize("seed", range(40))
def test_c_frames_equal_numpy_bit_for_bit(seed):
    spec, t, x = _random_case(seed)
    want = frames(t, x, spec)
    sizes = np.random.default_rng(seed).integers(0, 25, len(t) // 5 + 1)
    got = push_in_chunks(CMotion(spec), t, x, sizes)
    assert got.shape == want.shape and np.array_equal(got.view(np.uint32), want.view(np.uint32))
    c, s = CMotion(spec), Stream(spec)  # one sample at a time: each frame out on the same sample
    assert [len(c.push(t[i : i + 1], x[i : i + 1])) for i in range(len(t))] == [
        len(s.push(t[i : i + 1], x[i : i + 1])) for i in range(len(t))
    ]


@needs_cc
@pytest.mark.parametrize("name", [r[0] for r in recordings()])
def test_c_frames_equal_numpy_on_the_recordings(name):
    _, spec, t, x = next(r for r in recordings() if r[0] == name)
    got = CMotion(spec).push(t, x)
    assert np.array_equal(got.view(np.uint32), frames(t, x, spec).view(np.uint32))
    c, s = CMotion(spec), Stream(spec)  # one sample at a time: each frame out on the same sample
    assert [len(c.push(t[i : i + 1], x[i : i + 1])) for i in range(len(t))] == [
        len(s.push(t[i : i + 1], x[i : i + 1])) for i in range(len(t))
    ]


@needs_cc
def test_c_refuses_what_numpy_refuses_and_uses_nothing_of_it():
    t, x = times(100, 2.0), signal(times(100, 2.0))
    c = CMotion(MotionSpec())
    first = c.push(t[:80], x[:80])
    bad = t[80:].copy()
    bad[3] = bad[2] - 1e-3
    with pytest.raises(RuntimeError, match=r"^-4:"):
        c.push(bad, x[80:])
    bad = t[80:].copy()
    bad[10:] += 0.6
    with pytest.raises(RuntimeError, match=r"^-5:"):
        c.push(bad, x[80:])
    bad_x = x[80:].copy()
    bad_x[7, 4] = np.inf
    with pytest.raises(RuntimeError, match=r"^-4:"):
        c.push(t[80:], bad_x)
    with pytest.raises(RuntimeError, match=r"^-6:"):
        c.push(t[80:], x[80:], room=c.max_frames(t[80:]) - 1)
    rest = c.push(t[80:], x[80:])
    assert np.array_equal(np.concatenate([first, rest]), frames(t, x))
    spec = CMotionSpec()
    clib().lgrin_motion_default_spec(ctypes.byref(spec))
    assert clib().lgrin_motion_check(ctypes.byref(spec)) == 0
    spec.map[1].source = 6
    assert clib().lgrin_motion_check(ctypes.byref(spec)) == -1


@needs_cc
def test_c_default_spec_is_motionspecs():
    spec = CMotionSpec()
    clib().lgrin_motion_default_spec(ctypes.byref(spec))
    d = MotionSpec()
    assert (spec.frame_rate, spec.max_gap, spec.has_start) == (d.frame_rate, d.max_gap, d.start is not None)
    assert (spec.in_channels, spec.channels) == (d.in_channels, d.channels)
    assert [(spec.map[i].source, spec.map[i].sign, spec.map[i].scale) for i in range(d.channels)] == [
        (a.source, a.sign, a.scale) for a in d.axes
    ]


if __name__ == "__main__":
    write_known_answers()
    print(f"wrote {DATA / 'motion.txt'} and its files")
