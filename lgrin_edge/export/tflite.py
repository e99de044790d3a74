"""TFLite target: fp32 and int8 ``.tflite`` files through litert-torch, run in ai-edge-litert.

The converted graph has a fixed batch (litert-torch bakes the example's shape in); :class:`TFLiteModel`
hides that by running any batch in chunks. Full-integer files take int8 input and give int8 output, so
the wrapper quantises and dequantises with each tensor's own scale and zero point.

Every file converts L-GrIN in LiteRT's fastest operators (:class:`LiteRTLGrIN`, lgrin_edge/deploy/litert.py:
relabelled nodes, degree-grouped gathers; relu(A) @ H as a FULLY_CONNECTED in fp32 and dynamic range, as
a per-tensor matmul in the full-integer file); the function is the same.

int8 (the default) is dynamic-range quantisation by ai-edge-quantizer on the fp32 file: every
FULLY_CONNECTED holds int8 weights (per output channel) and XNNPACK quantises its input per row at run
time (int8 x int8 products; for relu(A) @ H a row is one feature column over the nodes), the classifier
computes in float from int8 weights, a constant BATCH_MATMUL operand (p) is stored int8. Each row's own
activation scale is what lets L-GrIN's node features, whose columns differ in range, keep their
precision: static per-tensor int8 left 3-4% logit error and missed the 99% agreement bar on 9 of 40
models (docs/robustness.md); dynamic range leaves about 0.4%. On CPU it is faster than the full-integer
file at M = 29 and slower at M = 100, where the 1-hop max pool gathers float rows outside XNNPACK
(docs/quantisation.md).

A static QuantSpec (``static=True``, ``--static-int8``) gives the full-integer file (int8 input, output
and activations) that NPU delegates, TFLite Micro and the Edge TPU need: PT2E static post-training
quantisation, int8 weights symmetric per output channel, int8 activations per tensor, observed (histogram)
on raw calibration inputs. The graph is captured with strict ``torch.export`` because litert-torch's
quantiser finds ``torch.cat`` through the source metadata only strict capture records; without it the
concatenations are left unannotated and the converter gives them the scale of one of their inputs, which
clips the wider ones (measured: 1% top-1 agreement on a random-weight L-GrIN instead of 98%). Where
that file misses its bar on the training graphs, it is calibrated again with min-max ranges, and where
that misses it too the costliest nodes are kept in float (tflite_static.py); ``info["fallback"]``
records the calibrations tried, the steps and what was kept (a file with float nodes is no longer full
integer), ``info["recipe"]["calibration"]`` the observer of the file written. ``qat_epochs``
(--qat-epochs) fine-tunes the weights against fake quantisation first (qat.py), recorded as
``info["quantization"]["fine_tuning"]``.
"""

from __future__ import annotations

import contextlib
import os
import re
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lgrin_edge.atomic import atomic_path, write_bytes
from lgrin_edge.compress.fold import DeployLGrIN
from lgrin_edge.deploy.litert import LiteRTLGrIN
from lgrin_edge.export.errors import ExportError
from lgrin_edge.export.quant_spec import (
    Activations,
    Calibration,
    FloatPart,
    QuantSpec,
    conversion,
    given_or_chosen,
)
from lgrin_edge.export.runner import (
    Runner,
    check_export_request,
    dequantise_affine,
    fixed_batch_example,
    package_version,
    quantise_affine,
)
from lgrin_edge.export.tflite_static import STATIC_BAR, StaticBar, full_integer
from lgrin_edge.optional import first_missing, missing

# Both recipes store 8-bit weights (quant_spec.HONOURS: the only width this exporter makes).
WEIGHT_BITS = 8


class TFLiteError(ExportError):
    """Conversion to TFLite failed or its toolchain is missing."""


def _interpreter_class() -> tuple[type, str, str]:
    """The TFLite interpreter class with its package name and version (ai-edge-litert first)."""
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter, "ai-edge-litert", package_version("ai-edge-litert") or "unknown"
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter

        return Interpreter, "tflite-runtime", package_version("tflite-runtime") or "unknown"
    except ImportError as exc:
        raise TFLiteError(missing("ai_edge_litert")) from exc


