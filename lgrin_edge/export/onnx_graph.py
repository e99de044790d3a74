"""ONNX graph helpers every ONNX-based exporter shares (onnx, tensorrt): loading, saving, constants,
the per-channel axis rule, symmetric int8 of a weight, opset lowering, model metadata. A leaf: it imports
no exporter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

import lgrin_edge.compress.rounding as rounding
from lgrin_edge.atomic import atomic_path, write_bytes
from lgrin_edge.export.errors import ExportError
from lgrin_edge.export.quant_spec import SATURATION_SAFE_WEIGHT

INPUT_NAME = "x"
OUTPUT_NAME = "logits"
# Ops that contract a weight with an activation; their constant operand is what per-channel applies to.
LINEAR_OPS = ("MatMul", "Gemm", "Conv", "ConvTranspose")


def load_onnx(path: str | Path) -> onnx.ModelProto:
    """Load and structurally check an ONNX file; clear errors for missing or corrupt files."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ONNX file not found: {path}")
    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
    except Exception as exc:  # onnx raises DecodeError, ValidationError, ... depending on the damage
        raise ExportError(f"{path} is not a valid ONNX model: {exc}") from exc
    if not model.graph.node:
        raise ExportError(f"{path} is not a valid ONNX model: its graph has no nodes")
    return model


def strip_provenance(model: onnx.ModelProto) -> onnx.ModelProto:
    """Drop per-node provenance and cached shapes: they hold source paths and stack traces, cost ~10% of
    the file and make bytes depend on where the code lives."""
    for node in model.graph.node:
        del node.metadata_props[:]
        node.doc_string = ""
    del model.graph.value_info[:]
    model.doc_string = ""
    return model


def save_onnx(model: onnx.ModelProto, path: Path) -> None:
    with atomic_path(path) as tmp:
        onnx.save_model(model, str(tmp), save_as_external_data=False)


def add_metadata(path: Path, key: str, value: str) -> None:
    """Add the entry ``key``: ``value`` to the file's ``metadata_props``, leaving every byte the exporter
    wrote where it was: the entry goes after them as a serialised ModelProto that holds only it, and
    protobuf reads concatenated messages as one message (a repeated field's entries joined)."""
    data = path.read_bytes()
    if any(p.key == key for p in onnx.ModelProto.FromString(data).metadata_props):
        raise ExportError(f"{path} already holds metadata {key!r}")
    entry = onnx.ModelProto(metadata_props=[onnx.StringStringEntryProto(key=key, value=value)])
    write_bytes(path, data + entry.SerializeToString())


def initializers(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    return {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}


def constants(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    """Every build-time constant: the initializers and the outputs of Constant nodes."""
    consts = initializers(model)
    for node in model.graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    consts[node.output[0]] = numpy_helper.to_array(attr.t)
    return consts


def consumers(model: onnx.ModelProto) -> dict[str, list[tuple[onnx.NodeProto, int]]]:
    """Tensor name -> the (node, input index) pairs that read it."""
    users: dict[str, list[tuple[onnx.NodeProto, int]]] = {}
    for node in model.graph.node:
        for idx, name in enumerate(node.input):
            users.setdefault(name, []).append((node, idx))
    return users


def main_opset(model: onnx.ModelProto) -> int | None:
    """The model's ai.onnx opset version (None if it imports none)."""
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)


def input_dims(model: onnx.ModelProto) -> list[int | str]:
    dims = model.graph.input[0].type.tensor_type.shape.dim
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in dims]


def node_attrs(node: onnx.NodeProto) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def weight_axis_rule(op_type: str, input_index: int, weight_rank: int, attrs: dict) -> int | None:
    """Output-channel axis of a constant operand of a linear op, or None where only per-tensor is valid.

    Conv weights are (K, C, ...): axis 0; ConvTranspose (C, K, ...): axis 1; Gemm B is (K, N) or with
    transB (N, K); MatMul B (..., K, N): its last axis. A constant first MatMul operand (..., M, K) such as
    a folded adjacency, or any 1-D operand, contracts over the scaled axis: per-tensor only.
    """
    if op_type == "Conv" and input_index == 1:
        return 0
    if op_type == "ConvTranspose" and input_index == 1:
        return 1
    if op_type == "Gemm" and input_index == 1:
        return 0 if attrs.get("transB", 0) else 1
    if op_type == "Gemm" and input_index == 0:
        return None
    if op_type == "MatMul" and input_index == 1 and weight_rank >= 2:
        return weight_rank - 1
    return None


def symmetric_int8(weight: np.ndarray, axis: int | None, bits: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """(float32 scale, int8 q) of ``weight`` in ONNX's initializer order: symmetric narrow-range int8
    (+-127, or +-64 for 7 bits as onnxruntime's reduce_range) per tensor or per slice along ``axis``
    (compress/rounding.py's symmetric_int8, in float32)."""
    qmax = rounding.QMAX if bits == 8 else SATURATION_SAFE_WEIGHT
    q, scale = rounding.symmetric_int8(weight, axis, qmax, np.float32)
    return scale, q


def set_axis(node: onnx.NodeProto, axis: int | None) -> None:
    kept = [a for a in node.attribute if a.name != "axis"]
    del node.attribute[:]
    node.attribute.extend(kept)
    if axis is not None:
        node.attribute.append(onnx.helper.make_attribute("axis", int(axis)))


def drop_if_unused(model: onnx.ModelProto, name: str) -> None:
    if not any(name in n.input for n in model.graph.node):
        for init in list(model.graph.initializer):
            if init.name == name:
                model.graph.initializer.remove(init)


def lower_opset(model: onnx.ModelProto, opset: int, ir_version: int) -> onnx.ModelProto:
    current = main_opset(model) or opset
    if current > opset:
        try:
            model = onnx.version_converter.convert_version(model, opset)
        except Exception as exc:
            raise ExportError(f"cannot lower the int8 graph from opset {current} to {opset}: {exc}") from exc
    if opset < 18:
        # onnx's converter keeps opset 18's noop_with_empty_axes on Reduce* ops, which before 18 only
        # ReduceSum has; its default (0) is what opset 17 does anyway.
        for node in model.graph.node:
            if node.op_type.startswith("Reduce") and node.op_type != "ReduceSum":
                kept = [a for a in node.attribute if a.name != "noop_with_empty_axes"]
                if len(kept) != len(node.attribute):
                    if any(a.name == "noop_with_empty_axes" and a.i for a in node.attribute):
                        raise ExportError(f"{node.name}: noop_with_empty_axes=1 has no opset-{opset} form")
                    del node.attribute[:]
                    node.attribute.extend(kept)
    model.ir_version = min(model.ir_version, ir_version)
    return model
