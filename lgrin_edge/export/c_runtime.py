"""Python side of the C99 runtime in ``export/``: the model file, the build, the ctypes runner.

The runtime executes a folded L-GrIN (:class:`~lgrin_edge.deploy.folded.FoldedLGrIN`; its forward pass is
:func:`lgrin_edge.deploy.reference.forward`, its int8 arithmetic :mod:`lgrin_edge.deploy.int8`).
:func:`write_c_model` quantises it and writes the binary model file described in ``export/README.md``;
:func:`build_library` compiles the runtime with the system C compiler; :class:`CModel` runs it. The
format's constants, the status codes and the source list come from the C sources (``c_facts``).
"""

from __future__ import annotations

import ctypes
import itertools
import struct
import threading
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from lgrin_edge.atomic import write_bytes
from lgrin_edge.cli import UserError
from lgrin_edge.deploy.folded import FoldedLGrIN
from lgrin_edge.deploy.int8 import QuantizedLGrIN, quantize, require_paper_configuration
from lgrin_edge.export.c_facts import (
    ERROR_NAMES,
    EXPORT_DIR,
    HEADER_SIZE,
    INCLUDED,
    MAGIC,
    MAX_LAYERS,
    MAX_SPEC_BYTES,
    MIN_VERSION,
    PRECISION_CODES,
    SOURCES,
    VERSION,
)
from lgrin_edge.export.runner import Runner
from lgrin_edge.native import compile_library

__all__ = [
    "ERROR_NAMES",
    "EXPORT_DIR",
    "CModel",
    "CModelFileError",
    "add_feature_spec",
    "build_library",
    "encode_model",
    "kernel_families",
    "with_feature_spec",
    "without_feature_spec",
    "write_c_model",
]

# -ffp-contract=off: no fused multiply-add, so the input quantisation rounds exactly as deploy.int8.simulate.
CFLAGS = ("-std=c99", "-O3", "-funroll-loops", "-fPIC", "-shared", "-ffp-contract=off")


class CModelFileError(UserError):
    """A model file the C runtime refused; ``code`` is the C status, ``name`` its enum name."""

    def __init__(self, path: Path | str, code: int) -> None:
        self.code = code
        self.name, self.meaning = ERROR_NAMES.get(code, ("LGRIN_E_UNKNOWN", "unknown error"))
        super().__init__(f"cannot load C model {path}: {self.meaning} ({self.name}, code {code})")


# ---------------------------------------------------------------------------------------------------
# Model file


