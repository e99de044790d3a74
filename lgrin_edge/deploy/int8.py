"""The int8 form of the folded L-GrIN: the quantiser the C runtime's model file holds, and a numpy replica
of the runtime's integer arithmetic.

How it differs from the reference (reference.py): node features are int8 with one scale per feature
column (relu(A) @ H and the 1-hop max pool never mix columns, so those scales pass through them and are
folded into the next layer's weights); weights are symmetric int8 per output channel; every linear
layer requantises its int32 accumulator with an integer multiplier and shift, rounding half away from
zero; the pooling and classifier compute in float from the dequantised last H and int8 classifier
weights. :func:`simulate` gives the runtime's integers exactly; its float64 pooling and classifier
differ from the runtime's float32 by rounding only. The C runtime runs the paper's configuration only
(G*conv, inception, learned pooling), and so does this form.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lgrin_edge.compress.rounding import gptq_int8, symmetric_int8
from lgrin_edge.deploy.folded import FoldedLGrIN, FoldError, Linear
from lgrin_edge.deploy.reference import adj_mul, layer_activations, lin, max_pool, normalise, readout

BIAS_LIMIT = 1 << 30  # the loader rejects larger int32 biases, so accumulators cannot overflow

# Branch activations get per-column scales between one per tensor (0) and one per column (1):
# range_tensor^(1-b) * range_column^b. A column's scale is folded into the next weights' input columns,
# so finer activation scales coarsen those weights' per-row int8; 0.5 gave the lowest logit error on the
# training graphs of 5 bundled models (1.6% mean, 2.2% with one scale per tensor; docs/quantisation.md).
ACTIVATION_BALANCE = 0.5


@dataclass(frozen=True, eq=False)
class QLinear:
    """An int8 linear + ReLU: y = clamp(round((w @ x + b) * m * 2**-s), 0, 127) per output channel.

    w (out, in) int8 with the input's column scales folded in; b (out,) int32 in the accumulator's
    scale; m, s (out,) int32 multiplier and shift (value m * 2**-s).
    """

    w: np.ndarray
    b: np.ndarray
    m: np.ndarray
    s: np.ndarray


@dataclass(frozen=True, eq=False)
class QLayer:
    """One int8 inception layer: relu(A) @ H requantised per node row (adj_m, adj_s (M,) int32), then
    each branch's linears and the 1-hop max pool of H."""

    adj_m: np.ndarray
    adj_s: np.ndarray
    branches: tuple[tuple[QLinear, ...], ...]


@dataclass(frozen=True, eq=False)
class QuantizedLGrIN:
    """Everything the int8 model file holds (export/README.md).

    in_a, in_c (P,) float32: the input quantisation round(x * in_a + in_c), clamped to +-127.
    adj (M, M) int8 and nbr (M, K) int32: relu(A) and the neighbour table.
    pool_p (M,) float32; out_scale (F_L,) float32, the last H's column scales.
    cls_q (C, 3 F_L) int8, cls_s (C,) float32 per class row, cls_b (C,) float32: the float classifier.
    """

    in_a: np.ndarray
    in_c: np.ndarray
    adj: np.ndarray
    nbr: np.ndarray
    layers: tuple[QLayer, ...]
    pool_p: np.ndarray
    cls_q: np.ndarray
    cls_s: np.ndarray
    cls_b: np.ndarray
    out_scale: np.ndarray

    @property
    def M(self) -> int:
        return int(self.adj.shape[0])


def require_paper_configuration(model: FoldedLGrIN) -> FoldedLGrIN:
    """``model`` if the C runtime (and this form) can run it, else FoldError naming what differs."""
    if not (model.inception and model.conv == "gstar" and model.pooling == "learned"):
        raise FoldError(
            "the C runtime implements the paper's configuration only (G*conv, inception, learned pooling); "
            f"this model has conv={model.conv}, inception={model.inception}, pooling={model.pooling}"
        )
    return model


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


def _range(
    values: np.ndarray, method: str, percentile: float, axis: tuple[int, ...] | None = None
) -> np.ndarray:
    """Calibrated |value| range (reduced over ``axis``, all axes if None); zero ranges become 1."""
    v = np.abs(np.asarray(values, np.float64))
    r = v.max(axis=axis) if method == "max" else np.percentile(v, percentile, axis=axis)
    return np.where(r > 0, r, 1.0)  # a constant-zero tensor: any scale represents it exactly


def _balanced_scales(values: np.ndarray, method: str, percentile: float) -> np.ndarray:
    """Per-column (last axis) int8 scales of post-ReLU ``values``, balanced by ACTIVATION_BALANCE."""
    v = np.abs(np.asarray(values, np.float64)).reshape(-1, values.shape[-1])
    col = v.max(axis=0) if method == "max" else np.percentile(v, percentile, axis=0)
    whole = float(col.max()) if col.max() > 0 else 1.0
    col = np.maximum(col, whole * 1e-3)  # dead columns: any scale represents zero, keep it moderate
    return whole ** (1 - ACTIVATION_BALANCE) * col**ACTIVATION_BALANCE / 127


def _quantize_linear(fc: Linear, s_in: np.ndarray, s_out: np.ndarray) -> QLinear:
    """``fc`` in int8 between activations of column scales ``s_in`` and ``s_out``: the input scales folded
    into the weights, then quantised per output channel."""
    w, scale = symmetric_int8(fc.w * s_in[None, :])
    bias = np.clip(np.round(fc.b / scale), -BIAS_LIMIT, BIAS_LIMIT).astype(np.int32)
    return QLinear(w, bias, *_multiplier(scale / s_out))


