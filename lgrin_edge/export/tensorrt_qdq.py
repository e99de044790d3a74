"""TensorRT's explicit quantisation in ONNX: the rewrite of int8 weights to the scale granularity
TensorRT requires, and the static check of a Q/DQ file against TensorRT's ONNX and quantisation rules.

The rules are those of TensorRT's explicit quantisation and its ONNX parser; each is listed with its
source in docs/tensorrt.md. Needs onnx only (no TensorRT): the file is checked where it is made.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from lgrin_edge.export.onnx_graph import (
    LINEAR_OPS,
    constants,
    consumers,
    initializers,
    load_onnx,
    main_opset,
    node_attrs,
    set_axis,
    symmetric_int8,
    weight_axis_rule,
)

# Opset of the TensorRT flavour: TensorRT >= 8.5 (JetPack 5.1) parses opsets up to 17, and 17 still has
# per-axis QuantizeLinear/DequantizeLinear (since 13).
TENSORRT_OPSET = 17
TENSORRT_IR_VERSION = 8
# TensorRT 10.0-10.3 (JetPack 6) parse opsets 9-20; per-axis Q/DQ needs opset 13.
OPSET_RANGE = (13, 20)
# ONNX ops the TensorRT 10.x ONNX parser marks as supported (onnx-tensorrt docs/operators.md), less the
# ones it supports only partially in ways this project never needs to think about.
_SUPPORTED = """
    Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool BatchNormalization Cast CastLike
    Ceil Celu Clip Concat Constant ConstantOfShape Conv ConvTranspose Cos Cosh CumSum DepthToSpace
    DequantizeLinear Div Dropout Einsum Elu Equal Erf Exp Expand EyeLike Flatten Floor GRU Gather
    GatherElements GatherND Gelu Gemm GlobalAveragePool GlobalLpPool GlobalMaxPool Greater GreaterOrEqual
    GroupNormalization HardSigmoid HardSwish Hardmax Identity If InstanceNormalization IsInf IsNaN LRN
    LSTM LayerNormalization LeakyRelu Less LessOrEqual Log LogSoftmax Loop LpNormalization LpPool MatMul
    Max MaxPool Mean MeanVarianceNormalization Min Mish Mod Mul Neg NonZero Not OneHot Or PRelu Pad Pow
    QuantizeLinear RNN Range Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean
    ReduceMin ReduceProd ReduceSum ReduceSumSquare Relu Reshape Resize ReverseSequence Round ScatterElements
    ScatterND Selu Shape Shrink Sigmoid Sign Sin Sinh Size Slice Softmax Softplus Softsign SpaceToDepth
    Split Sqrt Squeeze Sub Sum Tan Tanh ThresholdedRelu Tile TopK Transpose Trilu Unsqueeze Where Xor
