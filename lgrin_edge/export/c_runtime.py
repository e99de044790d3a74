"""Python side of the C99 runtime in ``export/``: model file writer, int8 quantiser, build, ctypes runner.

The runtime executes the *folded arrays* of an L-GrIN model (see :func:`reference_forward` for the exact
forward pass). :func:`write_c_model` quantises them (weights per output channel, activations per tensor,
both symmetric int8) and writes the binary model file described in ``export/README.md``;
:func:`build_library` compiles the runtime with the system C compiler; :class:`CModel` runs it.
:func:`simulate_int8` reproduces the runtime's integer arithmetic in numpy, bit for bit up to the final
float32 pooling and classifier.
"""

from __future__ import annotations

import ctypes
import itertools
import struct
import threading
import zlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lgrin_edge.atomic import write_bytes
from lgrin_edge.cli import UserError
from lgrin_edge.compress.rounding import gptq_int8, row_scales
from lgrin_edge.export.runner import Runner
from lgrin_edge.native import compile_library

__all__ = [
    "ERROR_NAMES",
    "CModel",
    "CModelFileError",
    "QuantizedModel",
    "add_feature_spec",
    "build_library",
    "encode_model",
    "quantize",
    "random_folded_arrays",
    "reference_forward",
    "simulate_int8",
    "with_feature_spec",
    "write_c_model",
]

MAGIC = b"LGRN"
VERSION = 4  # a file without a feature spec; with one, SPEC_VERSION (export/README.md)
SPEC_VERSION = 5
HEADER_SIZE = 64
MAX_SPEC_BYTES = 1 << 20  # LGRIN_MAX_SPEC_BYTES
PRECISIONS = {"fp32": 0, "int8": 1}
MAX_LAYERS = 8
_BIAS_LIMIT = 1 << 30  # the loader rejects larger int32 biases, so accumulators cannot overflow

#: C status code -> (enum name, meaning); mirrors ``enum lgrin_status`` in export/include/lgrin.h.
ERROR_NAMES: dict[int, tuple[str, str]] = {
    -1: ("LGRIN_E_ARG", "invalid argument"),
    -2: ("LGRIN_E_TRUNCATED", "model file truncated"),
    -3: ("LGRIN_E_MAGIC", "bad magic: not an L-GrIN model file"),
    -4: ("LGRIN_E_VERSION", "unsupported model format version"),
    -5: ("LGRIN_E_HEADER", "invalid model header"),
    -6: ("LGRIN_E_SIZE", "model buffer longer than declared size"),
    -7: ("LGRIN_E_CHECKSUM", "model checksum mismatch (corrupt file)"),
    -8: ("LGRIN_E_VALUE", "invalid value in model payload"),
    -9: ("LGRIN_E_ALIGN", "buffer not aligned"),
    -10: ("LGRIN_E_WORKSPACE", "workspace too small"),
    -11: ("LGRIN_E_INPUT", "input contains NaN or infinity"),
    -12: ("LGRIN_E_ENDIAN", "big-endian host not supported"),
    -13: ("LGRIN_E_KERNEL", "kernel family not in this build or not supported by this CPU"),
}

# The C sources travel inside the package (lgrin_edge/c_sources links to export/ in the repository and
# is copied into wheels as package data), so the c target works from a wheel install too.
EXPORT_DIR = Path(__file__).resolve().parents[1] / "c_sources"
# The translation units: the loader, the run paths, the kernel dispatch and one file per kernel family
# (each compiles src/kernels/ for its own instruction set); the headers and kernel files they include
# only count towards the build's cache key.
_SOURCES = (
    "src/lgrin_model.c",
    "src/lgrin_run.c",
    "src/lgrin_dispatch.c",
    "src/lgrin_family_vnni.c",
    "src/lgrin_family_avx2.c",
    "src/lgrin_family_portable.c",
    "src/lgrin_family_sdot.c",
    "src/lgrin_family_neon.c",
)
_INCLUDED = (
    "include/lgrin.h",
    "src/lgrin_internal.h",
    "src/kernels/lgrin_family.h",
    "src/kernels/lgrin_family.c",
    "src/kernels/lgrin_requant.h",
    "src/kernels/lgrin_requant.c",
    "src/kernels/lgrin_gemm8.c",
    "src/kernels/lgrin_graph.c",
    "src/kernels/lgrin_dense.c",
)
# -ffp-contract=off: no fused multiply-add, so the input quantisation rounds exactly as simulate_int8.
_CFLAGS = ("-std=c99", "-O3", "-funroll-loops", "-fPIC", "-shared", "-ffp-contract=off")


