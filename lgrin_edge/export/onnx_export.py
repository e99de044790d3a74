"""ONNX export: fp32 graph from a deployment module, int8 quantisation, and an onnxruntime runner.

:func:`quantize_onnx` makes each flavour's int8 file with its recipe from ``quant_spec.py``:

- by default (``SPECS``) weight-only int8 for both flavours: every constant weight of a MatMul/Gemm
  stored int8 (per output channel; a constant first MatMul operand such as relu(A) per tensor) behind a
  DequantizeLinear, activations float. The ``"tensorrt"`` flavour is lowered to opset 17 and must pass
  TensorRT's rules (:func:`lgrin_edge.export.tensorrt_qdq.conformance_violations`), checked once, before
  the file is written.
- with ``static=True`` (``STATIC_SPECS``, ``--static-int8``) onnxruntime's ``quantize_static`` (QDQ,
  min-max calibration): for ``"onnx"`` asymmetric uint8 activations and 7-bit per-channel weights that
  cannot saturate onnxruntime's x86 kernels; for ``"tensorrt"`` signed int8 activations and weights,
  zero point 0, float biases (TensorRT quantises no bias), weights re-checked against TensorRT's axis
  rule, and the pooled head in float (its weights stored int8): its input concatenates max, learned and
  mean pooling, whose ranges differ too much for one symmetric int8 scale.

docs/quantisation.md gives the measurements behind both. The returned facts hold what was done (the
recipe's ``activations``, ``calibration``, ``weight_bits`` and ``float_parts``), for the manifest.
"""

from __future__ import annotations

import io
import logging
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from lgrin_edge.export.errors import ExportError
from lgrin_edge.export.onnx_graph import (
    INPUT_NAME,
    OUTPUT_NAME,
    constants,
    drop_if_unused,
    initializers,
    input_dims,
    load_onnx,
    lower_opset,
    main_opset,
    node_attrs,
    save_onnx,
    strip_provenance,
    symmetric_int8,
    weight_axis_rule,
)
from lgrin_edge.export.quant_spec import (
    SATURATION_SAFE_WEIGHT,
    Activations,
    Calibration,
    FloatPart,
    QuantSpec,
    conversion,
    given_or_chosen,
)
from lgrin_edge.export.runner import Runner, package_version
from lgrin_edge.export.tensorrt_qdq import (
    TENSORRT_IR_VERSION,
    TENSORRT_OPSET,
    conformance_violations,
    requantize_weights_for_tensorrt,
)
from lgrin_edge.export.tolerances import ONNX_SELF_CHECK

# An additive constant at or below this is a masking bias (it breaks int8: the quantiser folds it into
# the activation range).
MASK_BIAS = -1e3
FLAVOURS = ("onnx", "tensorrt")


def lint_deployment_graph(model: onnx.ModelProto) -> list[str]:
    """Problems of a fp32 deployment graph: recomputed folded constants and additive masks."""
    consts = constants(model)
    problems = []
    for node in model.graph.node:
        if node.op_type == "Relu" and node.input[0] in consts:
            problems.append(
                f"node {node.name!r} applies Relu to the constant {node.input[0]!r}: fold it at export time"
            )
        if node.op_type in ("Add", "Sub", "Where"):
            for name in node.input:
                value = consts.get(name)
                is_float = value is not None and value.size and np.issubdtype(value.dtype, np.floating)
                if is_float and float(value.min()) <= MASK_BIAS:
                    problems.append(
                        f"node {node.name!r} adds the large negative constant {name!r} "
                        f"(min {float(value.min()):.3g}): an additive mask, which breaks int8"
                    )
    return problems


# ----------------------------------------------------------------------------------------------------
# fp32 export