def tflite_status() -> tuple[bool, str]:
    """Whether TFLite files can be converted and run here, and a one-line reason or tool summary.

    litert-torch (conversion) and ai-edge-quantizer (int8) are only located, not imported: importing them
    costs seconds (jax, transformers).
    """
    reason = first_missing("litert_torch", "ai_edge_quantizer")
    if reason:
        return False, reason
    try:
        _, runtime, runtime_version = _interpreter_class()
    except TFLiteError as exc:
        return False, str(exc)
    return True, f"litert-torch {package_version('litert-torch')}, {runtime} {runtime_version}"


@contextlib.contextmanager
def _quiet_litert() -> Iterator[None]:
    """Turn off litert-torch's progress printing for the duration (it reads an environment variable)."""
    key = "LITERT_TORCH_SHOW_PROGRESS"
    old = os.environ.get(key)
    os.environ[key] = "n"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = old


def _check_calibration(calibration: np.ndarray) -> np.ndarray:
    x = np.asarray(calibration)
    if x.ndim != 3 or x.shape[0] < 1:
        raise ValueError(f"calibration must be (N, M, P) with N >= 1, got shape {x.shape}")
    x = x.astype(np.float32, copy=False)
    if not np.isfinite(x).all():
        raise ValueError("calibration contains NaN or infinite values")
    return np.ascontiguousarray(x)


def _tensor_info(detail: dict) -> dict:
    scale, zero_point = detail["quantization"]
    info = {
        "name": detail["name"],
        "shape": [int(d) for d in detail["shape"]],
        "dtype": np.dtype(detail["dtype"]).name,
    }
    if np.issubdtype(np.dtype(detail["dtype"]), np.integer):
        info["scale"] = float(scale)
        info["zero_point"] = int(zero_point)
    return info


def _float_ops(interpreter: Any) -> list[str]:
    """Names of the operators that compute in floating point (what int8 conversion left unquantised)."""
    # _get_ops_details is the interpreters' only operator listing; it is informative, so never fatal.
    try:
        ops = interpreter._get_ops_details()
    except AttributeError:
        return []
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    names = set()
    for op in ops:
        outputs = [tensors[i] for i in op["outputs"] if i in tensors]
        if op["op_name"] != "DELEGATE" and any(np.dtype(t["dtype"]).kind == "f" for t in outputs):
            names.add(op["op_name"])
    return sorted(names)


def _dynamic_range_int8(content: bytes, float_classifier: bool) -> bytes:
    """Dynamic-range int8 of a fp32 ``.tflite`` (see the module docstring), by ai-edge-quantizer; with
    ``float_classifier`` the last FULLY_CONNECTED computes in float from int8 weights."""
    from ai_edge_quantizer import qtyping, quantizer

    interpreter_cls, _, _ = _interpreter_class()
    output = interpreter_cls(model_content=content).get_output_details()[0]["name"]
    q = quantizer.Quantizer(bytearray(content))
    ops = qtyping.TFLOperationName
    q.add_dynamic_config(".*", ops.FULLY_CONNECTED, WEIGHT_BITS)
    if float_classifier:
        # Later configs take precedence: the classifier's input concatenates max, learned and mean
        # pooling, whose ranges one row scale serves badly, and it is one small product.
        q.add_weight_only_config(re.escape(output), ops.FULLY_CONNECTED, WEIGHT_BITS)
    # XNNPACK has no dynamic-range BATCH_MATMUL; a constant operand (p) is stored int8 and dequantised.
    q.add_weight_only_config(".*", ops.BATCH_MATMUL, WEIGHT_BITS)
    return bytes(q.quantize(None, enable_progress_report=False).quantized_model)


