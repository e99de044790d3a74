"""THE int8 recipe of every export target, in one place. Each target's exporter reads the fields it
honours; a spec setting one that its exporter does not honour is refused when it is built. manifest.json
records what the exporter then reports it did (:class:`Recipe`), never this table.

Why each choice (measured on the bundled models; docs/quantisation.md has the numbers):

- ``equalize_alpha``: per-column range equalisation folded into the constants (compress/equalize.py),
  exact in fp32. Moving all of a column's range into the next weights (1.0) hurts their per-channel
  int8; half of it (0.5, the balance of cross-layer equalisation) minimised the logit error.
- ``keep_float`` normalisation: the input normalisation runs before the first quantisation, so the int8
  input is the equalised, normalised features rather than raw features whose columns differ in range
  (quantising raw inputs with one scale was the largest single error).
- ``weight_bits`` 7 for onnxruntime: its u8 x s8 kernels on x86 CPUs without VNNI (AVX2, AVX-512
  without VNNI) add pairs of products in int16 with saturation (VPMADDUBSW); 2 * 255 * 64 = 32,640 fits,
  2 * 255 * 127 does not. onnxruntime documents this remedy (``reduce_range``).
- ``keep_float`` classifier: the last layer computes in float from int8-stored weights (weight-only int8):
  its input concatenates max, learned and mean pooling, whose ranges one activation scale cannot serve.
- ``weight_rounding`` "gptq": weights rounded one input column at a time with the error moved into
  the columns not yet rounded (compress/rounding.py), on the calibration inputs; it cut weight-only
  int8's logit error from 1.4% to 0.2% and is reproduced exactly by each backend's own per-channel int8.
- TFLite: dynamic range (int8 weights, activations quantised per row inside each FULLY_CONNECTED at run
  time; the classifier in float from int8 weights) on the LiteRT form of the model
  (lgrin_edge/deploy/litert.py), where relu(A) @ H is a FULLY_CONNECTED whose rows are feature
  columns: agreement 1.0000 on all 40 matrix models. Static per-tensor int8 left 3-4% logit error
  (and is faster at M = 100, where the max pool then gathers int8); it stays available
  (``STATIC_SPECS``) for delegates and TFLite Micro.
  When the full-integer file misses its bar on the training graphs, the costliest nodes by the
  per-node sensitivity are kept in float (``Recipe.float_nodes``; tflite_static.py), since litert-torch
  does not convert 16-bit activations from a PT2E graph correctly.
- ExecuTorch: dynamic int8 as for TFLite (XNNPACK quantises each linear's input per row at run time),
  here on every linear including the classifier, with error-compensated weights on the range-equalised
  model (alpha 0.5: a row's one scale spans columns whose ranges differ); on 7 bundled models
  0.4-0.65% logit error and 99.5-100% agreement before equalisation (four of them: 0.47-0.62% -> 0.43-0.53%
  after); the XNNPACK quantiser's static per-tensor recipe left
  2.2-3.9% and missed 99% agreement on one of them (it stays available, ``STATIC_SPECS``).
- TensorRT's int8 arithmetic is exact, so its file keeps 8-bit weights and is verified with
  onnxruntime's Q/DQ reference semantics (graph optimisations off: every Q/DQ computed as written);
  onnxruntime's fused s8s8 kernels are not exact on AVX2 either, so they cannot stand in for TensorRT.
- ``activations`` float (weight-only) for onnxruntime and TensorRT: int8 weights (per output channel),
  float activations. Static int8 activations leave about 1% relative logit error on L-GrIN (per-tensor
  scales over node features; measured: 16-bit activations with the same 8-bit weights cut it to 0.3%), and
  in the int8 matrix of 40 models (docs/robustness.md) onnxruntime's static recipe missed 99% top-1
  agreement on 2 models and TensorRT's (symmetric activations: 7 bits after a ReLU) on 5; weight-only with
  error-compensated rounding missed none of the 40 (0.2% relative error, agreement >= 0.9973, mean
  0.9999). On CPU the integer kernels were no faster at this size (onnxruntime 0.087 ms int8 vs 0.092 ms
  fp32 at batch 1) and are what differs between CPUs; weight-only runs the same float kernels everywhere.
  The static recipes stay available (``STATIC_SPECS``, ``quantize_onnx(..., static=True)``) for
  accelerators that need integer activations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import MISSING, Field, asdict, dataclass, field, fields
from enum import StrEnum


class Activations(StrEnum):
    """What an int8 file does with activations."""

    FLOAT = "float"  # weight-only: int8 weights, every activation float
    DYNAMIC = "dynamic"  # int8 per row, scaled at run time inside each quantised linear
    STATIC = "static"  # int8 with scales calibrated at export time


class Rounding(StrEnum):
    """How float weights are rounded onto their int8 grid before the backend quantises them."""

    NEAREST = "nearest"  # each weight to its nearest int8 step
    GPTQ = "gptq"  # error compensation on the calibration inputs (compress/rounding.py)


class FloatPart(StrEnum):
    """A part of the model a recipe keeps computing in float while the layers around it are int8."""

    NORMALISATION = "normalisation"  # the input's x * scale + shift, before the first contraction
    CLASSIFIER = "classifier"  # the pooling that feeds the last layer, and that layer (weights int8)


class Calibration(StrEnum):
    """Where the activation scales of an int8 file come from (a fact an exporter reports)."""

    NONE = "none"  # no activation scale fixed at export time
    MIN_MAX = "min-max"  # the calibration inputs' range
    HISTOGRAM = "histogram"  # PT2E's HistogramObserver: a range that minimises the quantisation error
    MAX_ABS = "max-abs"  # max |activation| over the calibration inputs


@dataclass(frozen=True)
class Honours:
    """What one target's exporter reads of a :class:`QuantSpec`, for one kind of activations."""

    fields: frozenset[str] = frozenset()  # beside target and activations
    keep_float: frozenset[FloatPart] = frozenset()  # the parts it can keep in float
    weight_bits: tuple[int, ...] = (8,)