class CModelFileError(UserError):
    """A model file the C runtime refused; ``code`` is the C status, ``name`` its enum name."""

    def __init__(self, path: Path | str, code: int) -> None:
        self.code = code
        self.name, self.meaning = ERROR_NAMES.get(code, ("LGRIN_E_UNKNOWN", "unknown error"))
        super().__init__(f"cannot load C model {path}: {self.meaning} ({self.name}, code {code})")


# ---------------------------------------------------------------------------------------------------
# Folded arrays: shapes, reference forward, random instances


def _dims(arrays: Mapping[str, np.ndarray]) -> tuple[int, int, int, int, int, tuple[int, int]]:
    """(M, P, C, L, K, eta) of a folded-array dict, validating every shape."""
    M, K = np.shape(arrays["nbr"])
    P = int(np.shape(arrays["in_scale"])[0])
    C = int(np.shape(arrays["cls_b"])[0])
    L = 0
    while f"l{L}.g0.w1" in arrays:
        L += 1
    if not 1 <= L <= MAX_LAYERS:
        raise ValueError(f"expected 1..{MAX_LAYERS} inception layers, found {L}")
    eta = (int(np.shape(arrays["l0.g0.w1"])[0]), int(np.shape(arrays["l0.g1.w1"])[0]))
    expect = {"in_scale": (P,), "in_shift": (P,), "adj": (M, M), "pool_p": (M,), "cls_b": (C,)}
    F = P
    for layer in range(L):
        for b in (0, 1):
            e = eta[b]
            key = f"l{layer}.g{b}"
            expect.update({f"{key}.w1": (e, F), f"{key}.b1": (e,), f"{key}.w2": (e, e), f"{key}.b2": (e,)})
        F += eta[0] + eta[1]
    expect["cls_w"] = (C, 3 * F)
    for key, shape in expect.items():
        if key not in arrays:
            raise ValueError(f"folded arrays lack {key!r}")
        if tuple(np.shape(arrays[key])) != shape:
            raise ValueError(f"{key!r} has shape {tuple(np.shape(arrays[key]))}, expected {shape}")
        if not np.all(np.isfinite(arrays[key])):
            raise ValueError(f"{key!r} contains NaN or infinity")
    nbr = np.asarray(arrays["nbr"])
    if K < 1 or nbr.min() < 0 or nbr.max() >= M:
        raise ValueError(f"'nbr' must index nodes 0..{M - 1} with at least one column")
    return int(M), P, C, L, int(K), eta


