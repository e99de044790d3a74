"""TensorRT target: a static conformance check of Q/DQ ONNX files, engine build and engine runner.

The rules checked here are those of TensorRT's explicit quantisation and its ONNX parser; each is listed
with its source in docs/tensorrt.md. Building and running engines needs ``tensorrt`` and a CUDA device;
:func:`tensorrt_status` says whether this machine has both.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from lgrin_edge.atomic import atomic_path
from lgrin_edge.export.onnx_export import _LINEAR_OPS, load_onnx, weight_axis_rule

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


# ----------------------------------------------------------------------------------------------------
# conformance


def check_tensorrt_conformance(path: Path) -> list[str]:
    """Human-readable violations of TensorRT's ONNX/explicit-quantisation rules; [] = conformant."""
    return conformance_violations(load_onnx(path))


def conformance_violations(model: onnx.ModelProto) -> list[str]:
    """:func:`check_tensorrt_conformance` for an in-memory model."""
    problems: list[str] = []
    graph = model.graph
    consts: dict[str, np.ndarray] = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    consts[node.output[0]] = numpy_helper.to_array(attr.t)
    producers = {out: node for node in graph.node for out in node.output}
    consumers: dict[str, list[tuple[onnx.NodeProto, int]]] = {}
    for node in graph.node:
        for idx, name in enumerate(node.input):
            consumers.setdefault(name, []).append((node, idx))

    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
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
            problems.extend(_check_qdq(node, label, consts, producers, consumers, opset or 0))
    return problems


def _check_qdq(node, label, consts, producers, consumers, opset) -> list[str]:
    problems: list[str] = []
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    data, scale_name = node.input[0], node.input[1]
    zp_name = node.input[2] if len(node.input) > 2 and node.input[2] else None

    scale = consts.get(scale_name)
    if scale is None:
        problems.append(f"{label}: scale {scale_name!r} is not a build-time constant (initializer)")
    elif not np.issubdtype(scale.dtype, np.floating):
        problems.append(f"{label}: scale has dtype {scale.dtype}, expected float")
    elif not (np.isfinite(scale).all() and (scale > 0).all()):
        problems.append(f"{label}: scales must be positive and finite")

    # The quantised type: the zero point's dtype, else the output_dtype attribute (opset >= 21), else
    # uint8 for QuantizeLinear (ONNX's default) and the data's dtype for DequantizeLinear.
    zp = consts.get(zp_name) if zp_name else None
    if zp_name and zp is None:
        problems.append(f"{label}: zero point {zp_name!r} is not a build-time constant")
    if zp is not None:
        qtype = str(zp.dtype)
    elif node.op_type == "QuantizeLinear":
        out_dtype = attrs.get("output_dtype", 0) if opset >= 21 else 0
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

    is_weight = data in consts
    per_axis = scale is not None and scale.size > 1
    if not is_weight:
        if per_axis:
            problems.append(f"{label}: per-channel scales on activation {data!r}; activations are per-tensor")
        return problems
    if node.op_type == "QuantizeLinear":
        # Float weight -> Q -> DQ -> linear op: judge the axis at the DQ, which sees the consumer.
        return problems
    weight = consts[data]
    users = consumers.get(node.output[0], [])
    # Only the contracted operands (not a Gemm/Conv bias, input 2) have an output-channel rule.
    linear = [(u, i) for u, i in users if u.op_type in _LINEAR_OPS and i < 2]
    if not linear:
        return problems
    user, idx = linear[0]
    want = weight_axis_rule(
        user.op_type, idx, weight.ndim, {a.name: onnx.helper.get_attribute_value(a) for a in user.attribute}
    )
    axis = attrs.get("axis", 1)
    axis = axis + weight.ndim if axis < 0 else axis
    where = f"{label} (weight {data!r} of {user.op_type} {user.name!r} input {idx})"
    if want is None and per_axis:
        problems.append(f"{where}: per-channel scales on axis {axis}, a contraction axis; must be per-tensor")
    elif want is not None and not per_axis:
        problems.append(f"{where}: per-tensor weight scale where per-channel on axis {want} is required")
    elif want is not None and axis != want:
        problems.append(f"{where}: per-channel axis {axis} but the output-channel axis is {want}")
    elif want is not None and scale.size != weight.shape[want]:
        problems.append(f"{where}: {scale.size} scales for {weight.shape[want]} output channels")
    return problems