def export_onnx(
    module: torch.nn.Module, example: torch.Tensor, path: Path, dynamic_batch: bool = True
) -> None:
    """Export ``module`` ((B, M, P) -> (B, C)) to one self-contained ONNX file, checked in onnxruntime.

    With ``dynamic_batch`` the batch dimension is named ``batch``; the trace uses a batch of 2 because
    torch.export specialises a batch of 1 into the graph. Raises :class:`ExportError` if the graph
    recomputes folded constants, uses an additive mask, or differs from ``module`` by more than
    ``ONNX_SELF_CHECK`` in onnxruntime.
    """
    path = Path(path)
    if not isinstance(example, torch.Tensor) or example.ndim != 3:
        got = getattr(example, "shape", type(example))
        raise ValueError(f"example must be a (B, M, P) tensor, got {got}")
    module = module.cpu().eval()
    example = example.detach().float().cpu()
    if dynamic_batch:
        example = example[:1].expand(2, -1, -1).clone()
        example[1] = example[1].flip(0)  # two different rows so nothing batch-constant is traced in
        dynamic_shapes = ({0: torch.export.Dim("batch", min=1)},)
    else:
        dynamic_shapes = None
    # The dynamo exporter narrates its progress on stdout and warns through logging; keep both quiet.
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    try:
        with redirect_stdout(io.StringIO()), torch.no_grad():
            program = torch.onnx.export(
                module,
                (example,),
                dynamo=True,
                dynamic_shapes=dynamic_shapes,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                external_data=False,
                optimize=True,
                verbose=False,
            )
    except Exception as exc:
        raise ExportError(f"torch.onnx.export failed for {type(module).__name__}: {exc}") from exc
    model = strip_provenance(program.model_proto)
    onnx.checker.check_model(model)
    problems = lint_deployment_graph(model)
    if problems:
        raise ExportError("exported graph is not a folded deployment graph:\n  " + "\n  ".join(problems))
    with torch.no_grad():
        expected = module(example).numpy()
    got = OnnxModel.from_proto(model)(example.numpy())
    diff = float(np.abs(got - expected).max())
    if not np.isfinite(diff) or diff > ONNX_SELF_CHECK:
        raise ExportError(
            f"onnxruntime output differs from PyTorch by {diff:.3g} (> {ONNX_SELF_CHECK}); the exported "
            "graph or onnxruntime's graph optimisation computes something else"
        )
    save_onnx(model, path)


# ----------------------------------------------------------------------------------------------------
# int8


def _check_calibration(model: onnx.ModelProto, calibration: np.ndarray) -> np.ndarray:
    dims = input_dims(model)
    calibration = np.asarray(calibration)
    if calibration.ndim != 3:
        raise ValueError(f"calibration must be (N, M, P) graphs, got shape {calibration.shape}")
    if calibration.shape[0] < 1:
        raise ValueError("calibration is empty: need at least one graph")
    for axis, (want, have) in enumerate(zip(dims[1:], calibration.shape[1:], strict=True), start=1):
        if isinstance(want, int) and want > 0 and want != have:
            raise ValueError(
                f"calibration shape {calibration.shape} does not match the model input {dims} (axis {axis})"
            )
    if not np.issubdtype(calibration.dtype, np.floating) or not np.isfinite(calibration).all():
        raise ValueError("calibration must be finite floating-point data")
    return np.ascontiguousarray(calibration, dtype=np.float32)


def _calibration_batches(model: onnx.ModelProto, calibration: np.ndarray) -> list[np.ndarray]:
    dims = input_dims(model)
    fixed_batch = dims[0] if isinstance(dims[0], int) and dims[0] > 0 else 1
    if fixed_batch == 1:
        return [row[None] for row in calibration]
    # A fixed-batch graph takes calibration in groups of its batch (the remainder is dropped).
    usable = len(calibration) // fixed_batch * fixed_batch
    if usable == 0:
        raise ValueError(f"calibration has {len(calibration)} graphs; this model needs >= {fixed_batch}")
    return list(calibration[:usable].reshape(-1, fixed_batch, *calibration.shape[1:]))


def _ort_quantize(
    fp32_path: Path, model: onnx.ModelProto, calibration: np.ndarray, spec: QuantSpec, only: str | None = None
) -> onnx.ModelProto:
    """onnxruntime's QDQ quantiser with the settings of ``spec`` (quant_spec.py says why each): 7-bit
    weights (``reduce_range``) where ``spec.weight_bits`` is 7, ``spec.keep_float`` left in float."""
    import tempfile

    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self, batches: list[np.ndarray]) -> None:
            self._it = iter(batches)

        def get_next(self) -> dict | None:
            batch = next(self._it, None)
            return None if batch is None else {INPUT_NAME: batch}

    if only is None:
        excluded = float_nodes(model, spec)
    else:  # one node alone (the sensitivity report)
        excluded = [n.name for n in model.graph.node if n.name != only]
    tensorrt = spec.target == "tensorrt"
    with tempfile.TemporaryDirectory(prefix="lgrin-ortq-") as tmp:
        out = Path(tmp) / "int8.onnx"
        quantize_static(
            str(fp32_path),
            str(out),
            Reader(_calibration_batches(model, calibration)),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            reduce_range=spec.weight_bits == 7,
            activation_type=QuantType.QInt8 if tensorrt else QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=excluded,
            calibrate_method=CalibrationMethod.MinMax,
            extra_options={
                "WeightSymmetric": True,
                "ActivationSymmetric": tensorrt,
                "QuantizeBias": not tensorrt,
            },
        )
        return onnx.load(str(out))


