"""The C front-end (export/src/lgrin_frontend.c) from Python: build it with the system compiler, run it
through ctypes. The parity tests compare it with :mod:`.speech`; it also serves where C speed helps."""

from __future__ import annotations

import ctypes
import functools
from pathlib import Path

import numpy as np

from lgrin_edge.cli import UserError
from lgrin_edge.export.c_facts import EXPORT_DIR, FRONTEND_INCLUDED, FRONTEND_SOURCES
from lgrin_edge.native import compile_library

from .spec import MAX_DESCRIPTORS, SpeechSpec, descriptor_code

# -ffp-contract=off: no fused multiply-add, so the arithmetic rounds as numpy's does
CFLAGS = ("-std=c99", "-O2", "-fPIC", "-shared", "-ffp-contract=off", "-lm")

STATUS = {
    -1: "invalid argument or speech spec",
    -2: "input sample rate not supported",
    -3: "state too small",
    -4: "state not 8-byte aligned",
    -5: "input contains NaN or infinity",
    -6: "output room too small",
    -7: "state not initialised or already flushed",
}


class CSpec(ctypes.Structure):
    """struct lgrin_frontend_spec."""

    _u32, _f64 = ctypes.c_uint32, ctypes.c_double
    _fields_ = [
        ("version", _u32),
        ("sample_rate", _u32),
        ("frame_length", _u32),
        ("hop", _u32),
        ("fft_size", _u32),
        ("preemphasis", _f64),
        ("mel_bands", _u32),
        ("cepstra", _u32),
        ("mel_low_hz", _f64),
        ("mel_high_hz", _f64),
        ("lifter", _f64),
        ("log_floor", _f64),
        ("pitch_length", _u32),
        ("delta_window", _u32),
        ("f0_min_hz", _f64),
        ("f0_max_hz", _f64),
        ("voicing_threshold", _f64),
        ("octave_cost", _f64),
        ("silence_rms", _f64),
        ("hnr_r_eps", _f64),
        ("resample_zero_crossings", _u32),
        ("n_descriptors", _u32),
        ("resample_cutoff", _f64),
        ("resample_kaiser_beta", _f64),
        ("descriptors", ctypes.c_uint16 * MAX_DESCRIPTORS),
    ]

    @classmethod
    def of(cls, spec: SpeechSpec) -> CSpec:
        c = cls()
        for name, _ in cls._fields_:
            if name not in ("n_descriptors", "descriptors"):
                setattr(c, name, getattr(spec, name))
        c.n_descriptors = len(spec.descriptors)
        for i, d in enumerate(spec.descriptors):
            c.descriptors[i] = descriptor_code(d, spec)
        return c


def build_library(cc: str | None = None) -> Path:
    """Compile lgrin_frontend.c into a cached shared library (RuntimeError without a C compiler)."""
    return compile_library(
        "lgrin_frontend",
        [EXPORT_DIR / src for src in FRONTEND_SOURCES],
        CFLAGS,
        include=EXPORT_DIR / "include",
        cc=cc,
        depends=[EXPORT_DIR / src for src in FRONTEND_INCLUDED],
    )


@functools.cache
def _lib(path: Path) -> ctypes.CDLL:
    lib = ctypes.CDLL(str(path))
    vp, sz, u32, pd = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint32, ctypes.c_ssize_t
    spec_p = ctypes.POINTER(CSpec)
    for name, args, res in (
        ("lgrin_frontend_default_spec", [spec_p], None),
        ("lgrin_frontend_check", [spec_p, u32], ctypes.c_int),
        ("lgrin_frontend_state_size", [spec_p, u32], sz),
        ("lgrin_frontend_init", [vp, sz, spec_p, u32], ctypes.c_int),
        ("lgrin_frontend_reset", [vp], ctypes.c_int),
        ("lgrin_frontend_width", [vp], u32),
        ("lgrin_frontend_max_frames", [vp, sz], sz),
        ("lgrin_frontend_push", [vp, vp, sz, vp, sz], pd),
        ("lgrin_frontend_push_i16", [vp, vp, sz, vp, sz], pd),
        ("lgrin_frontend_flush", [vp, vp, sz], pd),
    ):
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = args, res
    return lib


def default_spec(library: Path | None = None) -> CSpec:
    """What lgrin_frontend_default_spec() fills in (the tests hold it equal to SpeechSpec())."""
    c = CSpec()
    _lib(library or build_library()).lgrin_frontend_default_spec(ctypes.byref(c))
    return c


class CStream:
    """The C streaming front-end, with :class:`.speech.Stream`'s push/flush."""

    def __init__(self, rate: int, spec: SpeechSpec | None = None, library: Path | None = None) -> None:
        self.spec = spec or SpeechSpec()
        self._lib = _lib(library or build_library())
        self._cspec = CSpec.of(self.spec)
        size = self._lib.lgrin_frontend_state_size(ctypes.byref(self._cspec), rate)
        if size == 0:
            code = self._lib.lgrin_frontend_check(ctypes.byref(self._cspec), rate)
            raise UserError(f"C front-end refused rate {rate} Hz: {STATUS.get(code, code)}")
        self.state_size = size
        self._state = np.zeros(size // 8 + 1, np.float64)  # 8-byte aligned
        self._check(
            self._lib.lgrin_frontend_init(self._state.ctypes.data, size, ctypes.byref(self._cspec), rate)
        )
        self.width = self._lib.lgrin_frontend_width(self._state.ctypes.data)

    def push(self, pcm: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(pcm)
        fn = self._lib.lgrin_frontend_push_i16 if x.dtype == np.int16 else self._lib.lgrin_frontend_push
        if x.dtype != np.int16:
            x = np.ascontiguousarray(x, np.float32)
        room = self._lib.lgrin_frontend_max_frames(self._state.ctypes.data, len(x))
        out = np.zeros((room, self.width), np.float32)
        n = self._check(fn(self._state.ctypes.data, x.ctypes.data, len(x), out.ctypes.data, room))
        return out[:n]

    def flush(self) -> np.ndarray:
        room = self._lib.lgrin_frontend_max_frames(self._state.ctypes.data, 0)
        out = np.zeros((room, self.width), np.float32)
        return out[
            : self._check(self._lib.lgrin_frontend_flush(self._state.ctypes.data, out.ctypes.data, room))
        ]

    @staticmethod
    def _check(code: int) -> int:
        if code < 0:
            raise RuntimeError(f"lgrin_frontend: {STATUS.get(code, 'unknown status')} ({code})")
        return code


def c_frames(signal: np.ndarray, rate: int, spec: SpeechSpec | None = None) -> np.ndarray:
    """:func:`.speech.frames` computed by the C front-end."""
    stream = CStream(rate, spec)
    return np.concatenate([stream.push(signal), stream.flush()])
