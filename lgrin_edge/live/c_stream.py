"""The C live stream (export/include/lgrin_stream.h) from Python: build it with the system compiler, run it
through ctypes. The parity tests compare it with the model run by :class:`~lgrin_edge.export.c_runtime.CModel`
on the same graphs, and with :mod:`lgrin_edge.live`'s numpy stream."""

from __future__ import annotations

import ctypes
import functools
from pathlib import Path

import numpy as np

from lgrin_edge.cli import UserError
from lgrin_edge.export.c_facts import EXPORT_DIR, STREAM_PROGRAM_INCLUDED, STREAM_PROGRAM_SOURCES
from lgrin_edge.export.c_runtime import CFLAGS as RUNTIME_CFLAGS
from lgrin_edge.frontend.native import CSpec
from lgrin_edge.frontend.native_input import CMotionSpec
from lgrin_edge.native import compile_library

# the runtime's own flags (its kernels are timed in this build too), and libm for the front-end
CFLAGS = (*RUNTIME_CFLAGS, "-lm")
KINDS = ("audio", "motion", "frames")  # enum lgrin_stream_kind, in order


class CConfig(ctypes.Structure):
    """struct lgrin_stream_config."""

    _fields_ = [
        *((name, ctypes.c_uint32) for name in ("kind", "window", "hop", "smoothing", "policy", "num_nodes")),
        *((name, ctypes.c_uint32) for name in ("num_features", "num_classes", "input_rate", "chunk")),
        ("policy_known", ctypes.c_uint32),
        ("frame_rate", ctypes.c_double),
        ("frontend", CSpec),
        ("motion", CMotionSpec),
        ("field", ctypes.c_char * 64),
        *((name, ctypes.c_uint32) for name in ("mode", "min_speech", "hangover")),
        ("threshold_db", ctypes.c_double),
    ]


class CDecision(ctypes.Structure):
    """struct lgrin_stream_decision."""

    _fields_ = [
        ("time_s", ctypes.c_double),
        ("label", ctypes.c_uint32),
        ("smoothed", ctypes.c_uint32),
        ("probability", ctypes.c_float),
        ("smoothed_probability", ctypes.c_float),
    ]


class CStreamError(UserError):
    """A status the stream returned: ``code``, its ``meaning`` (lgrin_stream_strerror) and the spec
    ``field`` at fault where there is one."""

    def __init__(self, what: str, code: int, meaning: str, field: str = "") -> None:
        self.code, self.meaning, self.field = code, meaning, field
        super().__init__(f"{what}: {meaning}{f' ({field})' if field else ''}")


def build_library(cc: str | None = None) -> Path:
    """Compile the stream with the runtime, front-end and input libraries into one cached shared library."""
    units = STREAM_PROGRAM_SOURCES
    return compile_library(
        "lgrin_stream",
        [EXPORT_DIR / src for src in units],
        CFLAGS,
        include=EXPORT_DIR / "include",
        cc=cc,
        depends=[EXPORT_DIR / f for f in STREAM_PROGRAM_INCLUDED],
    )


@functools.cache
def _lib(path: Path) -> ctypes.CDLL:
    lib = ctypes.CDLL(str(path))
    vp, sz, u32, pd, i = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint32, ctypes.c_ssize_t, ctypes.c_int
    cfg, f64 = ctypes.POINTER(CConfig), ctypes.c_double
    for name, args, res in (
        ("lgrin_model_struct_size", [], sz),
        ("lgrin_load", [vp, vp, sz], i),
        ("lgrin_strerror", [i], ctypes.c_char_p),
        ("lgrin_num_classes", [vp], u32),
        ("lgrin_stream_config_from_model", [vp, u32, cfg], i),
        ("lgrin_stream_config_set", [cfg, f64, f64, u32], i),
        ("lgrin_stream_state_size", [vp, cfg], sz),
        ("lgrin_stream_init", [vp, sz, vp, cfg], i),
        ("lgrin_stream_max_decisions", [vp, sz], sz),
        ("lgrin_stream_max_decisions_motion", [vp, vp, sz], pd),
        ("lgrin_stream_push_i16", [vp, vp, sz, vp, sz], pd),
        ("lgrin_stream_push_f32", [vp, vp, sz, vp, sz], pd),
        ("lgrin_stream_push_motion", [vp, vp, vp, sz, vp, sz], pd),
        ("lgrin_stream_push_frames", [vp, vp, sz, vp, sz], pd),
        ("lgrin_stream_flush", [vp, vp, sz], pd),
        ("lgrin_stream_probabilities", [vp], ctypes.POINTER(ctypes.c_float)),
        ("lgrin_stream_smoothed", [vp], ctypes.POINTER(ctypes.c_float)),
        ("lgrin_stream_strerror", [i], ctypes.c_char_p),
    ):
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = args, res
    return lib