def float_nodes(model: onnx.ModelProto, spec: QuantSpec) -> list[str]:
    """Names of the nodes ``spec`` keeps in float (``keep_float``): the input normalisation and/or the
    pooled head."""
    return [name for names in float_parts(model, spec.keep_float).values() for name in names]


def float_parts(model: onnx.ModelProto, parts: frozenset[FloatPart]) -> dict[FloatPart, list[str]]:
    """The nodes of each of ``parts`` in ``model`` (normalisation first, then the pooled head)."""
    found = {}
    if FloatPart.NORMALISATION in parts:
        found[FloatPart.NORMALISATION] = _normalisation_nodes(model)
    if FloatPart.CLASSIFIER in parts:
        found[FloatPart.CLASSIFIER] = _head_nodes(model)
    return found


def _normalisation_nodes(model: onnx.ModelProto) -> list[str]:
    """The elementwise ops from the graph input to the first contraction: x * scale + shift."""
    nodes = list(model.graph.node)
    keep: list[str] = []
    name = model.graph.input[0].name
    while True:
        users = [n for n in nodes if name in n.input]
        if len(users) != 1 or users[0].op_type not in ("Mul", "Add", "Sub", "Div"):
            return keep
        keep.append(users[0].name)
        name = users[0].output[0]


def _head_nodes(model: onnx.ModelProto) -> list[str]:
    """The classifier and the pooling that feeds it."""
    producers = {out: n for n in model.graph.node for out in n.output}
    keep: list[str] = []
    cls = producers[model.graph.output[0].name]
    if cls.op_type not in ("MatMul", "Gemm"):
        raise ExportError(f"the graph ends in {cls.op_type}, not in a MatMul/Gemm classifier")
    keep.append(cls.name)
    # The pooling that feeds it (a Concat of poolings, or one pooling) runs in float too, so no
    # Q/DQ pair sits on the classifier input (TensorRT would otherwise fuse it into int8).
    head = producers.get(cls.input[0])
    if head is not None and head.op_type == "Concat":
        keep.append(head.name)
        keep += [producers[i].name for i in head.input if i in producers]
    elif head is not None:
        keep.append(head.name)
    return keep


def _classifier_node(model: onnx.ModelProto) -> str:
    """Name of the last MatMul/Gemm before the graph output (the classifier)."""
    names = [n.name for n in model.graph.node if n.op_type in ("MatMul", "Gemm")]
    if not names:
        raise ExportError("the graph has no MatMul/Gemm classifier to keep in float")
    return names[-1]