def export_tflite(
    module: nn.Module,
    calibration: np.ndarray,
    out: str | Path,
    precision: str,
    batch: int = 1,
    spec: QuantSpec | None = None,
    *,
    static: bool = False,
    bar: StaticBar = STATIC_BAR,
    qat_epochs: int = 0,
) -> dict:
    """Convert ``module`` ((B, M, P) float32 -> (B, C) logits) to a ``.tflite`` file with a fixed batch.

    ``precision`` "fp32" or "int8" with the tflite recipe ``spec`` (without it ``spec_for("tflite",
    static)``): dynamic range (float input and output), or static full integer (int8 input and output,
    calibrated); ``calibration`` (N, M, P) raw float32 inputs (otherwise only its first graph is used, as
    the shape example). The file at ``out`` is replaced atomically; a failed conversion leaves nothing
    behind. Returns facts for the manifest, with what int8 did (``recipe``). A full-integer file that
    misses ``bar`` on the calibration graphs ends in the fallback (tflite_static.py), recorded as
    ``fallback``. ``qat_epochs`` > 0 fine-tunes the full-integer file's weights first (qat.py), recorded
    as ``quantization.fine_tuning``.
    """
    check_export_request(precision, batch)
    spec = given_or_chosen("tflite", spec, static) if precision == "int8" else None
    static = spec is not None and spec.activations is Activations.STATIC
    if qat_epochs < 0 or (qat_epochs and not static):
        raise ValueError(f"qat_epochs {qat_epochs}: fine-tuning applies to the int8 full-integer file only")
    ok, why = tflite_status()
    if not ok:
        raise TFLiteError(why)
    batch = int(batch)
    calibration = _check_calibration(calibration)
    example = fixed_batch_example(calibration, batch)
    content, recipe, extra = _convert(module.eval(), calibration, example, spec, (bar, int(qat_epochs)))
    interpreter_cls, runtime, runtime_version = _interpreter_class()
    interpreter = interpreter_cls(model_content=content)
    interpreter.allocate_tensors()
    inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
    if len(inputs) != 1 or len(outputs) != 1:
        raise TFLiteError(
            f"expected one input and one output, the converted model has {len(inputs)}/{len(outputs)}"
        )
    with atomic_path(Path(out)) as tmp:
        tmp.write_bytes(content)
    info: dict[str, Any] = {
        "tool": "litert-torch",
        "tool_version": package_version("litert-torch"),
        "runtime": runtime,
        "runtime_version": runtime_version,
        "precision": precision,
        "batch": batch,
        "input": _tensor_info(inputs[0]),
        "output": _tensor_info(outputs[0]),
        "float_ops": _float_ops(interpreter),
    }
    if spec is not None:
        info["quantization"] = _quantization_facts(static, len(calibration)) | extra.pop("quantization", {})
        info["recipe"] = recipe
    return {**info, **extra}


def _integer_module(module: nn.Module) -> nn.Module:
    """``module`` in the form the full-integer file converts: a DeployLGrIN as the full-integer
    :class:`LiteRTLGrIN`, whose max pool gathers each degree group's rows instead of the (M, K) table
    (TFLite Micro's arena held that table's (M, K, F) gather) and whose learned pooling quantises to
    integers; its other int8 operators are the table form's."""
    if not isinstance(module, DeployLGrIN):
        return module
    return LiteRTLGrIN(module.folded(), full_integer=True)


def static_sensitivity(module: nn.Module, calibration: np.ndarray, batch: int = 1) -> list[dict]:
    """What quantising each node of the full-integer recipe alone costs ``module`` on ``calibration``
    (training graphs), worst first, as manifest rows (sensitivity.NodeCost)."""
    from lgrin_edge.export.sensitivity import as_dicts
    from lgrin_edge.export.tflite_static import node_costs

    calibration = _check_calibration(calibration)
    example = fixed_batch_example(calibration, int(batch))
    with _quiet_litert():
        return as_dicts(node_costs(_integer_module(module.eval()), calibration, example, run_bytes))


def run_bytes(content: bytes, x: np.ndarray) -> np.ndarray:
    """Logits of the ``.tflite`` ``content`` on ``x`` in LiteRT (one thread), for measurements made
    before a file is written."""
    with tempfile.TemporaryDirectory(prefix="lgrin-tflite-") as tmp:
        path = Path(tmp) / "model.tflite"
        path.write_bytes(content)
        return TFLiteModel(path)(x)


