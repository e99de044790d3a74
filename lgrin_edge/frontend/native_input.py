"""lgrin_input.c through ctypes: the C functions a device calls (motion stream, face frames, graph rule),
built with the system compiler, for the parity tests (tests/frontend/, which hold them to numpy bit for
bit) and the benchmarks (benchmarks/test_frontend.py)."""

from __future__ import annotations

import ctypes
import functools

import numpy as np

from lgrin_edge.data.graph import LONG_POLICIES
from lgrin_edge.export.c_facts import EXPORT_DIR, INPUT_INCLUDED, INPUT_SOURCES
from lgrin_edge.frontend.motion import MAX_CHANNELS, MotionSpec
from lgrin_edge.native import compile_library

SOURCES = tuple(EXPORT_DIR / src for src in INPUT_SOURCES)
# -ffp-contract=off: no fused multiply-add, so the arithmetic rounds as numpy's does
CFLAGS = ("-std=c99", "-O2", "-fPIC", "-shared", "-ffp-contract=off", "-Wall", "-Wextra", "-Wpedantic")
POLICY_CODE = {name: LONG_POLICIES.index(name) for name in LONG_POLICIES}  # lgrin_graph_policy's order


class CAxis(ctypes.Structure):
    """struct lgrin_axis."""

    _fields_ = [("source", ctypes.c_uint32), ("sign", ctypes.c_int32), ("scale", ctypes.c_double)]


class CMotionSpec(ctypes.Structure):
    """struct lgrin_motion_spec."""

    _fields_ = [
        ("frame_rate", ctypes.c_double),
        ("max_gap", ctypes.c_double),
        ("start", ctypes.c_double),
        ("has_start", ctypes.c_uint32),
        ("in_channels", ctypes.c_uint32),
        ("channels", ctypes.c_uint32),
        ("map", CAxis * MAX_CHANNELS),
    ]


@functools.cache
def library() -> ctypes.CDLL:
    """lgrin_input.c compiled once (cached by content), its functions typed."""
    depends = [EXPORT_DIR / src for src in INPUT_INCLUDED]
    path = compile_library("lgrin_input", SOURCES, CFLAGS, include=EXPORT_DIR / "include", depends=depends)
    lib = ctypes.CDLL(str(path))
    vp, sz, u32, pd, i = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint32, ctypes.c_ssize_t, ctypes.c_int
    spec_p = ctypes.POINTER(CMotionSpec)
    for name, args, res in (
        ("lgrin_motion_default_spec", [spec_p], None),
        ("lgrin_motion_check", [spec_p], i),
        ("lgrin_motion_state_size", [], sz),
        ("lgrin_motion_init", [vp, sz, spec_p], i),
        ("lgrin_motion_reset", [vp], i),
        ("lgrin_motion_width", [vp], u32),
        ("lgrin_motion_max_frames", [vp, vp, sz], pd),
        ("lgrin_motion_push", [vp, vp, vp, sz, vp, sz], pd),
        ("lgrin_face_frame", [vp, u32, u32, u32, u32, vp], i),
        ("lgrin_graph_count", [u32, u32, u32], u32),
        ("lgrin_graph_indices", [u32, u32, u32, u32, vp], i),
        ("lgrin_graph_gather", [vp, u32, u32, u32, u32, u32, u32, u32, vp], i),
        ("lgrin_input_strerror", [i], ctypes.c_char_p),
    ):
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = args, res
    return lib


def _check(code: int) -> int:
    if code < 0:
        raise RuntimeError(f"lgrin_input: {library().lgrin_input_strerror(code).decode()} ({code})")
    return code


class CMotionStream:
    """lgrin_motion_* with :class:`lgrin_edge.frontend.motion.Stream`'s push."""

    def __init__(self, spec: MotionSpec | None = None) -> None:
        self.spec = spec = spec or MotionSpec()
        self._lib = library()
        c = CMotionSpec(frame_rate=spec.frame_rate, max_gap=spec.max_gap)
        c.has_start, c.start = spec.start is not None, spec.start or 0.0
        c.in_channels, c.channels = spec.in_channels, spec.channels
        for k, a in enumerate(spec.axes):
            c.map[k].source, c.map[k].sign, c.map[k].scale = a.source, a.sign, a.scale
        self._cspec = c
        self.state_size = int(self._lib.lgrin_motion_state_size())
        self._state = np.zeros(self.state_size // 8 + 1, np.float64)  # 8-byte aligned
        _check(self._lib.lgrin_motion_init(self._state.ctypes.data, self.state_size, ctypes.byref(c)))

    def push(self, time: np.ndarray, values: np.ndarray) -> np.ndarray:
        t = np.ascontiguousarray(time, np.float64)
        x = np.ascontiguousarray(values, np.float32)
        state = self._state.ctypes.data
        room = _check(self._lib.lgrin_motion_max_frames(state, t.ctypes.data, len(t)))
        out = np.zeros((room, self.spec.channels), np.float32)
        n = self._lib.lgrin_motion_push(state, t.ctypes.data, x.ctypes.data, len(t), out.ctypes.data, room)
        return out[: _check(n)]


def gather(ring: np.ndarray, first: int, t: int, m: int, out: np.ndarray, policy: str = "resample") -> None:
    """lgrin_graph_gather: graph 0 of the ``t`` frames held in ``ring`` (capacity x P float32, the oldest
    at slot ``first``) into ``out`` (m x P float32)."""
    code = library().lgrin_graph_gather(
        ring.ctypes.data,
        len(ring),
        first,
        t,
        ring.shape[1],
        m,
        LONG_POLICIES.index(policy),
        0,
        out.ctypes.data,
    )
    _check(code)