def _produced_qtype(name: str, producers: dict, consts: dict) -> str:
    node = producers.get(name)
    if node is None or node.op_type != "QuantizeLinear":
        return "unknown"
    if len(node.input) > 2 and node.input[2] in consts:
        return str(consts[node.input[2]].dtype)
    return "uint8"


# ----------------------------------------------------------------------------------------------------
# engine build and run (need tensorrt + CUDA)


def tensorrt_status() -> tuple[bool, str]:
    """(can build and run engines here?, why or why not)."""
    try:
        import tensorrt as trt
    except ImportError:
        return False, "tensorrt not installed (pip install tensorrt, or use JetPack's python3-libnvinfer)"
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        return False, "torch not installed (TensorRTModel binds CUDA tensors through torch)"
    if not torch.cuda.is_available():
        return False, f"no CUDA device (tensorrt {trt.__version__} is installed)"
    return True, f"tensorrt {trt.__version__} on {torch.cuda.get_device_name(0)}"


def _require_tensorrt():
    ok, why = tensorrt_status()
    if not ok:
        raise RuntimeError(f"cannot build or run TensorRT engines here: {why}")
    import tensorrt as trt

    return trt


def _network_flags(trt) -> int:
    # Explicit quantisation is meant to run strongly typed (TensorRT >= 10); older releases need an
    # explicit-batch network and the INT8 builder flag instead.
    names = trt.NetworkDefinitionCreationFlag.__members__
    if "STRONGLY_TYPED" in names:
        return 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)
    return 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)


def build_engine(
    onnx_path: Path, engine_path: Path, min_batch: int = 1, opt_batch: int = 1, max_batch: int = 64
) -> None:
    """Build a serialized TensorRT engine from an (int8 Q/DQ or fp32) ONNX file; written atomically."""
    onnx_path, engine_path = Path(onnx_path), Path(engine_path)
    if not 1 <= min_batch <= opt_batch <= max_batch:
        raise ValueError(
            f"need 1 <= min_batch <= opt_batch <= max_batch, got {min_batch}, {opt_batch}, {max_batch}"
        )
    load_onnx(onnx_path)  # clear error for a missing or corrupt file before TensorRT's own
    trt = _require_tensorrt()
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    flags = _network_flags(trt)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "\n  ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise RuntimeError(f"TensorRT's ONNX parser rejected {onnx_path}:\n  {errors}")
    config = builder.create_builder_config()
    strongly_typed = "STRONGLY_TYPED" in trt.NetworkDefinitionCreationFlag.__members__
    if not strongly_typed:
        config.set_flag(trt.BuilderFlag.INT8)
    inp = network.get_input(0)
    shape = tuple(inp.shape)
    if shape[0] == -1:
        profile = builder.create_optimization_profile()
        rest = tuple(shape[1:])
        profile.set_shape(inp.name, (min_batch, *rest), (opt_batch, *rest), (max_batch, *rest))
        config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise RuntimeError(f"TensorRT failed to build an engine from {onnx_path} (see its log above)")
    with atomic_path(engine_path) as tmp:
        tmp.write_bytes(bytes(serialized))


def _input_shape(onnx_path: Path) -> tuple[str, list[int | None]]:
    model = onnx.load(str(onnx_path), load_external_data=False)
    inp = model.graph.input[0]
    return inp.name, [d.dim_value or None for d in inp.type.tensor_type.shape.dim]


def build_command(
    onnx_path: Path, engine_path: Path, min_batch: int = 1, opt_batch: int = 1, max_batch: int = 64
) -> str:
    """The command that builds the engine on the target (the standalone script shipped in export/)."""
    return " ".join(
        [
            "python3",
            "export/tensorrt/build_engine.py",
            shlex.quote(str(onnx_path)),
            shlex.quote(str(engine_path)),
            f"--min-batch {min_batch} --opt-batch {opt_batch} --max-batch {max_batch}",
        ]
    )