def _convert(
    module: nn.Module,
    calibration: np.ndarray,
    example: torch.Tensor,
    spec: QuantSpec | None,
    static: tuple[StaticBar, int],
) -> tuple[bytes, dict | None, dict]:
    """The ``.tflite`` bytes of ``module``, what its int8 did, and more manifest facts (the full-integer
    fallback's and fine-tuning's records, where they ran): full integer (PT2E) for a static ``spec``,
    with ``static`` (its bar, fine-tuning epochs), else the LiteRT form converted in fp32 and, with a
    ``spec``, quantised in dynamic range."""
    with _quiet_litert():
        import litert_torch

        try:
            if spec is not None and spec.activations is Activations.STATIC:
                return _full_integer(_integer_module(module), calibration, example, *static)
            if isinstance(module, DeployLGrIN):
                module = LiteRTLGrIN(module.folded())
            content = litert_torch.convert(module, (example,)).model_content()
            if spec is None:
                return content, None, {}
            recipe = conversion(Activations.DYNAMIC, Calibration.NONE, WEIGHT_BITS, spec.keep_float)
            return _dynamic_range_int8(content, FloatPart.CLASSIFIER in spec.keep_float), recipe, {}
        except Exception as exc:
            precision = "fp32" if spec is None else "int8"
            raise TFLiteError(
                f"litert-torch could not convert the model to {precision} TFLite: {exc}"
            ) from exc


def _full_integer(
    module: nn.Module, calibration: np.ndarray, example: torch.Tensor, bar: StaticBar, qat_epochs: int
) -> tuple[bytes, dict, dict]:
    """:func:`_convert`'s full-integer case (tflite_static.full_integer), fine-tuned first where
    ``qat_epochs`` > 0 (qat.py)."""
    tune = None
    if qat_epochs:
        from lgrin_edge.export.qat import fine_tuned

        def tune(m: nn.Module) -> tuple[nn.Module, dict]:
            tuned, record = fine_tuned(m, calibration, example, qat_epochs)
            return tuned, record.manifest()

    content, fallback, tuning = full_integer(module, calibration, example, run_bytes, bar, tune)
    calibrated_by = Calibration.HISTOGRAM if fallback is None else Calibration(fallback["calibration"])
    recipe = conversion(Activations.STATIC, calibrated_by, WEIGHT_BITS)
    extra: dict[str, Any] = {}
    if fallback is not None:
        extra["fallback"] = fallback
        extra["log"] = [_fallback_line(fallback)]
        if fallback["kept_float"]:
            recipe["float_nodes"] = [k["node"] for k in fallback["kept_float"]]
    if tuning is not None:
        extra["quantization"] = {"fine_tuning": tuning}
    return content, recipe, extra


def _fallback_line(fallback: dict) -> str:
    """The export log's line on what the full-integer fallback (tflite_static.full_integer) did."""
    tried = "; ".join(
        f"{c['calibration']}: agreement {c['agreement']:.4f}, logit error {c['relative_error']:.3f}"
        for c in fallback["calibrations"]
    )
    said = f"full integer: {fallback['why']} ({tried})"
    where = "within the bar" if fallback["within_bar"] else "the closest file, not within the bar"
    kept = [k["node"] for k in fallback["kept_float"]]
    if not kept:
        return f"{said}; written with {fallback['calibration']} calibration, full integer, {where}"
    final = next(s for s in fallback["steps"] if s["kept_float"] == kept)
    return f"{said}; kept in float: {', '.join(kept)} (agreement {final['agreement']:.4f}, {where})"


def _quantization_facts(static: bool, calibration_samples: int) -> dict:
    if static:
        return {
            "method": "PT2E static post-training",
            "weights": "int8 symmetric per-channel",
            "activations": "int8 affine per-tensor",
            "calibration_samples": calibration_samples,
        }
    return {
        "method": "dynamic range (ai-edge-quantizer)",
        "tool_version": package_version("ai-edge-quantizer"),
        "weights": "int8 symmetric per-channel",
        "activations": "float; quantised per row at run time by the FULLY_CONNECTED kernels",
    }


# The file's alignment the converter's bytes keep after a prefix of a multiple of this (buffers: 16).
_PREFIX_ALIGN = 64
_MODEL_FIELDS = 10  # Model's fields in schema 3 (ai_edge_litert's schema_py_generated); 0 is a scalar
_BUFFERS, _METADATA = 4, 6  # their slots