def _aligned(nbytes: int) -> np.ndarray:
    """nbytes zeroed bytes, 8-byte aligned (float64 storage)."""
    return np.zeros(max(1, -(-nbytes // 8)), np.float64).view(np.uint8)[:nbytes]


class CStream:
    """One C live stream over a model file: pushes return the decisions they made, as dicts."""

    def __init__(
        self,
        model_path: Path | str,
        input_rate: int | None = None,
        window_s: float | None = None,
        hop_s: float | None = None,
        smooth: int | None = None,
        library: Path | None = None,
    ) -> None:
        self.path = Path(model_path)
        self._lib = lib = _lib(library or build_library())
        data = self.path.read_bytes()
        self._buf = _aligned(len(data))  # the loaded model points into it: kept alive with the stream
        self._buf[:] = np.frombuffer(data, np.uint8)
        self._model = _aligned(lib.lgrin_model_struct_size())
        rc = lib.lgrin_load(self._model.ctypes.data, self._buf.ctypes.data, len(data))
        if rc != 0:
            raise CStreamError(f"cannot load {self.path}", rc, lib.lgrin_strerror(rc).decode())
        self.config = CConfig()
        self._check(lib.lgrin_stream_config_from_model(self._model.ctypes.data, input_rate or 0, self.config))
        rc = lib.lgrin_stream_config_set(self.config, window_s or 0.0, hop_s or 0.0, smooth or 0)
        self._check(rc)
        self.state_bytes = int(lib.lgrin_stream_state_size(self._model.ctypes.data, self.config))
        self._state = _aligned(self.state_bytes)
        self._check(
            lib.lgrin_stream_init(
                self._state.ctypes.data, self.state_bytes, self._model.ctypes.data, self.config
            )
        )
        self.kind = KINDS[self.config.kind]
        self.num_classes = int(self.config.num_classes)

    @property
    def window(self) -> int:
        """W, frames per decision."""
        return int(self.config.window)

    @property
    def hop(self) -> int:
        """H, frames between decisions."""
        return int(self.config.hop)

    @property
    def smoothing(self) -> int:
        """S, decisions averaged."""
        return int(self.config.smoothing)

    def _check(self, code: int) -> int:
        if code < 0:
            meaning = self._lib.lgrin_stream_strerror(code).decode()
            raise CStreamError(f"C stream on {self.path}", code, meaning, self.config.field.decode())
        return code

    def _decide(self, push: object, room: int, *args: object) -> list[dict]:
        out = (CDecision * max(1, room))()
        n = self._check(push(self._state.ctypes.data, *args, out, room))  # type: ignore[operator]
        return [
            {
                "time_s": d.time_s,
                "label": int(d.label),
                "probability": float(d.probability),
                "smoothed": int(d.smoothed),
                "smoothed_probability": float(d.smoothed_probability),
            }
            for d in out[:n]
        ]

    def push_pcm(self, samples: np.ndarray) -> list[dict]:
        """Audio: int16 PCM (divided by 32768) or float PCM (full scale +-1)."""
        x = np.ascontiguousarray(samples)
        fn = self._lib.lgrin_stream_push_i16
        if x.dtype != np.int16:
            x, fn = np.ascontiguousarray(x, np.float32), self._lib.lgrin_stream_push_f32
        room = self._lib.lgrin_stream_max_decisions(self._state.ctypes.data, len(x))
        return self._decide(fn, room, x.ctypes.data, len(x))

    def push_motion(self, time: np.ndarray, values: np.ndarray) -> list[dict]:
        """Motion: time (n,) seconds, values (n, P) in the spec's channel order."""
        t = np.ascontiguousarray(time, np.float64)
        v = np.ascontiguousarray(values, np.float32)
        if v.ndim != 2 or len(v) != len(t):
            raise ValueError(f"values must be (n, P) with n = {len(t)}, got {v.shape}")
        room = self._check(
            self._lib.lgrin_stream_max_decisions_motion(self._state.ctypes.data, t.ctypes.data, len(t))
        )
        return self._decide(self._lib.lgrin_stream_push_motion, room, t.ctypes.data, v.ctypes.data, len(t))

    def push_frames(self, frames: np.ndarray) -> list[dict]:
        """Ready frames (n, P) (any kind of stream)."""
        f = np.ascontiguousarray(frames, np.float32)
        if f.ndim != 2 or f.shape[1] != self.config.num_features:
            raise ValueError(f"frames must be (n, {self.config.num_features}), got {f.shape}")
        return self._decide(self._lib.lgrin_stream_push_frames, len(f) + 1, f.ctypes.data, len(f))

    def flush(self) -> list[dict]:
        """The end of the stream: the front-end's last frames, and the end-of-stream rule."""
        room = (
            1 if self.kind == "motion" else self._lib.lgrin_stream_max_decisions(self._state.ctypes.data, 0)
        )
        return self._decide(self._lib.lgrin_stream_flush, room)

    def probabilities(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The last decision's probabilities and their smoothed mean (C floats each), or None before one."""
        p = self._lib.lgrin_stream_probabilities(self._state.ctypes.data)
        m = self._lib.lgrin_stream_smoothed(self._state.ctypes.data)
        if not p:
            return None
        c = self.num_classes
        return np.ctypeslib.as_array(p, (c,)).copy(), np.ctypeslib.as_array(m, (c,)).copy()