_ONNX = frozenset({"weight_rounding", "equalize_alpha"})
# Per target and activations: what its exporter honours (targets.py and the exporters it calls). A kind
# of activations missing here is one the target cannot make.
HONOURS: dict[str, dict[Activations, Honours]] = {
    "onnx": {
        Activations.FLOAT: Honours(_ONNX | {"weight_bits"}, weight_bits=(7, 8)),
        Activations.STATIC: Honours(_ONNX | {"weight_bits", "keep_float"}, frozenset(FloatPart), (7, 8)),
    },
    "tensorrt": {
        Activations.FLOAT: Honours(_ONNX),
        Activations.STATIC: Honours(_ONNX | {"keep_float"}, frozenset(FloatPart)),
    },
    "tflite": {
        Activations.DYNAMIC: Honours(_ONNX | {"keep_float"}, frozenset({FloatPart.CLASSIFIER})),
        Activations.STATIC: Honours(_ONNX),
    },
    "executorch": {Activations.DYNAMIC: Honours(_ONNX), Activations.STATIC: Honours(_ONNX)},
    # The C runtime fixes the rest: per-column int8 activations, pooling and classifier in float.
    "c": {Activations.STATIC: Honours(frozenset({"weight_rounding"}))},
}


@dataclass(frozen=True)
class QuantSpec:
    """How one target's int8 file is made: only the choices its exporter honours (:data:`HONOURS`)."""

    target: str
    activations: Activations
    weight_rounding: Rounding = Rounding.NEAREST
    equalize_alpha: float = 0.0  # 0 = no range equalisation (compress/equalize.py)
    weight_bits: int = 8  # 7 where the runtime's kernels saturate with 8
    keep_float: frozenset[FloatPart] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.target not in HONOURS:
            raise ValueError(f"QuantSpec: unknown target {self.target!r}; one of {', '.join(HONOURS)}")
        kinds = HONOURS[self.target]
        for name, kind in (("activations", Activations), ("weight_rounding", Rounding)):
            object.__setattr__(self, name, _member(kind, getattr(self, name), f"{self.target} {name}"))
        parts = frozenset(_member(FloatPart, p, f"{self.target} keep_float") for p in self.keep_float)
        object.__setattr__(self, "keep_float", parts)
        if self.activations not in kinds:
            made = ", ".join(kinds)
            raise ValueError(f"QuantSpec: {self.target} has no {self.activations} int8 (it makes: {made})")
        honours = kinds[self.activations]
        where = f"the {self.target} exporter with {self.activations} activations"
        for f in fields(self):
            value, default = getattr(self, f.name), _default(f)
            if f.name not in ("target", "activations", *honours.fields) and value != default:
                raise ValueError(f"QuantSpec: {where} does not honour {f.name}={_show(value)}; leave it out")
        if self.weight_bits not in honours.weight_bits:
            bits = " or ".join(map(str, honours.weight_bits))
            raise ValueError(f"QuantSpec: {where} makes weight_bits {bits}, not {self.weight_bits}")
        if not 0.0 <= self.equalize_alpha <= 1.0:
            raise ValueError(f"QuantSpec: equalize_alpha must be in [0, 1], got {self.equalize_alpha}")
        if self.keep_float - honours.keep_float:
            extra = ", ".join(sorted(self.keep_float - honours.keep_float))
            raise ValueError(f"QuantSpec: {where} cannot keep {extra} in float (keep_float)")


def _member(kind: type[StrEnum], value: object, what: str) -> StrEnum:
    try:
        return kind(value)
    except ValueError:
        raise ValueError(f"QuantSpec: {what} must be one of {', '.join(kind)}; got {value!r}") from None


def _default(f: Field) -> object:
    return f.default if f.default_factory is MISSING else f.default_factory()


def _show(value: object) -> str:
    if isinstance(value, frozenset):
        return "{" + ", ".join(sorted(map(str, value))) + "}"
    return str(value) if isinstance(value, StrEnum) else repr(value)