def _int8_weight_storage(model: onnx.ModelProto, node_name: str, bits: int = 8) -> list[str]:
    """Store the float layer's constant weight as int8 + per-channel DequantizeLinear (weight-only).

    The layer still computes in float (its activation input has no Q/DQ), so accuracy is as with float
    weights up to int8 rounding, while the file holds 1 byte per weight. Returns the rewritten names.
    """
    inits = {init.name: init for init in model.graph.initializer}
    node = next(n for n in model.graph.node if n.name == node_name)
    stored = {o for n in model.graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    done = []
    for index, name in enumerate(node.input):
        if f"{name}_int8_dq" in stored:  # a weight shared with a layer rewritten before (relu(A))
            node.input[index] = f"{name}_int8_dq"
            drop_if_unused(model, name)
            continue
        if name not in inits or index == 2:  # index 2 of Gemm is the bias: TensorRT keeps biases float
            continue
        weight = numpy_helper.to_array(inits[name])
        if weight.ndim != 2:
            continue
        axis = weight_axis_rule(node.op_type, index, weight.ndim, node_attrs(node))
        scale, q = symmetric_int8(weight, axis, bits)
        base = f"{name}_int8"
        model.graph.initializer.extend(
            [
                numpy_helper.from_array(q, base),
                numpy_helper.from_array(scale, f"{base}_scale"),
                numpy_helper.from_array(np.zeros(scale.shape, np.int8), f"{base}_zero_point"),
            ]
        )
        attrs = {} if axis is None else {"axis": axis}
        dq = onnx.helper.make_node(
            "DequantizeLinear",
            [base, f"{base}_scale", f"{base}_zero_point"],
            [f"{base}_dq"],
            name=f"{base}_dq",
            **attrs,
        )
        # Before the first user of the weight: a shared weight's other users may be rewired to it later.
        users = [i for i, n in enumerate(model.graph.node) if name in n.input]
        model.graph.node.insert(users[0], dq)
        node.input[index] = f"{base}_dq"
        drop_if_unused(model, name)  # kept while another layer still reads the float weight
        done.append(name)
    return done


def saturation_risks(model: onnx.ModelProto) -> list[str]:
    """Integer products whose int8 weights exceed what onnxruntime's x86 u8 x s8 kernels add exactly.

    A MatMul/Gemm both of whose operands come from DequantizeLinear becomes an integer kernel; on x86
    without VNNI it sums pairs of u8 x s8 products in a saturating int16, exact only for |w| <= 64.
    """
    inits = initializers(model)
    producers = {out: n for n in model.graph.node for out in n.output}
    problems = []
    for node in model.graph.node:
        if node.op_type not in ("MatMul", "Gemm"):
            continue
        sources = [producers.get(name) for name in node.input[:2]]
        if not all(src is not None and src.op_type == "DequantizeLinear" for src in sources):
            continue
        for src in sources:
            q = inits.get(src.input[0])
            if q is None or q.dtype != np.int8:
                continue
            largest = int(np.abs(q.astype(np.int16)).max())
            if largest > SATURATION_SAFE_WEIGHT:
                problems.append(f"{node.name}: |weight| up to {largest} (> {SATURATION_SAFE_WEIGHT})")
    return problems


def weight_only_int8(model: onnx.ModelProto, bits: int = 8, only: str | None = None) -> list[str]:
    """Store every constant weight of a MatMul/Gemm (or of node ``only``) as int8 behind a DequantizeLinear;
    activations stay float. Returns the weights rewritten."""
    names = [n.name for n in model.graph.node if n.op_type in ("MatMul", "Gemm") and only in (None, n.name)]
    return [w for name in names for w in _int8_weight_storage(model, name, bits)]


def quantize_onnx(
    fp32_path: Path,
    calibration: np.ndarray,
    out_path: Path,
    spec: QuantSpec | None = None,
    only: str | None = None,
    *,
    flavour: str = "onnx",
    static: bool = False,
) -> dict:
    """int8 of a fp32 ONNX model with the recipe ``spec`` (an onnx or tensorrt QuantSpec; without it
    ``spec_for(flavour, static)``): weight-only int8, or static PTQ calibrated on ``calibration`` (N, M, P)
    float32. ``only`` quantises that one node and keeps the rest in float. Returns the facts for the
    manifest, among them what was done (``recipe``). The output is written atomically.
    """
    target = flavour if spec is None else spec.target
    if target not in FLAVOURS:
        raise ValueError(f"flavour must be one of {', '.join(FLAVOURS)}; got {target!r}")
    spec = given_or_chosen(target, spec, static)
    fp32_path, out_path = Path(fp32_path), Path(out_path)
    fp32 = load_onnx(fp32_path)
    calibration = _check_calibration(fp32, calibration)
    if spec.activations is Activations.FLOAT:
        quantized = onnx.ModelProto()
        quantized.CopyFrom(fp32)
        info: dict = {
            "tool": "lgrin_edge",
            "method": "weight-only int8: symmetric per output channel, float activations",
            "format": "DequantizeLinear on constant weights",
            "flavour": target,
            "weight_only_int8": weight_only_int8(quantized, spec.weight_bits, only),
        }
        recipe = conversion(Activations.FLOAT, Calibration.NONE, spec.weight_bits)
        return _finish(quantized, target == "tensorrt", {**info, "recipe": recipe}, out_path)
    quantized, info = _static_int8(fp32_path, fp32, calibration, spec, only)
    return _finish(quantized, target == "tensorrt", info, out_path)


def _static_int8(
    fp32_path: Path, fp32: onnx.ModelProto, calibration: np.ndarray, spec: QuantSpec, only: str | None
) -> tuple[onnx.ModelProto, dict]:
    """onnxruntime's static int8 of ``fp32`` under ``spec``, rewritten to TensorRT's rules for its flavour;
    the model and its facts."""
    tool = "onnxruntime"
    try:
        quantized = _ort_quantize(fp32_path, fp32, calibration, spec, only)
    except ValueError:
        raise
    except Exception as exc:
        raise ExportError(f"{tool} could not quantise {fp32_path.name}: {exc}") from exc
    parts = float_parts(fp32, spec.keep_float)
    info = {
        "tool": tool,
        "tool_version": package_version(tool) or "unknown",
        "method": "static post-training quantisation, min-max calibration",
        "format": "QDQ",
        "calibration_samples": len(calibration),
        "flavour": spec.target,
        "float_nodes": [name for names in parts.values() for name in names],
    }
    if spec.target == "tensorrt":
        info["weights_requantized"] = requantize_weights_for_tensorrt(quantized, fp32)
    if FloatPart.CLASSIFIER in spec.keep_float and only is None:
        # Weight-only: the layer computes in float, so its weights keep all 8 bits on every runtime.
        info["weight_only_int8"] = _int8_weight_storage(quantized, _classifier_node(fp32))
    kept = [part for part, names in parts.items() if names] if only is None else []
    info["recipe"] = conversion(Activations.STATIC, Calibration.MIN_MAX, spec.weight_bits, kept)
    return quantized, info


def _finish(quantized: onnx.ModelProto, tensorrt: bool, info: dict, out_path: Path) -> dict:
    """The checks every int8 flavour passes before it is written: opset, saturation, checker, TensorRT's
    rules (the one conformance check of the file: ``conformance`` in the returned facts)."""
    recipe = info.pop("recipe")
    if tensorrt:
        # Cached shapes from before the rewrite would contradict the new per-tensor scales.
        quantized = lower_opset(strip_provenance(quantized), TENSORRT_OPSET, TENSORRT_IR_VERSION)
        info["opset"] = TENSORRT_OPSET
    else:
        info["opset"] = main_opset(quantized)
        problems = saturation_risks(quantized)
        if problems:
            joined = "\n  ".join(problems)
            raise ExportError(f"int8 weights would saturate onnxruntime's x86 kernels:\n  {joined}")
    quantized = strip_provenance(quantized)
    try:
        onnx.checker.check_model(quantized)
    except Exception as exc:
        raise ExportError(f"quantised model fails the ONNX checker: {exc}") from exc
    if tensorrt:
        violations = conformance_violations(quantized)
        if violations:
            raise ExportError("int8 model breaks TensorRT's rules:\n  " + "\n  ".join(violations))
        info["conformance"] = "passed"
    save_onnx(quantized, out_path)
    return {**info, "recipe": recipe}


# The onnxruntime session option that runs a weight-only int8 file at fp32 speed (docs/quantisation.md).
WEIGHT_ONLY_SESSION_CONFIG = ("session.disable_quant_qdq", "1")


def weight_only_file(data: bytes) -> bool:
    """Whether a serialised model dequantises constant weights but quantises no activation."""
    model = onnx.load_from_string(data)
    ops = {n.op_type for n in model.graph.node}
    return "DequantizeLinear" in ops and "QuantizeLinear" not in ops


# ----------------------------------------------------------------------------------------------------
# runtime


class OnnxModel(Runner):
    """An ONNX classifier in onnxruntime (CPU): (B, M, P) float32 -> (B, C) logits."""

    def __init__(self, path: Path, num_threads: int = 1, reference_qdq: bool = False) -> None:
        """``reference_qdq`` turns graph optimisations off, so each Q/DQ pair is computed as written
        (the arithmetic TensorRT performs exactly) instead of by onnxruntime's fused integer kernels."""
        path = Path(path)
        self.path = path
        self._init(load_onnx(path).SerializeToString(), num_threads, str(path), reference_qdq)

    @classmethod
    def from_proto(cls, model: onnx.ModelProto, num_threads: int = 1) -> OnnxModel:
        """A runner for an in-memory model (used to verify a graph before it is written)."""
        self = cls.__new__(cls)
        self.path = None
        self._init(model.SerializeToString(), num_threads, "<in-memory model>")
        return self

    def _init(self, data: bytes, num_threads: int, label: str, reference_qdq: bool = False) -> None:
        import onnxruntime as ort

        if num_threads < 1:
            raise ValueError(f"num_threads must be >= 1, got {num_threads}")
        options = ort.SessionOptions()
        if reference_qdq:
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        elif weight_only_file(data):
            # onnxruntime keeps DequantizeLinear nodes for its QDQ fusions and so dequantises the weights
            # on every run; without QDQ handling its constant folding does it once, at load.
            options.add_session_config_entry(WEIGHT_ONLY_SESSION_CONFIG[0], WEIGHT_ONLY_SESSION_CONFIG[1])
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ExportError(f"onnxruntime cannot load {label}: {exc}") from exc
        inp, out = self.session.get_inputs()[0], self.session.get_outputs()[0]
        dims = [d if isinstance(d, int) else None for d in inp.shape]
        if len(dims) != 3 or len(out.shape) != 2 or not isinstance(out.shape[1], int):
            raise ExportError(f"{label} maps {inp.shape} -> {out.shape}; expected (B, M, P) -> (B, C)")
        self.input_name = inp.name
        self.batch, self.input_shape, self.num_classes = dims[0], tuple(dims[1:]), int(out.shape[1])

    def _invoke(self, chunk: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: chunk})[0]