"""
SUPPORTED_OPS = frozenset(_SUPPORTED.split())
_REDUCE_OPS = frozenset(op for op in SUPPORTED_OPS if op.startswith("Reduce"))
_QDQ = ("QuantizeLinear", "DequantizeLinear")
_INT8 = onnx.TensorProto.INT8


def requantize_weights_for_tensorrt(model: onnx.ModelProto, fp32: onnx.ModelProto) -> list[str]:
    """Give every int8 weight the scale granularity TensorRT requires; returns what was changed."""
    inits = {init.name: init for init in model.graph.initializer}
    fp32_nodes = {n.name: n for n in fp32.graph.node if n.name}
    fp32_inits = initializers(fp32)
    users_of = consumers(model)
    changed = []
    for dq in model.graph.node:
        if dq.op_type != "DequantizeLinear" or dq.input[0] not in inits:
            continue
        users = users_of.get(dq.output[0], [])
        q_int = numpy_helper.to_array(inits[dq.input[0]])
        scale = numpy_helper.to_array(inits[dq.input[1]])
        attrs = node_attrs(dq)
        axis = attrs.get("axis", 1)
        axis = axis + q_int.ndim if axis < 0 else axis
        if len(users) != 1 or users[0][0].op_type not in LINEAR_OPS:
            want: int | None = None
        else:
            user, idx = users[0]
            want = weight_axis_rule(user.op_type, idx, q_int.ndim, node_attrs(user))
        have = axis if scale.ndim == 1 and scale.size > 1 else None
        if want == have:
            if have is not None and attrs.get("axis") != have:
                set_axis(dq, have)  # same axis, written non-negative
            continue
        # Recover the fp32 weight: from the fp32 model's matching node where possible, else dequantise.
        weight = None
        if len(users) == 1 and users[0][0].name in fp32_nodes:
            src = fp32_nodes[users[0][0].name].input[users[0][1]]
            weight = fp32_inits.get(src)
        if weight is None or weight.shape != q_int.shape:
            shape = [1] * q_int.ndim
            if scale.ndim == 1 and scale.size > 1:
                shape[axis] = scale.size
            weight = q_int.astype(np.float32) * scale.reshape(shape)
        new_scale, new_q = symmetric_int8(weight, want)
        inits[dq.input[0]].CopyFrom(numpy_helper.from_array(new_q, dq.input[0]))
        inits[dq.input[1]].CopyFrom(numpy_helper.from_array(new_scale, dq.input[1]))
        if len(dq.input) > 2 and dq.input[2]:
            zp = np.zeros(new_scale.shape, np.int8)
            inits[dq.input[2]].CopyFrom(numpy_helper.from_array(zp, dq.input[2]))
        set_axis(dq, want)
        what = "per-tensor" if want is None else f"per-channel axis {want}"
        changed.append(f"{dq.input[0]}: {what}")
    return changed


def check_tensorrt_conformance(path: Path) -> list[str]:
    """Human-readable violations of TensorRT's ONNX/explicit-quantisation rules; [] = conformant."""
    return conformance_violations(load_onnx(path))


def conformance_violations(model: onnx.ModelProto) -> list[str]:
    """:func:`check_tensorrt_conformance` for an in-memory model."""
    problems: list[str] = []
    graph = model.graph
    consts = constants(model)
    producers = {out: node for node in graph.node for out in node.output}
    users_of = consumers(model)

    opset = main_opset(model)
    lo, hi = OPSET_RANGE
    if opset is None or not lo <= opset <= hi:
        problems.append(
            f"opset {opset} is outside {lo}-{hi} (TensorRT 10.0-10.3 parse opsets 9-20; "
            "per-axis Q/DQ needs 13)"
        )

    for inp in graph.input:
        if inp.name in consts:
            continue
        dims = inp.type.tensor_type.shape.dim
        for axis, dim in enumerate(dims):
            if axis > 0 and not dim.HasField("dim_value"):
                problems.append(
                    f"input {inp.name!r} has a dynamic axis {axis}: only the batch axis has an "
                    "optimisation profile"
                )

    for node in graph.node:
        label = f"{node.op_type} node {node.name or node.output[0]!r}"
        if node.domain not in ("", "ai.onnx"):
            problems.append(f"{label} is in domain {node.domain!r}: unsupported op (TensorRT parses ai.onnx)")
            continue
        if node.op_type not in SUPPORTED_OPS:
            problems.append(f"{label}: unsupported op {node.op_type} (not in TensorRT's ONNX parser)")
            continue
        axes_input = node.input[1] if node.op_type in _REDUCE_OPS and len(node.input) > 1 else ""
        if axes_input and (opset or 0) >= 18 and axes_input not in consts:
            problems.append(f"{label}: 'axes' must be an initializer")
        if node.op_type in _QDQ:
            problems.extend(_check_qdq(node, label, consts, producers, users_of, opset or 0))
    return problems


def _check_qdq(node, label, consts, producers, users_of, opset) -> list[str]:
    """Violations of one QuantizeLinear/DequantizeLinear node: its scale, its type, a weight's axis."""
    data, scale_name = node.input[0], node.input[1]
    scale = consts.get(scale_name)
    problems = _scale_problems(label, scale_name, scale)
    problems += _qtype_problems(node, label, consts, producers, opset)
    per_axis = scale is not None and scale.size > 1
    if data not in consts:
        if per_axis:
            problems.append(f"{label}: per-channel scales on activation {data!r}; activations are per-tensor")
        return problems
    if node.op_type == "QuantizeLinear":
        # Float weight -> Q -> DQ -> linear op: judge the axis at the DQ, which sees the consumer.
        return problems
    return problems + _weight_axis_problems(node, label, consts[data], scale, users_of)