@dataclass(frozen=True)
class Recipe:
    """What an int8 exporter did, as it reports it (manifest.json's ``info.recipe``)."""

    activations: Activations
    calibration: Calibration
    weight_bits: int
    float_parts: tuple[FloatPart, ...]  # parts computed in float among int8 layers
    equalize_alpha: float  # the range equalisation applied (0: none)
    weight_rounding: Rounding  # how the weights were rounded before the backend's own int8
    # Nodes a static recipe's fallback kept in float (int8 weights) because the file missed its bar on
    # the training graphs; the manifest names them only where there are some.
    float_nodes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name, kind in (
            ("activations", Activations),
            ("calibration", Calibration),
            ("weight_rounding", Rounding),
        ):
            object.__setattr__(self, name, kind(getattr(self, name)))
        object.__setattr__(self, "float_parts", tuple(FloatPart(p) for p in self.float_parts))
        object.__setattr__(self, "float_nodes", tuple(str(n) for n in self.float_nodes))

    def manifest(self) -> dict:
        """Plain JSON values."""
        return {
            k: [str(p) for p in v] if isinstance(v, tuple) else str(v) if isinstance(v, StrEnum) else v
            for k, v in asdict(self).items()
            if k != "float_nodes" or v
        }


def conversion(
    activations: Activations,
    calibration: Calibration,
    weight_bits: int = 8,
    float_parts: Iterable[FloatPart] = (),
) -> dict:
    """A converter's part of a :class:`Recipe`, as the exporter reports it (JSON values); targets.py adds
    what the int8 source applied (``equalize_alpha``, ``weight_rounding``)."""
    return {
        "activations": str(Activations(activations)),
        "calibration": str(Calibration(calibration)),
        "weight_bits": int(weight_bits),
        "float_parts": [str(FloatPart(p)) for p in float_parts],
    }


def _weight_only(target: str) -> QuantSpec:
    """The weight-only recipe: int8 weights behind DequantizeLinear, float activations, no calibration.
    No equalisation: it moves ranges into the weights, which are all that is int8 here."""
    return QuantSpec(target, Activations.FLOAT, Rounding.GPTQ)


SPECS: dict[str, QuantSpec] = {
    "onnx": _weight_only("onnx"),
    "tensorrt": _weight_only("tensorrt"),
    # The classifier from int8 weights in float; a constant BATCH_MATMUL operand (p) stored int8.
    "tflite": QuantSpec(
        "tflite", Activations.DYNAMIC, Rounding.GPTQ, 0.5, keep_float=frozenset({FloatPart.CLASSIFIER})
    ),
    # One scale per row still spans a node's columns, whose ranges differ ([G1* | G2* | maxpool]):
    # equalising half of each column's range cut the training graphs' logit error on three models
    # from 0.56-0.62% to 0.48-0.53% (alpha 0.25: 0.51-0.56%, 0.75: 0.52-0.57%, 1.0: 0.60-0.75%).
    "executorch": QuantSpec("executorch", Activations.DYNAMIC, Rounding.GPTQ, 0.5),
    # Error compensation for the float classifier's int8 weights; the integer layers keep plain rounding
    # (measured on 11 models, it left their logit error as it was: int8 activations dominate it).
    # No equalisation: per-column scales already.
    "c": QuantSpec("c", Activations.STATIC, Rounding.GPTQ),
}

# The static int8 recipes (integer activations), for accelerators that need them (measured in
# docs/quantisation.md and docs/robustness.md): --static-int8, quantize_onnx(..., static=True),
# export_tflite(..., static=True).
STATIC_SPECS: dict[str, QuantSpec] = {
    "tflite": QuantSpec("tflite", Activations.STATIC, Rounding.GPTQ, 0.5),
    "executorch": QuantSpec("executorch", Activations.STATIC, Rounding.GPTQ, 0.5),
    "onnx": QuantSpec(
        "onnx", Activations.STATIC, equalize_alpha=0.5, weight_bits=7, keep_float=frozenset(FloatPart)
    ),
    "tensorrt": QuantSpec(
        "tensorrt", Activations.STATIC, equalize_alpha=0.5, keep_float=frozenset(FloatPart)
    ),
}


def spec_for(target: str, static: bool = False) -> QuantSpec:
    """THE choice of ``target``'s int8 recipe: its static one (``static``, --static-int8) where it has one."""
    if target not in SPECS:
        raise ValueError(f"no int8 recipe for {target!r}; one of {', '.join(SPECS)}")
    return STATIC_SPECS[target] if static and target in STATIC_SPECS else SPECS[target]


def given_or_chosen(target: str, spec: QuantSpec | None, static: bool) -> QuantSpec:
    """``spec`` where an exporter was given one (it must be ``target``'s), else :func:`spec_for`."""
    if spec is None:
        return spec_for(target, static)
    if spec.target != target:
        raise ValueError(f"the {target} exporter was given a QuantSpec for {spec.target}")
    if static and spec.activations is not Activations.STATIC:
        raise ValueError(f"static=True with a QuantSpec of {spec.activations} activations")
    return spec


# onnxruntime's x86 u8 x s8 kernels sum two products in a saturating int16 (VPMADDUBSW): the largest
# |int8 weight| for which 2 * 255 * |w| still fits.
SATURATION_SAFE_WEIGHT = 32767 // (2 * 255)
