"""TensorRT target, engine side: building an engine from the Q/DQ ONNX file and running it.

The ONNX file's rewrite and conformance check live in tensorrt_qdq.py (they need onnx only). Building
and running engines needs ``tensorrt`` and a CUDA device; :func:`tensorrt_status` says whether this
machine has both. The build itself is the standalone script users run on the device
(export/tensorrt/build_engine.py, shipped in the package): one implementation for both.
"""

from __future__ import annotations

import importlib.util
import shlex
from pathlib import Path
from types import ModuleType

import numpy as np

from lgrin_edge.export.runner import Runner
from lgrin_edge.optional import installed, missing

# The device-side script, inside the installed package (lgrin_edge/c_sources links to export/).
BUILD_SCRIPT = Path(__file__).resolve().parents[1] / "c_sources" / "tensorrt" / "build_engine.py"


def tensorrt_status() -> tuple[bool, str]:
    """(can build and run engines here?, why or why not)."""
    if not installed("tensorrt"):
        return False, missing("tensorrt")
    try:
        import tensorrt as trt
    except ImportError as e:  # found but broken (e.g. no libnvinfer next to the bindings)
        return False, f"tensorrt does not load here: {e}".splitlines()[0]
    import torch

    if not torch.cuda.is_available():
        return False, f"no CUDA device (tensorrt {trt.__version__} is installed)"
    return True, f"tensorrt {trt.__version__} on {torch.cuda.get_device_name(0)}"


def _require_tensorrt():
    ok, why = tensorrt_status()
    if not ok:
        raise RuntimeError(f"cannot build or run TensorRT engines here: {why}")
    import tensorrt as trt

    return trt


def _build_script() -> ModuleType:
    """export/tensorrt/build_engine.py as a module (it is a script, not part of the package's import tree)."""
    spec = importlib.util.spec_from_file_location("lgrin_edge_build_engine", BUILD_SCRIPT)
    if spec is None or spec.loader is None or not BUILD_SCRIPT.is_file():
        raise FileNotFoundError(f"the engine build script is missing: {BUILD_SCRIPT}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_engine(
    onnx_path: Path, engine_path: Path, min_batch: int = 1, opt_batch: int = 1, max_batch: int = 64
) -> None:
    """Build a serialized TensorRT engine from an (int8 Q/DQ or fp32) ONNX file; written atomically."""
    onnx_path, engine_path = Path(onnx_path), Path(engine_path)
    if not 1 <= min_batch <= opt_batch <= max_batch:
        raise ValueError(
            f"need 1 <= min_batch <= opt_batch <= max_batch, got {min_batch}, {opt_batch}, {max_batch}"
        )
    from lgrin_edge.export.onnx_graph import load_onnx

    load_onnx(onnx_path)  # clear error for a missing or corrupt file before TensorRT's own
    _require_tensorrt()
    _build_script().build(str(onnx_path), str(engine_path), min_batch, opt_batch, max_batch)


def _input_shape(onnx_path: Path) -> tuple[str, list[int | None]]:
    import onnx

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


class TensorRTModel(Runner):
    """Runs a serialized engine on the CUDA device: (B, M, P) float32 -> (B, C) logits.

    Bindings are torch CUDA tensors; batches larger than the engine's profile maximum run in chunks, a
    fixed-batch engine's last chunk zero-padded (:class:`~lgrin_edge.export.runner.Runner`).
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
        self.input_shape = (int(shape[1]), int(shape[2]))
        self.num_classes = int(list(self.engine.get_tensor_shape(self.output_name))[-1])
        if shape[0] == -1:
            self.batch = None  # dynamic: chunks up to the optimisation profile's largest batch
            self.max_batch = int(self.engine.get_tensor_profile_shape(self.input_name, 0)[2][0])
        else:
            self.batch = int(shape[0])

    def _invoke(self, chunk: np.ndarray) -> np.ndarray:
        torch = self._torch
        inp = torch.from_numpy(chunk).cuda()
        if self.batch is None:
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