def _classifier_int8(model: FoldedLGrIN, h_last: np.ndarray, rounding: str) -> tuple[np.ndarray, np.ndarray]:
    """The float classifier's int8 weights and per-class scales (``rounding`` as :func:`quantize`)."""
    cls_w = model.classifier.w.astype(np.float64)
    if rounding == "gptq":
        g = readout(model, h_last)  # the float features the classifier sees (the runtime's are dequantised)
        q, scale = gptq_int8(cls_w, g.T.astype(np.float64) @ g)
    else:
        q, scale = symmetric_int8(cls_w)
    return q, scale.astype(np.float32)


def _check_request(model: FoldedLGrIN, cal: np.ndarray, method: str, rounding: str) -> None:
    if method not in ("max", "percentile"):
        raise ValueError(f"unknown calibration method {method!r}; use 'max' or 'percentile'")
    if rounding not in ("nearest", "gptq"):
        raise ValueError(f"unknown rounding {rounding!r}; use 'nearest' or 'gptq'")
    require_paper_configuration(model)
    if cal.ndim != 3 or cal.shape[1:] != (model.M, model.P) or len(cal) == 0:
        raise ValueError(
            f"calibration must have shape (N, {model.M}, {model.P}) with N >= 1, got {cal.shape}"
        )
    if not np.all(np.isfinite(cal)):
        raise ValueError("calibration inputs contain NaN or infinity")


def quantize(
    model: FoldedLGrIN,
    calibration: np.ndarray,
    method: str = "max",
    percentile: float = 99.99,
    rounding: str = "nearest",
) -> QuantizedLGrIN:
    """Post-training int8 quantisation calibrated on raw inputs (N, M, P) (module docstring).

    The hidden layer and the output of each branch get balanced per-column scales (ACTIVATION_BALANCE),
    realised by the per-channel requantisation multipliers. ``method`` "max" calibrates max |activation|,
    "percentile" that percentile of |activation|. ``rounding`` "gptq" rounds the classifier's weights with
    error compensation on the pooled calibration features (compress/rounding.py), "nearest" plainly (no
    float library involved: the known-answer data uses it, identical on every CPU).
    """
    cal = np.asarray(calibration, np.float32)
    _check_request(model, cal, method, rounding)
    h = normalise(model, cal)
    s_h = s_x = _range(h, method, percentile, axis=(0, 1)) / 127  # per input feature
    adj_q, adj_scale = symmetric_int8(model.adj)
    layers = []
    for layer, (ah, h_next, outs) in zip(model.layers, layer_activations(model, h), strict=True):
        # relu(A) @ H keeps column f proportional to its input scale s_h[f]: one factor c per layer
        c = float(_range(ah / s_h, method, percentile)) / 127
        branches, s_out = [], []
        for branch, ys in zip(layer.branches, outs, strict=True):
            s_in, linears = c * s_h, []
            for fc, y in zip(branch.linears, ys, strict=True):
                s_y = _balanced_scales(y, method, percentile)
                linears.append(_quantize_linear(fc, s_in, s_y))
                s_in = s_y
            branches.append(tuple(linears))
            s_out.append(s_in)
        layers.append(QLayer(*_multiplier(adj_scale / c), tuple(branches)))
        s_h = np.concatenate([*s_out, s_h])  # the max pool passes its columns' scales through
        h = h_next
    cls_q, cls_s = _classifier_int8(model, h, rounding)
    return QuantizedLGrIN(
        in_a=(model.in_scale / s_x).astype(np.float32),
        in_c=(model.in_shift / s_x).astype(np.float32),
        adj=adj_q,
        nbr=model.nbr,
        layers=tuple(layers),
        pool_p=model.pool_p,
        cls_q=cls_q,
        cls_s=cls_s,
        cls_b=model.classifier.b,
        out_scale=s_h.astype(np.float32),
    )


def _quant_input(x: np.ndarray, q: QuantizedLGrIN) -> np.ndarray:
    """Input quantisation exactly as the runtime does it in float32 (no fused multiply-add)."""
    v = np.asarray(x, np.float32) * q.in_a + q.in_c
    v = np.where(v >= -127, v, np.float32(-127))
    v = np.minimum(v, np.float32(127))
    half = np.float32(0.5)
    return np.trunc(np.where(v >= 0, v + half, v - half)).astype(np.int64)


def simulate(q: QuantizedLGrIN, x: np.ndarray) -> np.ndarray:
    """numpy replica of the runtime's int8 forward: x (B, M, P) -> logits (B, C) (module docstring)."""
    h = _quant_input(x, q)
    adj = q.adj.astype(np.float64)
    for layer in q.layers:
        # float64 matmuls of small integers are exact (|sums| < 2**53) and use BLAS
        acc = adj_mul(adj, h.astype(np.float64)).astype(np.int64)
        ah = _rq(acc, layer.adj_m[:, None], layer.adj_s[:, None], -127)
        outs = []
        for branch in layer.branches:
            y = ah
            for fc in branch:
                acc = lin(y.astype(np.float64), fc.w.astype(np.float64)).astype(np.int64)
                y = _rq(acc + fc.b, fc.m, fc.s, 0)
            outs.append(y)
        outs.append(max_pool(h, q.nbr))
        h = np.concatenate(outs, axis=2)
    hf = h.astype(np.float64) * q.out_scale
    g = np.concatenate([hf.max(axis=1), np.einsum("m,bmf->bf", q.pool_p, hf), hf.sum(axis=1) / q.M], axis=1)
    cls_w = q.cls_q.astype(np.float64) * q.cls_s.astype(np.float64)[:, None]
    return (g @ cls_w.T + q.cls_b).astype(np.float32)