def trtexec_command(
    onnx_path: Path, engine_path: Path, min_batch: int = 1, opt_batch: int = 1, max_batch: int = 64
) -> str:
    """The same build with TensorRT's ``trtexec`` (needs the ONNX file to read the input shape)."""
    name, dims = _input_shape(Path(onnx_path))
    parts = [
        "trtexec",
        f"--onnx={shlex.quote(str(onnx_path))}",
        f"--saveEngine={shlex.quote(str(engine_path))}",
        "--stronglyTyped",
    ]
    if dims and dims[0] is None:
        rest = "x".join(str(d) for d in dims[1:])
        for flag, b in (("min", min_batch), ("opt", opt_batch), ("max", max_batch)):
            parts.append(f"--{flag}Shapes={name}:{b}x{rest}")
    return " ".join(parts)


class TensorRTModel:
    """Runs a serialized engine on the CUDA device: (B, M, P) float32 -> (B, C) logits.

    Bindings are torch CUDA tensors; batches larger than the engine's profile maximum run in chunks.
    """

    def __init__(self, engine_path: Path) -> None:
        engine_path = Path(engine_path)
        if not engine_path.is_file():
            raise FileNotFoundError(f"TensorRT engine not found: {engine_path}")
        trt = _require_tensorrt()
        import torch

        self._torch = torch
        self._logger = trt.Logger(trt.Logger.WARNING)
        self._runtime = trt.Runtime(self._logger)
        self.engine = self._runtime.deserialize_cuda_engine(engine_path.read_bytes())
        if self.engine is None:
            raise RuntimeError(f"{engine_path} is not an engine for this TensorRT version and GPU")
        self.context = self.engine.create_execution_context()
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        inputs = [n for n in names if self.engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        outputs = [n for n in names if self.engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT]
        if len(inputs) != 1 or len(outputs) != 1:
            raise RuntimeError(f"expected one input and one output, engine has {inputs} -> {outputs}")
        self.input_name, self.output_name = inputs[0], outputs[0]
        shape = list(self.engine.get_tensor_shape(self.input_name))
        self.nodes, self.features = shape[1], shape[2]
        if shape[0] == -1:
            self.max_batch = int(self.engine.get_tensor_profile_shape(self.input_name, 0)[2][0])
            self.fixed_batch = None
        else:
            self.max_batch = self.fixed_batch = int(shape[0])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[1:] != (self.nodes, self.features) or x.shape[0] == 0:
            raise ValueError(f"input must have shape (B, {self.nodes}, {self.features}); got {x.shape}")
        if not np.issubdtype(x.dtype, np.number) or not np.isfinite(x).all():
            raise ValueError("input must be finite numbers (found NaN/inf or a non-numeric dtype)")
        x = np.ascontiguousarray(x, dtype=np.float32)
        outs = []
        for start in range(0, len(x), self.max_batch):
            chunk = x[start : start + self.max_batch]
            n = len(chunk)
            if self.fixed_batch and n < self.fixed_batch:
                chunk = np.concatenate([chunk, np.repeat(chunk[-1:], self.fixed_batch - n, axis=0)])
            outs.append(self._run(chunk)[:n])
        return np.concatenate(outs)

    def _run(self, chunk: np.ndarray) -> np.ndarray:
        torch = self._torch
        inp = torch.from_numpy(chunk).cuda()
        if self.fixed_batch is None:
            self.context.set_input_shape(self.input_name, tuple(chunk.shape))
        out = torch.empty(
            tuple(self.context.get_tensor_shape(self.output_name)), dtype=torch.float32, device="cuda"
        )
        self.context.set_tensor_address(self.input_name, inp.data_ptr())
        self.context.set_tensor_address(self.output_name, out.data_ptr())
        stream = torch.cuda.current_stream()
        if not self.context.execute_async_v3(stream.cuda_stream):
            raise RuntimeError("TensorRT execution failed")
        stream.synchronize()
        return out.cpu().numpy()