def _scale_problems(label: str, name: str, scale: np.ndarray | None) -> list[str]:
    if scale is None:
        return [f"{label}: scale {name!r} is not a build-time constant (initializer)"]
    if not np.issubdtype(scale.dtype, np.floating):
        return [f"{label}: scale has dtype {scale.dtype}, expected float"]
    if not (np.isfinite(scale).all() and (scale > 0).all()):
        return [f"{label}: scales must be positive and finite"]
    return []


def _qtype_problems(node, label, consts, producers, opset) -> list[str]:
    """The quantised type must be int8 with zero point 0: the zero point's dtype, else the output_dtype
    attribute (opset >= 21), else uint8 for QuantizeLinear (ONNX's default) and the data's dtype for
    DequantizeLinear."""
    problems = []
    data = node.input[0]
    zp_name = node.input[2] if len(node.input) > 2 and node.input[2] else None
    zp = consts.get(zp_name) if zp_name else None
    if zp_name and zp is None:
        problems.append(f"{label}: zero point {zp_name!r} is not a build-time constant")
    if zp is not None:
        qtype = str(zp.dtype)
    elif node.op_type == "QuantizeLinear":
        out_dtype = node_attrs(node).get("output_dtype", 0) if opset >= 21 else 0
        qtype = "int8" if out_dtype == _INT8 else ("uint8" if out_dtype == 0 else f"type {out_dtype}")
    else:
        qtype = str(consts[data].dtype) if data in consts else _produced_qtype(data, producers, consts)
    if qtype == "uint8":
        problems.append(f"{label}: uint8 quantisation (TensorRT's int8 is signed: zero point int8 0)")
    elif qtype == "int32":
        problems.append(f"{label}: int32 (bias) dequantisation is unsupported; keep biases float")
    elif qtype not in ("int8", "unknown"):
        problems.append(f"{label}: quantised type {qtype} (expected int8)")
    if zp is not None and np.any(zp != 0):
        problems.append(f"{label}: nonzero zero point {zp.ravel()[:4].tolist()} (asymmetric); must be 0")
    return problems


def _weight_axis_problems(node, label, weight: np.ndarray, scale, users_of) -> list[str]:
    """A dequantised weight's scales must follow the output-channel rule of the linear op it feeds."""
    # Only the contracted operands (not a Gemm/Conv bias, input 2) have an output-channel rule.
    users = users_of.get(node.output[0], [])
    linear = [(u, i) for u, i in users if u.op_type in LINEAR_OPS and i < 2]
    if not linear:
        return []
    user, idx = linear[0]
    want = weight_axis_rule(user.op_type, idx, weight.ndim, node_attrs(user))
    per_axis = scale is not None and scale.size > 1
    axis = node_attrs(node).get("axis", 1)
    axis = axis + weight.ndim if axis < 0 else axis
    where = f"{label} (weight {node.input[0]!r} of {user.op_type} {user.name!r} input {idx})"
    if want is None and per_axis:
        return [f"{where}: per-channel scales on axis {axis}, a contraction axis; must be per-tensor"]
    if want is not None and not per_axis:
        return [f"{where}: per-tensor weight scale where per-channel on axis {want} is required"]
    if want is not None and axis != want:
        return [f"{where}: per-channel axis {axis} but the output-channel axis is {want}"]
    if want is not None and scale.size != weight.shape[want]:
        return [f"{where}: {scale.size} scales for {weight.shape[want]} output channels"]
    return []


def _produced_qtype(name: str, producers: dict, consts: dict) -> str:
    node = producers.get(name)
    if node is None or node.op_type != "QuantizeLinear":
        return "unknown"
    if len(node.input) > 2 and node.input[2] in consts:
        return str(consts[node.input[2]].dtype)
    return "uint8"