def _groups_of_four(w: np.ndarray) -> np.ndarray:
    """(out, in) int8 weights -> (ceil(in/4), out, 4): four consecutive inputs per output per 32-bit word,
    the operand layout of dot-product instructions (inputs zero-padded to a multiple of four)."""
    out, n = w.shape
    padded = np.zeros((out, -(-n // 4) * 4), dtype=w.dtype)
    padded[:, :n] = w
    return padded.reshape(out, -1, 4).transpose(1, 0, 2)


def _fp32_payload(model: FoldedLGrIN) -> Iterator[np.ndarray]:
    """The fp32 file's tensors in file order (export/README.md)."""
    yield from (model.in_scale, model.in_shift, model.adj, model.nbr)
    for layer in model.layers:
        for branch in layer.branches:
            for fc in branch.linears:
                yield from (fc.w, fc.b)
    yield from (model.pool_p, model.classifier.w, model.classifier.b)


def _int8_payload(q: QuantizedLGrIN) -> Iterator[np.ndarray]:
    """The int8 file's tensors in file order (export/README.md)."""
    yield from (q.in_a, q.in_c, q.adj, q.nbr)
    for layer in q.layers:
        yield from (layer.adj_m, layer.adj_s)
        for branch in layer.branches:
            for fc in branch:
                yield from (_groups_of_four(fc.w), fc.b, fc.m, fc.s)
    yield from (q.pool_p, q.cls_q, q.cls_s, q.cls_b, q.out_scale)


def encode_model(
    model: FoldedLGrIN,
    calibration: np.ndarray | None = None,
    precision: str = "int8",
    method: str = "max",
    percentile: float = 99.99,
    rounding: str = "nearest",
    feature_spec: str | None = None,
) -> bytes:
    """The bytes of a model file (format in export/README.md); int8 needs calibration inputs. With
    ``feature_spec`` (its JSON) the file carries it (:func:`with_feature_spec`)."""
    if precision not in PRECISION_CODES:
        raise ValueError(f"precision must be one of {sorted(PRECISION_CODES)}, got {precision!r}")
    require_paper_configuration(model)
    if model.L > MAX_LAYERS:
        raise ValueError(f"expected 1..{MAX_LAYERS} inception layers, found {model.L}")
    if precision == "int8":
        if calibration is None:
            raise ValueError("int8 export needs calibration inputs of shape (N, M, P)")
        tensors = _int8_payload(quantize(model, calibration, method, percentile, rounding))
    else:
        tensors = _fp32_payload(model)
    chunks = []
    for tensor in tensors:
        raw = np.ascontiguousarray(tensor).astype(tensor.dtype.newbyteorder("<")).tobytes()
        chunks.append(raw + b"\0" * (-len(raw) % 4))
    payload = b"".join(chunks)
    total = HEADER_SIZE + len(payload)
    if total >= 2**32:
        raise ValueError(f"model too large for the format: {total} bytes")
    dims = (model.M, model.P, model.C, model.L, model.K, *model.eta)
    body = struct.pack("<8I", PRECISION_CODES[precision], *dims) + bytes(16) + payload
    data = MAGIC + struct.pack("<III", MIN_VERSION, total, zlib.crc32(body)) + body
    return data if feature_spec is None else with_feature_spec(data, feature_spec)


def with_feature_spec(data: bytes, feature_spec: str) -> bytes:
    """A model file without a feature spec (``data``, format MIN_VERSION) as the newest format (VERSION)
    carrying ``feature_spec``: the same payload, then the JSON's bytes and 1-4 zero bytes (NUL-terminated,
    the file a multiple of four); the header gives the JSON's length (word 48), the new total size and
    the CRC, which covers the section."""
    text = feature_spec.encode()
    if data[:4] != MAGIC or struct.unpack_from("<I", data, 4)[0] != MIN_VERSION:
        raise ValueError(f"a feature spec goes into a version-{MIN_VERSION} model file without one")
    if not 1 <= len(text) <= MAX_SPEC_BYTES or b"\0" in text:
        raise ValueError(f"a feature spec is 1..{MAX_SPEC_BYTES} bytes without NUL, got {len(text)}")
    section = text + bytes(4 - len(text) % 4)
    body = data[16:48] + struct.pack("<I", len(text)) + data[52:] + section
    return MAGIC + struct.pack("<III", VERSION, 16 + len(body), zlib.crc32(body)) + body


def without_feature_spec(data: bytes) -> bytes:
    """The inverse of :func:`with_feature_spec`: a model file carrying a feature spec (format VERSION)
    as the MIN_VERSION file of the same payload, without it."""
    if data[:4] != MAGIC or struct.unpack_from("<I", data, 4)[0] != VERSION:
        raise ValueError(f"a feature spec comes out of a version-{VERSION} model file")
    n = struct.unpack_from("<I", data, 48)[0]
    body = data[16:48] + bytes(4) + data[52 : len(data) - (n + 4 - n % 4)]
    return MAGIC + struct.pack("<III", MIN_VERSION, 16 + len(body), zlib.crc32(body)) + body


def add_feature_spec(path: Path, feature_spec: str) -> None:
    """Put ``feature_spec`` into the model file at ``path`` (:func:`with_feature_spec`)."""
    write_bytes(path, with_feature_spec(path.read_bytes(), feature_spec))


def write_c_model(
    model: FoldedLGrIN,
    calibration: np.ndarray | None,
    path: Path,
    *,
    precision: str = "int8",
    method: str = "max",
    percentile: float = 99.99,
    rounding: str = "nearest",
) -> None:
    """Write the model file for the C runtime atomically (temporary file, then os.replace).

    calibration: raw training inputs (N, M, P) float32, used to calibrate int8 activation scales (and,
    with ``rounding`` "gptq", to round the classifier's weights).
    """
    write_bytes(path, encode_model(model, calibration, precision, method, percentile, rounding))


# ---------------------------------------------------------------------------------------------------
# Building and running the shared library


# Builds of the runtime (export/README.md, "Kernel families"). "dispatch" (default) is what every CMake
# preset builds: all kernel families of this architecture in one library, no -march, the family chosen
# at load from what the CPU reports (CModel(kernels=...) forces one). "native" is the single family that
# -march=native targets, the reference the dispatching build is measured against.
BUILDS: dict[str, tuple[str, ...]] = {
    "dispatch": (),
    "native": ("-march=native", "-DLGRIN_SINGLE_FAMILY"),
}


def build_library(cc: str | None = None, force: bool = False, build: str = "dispatch") -> Path:
    """Compile the runtime into a shared library in the cache folder and return its path.

    ``build`` is a key of ``BUILDS``. The file name is keyed on a hash of the sources, compiler, flags and
    CPU, so edits trigger a rebuild. Concurrent builders each compile to a private temporary file and
    atomically rename it.
    """
    if build not in BUILDS:
        raise ValueError(f"unknown C runtime build {build!r}; choose from {sorted(BUILDS)}")
    sources = [EXPORT_DIR / src for src in SOURCES]
    included = [EXPORT_DIR / src for src in INCLUDED]
    if not all(src.is_file() for src in (*sources, *included)):
        raise RuntimeError(f"C runtime sources not found under {EXPORT_DIR}: {SOURCES + INCLUDED}")
    flags = [*CFLAGS, *BUILDS[build]]
    return compile_library(
        "c_runtime", sources, flags, include=EXPORT_DIR / "include", cc=cc, force=force, depends=included
    )


def kernel_families(library: Path | None = None) -> list[str]:
    """The kernel families a build of the runtime holds, best first (not all of them run on every CPU)."""
    return (
        _load_library(Path(library) if library else build_library()).lgrin_kernel_families().decode().split()
    )


_LIBS: dict[Path, ctypes.CDLL] = {}


def _load_library(path: Path) -> ctypes.CDLL:
    if path not in _LIBS:
        lib = ctypes.CDLL(str(path))
        vp, sz, u32, i32 = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint32, ctypes.c_int
        lib.lgrin_load.argtypes = [vp, vp, sz]
        lib.lgrin_load.restype = i32
        lib.lgrin_workspace_size.argtypes = [vp]
        lib.lgrin_workspace_size.restype = sz
        lib.lgrin_run_batch.argtypes = [vp, vp, sz, vp, sz, vp]
        lib.lgrin_run_batch.restype = i32
        lib.lgrin_softmax.argtypes = [vp, u32, vp]
        lib.lgrin_softmax.restype = None
        lib.lgrin_model_struct_size.argtypes = []
        lib.lgrin_model_struct_size.restype = sz
        lib.lgrin_kernel_name.argtypes = [vp]
        lib.lgrin_kernel_name.restype = ctypes.c_char_p
        lib.lgrin_use_kernels.argtypes = [vp, ctypes.c_char_p]
        lib.lgrin_use_kernels.restype = i32
        lib.lgrin_kernel_families.argtypes = []
        lib.lgrin_kernel_families.restype = ctypes.c_char_p
        lib.lgrin_feature_spec.argtypes = [vp, ctypes.POINTER(sz)]
        lib.lgrin_feature_spec.restype = ctypes.c_void_p
        for fn in ("lgrin_num_nodes", "lgrin_num_features", "lgrin_num_classes", "lgrin_precision"):
            getattr(lib, fn).argtypes = [vp]
            getattr(lib, fn).restype = u32
        _LIBS[path] = lib
    return _LIBS[path]


def _aligned(nbytes: int) -> np.ndarray:
    """A zeroed uint8 buffer whose start is 64-byte aligned (numpy guarantees less)."""
    raw = np.zeros(nbytes + 64, np.uint8)
    start = -raw.ctypes.data % 64
    return raw[start : start + nbytes]


class CModel(Runner):
    """A model file run by the C runtime through ctypes; thread-safe, batches split over threads.

    ``kernels`` names a kernel family to run instead of the one the runtime chose for this CPU
    (``kernel_families()``); a family this build lacks or this CPU cannot run is refused.
    """

    def __init__(
        self, model_path: Path, num_threads: int = 1, library: Path | None = None, kernels: str | None = None
    ) -> None:
        if num_threads < 1:
            raise ValueError(f"num_threads must be >= 1, got {num_threads}")
        self.path = Path(model_path)
        self.num_threads = num_threads
        self._lib = _load_library(Path(library) if library else build_library())
        data = self.path.read_bytes()
        self._buf = _aligned(len(data))  # the loaded model points into this buffer: keep it alive
        self._buf[:] = np.frombuffer(data, np.uint8)
        self._model = _aligned(self._lib.lgrin_model_struct_size())
        rc = self._lib.lgrin_load(self._model.ctypes.data, self._buf.ctypes.data, len(data))
        if rc != 0:
            raise CModelFileError(self.path, rc)
        m = self._model_ptr = self._model.ctypes.data
        if kernels is not None and self._lib.lgrin_use_kernels(m, kernels.encode()) != 0:
            raise ValueError(
                f"the C runtime cannot run the {kernels!r} kernels here: this build holds "
                f"{self._lib.lgrin_kernel_families().decode()}, and not all of them run on every CPU"
            )
        self.kernels = self._lib.lgrin_kernel_name(m).decode()
        self.num_nodes = int(self._lib.lgrin_num_nodes(m))
        self.num_features = int(self._lib.lgrin_num_features(m))
        self.num_classes = int(self._lib.lgrin_num_classes(m))
        self.input_shape = (self.num_nodes, self.num_features)
        self.precision = "int8" if self._lib.lgrin_precision(m) == 1 else "fp32"
        self._ws_size = int(self._lib.lgrin_workspace_size(m))
        self._local = threading.local()  # each thread's workspace
        self._pool: ThreadPoolExecutor | None = None  # made by the first batch split over threads

    @property
    def feature_spec(self) -> str | None:
        """The feature spec's JSON the file carries, as the runtime returns it (lgrin_feature_spec)."""
        n = ctypes.c_size_t()
        ptr = self._lib.lgrin_feature_spec(self._model_ptr, ctypes.byref(n))
        return None if not ptr else ctypes.string_at(ptr, n.value).decode()

    @property
    def workspace_bytes(self) -> int:
        """Workspace one inference needs (the runtime allocates nothing itself)."""
        return self._ws_size

    def facts(self) -> dict:
        return {"kernels": self.kernels, "workspace_bytes": self._ws_size}

    def _workspace(self) -> int:
        """This thread's workspace (one per thread: the runtime's thread-safe pattern), made once."""
        try:
            return self._local.ptr
        except AttributeError:
            self._local.ws = _aligned(self._ws_size)
            self._local.ptr = self._local.ws.ctypes.data
            return self._local.ptr

    def _run(self, x: np.ndarray, out: np.ndarray) -> None:
        # the buffers' addresses through __array_interface__: a third of .ctypes.data's cost, which counts
        # at batch 1 (a JapaneseVowels inference takes under 30 us)
        x_ptr, out_ptr = x.__array_interface__["data"][0], out.__array_interface__["data"][0]
        ws = self._workspace()
        rc = self._lib.lgrin_run_batch(self._model_ptr, ws, self._ws_size, x_ptr, len(x), out_ptr)
        if rc != 0:
            name, meaning = ERROR_NAMES.get(rc, ("LGRIN_E_UNKNOWN", "unknown error"))
            raise RuntimeError(f"C runtime failed: {meaning} ({name}, code {rc})")

    def _invoke(self, x: np.ndarray) -> np.ndarray:
        """Logits (B, C) float32 for checked inputs x (B, M, P), the batch split over the threads."""
        out = np.empty((len(x), self.num_classes), np.float32)
        threads = min(self.num_threads, len(x))
        if threads <= 1:
            self._run(x, out)
            return out
        # ctypes drops the GIL during the call, so threads run the C code in parallel; the pool (and so
        # each thread's workspace) lives as long as the model
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.num_threads, thread_name_prefix="lgrin-c")
        bounds = np.linspace(0, len(x), threads + 1).astype(int)
        slices = [(a, b) for a, b in itertools.pairwise(bounds) if b > a]
        jobs = [self._pool.submit(self._run, x[a:b], out[a:b]) for a, b in slices]
        for job in jobs:
            job.result()
        return out

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Softmax of the logits, computed by the runtime's lgrin_softmax."""
        logits = self(x)
        probs = np.empty_like(logits)
        for i in range(len(logits)):
            self._lib.lgrin_softmax(logits[i].ctypes.data, self.num_classes, probs[i].ctypes.data)
        return probs