def reference_forward(arrays: Mapping[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """float32 forward of the folded model: x (B, M, P) -> logits (B, C)."""
    a = {k: np.asarray(v) for k, v in arrays.items()}
    _, _, _, L, _, _ = _dims(a)
    h = np.asarray(x, np.float32) * a["in_scale"].astype(np.float32) + a["in_shift"].astype(np.float32)
    for _ah, h_next, _hidden in _layers(a, h, L):
        h = h_next
    return _pool_classify(a, h)


def _adj_mul(adj: np.ndarray, h: np.ndarray) -> np.ndarray:
    """adj (M, M) @ h (B, M, F) as one 2-D matmul (numpy's broadcast matmul may skip BLAS)."""
    B, M, F = h.shape
    return (adj @ h.transpose(1, 0, 2).reshape(M, B * F)).reshape(M, B, F).transpose(1, 0, 2)


def _lin(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """x (B, M, F) @ w.T for w (out, F), as one 2-D matmul."""
    B, M, F = x.shape
    return (x.reshape(B * M, F) @ w.T).reshape(B, M, -1)


def _layers(a: Mapping[str, np.ndarray], h: np.ndarray, L: int):
    """Yield (ah, h_next, [y1_b0, y1_b1]) per inception layer, in float32."""
    adj = a["adj"].astype(np.float32)
    for layer in range(L):
        ah = _adj_mul(adj, h)
        ys, hidden = [], []
        for b in (0, 1):
            key = f"l{layer}.g{b}"
            y = np.maximum(_lin(ah, a[f"{key}.w1"].astype(np.float32)) + a[f"{key}.b1"].astype(np.float32), 0)
            hidden.append(y)
            ys.append(
                np.maximum(_lin(y, a[f"{key}.w2"].astype(np.float32)) + a[f"{key}.b2"].astype(np.float32), 0)
            )
        h = np.concatenate([*ys, _max_pool(h, a["nbr"])], axis=2)
        yield ah, h, hidden


def _max_pool(h: np.ndarray, nbr: np.ndarray) -> np.ndarray:
    """1-hop max pool (B, M, F): one neighbour column at a time, never a (B, M, K, F) gather."""
    out = h[:, nbr[:, 0], :].copy()
    for k in range(1, nbr.shape[1]):
        np.maximum(out, h[:, nbr[:, k], :], out=out)
    return out


def _pooled(a: Mapping[str, np.ndarray], h: np.ndarray) -> np.ndarray:
    """The classifier's input: [max | learned p-pool | mean] over the nodes of h (B, M, F)."""
    return np.concatenate([h.max(axis=1), np.einsum("m,bmf->bf", a["pool_p"], h), h.mean(axis=1)], axis=1)


def _pool_classify(a: Mapping[str, np.ndarray], h: np.ndarray) -> np.ndarray:
    return (_pooled(a, h) @ a["cls_w"].T + a["cls_b"]).astype(np.float32)


def random_folded_arrays(
    M: int, P: int, C: int, eta: tuple[int, int] = (128, 64), L: int = 2, seed: int = 0
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """A random model with the paper's initialisation (A ~ N(0,1), Xavier weights) and its input law.

    Returns (arrays, feature_mean, feature_std); inputs drawn as mean + std * N(0, 1) are what the folded
    normalisation expects.
    """
    rng = np.random.default_rng(seed)
    mean = rng.normal(0, 2, P).astype(np.float32)
    std = rng.uniform(0.5, 3, P).astype(np.float32)
    adj = np.maximum(rng.normal(0, 1, (M, M)), 0).astype(np.float32)
    nbr_rows = [np.flatnonzero(r > 0) for r in adj]
    K = max(1, *(len(r) for r in nbr_rows))
    # A node without neighbours max-pools over itself; rows are padded by repeating their first index.
    nbr = np.array([np.resize(r if len(r) else [i], K) for i, r in enumerate(nbr_rows)], np.int32)
    arrays: dict[str, np.ndarray] = {"in_scale": 1 / std, "in_shift": -mean / std, "adj": adj, "nbr": nbr}

    def xavier(o: int, i: int) -> np.ndarray:
        lim = np.sqrt(6 / (o + i))
        return rng.uniform(-lim, lim, (o, i)).astype(np.float32)

    F = P
    for layer in range(L):
        for b in (0, 1):
            e, key = eta[b], f"l{layer}.g{b}"
            arrays[f"{key}.w1"], arrays[f"{key}.w2"] = xavier(e, F), xavier(e, e)
            arrays[f"{key}.b1"] = rng.uniform(-0.1, 0.1, e).astype(np.float32)
            arrays[f"{key}.b2"] = rng.uniform(-0.1, 0.1, e).astype(np.float32)
        F += eta[0] + eta[1]
    arrays["pool_p"] = rng.normal(0, 1 / np.sqrt(M), M).astype(np.float32)
    arrays["cls_w"] = xavier(C, 3 * F)
    arrays["cls_b"] = np.zeros(C, np.float32)
    return arrays, mean, std


# ---------------------------------------------------------------------------------------------------
# int8 quantisation


def _multiplier(real: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Encode positive reals as (m, s), value = m * 2**-s, m < 2**31 and 1 <= s <= 62 (the loader's range)."""
    frac, exp = np.frexp(np.asarray(real, np.float64))
    m = np.round(frac * 2.0**31).astype(np.int64)
    s = 31 - exp.astype(np.int64)
    full = m == 2**31
    m[full], s[full] = 2**30, s[full] - 1
    big = s > 62  # multipliers below 2**-32: shift m down, precision is irrelevant there
    m[big] >>= np.minimum(s[big] - 62, 63)
    s[big] = 62
    small = s < 1  # multipliers >= 2**30 only arise from degenerate scales; saturate
    m[small], s[small] = 2**31 - 1, 1
    m[real <= 0], s[real <= 0] = 0, 1
    return m.astype(np.int32), s.astype(np.int32)


def _rq(acc: np.ndarray, m: np.ndarray, s: np.ndarray, lo: int) -> np.ndarray:
    """The runtime's requantisation: round(acc * m * 2**-s) half away from zero, clamped to [lo, 127]."""
    p = np.asarray(acc, np.int64) * np.asarray(m, np.int64)
    s = np.asarray(s, np.int64)
    u = (np.abs(p) + (np.int64(1) << (s - 1))) >> s
    return np.clip(np.sign(p) * u, lo, 127).astype(np.int64)


def _weight_q(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-row int8 and the row scales (an all-zero row gets scale 1)."""
    scale = row_scales(w)
    return np.clip(np.round(w / scale[:, None]), -127, 127).astype(np.int8), scale


@dataclass
class QuantizedModel:
    """Everything the int8 model file holds, as numpy arrays (see export/README.md)."""

    dims: tuple[int, int, int, int, int, tuple[int, int]]
    tensors: dict[str, np.ndarray]
    act_scales: dict[str, np.ndarray]


def _range(
    values: np.ndarray, method: str, percentile: float, axis: tuple[int, ...] | None = None
) -> np.ndarray:
    """Calibrated |value| range (reduced over ``axis``, all axes if None); zero ranges become 1."""
    v = np.abs(np.asarray(values, np.float64))
    r = v.max(axis=axis) if method == "max" else np.percentile(v, percentile, axis=axis)
    return np.where(r > 0, r, 1.0)  # a constant-zero tensor: any scale represents it exactly


# Branch activations get per-column scales between one per tensor (0) and one per column (1):
# range_tensor^(1-b) * range_column^b. A column's scale is folded into the next weights' input columns,
# so finer activation scales coarsen those weights' per-row int8; 0.5 gave the lowest logit error on the
# training graphs of 5 bundled models (1.6% mean, 2.2% with one scale per tensor; docs/quantisation.md).
ACTIVATION_BALANCE = 0.5


def _balanced_scales(values: np.ndarray, method: str, percentile: float) -> np.ndarray:
    """Per-column (last axis) int8 scales of post-ReLU ``values``, balanced by ACTIVATION_BALANCE."""
    v = np.abs(np.asarray(values, np.float64)).reshape(-1, values.shape[-1])
    col = v.max(axis=0) if method == "max" else np.percentile(v, percentile, axis=0)
    whole = float(col.max()) if col.max() > 0 else 1.0
    col = np.maximum(col, whole * 1e-3)  # dead columns: any scale represents zero, keep it moderate
    return whole ** (1 - ACTIVATION_BALANCE) * col**ACTIVATION_BALANCE / 127


def quantize(
    arrays: Mapping[str, np.ndarray],
    calibration: np.ndarray,
    method: str = "max",
    percentile: float = 99.99,
    rounding: str = "nearest",
) -> QuantizedModel:
    """Post-training int8 quantisation calibrated on raw inputs (N, M, P).

    Node features H carry one scale per feature column: relu(A) @ H and the 1-hop max pool never mix
    columns, so those scales pass through them unchanged and are folded into the next layer's weights
    (per-output-channel quantised afterwards). The MLP hidden layer and each branch output get balanced
    per-column scales (ACTIVATION_BALANCE), realised by the per-channel requantisation multipliers.
    method "max" calibrates max |activation|, "percentile" that percentile of |activation|.
    The classifier computes in float from int8 weights (per class row); ``rounding`` "gptq" rounds them
    with error compensation on the pooled calibration features (compress/rounding.py), "nearest" plainly
    (no float library involved: the known-answer data uses it, identical on every CPU).
    """
    if method not in ("max", "percentile"):
        raise ValueError(f"unknown calibration method {method!r}; use 'max' or 'percentile'")
    if rounding not in ("nearest", "gptq"):
        raise ValueError(f"unknown rounding {rounding!r}; use 'nearest' or 'gptq'")
    a = {k: np.asarray(v) for k, v in arrays.items()}
    dims = M, P, _C, L, _K, eta = _dims(a)
    cal = np.asarray(calibration, np.float32)
    if cal.ndim != 3 or cal.shape[1:] != (M, P) or len(cal) == 0:
        raise ValueError(f"calibration must have shape (N, {M}, {P}) with N >= 1, got {cal.shape}")
    if not np.all(np.isfinite(cal)):
        raise ValueError("calibration inputs contain NaN or infinity")

    h = cal * a["in_scale"].astype(np.float32) + a["in_shift"].astype(np.float32)
    s_h = _range(h, method, percentile, axis=(0, 1)) / 127  # per input feature
    sc: dict[str, np.ndarray] = {"h0": s_h}
    t: dict[str, np.ndarray] = {}
    t["in_a"] = (a["in_scale"] / s_h).astype(np.float32)
    t["in_c"] = (a["in_shift"] / s_h).astype(np.float32)
    t["adj"], adj_scale = _weight_q(a["adj"])
    t["nbr"] = a["nbr"].astype(np.int32)
    for layer, (ah, h_next, hidden) in enumerate(_layers(a, h, L)):
        # relu(A) @ H keeps column f proportional to its input scale s_h[f]: one factor c per layer
        c = float(_range(ah / s_h, method, percentile)) / 127
        s_ah = c * s_h
        t[f"l{layer}.adj_m"], t[f"l{layer}.adj_s"] = _multiplier(adj_scale / c)
        s_out = []
        for b in (0, 1):
            out = h_next[..., sum(eta[:b]) : sum(eta[: b + 1])]
            s_y1, s_y2 = _quantize_branch(a, t, f"l{layer}.g{b}", s_ah, hidden[b], out, method, percentile)
            sc[f"y{layer}.{b}"], sc[f"o{layer}.{b}"] = s_y1, s_y2
            s_out.append(s_y2)
        s_h = np.concatenate([*s_out, s_h])  # the max pool passes its columns' scales through
        sc[f"h{layer + 1}"] = s_h
    t["pool_p"] = a["pool_p"].astype(np.float32)
    t["cls_q"], t["cls_s"] = _classifier_int8(a, h_next, rounding)
    t["cls_b"] = a["cls_b"].astype(np.float32)
    t["out_scale"] = s_h.astype(np.float32)
    return QuantizedModel(dims, t, sc)


def _quantize_branch(
    a: Mapping[str, np.ndarray],
    t: dict[str, np.ndarray],
    key: str,
    s_in: np.ndarray,
    hidden: np.ndarray,
    out: np.ndarray,
    method: str,
    percentile: float,
) -> tuple[np.ndarray, np.ndarray]:
    """One branch's two int8 layers into ``t``, from its input scales and its calibrated hidden and output
    activations; returns the (hidden, output) activation scales."""
    s_y1 = _balanced_scales(hidden, method, percentile)
    s_y2 = _balanced_scales(out, method, percentile)
    for n, s_x, s_o in (("1", s_in, s_y1), ("2", s_y1, s_y2)):
        # fold the input scales into the weights, then quantise per output channel
        wq, ws = _weight_q(a[f"{key}.w{n}"] * s_x[None, :])
        t[f"{key}.w{n}"] = wq
        bias = np.round(a[f"{key}.b{n}"] / ws)
        t[f"{key}.b{n}"] = np.clip(bias, -_BIAS_LIMIT, _BIAS_LIMIT).astype(np.int32)
        t[f"{key}.m{n}"], t[f"{key}.s{n}"] = _multiplier(ws / s_o)
    return s_y1, s_y2


def _classifier_int8(
    a: Mapping[str, np.ndarray], h_last: np.ndarray, rounding: str
) -> tuple[np.ndarray, np.ndarray]:
    """The float classifier's int8 weights and per-class scales (``rounding`` as :func:`quantize`)."""
    cls_w = a["cls_w"].astype(np.float64)
    if rounding == "gptq":
        g = _pooled(a, h_last)  # the float features the classifier sees (the runtime's are dequantised)
        q, scale = gptq_int8(cls_w, g.T.astype(np.float64) @ g)
    else:
        q, scale = _weight_q(cls_w)
    return q, scale.astype(np.float32)


def _quant_input(x: np.ndarray, t: Mapping[str, np.ndarray]) -> np.ndarray:
    """Input quantisation exactly as the runtime does it in float32 (no fused multiply-add)."""
    v = np.asarray(x, np.float32) * t["in_a"] + t["in_c"]
    v = np.where(v >= -127, v, np.float32(-127))
    v = np.minimum(v, np.float32(127))
    half = np.float32(0.5)
    return np.trunc(np.where(v >= 0, v + half, v - half)).astype(np.int64)


def simulate_int8(q: QuantizedModel, x: np.ndarray) -> np.ndarray:
    """numpy replica of the runtime's int8 forward: x (B, M, P) -> logits (B, C).

    Integer activations match the C code exactly; the final pooling/classifier runs in float64 here and
    float32 there, so logits agree to float32 rounding.
    """
    t = q.tensors
    M, _, _, L, _, _ = q.dims
    h = _quant_input(x, t)
    adj = t["adj"].astype(np.float64)
    for layer in range(L):
        # float64 matmuls of small integers are exact (|sums| < 2**53) and use BLAS
        acc = _adj_mul(adj, h.astype(np.float64)).astype(np.int64)
        ah = _rq(acc, t[f"l{layer}.adj_m"][:, None], t[f"l{layer}.adj_s"][:, None], -127)
        outs = []
        for b in (0, 1):
            key, y = f"l{layer}.g{b}", ah
            for n in ("1", "2"):
                acc = _lin(y.astype(np.float64), t[f"{key}.w{n}"].astype(np.float64)).astype(np.int64)
                y = _rq(acc + t[f"{key}.b{n}"], t[f"{key}.m{n}"], t[f"{key}.s{n}"], 0)
            outs.append(y)
        outs.append(_max_pool(h, t["nbr"]))
        h = np.concatenate(outs, axis=2)
    hf = h.astype(np.float64) * t["out_scale"]
    g = np.concatenate([hf.max(axis=1), np.einsum("m,bmf->bf", t["pool_p"], hf), hf.sum(axis=1) / M], axis=1)
    cls_w = t["cls_q"].astype(np.float64) * t["cls_s"].astype(np.float64)[:, None]
    return (g @ cls_w.T + t["cls_b"]).astype(np.float32)


# ---------------------------------------------------------------------------------------------------
# Model file


def _payload_order(dims: tuple[int, int, int, int, int, tuple[int, int]], int8: bool) -> list[str]:
    L = dims[3]
    names = ["in_a", "in_c", "adj", "nbr"]
    for layer in range(L):
        if int8:
            names += [f"l{layer}.adj_m", f"l{layer}.adj_s"]
        for b in (0, 1):
            key = f"l{layer}.g{b}"
            for n in ("1", "2"):
                names += [f"{key}.w{n}", f"{key}.b{n}"]
                if int8:
                    names += [f"{key}.m{n}", f"{key}.s{n}"]
    names += ["pool_p", "cls_q", "cls_s", "cls_b", "out_scale"] if int8 else ["pool_p", "cls_w", "cls_b"]
    return names


def _groups_of_four(w: np.ndarray) -> np.ndarray:
    """(out, in) int8 weights -> (ceil(in/4), out, 4): four consecutive inputs per output per 32-bit word,
    the operand layout of dot-product instructions (inputs zero-padded to a multiple of four)."""
    out, n = w.shape
    padded = np.zeros((out, -(-n // 4) * 4), dtype=w.dtype)
    padded[:, :n] = w
    return padded.reshape(out, -1, 4).transpose(1, 0, 2)


def encode_model(
    arrays: Mapping[str, np.ndarray],
    calibration: np.ndarray | None = None,
    precision: str = "int8",
    method: str = "max",
    percentile: float = 99.99,
    rounding: str = "nearest",
    feature_spec: str | None = None,
) -> bytes:
    """The bytes of a model file (format in export/README.md); int8 needs calibration inputs. With
    ``feature_spec`` (its JSON) the file carries it (:func:`with_feature_spec`)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {sorted(PRECISIONS)}, got {precision!r}")
    if precision == "int8":
        if calibration is None:
            raise ValueError("int8 export needs calibration inputs of shape (N, M, P)")
        q = quantize(arrays, calibration, method, percentile, rounding)
        dims, tensors = q.dims, q.tensors
    else:
        a = {k: np.asarray(v) for k, v in arrays.items()}
        dims = _dims(a)
        tensors = {k: a[k].astype(np.int32 if k == "nbr" else np.float32) for k in a}
        tensors["in_a"], tensors["in_c"] = tensors["in_scale"], tensors["in_shift"]
    M, P, C, L, K, eta = dims
    chunks = []
    for name in _payload_order(dims, precision == "int8"):
        tensor = tensors[name]
        if precision == "int8" and name.endswith((".w1", ".w2")):
            tensor = _groups_of_four(tensor)
        raw = np.ascontiguousarray(tensor).astype(tensor.dtype.newbyteorder("<")).tobytes()
        chunks.append(raw + b"\0" * (-len(raw) % 4))
    payload = b"".join(chunks)
    total = HEADER_SIZE + len(payload)
    if total >= 2**32:
        raise ValueError(f"model too large for the format: {total} bytes")
    body = struct.pack("<8I", PRECISIONS[precision], M, P, C, L, K, *eta) + bytes(16) + payload
    data = MAGIC + struct.pack("<III", VERSION, total, zlib.crc32(body)) + body
    return data if feature_spec is None else with_feature_spec(data, feature_spec)


def with_feature_spec(data: bytes, feature_spec: str) -> bytes:
    """A version-4 model file (``data``) as version 5 carrying ``feature_spec``: the same payload, then
    the JSON's bytes and 1-4 zero bytes (NUL-terminated, the file a multiple of four); the header gives
    the JSON's length (word 48), the new total size and the CRC, which covers the section."""
    text = feature_spec.encode()
    if data[:4] != MAGIC or struct.unpack_from("<I", data, 4)[0] != VERSION:
        raise ValueError("a feature spec goes into a version-4 model file without one")
    if not 1 <= len(text) <= MAX_SPEC_BYTES or b"\0" in text:
        raise ValueError(f"a feature spec is 1..{MAX_SPEC_BYTES} bytes without NUL, got {len(text)}")
    section = text + bytes(4 - len(text) % 4)
    body = data[16:48] + struct.pack("<I", len(text)) + data[52:] + section
    return MAGIC + struct.pack("<III", SPEC_VERSION, 16 + len(body), zlib.crc32(body)) + body


def add_feature_spec(path: Path, feature_spec: str) -> None:
    """Put ``feature_spec`` into the model file at ``path`` (:func:`with_feature_spec`)."""
    write_bytes(path, with_feature_spec(path.read_bytes(), feature_spec))


def write_c_model(
    arrays: Mapping[str, np.ndarray],
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
    write_bytes(path, encode_model(arrays, calibration, precision, method, percentile, rounding))


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
    sources = [EXPORT_DIR / src for src in _SOURCES]
    included = [EXPORT_DIR / src for src in _INCLUDED]
    if not all(src.is_file() for src in (*sources, *included)):
        raise RuntimeError(f"C runtime sources not found under {EXPORT_DIR}: {_SOURCES + _INCLUDED}")
    flags = [*_CFLAGS, *BUILDS[build]]
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
