"""THE table of export targets (:data:`TARGETS`). It drives the CLI, the exporters, verification,
benchmarks and tests.

Each :class:`Target` names its files per precision, the runtime that verifies them, what it needs, and
its functions: ``status()`` (can it run here, and why not), ``export(ctx, precision, path)`` (facts for
the manifest; an int8 file's ``recipe`` is what its exporter reports it did) and ``load(path, threads)``
returning a callable (B, M, P) float32 -> (B, C) logits; optionally a per-node int8 ``sensitivity``
report and a :class:`FollowUp` (a second file or check, in another runtime, from one of its verified
files). :class:`ExportContext` is what every export step shares: the folded model, the calibration
data, the int8 recipe each target gets (quant_spec.spec_for) and the modules and fp32 ONNX files made
from it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from lgrin_edge.atomic import place
from lgrin_edge.compress.equalize import equalize_ranges
from lgrin_edge.compress.fold import DeployLGrIN
from lgrin_edge.compress.rounding import round_linear_weights
from lgrin_edge.deploy.folded import FoldedLGrIN
from lgrin_edge.export.quant_spec import (
    STATIC_SPECS,
    Activations,
    Calibration,
    FloatPart,
    QuantSpec,
    Recipe,
    Rounding,
    conversion,
    spec_for,
)
from lgrin_edge.export.runner import PRECISIONS as PRECISIONS  # the precisions every target table entry uses
from lgrin_edge.export.verify import EntryId, compare
from lgrin_edge.optional import first_missing

Runner = Callable[[np.ndarray], np.ndarray]


@dataclass
class ExportContext:
    """Everything an exporter may use: the folded model, calibration data, the fp32 ONNX once made."""

    deploy: torch.nn.Module
    calibration: np.ndarray
    batch: int = 1
    arrays: FoldedLGrIN | None = None  # the folded L-GrIN (C runtime), when the model has that form
    scratch: Path | None = None  # private folder for intermediate files, removed by the pipeline
    static_int8: bool = False  # the STATIC_SPECS recipes (integer activations) where a target has one
    qat_epochs: int = 0  # quantisation-aware fine-tuning of the full-integer file, where a target has one
    _sources: dict[tuple[float, str], torch.nn.Module] = field(default_factory=dict)
    _onnx: dict[tuple[float, str], Path] = field(default_factory=dict)

    def spec(self, target: str) -> QuantSpec:
        """The int8 recipe of ``target`` in this export: quant_spec.spec_for, the one place it is chosen
        (a target that writes another's file format, Target.same_as, has that target's recipe)."""
        return spec_for(TARGETS[target].same_as or target, self.static_int8)

    def _source_key(self, spec: QuantSpec | None) -> tuple[float, Rounding]:
        """(equalisation alpha, weight rounding) of the module ``spec`` quantises; None: the folded model.
        Range equalisation applies to L-GrIN only (compress/equalize.py)."""
        if spec is None:
            return (0.0, Rounding.NEAREST)
        alpha = spec.equalize_alpha if isinstance(self.deploy, DeployLGrIN) else 0.0
        return (alpha, spec.weight_rounding)

    def with_recipe(self, spec: QuantSpec, info: dict) -> dict:
        """An int8 exporter's facts ``info``, its ``recipe`` completed by what :meth:`int8_source` applied
        for ``spec``: the manifest says what was done, never what the spec asked."""
        alpha, rounding = self._source_key(spec)
        recipe = Recipe(**info["recipe"], equalize_alpha=alpha, weight_rounding=rounding)
        return {**info, "recipe": recipe.manifest()}

    def int8_source(self, spec: QuantSpec) -> torch.nn.Module:
        """The module ``spec`` quantises: the folded model, range-equalised and with its linear weights
        rounded onto their int8 grid where the spec says so (the backend's own per-channel int8 of those
        weights then reproduces them exactly)."""
        key = self._source_key(spec)
        if key == self._source_key(None):
            return self.deploy
        if key not in self._sources:
            module = self.deploy
            if key[0]:
                module = equalize_ranges(module, self.calibration, key[0])
            if key[1] == Rounding.GPTQ:
                module = round_linear_weights(module, self.calibration)
            self._sources[key] = module
        return self._sources[key]

    def fp32_onnx(self, spec: QuantSpec | None = None, path: Path | None = None) -> Path:
        """The fp32 ONNX file of the folded model (``spec`` None) or of ``spec``'s int8 source, exported
        once and shared by the int8 exporters. Without ``path`` it goes to the scratch folder."""
        module = self.deploy if spec is None else self.int8_source(spec)
        key = self._source_key(None if module is self.deploy else spec)
        if path is None and key in self._onnx:
            return self._onnx[key]
        from lgrin_edge.export.onnx_export import export_onnx

        if path is None:
            if self.scratch is None:
                self.scratch = Path(tempfile.mkdtemp(prefix="lgrin-export-"))
            path = self.scratch / f"fp32-alpha{key[0]}-{key[1]}.onnx"
        export_onnx(module, torch.as_tensor(self.calibration[:2]), path)
        if path.parent == self.scratch:  # an artifact's path moves once verified: only scratch is cached
            self._onnx[key] = path
        return path


@dataclass(frozen=True)
class FollowUpCall:
    """What a follow-up runs with: its identity and file (from its row of the table), the verified entry
    of the file it starts from, the folders, and the held-out graphs it is verified on."""

    what: EntryId  # the target, the precision of its source file, the follow-up's name
    file: str  # what it writes beside the artifacts
    source: dict  # the verified manifest entry of the target's file it starts from
    out: Path  # holds that file; a new file lands here only once it verified
    work: Path  # where a new file is made first
    named: Path  # where ``out`` will be once the export is swapped in (in messages and commands)
    x: np.ndarray
    reference: np.ndarray  # the trained model's logits on x
    y: np.ndarray
    log: Callable[[str], None]


@dataclass(frozen=True)
class FollowUp:
    """A second artifact made or checked from one of a target's verified files, in another runtime (the
    TensorRT engine from the Q/DQ ONNX, the int8 .tflite in TFLite Micro)."""

    artifact: str  # its name in the manifest
    precision: str  # which of the target's files it starts from
    file: str  # what it writes beside the artifacts
    # -> (made, not made): made records join the artifacts; not made ones are skipped ("reason") or
    # failed ("verified" False).
    run: Callable[[FollowUpCall], tuple[list[dict], list[dict]]]
    load: Callable[[Path, int], Runner] | None = None  # runs the written file (benchmarks), where it can


@dataclass(frozen=True)
class Target:
    name: str
    precisions: tuple[str, ...]
    files: dict[str, str]
    runtime: str  # short id recorded in the manifest
    about: str  # what verifies the files, for --help
    needs: str
    status: Callable[[], tuple[bool, str]]
    export: Callable[[ExportContext, str, Path], dict]
    load: Callable[[Path, int], Runner]
    fixed_batch: bool = False  # the file bakes --batch in
    follow_up: FollowUp | None = None
    # Per-node int8 cost report (export --sensitivity): ctx -> rows, worst first.
    sensitivity: Callable[[ExportContext], list[dict]] | None = None
    # samples.npz keeps this target's logits under this key (the on-device tests reproduce them).
    sample_logits: str | None = None
    # False where a call from Python crosses a process boundary that costs more than the model (the web
    # target's WebDriver round trip): benchmarks time such a runtime where it runs (test_browser.py).
    host_timed: bool = True
    # The target whose runtime runs the same file format: this target's logits are compared with it bit
    # for bit during export (the manifest records the result).
    same_as: str | None = None
    # How its files (--static-int8 ones too) compute L-GrIN's 1-hop max pool (deploy/folded.py
    # GRAPH_FORMS: what their size and time grow with).
    graph_form: str = "table"

    def honours(self, option: str) -> bool:
        """Whether ``option`` (an export option other than the defaults) changes what this target makes."""
        return {
            "batch": self.fixed_batch,
            "sensitivity": self.sensitivity is not None,
            "static_int8": self.name in STATIC_SPECS,
            "qat_epochs": self.name == "tflite",  # tflite.py export_tflite(qat_epochs=)
        }[option]


# --- onnx -------------------------------------------------------------------------------------------


def _onnx_status() -> tuple[bool, str]:
    # onnxscript: torch's dynamo ONNX exporter writes the fp32 file every other file starts from.
    reason = first_missing("onnx", "onnxscript", "onnxruntime")
    return reason is None, reason or ""


def _onnx_export(ctx: ExportContext, precision: str, path: Path) -> dict:
    from lgrin_edge.export.onnx_export import quantize_onnx

    if precision == "fp32":
        ctx.fp32_onnx(path=path)
        return {"tool": f"torch.onnx (dynamo) {torch.__version__}", "dynamic_batch": True}
    spec = ctx.spec("onnx")
    return ctx.with_recipe(spec, quantize_onnx(ctx.fp32_onnx(spec), ctx.calibration, path, spec))


def _onnx_load(path: Path, threads: int) -> Runner:
    from lgrin_edge.export.onnx_export import OnnxModel

    return OnnxModel(path, num_threads=threads)


def _sensitivity(flavour: str) -> Callable[[ExportContext], list[dict]]:
    def report(ctx: ExportContext) -> list[dict]:
        from lgrin_edge.export.sensitivity import as_dicts, onnx_sensitivity

        # Measured on training graphs (the calibration set), never on the held-out data, and on the
        # weights before error-compensated rounding: rounded ones re-quantise losslessly, which would
        # hide what each node costs.
        spec = ctx.spec(flavour)
        source = ctx.fp32_onnx(replace(spec, weight_rounding=Rounding.NEAREST))
        return as_dicts(onnx_sensitivity(source, ctx.calibration, ctx.calibration, spec))

    return report


def _qdq_reference_load(path: Path, threads: int) -> Runner:
    from lgrin_edge.export.onnx_export import OnnxModel

    return OnnxModel(path, num_threads=threads, reference_qdq=True)


# --- tensorrt ---------------------------------------------------------------------------------------


def _trt_export(ctx: ExportContext, precision: str, path: Path) -> dict:
    from lgrin_edge.export.onnx_export import quantize_onnx

    # quantize_onnx checks the file against TensorRT's rules (once) before it writes it.
    spec = ctx.spec("tensorrt")
    return ctx.with_recipe(spec, quantize_onnx(ctx.fp32_onnx(spec), ctx.calibration, path, spec))


ENGINE_FILE = "model_int8.engine"


def _trt_engine(call: FollowUpCall) -> tuple[list[dict], list[dict]]:
    """Build and verify the engine where TensorRT and CUDA exist; otherwise say why and how (the skip
    entry's build command, which the export's summary prints). The engine is built in ``call.work`` and
    replaces an earlier one in ``call.out`` only once it verified."""
    from lgrin_edge.export.trt_engine import TensorRTModel, build_command, build_engine, tensorrt_status

    ok, reason = tensorrt_status()
    if not ok:
        cmd = build_command(call.named / call.source["path"], call.named / call.file)
        return [], [call.what.skipped(reason, build_command=cmd)]
    final, staged = call.out / call.file, call.work / call.file
    kept = "the earlier engine is kept" if final.exists() else "no engine written"
    build_engine(call.out / call.source["path"], staged)
    result = compare(TensorRTModel(staged)(call.x), call.reference, call.y, "int8")
    record = call.what.record(final.name, staged, "tensorrt", result)
    if not record["verified"]:
        staged.unlink()
        call.log(f"  engine NOT VERIFIED ({kept}): top-1 agreement {record['top1_agreement']:.4f}")
        return [], [{**record, "kept": kept}]
    place(staged, final)
    return [record], []


def _trt_engine_load(path: Path, threads: int) -> Runner:
    from lgrin_edge.export.trt_engine import TensorRTModel

    return TensorRTModel(path)


# --- tflite -----------------------------------------------------------------------------------------


def _tflite_status() -> tuple[bool, str]:
    from lgrin_edge.export.tflite import tflite_status

    return tflite_status()


def _from_module(target: str, exporter: Callable[[], Callable[..., dict]]) -> Callable[..., dict]:
    """The export step of a target converted from a torch module (tflite, executorch): fp32 from the
    folded model, int8 from the target's int8 source under its spec. ``exporter`` imports the converter
    when it is first needed (litert-torch and ExecuTorch take seconds to import)."""

    def export(ctx: ExportContext, precision: str, path: Path) -> dict:
        convert = exporter()
        if precision == "fp32":
            return convert(ctx.deploy, ctx.calibration, path, precision, batch=ctx.batch)
        spec = ctx.spec(target)
        module = ctx.int8_source(spec)
        more = {"qat_epochs": ctx.qat_epochs} if TARGETS[target].honours("qat_epochs") else {}
        info = convert(module, ctx.calibration, path, precision, ctx.batch, spec, **more)
        return ctx.with_recipe(spec, info)

    return export


def _export_tflite() -> Callable[..., dict]:
    from lgrin_edge.export.tflite import export_tflite

    return export_tflite


TFLM_HEADER = "model_int8_tflm.h"


def _tflm(call: FollowUpCall) -> tuple[list[dict], list[dict]]:
    # The resolver header is written (atomically) only after TFLite Micro verified the file: no staging.
    from lgrin_edge.export.tflite_micro import tflm_follow_up

    source = call.out / call.source["path"]
    return tflm_follow_up(call.what, source, call.out / call.file, call.x, call.reference, call.y, call.log)


def _tflite_sensitivity(ctx: ExportContext) -> list[dict]:
    """The full-integer recipe's per-node report (the one with integer activations to rank), on the
    training graphs and on plainly rounded weights, as for onnx."""
    from lgrin_edge.export.tflite import static_sensitivity

    spec = replace(STATIC_SPECS["tflite"], weight_rounding=Rounding.NEAREST)
    return static_sensitivity(ctx.int8_source(spec), ctx.calibration, ctx.batch)


def _tflite_load(path: Path, threads: int) -> Runner:
    from lgrin_edge.export.tflite import TFLiteModel

    return TFLiteModel(path, num_threads=threads)


# --- executorch -------------------------------------------------------------------------------------


def _executorch_status() -> tuple[bool, str]:
    from lgrin_edge.export.executorch import executorch_status

    return executorch_status()


def _export_executorch() -> Callable[..., dict]:
    from lgrin_edge.export.executorch import export_executorch

    return export_executorch


def _executorch_load(path: Path, threads: int) -> Runner:
    from lgrin_edge.export.executorch import ExecuTorchModel

    return ExecuTorchModel(path, num_threads=threads)


def _executorch_sensitivity(ctx: ExportContext) -> list[dict]:
    """The static recipe's per-node report (the one with integer activations to rank), run in ExecuTorch
    on the training graphs and on plainly rounded weights, as for tflite."""
    from lgrin_edge.export.executorch_static import static_sensitivity

    spec = replace(STATIC_SPECS["executorch"], weight_rounding=Rounding.NEAREST)
    return static_sensitivity(ctx.int8_source(spec), ctx.calibration, ctx.batch)


# --- c ----------------------------------------------------------------------------------------------


def _c_status() -> tuple[bool, str]:
    import shutil

    if not (shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")):
        return False, "no C compiler (cc/gcc/clang) on PATH to build the runtime library"
    return True, ""


def _c_export(ctx: ExportContext, precision: str, path: Path) -> dict:
    from lgrin_edge.export.c_runtime import write_c_model

    if ctx.arrays is None:
        raise RuntimeError("the C runtime implements L-GrIN only; this checkpoint holds another model")
    spec = ctx.spec("c")
    write_c_model(ctx.arrays, ctx.calibration, path, method="max", rounding=str(spec.weight_rounding))
    # The format fixes the rest: int8 activations per column, pooling and classifier in float.
    facts = conversion(Activations.STATIC, Calibration.MAX_ABS, 8, [FloatPart.CLASSIFIER])
    recipe = Recipe(**facts, equalize_alpha=0.0, weight_rounding=spec.weight_rounding)
    return {"format": "lgrn binary model (export/README.md)", "recipe": recipe.manifest()}


def _c_load(path: Path, threads: int) -> Runner:
    from lgrin_edge.export.c_runtime import CModel

    return CModel(path, num_threads=threads)


# --- web ----------------------------------------------------------------------------------------------


def _web_status() -> tuple[bool, str]:
    from lgrin_edge.web.browser import chromium_status
    from lgrin_edge.web.build import wasm_status

    for ok, reason in (wasm_status(), chromium_status()):
        if not ok:
            return False, reason
    return True, ""


def _web_export(ctx: ExportContext, precision: str, path: Path) -> dict:
    """The C target's model file, and beside it the runtime compiled to WebAssembly, its ES module and
    the live page (``bundle``: the pipeline places and records them with the model file)."""
    from lgrin_edge.web.build import write_bundle

    info = _c_export(ctx, precision, path)
    bundle = write_bundle(path.parent)
    return {
        **info,
        "bundle": bundle["files"],
        "wasm_bytes": bundle["wasm_bytes"],
        "toolchain": bundle["toolchain"],
    }


def _web_load(path: Path, threads: int) -> Runner:
    from lgrin_edge.web.runner import WebModel

    return WebModel(path, num_threads=threads)


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target(
            name="onnx",
            precisions=("fp32", "int8"),
            files={"fp32": "model_fp32.onnx", "int8": "model_int8.onnx"},
            runtime="onnxruntime",
            about="onnxruntime",
            needs="onnx, onnxruntime (extra 'export')",
            status=_onnx_status,
            export=_onnx_export,
            load=_onnx_load,
            sensitivity=_sensitivity("onnx"),
        ),
        Target(
            name="tensorrt",
            precisions=("int8",),
            files={"int8": "model_trt_int8.onnx"},
            runtime="onnxruntime-qdq-reference",
            about="onnxruntime, Q/DQ reference semantics (TensorRT explicit-quantisation ONNX); "
            "engine: TensorRT where a GPU exists",
            needs="onnx, onnxruntime; tensorrt + a CUDA device for the engine",
            status=_onnx_status,
            export=_trt_export,
            load=_qdq_reference_load,
            follow_up=FollowUp("engine", "int8", ENGINE_FILE, _trt_engine, _trt_engine_load),
            sensitivity=_sensitivity("tensorrt"),
        ),
        Target(
            name="tflite",
            precisions=("fp32", "int8"),
            files={"fp32": "model_fp32.tflite", "int8": "model_int8.tflite"},
            runtime="ai-edge-litert",
            about="ai-edge-litert (XNNPACK); the full-integer file also in TFLite Micro",
            needs="litert-torch (conversion), ai-edge-litert (interpreter)",
            status=_tflite_status,
            export=_from_module("tflite", _export_tflite),
            load=_tflite_load,
            fixed_batch=True,
            follow_up=FollowUp("tflite-micro", "int8", TFLM_HEADER, _tflm),
            graph_form="litert",
            # the full-integer file converts the same degree groups (deploy/litert.py, full_integer)
            sensitivity=_tflite_sensitivity,
        ),
        Target(
            name="executorch",
            precisions=("fp32", "int8"),
            files={"fp32": "model_fp32.pte", "int8": "model_int8.pte"},
            runtime="executorch",
            about="executorch (XNNPACK delegate)",
            needs="executorch (extra 'executorch')",
            status=_executorch_status,
            export=_from_module("executorch", _export_executorch),
            load=_executorch_load,
            fixed_batch=True,
            graph_form="xnnpack",
            sensitivity=_executorch_sensitivity,
        ),
        Target(
            name="c",
            precisions=("int8",),
            files={"int8": "model_int8.lgrn"},
            runtime="lgrin-c99",
            about="lgrin C99 runtime (export/)",
            needs="a C compiler",
            status=_c_status,
            export=_c_export,
            load=_c_load,
            sample_logits="logits_c",
        ),
        Target(
            name="web",
            precisions=("int8",),
            files={"int8": "web/model_int8.lgrn"},
            runtime="lgrin-wasm",
            about="the lgrin C99 runtime compiled to WebAssembly, run in headless Chromium; with the live "
            "page web/index.html",
            needs="clang, wasm-ld and wasi-libc (Debian: clang-14 lld-14 wasi-libc); chromium and "
            "chromium-driver to verify",
            status=_web_status,
            export=_web_export,
            load=_web_load,
            sample_logits="logits_web",
            host_timed=False,
            same_as="c",
        ),
    )
}
TARGET_NAMES = tuple(TARGETS)