def add_metadata(path: Path, name: str, data: bytes) -> None:
    """Add a ``Model.metadata`` entry ``name`` whose own new buffer holds ``data`` (the way TFLite files
    carry named metadata: LiteRT's readers find it by name), keeping the converter's bytes whole."""
    write_bytes(path, with_metadata(path.read_bytes(), name, data))


def with_metadata(model: bytes, name: str, data: bytes) -> bytes:
    """``model`` with a metadata entry added, as a new root table in front of the unchanged file.

    A flatbuffer's offsets point forward only, so the Model's buffers and metadata vectors cannot grow
    in place or be replaced from behind. Instead a prefix holds a new root Model whose fields point into
    the original bytes (shifted by the prefix, a multiple of 64 bytes, so every alignment holds), with a
    buffers vector and a metadata vector of the old entries plus one each, and the new entry's name and
    data. The original root, identifier and vectors become unreferenced bytes.
    """
    from ai_edge_litert import schema_py_generated as schema

    old = schema.Model.GetRootAs(model, 0)
    tab = old._tab
    vtable = tab.Pos - struct.unpack_from("<i", model, tab.Pos)[0]
    slots = [tab.Offset(4 + 2 * i) for i in range((struct.unpack_from("<H", model, vtable)[0] - 4) // 2)]
    if any(slots[_MODEL_FIELDS:]):
        raise TFLiteError("the .tflite has Model fields this schema does not know; cannot add metadata")
    slots += [0] * (_MODEL_FIELDS - len(slots))
    if any(old.Metadata(i).Name() == name.encode() for i in range(old.MetadataLength())):
        raise TFLiteError(f"the .tflite already holds metadata {name!r}")
    if any(old.Buffers(i).Offset() > 1 for i in range(old.BuffersLength())):
        raise TFLiteError("the .tflite keeps buffers at file offsets, which a prefix would move")

    def elements(slot: int) -> list[int]:
        start = tab.Vector(slots[slot]) if slots[slot] else 0
        return [tab.Indirect(start + 4 * j) for j in range(tab.VectorLen(slots[slot]) if start else 0)]

    return _prefixed(model, slots, elements(_BUFFERS), elements(_METADATA), name.encode(), data)


def _prefixed(model: bytes, slots: list[int], buffers: list[int], metadata: list[int], name: bytes,
              data: bytes) -> bytes:  # fmt: skip
    """The prefix of :func:`with_metadata` laid out forward (every offset points to a later byte), then
    ``model``. ``slots``: the old Model's field offsets; ``buffers``, ``metadata``: old table positions."""
    fields = [i for i in range(_MODEL_FIELDS) if slots[i] or i in (_BUFFERS, _METADATA)]
    pos = {"vtable": 8}
    pos["table"] = _up(pos["vtable"] + 4 + 2 * _MODEL_FIELDS, 4)
    pos["buffers"] = pos["table"] + 4 + 4 * len(fields)
    pos["metadata"] = pos["buffers"] + 4 + 4 * (len(buffers) + 1)
    pos["buf_vt"] = pos["metadata"] + 4 + 4 * (len(metadata) + 1)
    pos["buf"] = pos["buf_vt"] + 8  # vtable: size, table size, data's offset (u16 each), padding
    pos["meta_vt"] = pos["buf"] + 8
    pos["meta"] = pos["meta_vt"] + 8
    pos["name"] = pos["meta"] + 12
    pos["data"] = _up(pos["name"] + 4 + len(name) + 1 + 4, 16) - 4  # its bytes 16-aligned
    shift = _up(pos["data"] + 4 + len(data), _PREFIX_ALIGN)
    out = bytearray(shift)
    put = struct.pack_into

    def offset(at: int, target: int) -> None:  # a uoffset at ``at`` to the byte ``target``
        put("<I", out, at, target - at)

    put("<I4s", out, 0, pos["table"], model[4:8])
    put(f"<HH{_MODEL_FIELDS}H", out, pos["vtable"], 4 + 2 * _MODEL_FIELDS, 4 + 4 * len(fields),
        *(4 + 4 * fields.index(i) if i in fields else 0 for i in range(_MODEL_FIELDS)))  # fmt: skip
    put("<i", out, pos["table"], pos["table"] - pos["vtable"])
    old_root = struct.unpack_from("<I", model, 0)[0]
    for k, i in enumerate(fields):
        at = pos["table"] + 4 + 4 * k
        if i == 0:  # the schema version, a scalar
            put("<I", out, at, struct.unpack_from("<I", model, old_root + slots[0])[0])
        elif i in (_BUFFERS, _METADATA):
            offset(at, pos["buffers" if i == _BUFFERS else "metadata"])
        else:
            field = old_root + slots[i]
            offset(at, shift + field + struct.unpack_from("<I", model, field)[0])
    for key, olds, new in (("buffers", buffers, "buf"), ("metadata", metadata, "meta")):
        put("<I", out, pos[key], len(olds) + 1)
        for j, target in enumerate([*(shift + t for t in olds), pos[new]]):
            offset(pos[key] + 4 + 4 * j, target)
    put("<HHH", out, pos["buf_vt"], 6, 8, 4)  # Buffer: field 0 (data) at +4
    put("<i", out, pos["buf"], pos["buf"] - pos["buf_vt"])
    offset(pos["buf"] + 4, pos["data"])
    put("<HHHH", out, pos["meta_vt"], 8, 12, 4, 8)  # Metadata: name at +4, buffer at +8
    put("<i", out, pos["meta"], pos["meta"] - pos["meta_vt"])
    offset(pos["meta"] + 4, pos["name"])
    put("<I", out, pos["meta"] + 8, len(buffers))  # the new buffer's index
    put(f"<I{len(name)}s", out, pos["name"], len(name), name)  # NUL-terminated: the zero after it
    put(f"<I{len(data)}s", out, pos["data"], len(data), data)
    return bytes(out) + model


def _up(n: int, align: int) -> int:
    return -(-n // align) * align


class TFLiteModel(Runner):
    """A ``.tflite`` classifier run like the PyTorch model: (B, M, P) float32 in, (B, C) logits out."""

    def __init__(self, path: str | Path, num_threads: int = 1) -> None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no TFLite model at {path}")
        interpreter_cls, self.runtime, self.runtime_version = _interpreter_class()
        try:
            self._interpreter = interpreter_cls(model_path=str(path), num_threads=int(num_threads))
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ValueError(f"{path} is not a loadable TFLite model: {exc}") from exc
        inputs, outputs = self._interpreter.get_input_details(), self._interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ValueError(f"{path}: expected one input and one output, found {len(inputs)}/{len(outputs)}")
        self._input, self._output = inputs[0], outputs[0]
        in_shape, out_shape = (
            tuple(int(d) for d in self._input["shape"]),
            tuple(int(d) for d in self._output["shape"]),
        )
        if len(in_shape) != 3 or len(out_shape) != 2 or in_shape[0] != out_shape[0]:
            raise ValueError(f"{path}: expected (B, M, P) -> (B, C), found {in_shape} -> {out_shape}")
        self.batch = in_shape[0]
        self.input_shape = in_shape[1:]
        self.num_classes = out_shape[1]
        self.input_dtype = np.dtype(self._input["dtype"])
        self.output_dtype = np.dtype(self._output["dtype"])

    def facts(self) -> dict:
        """For a file with int8 input that still computes some nodes in float (the full-integer recipe's
        fallback): that it is not full integer, and which operators are float."""
        floats = [] if self.input_dtype.kind == "f" else _float_ops(self._interpreter)
        if not floats:
            return {}
        return {
            "full_integer": f"no: {', '.join(floats)} in float (integer-only NPUs cannot run this file; "
            "TFLite Micro runs it on its float kernels)"
        }

    def _quantise(self, x: np.ndarray) -> np.ndarray:
        if self.input_dtype.kind == "f":
            return x.astype(self.input_dtype, copy=False)
        scale, zero_point = self._input["quantization"]
        return quantise_affine(x, scale, zero_point, self.input_dtype)

    def _dequantise(self, y: np.ndarray) -> np.ndarray:
        if self.output_dtype.kind == "f":
            return y.astype(np.float32)
        return dequantise_affine(y, *self._output["quantization"])

    def _invoke(self, chunk: np.ndarray) -> np.ndarray:
        self._interpreter.set_tensor(self._input["index"], self._quantise(chunk))
        self._interpreter.invoke()
        return self._dequantise(self._interpreter.get_tensor(self._output["index"]))
