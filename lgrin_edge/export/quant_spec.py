"""THE int8 recipe of every export target, in one place; every backend reads it, manifest.json records it.

Why each choice (measured on the bundled models; docs/quantisation.md has the numbers):

- ``equalize_alpha``: per-column range equalisation folded into the constants (compress/equalize.py),
  exact in fp32. Moving all of a column's range into the next weights (1.0) hurts their per-channel
  int8; half of it (0.5, the balance of cross-layer equalisation) minimised the logit error.
- ``float_normalisation``: the input normalisation runs before the first quantisation, so the int8
  input is the equalised, normalised features rather than raw features whose columns differ in range
  (quantising raw inputs with one scale was the largest single error).
- ``weight_bits`` 7 for onnxruntime: its u8 x s8 kernels on x86 CPUs without VNNI (AVX2, AVX-512
  without VNNI) add pairs of products in int16 with saturation (VPMADDUBSW); 2 * 255 * 64 = 32,640 fits,
  2 * 255 * 127 does not. onnxruntime documents this remedy (``reduce_range``).
- ``float_classifier``: the last layer computes in float from int8-stored weights (weight-only int8):
  its input concatenates max, learned and mean pooling, whose ranges one activation scale cannot serve.
- ``weight_rounding`` "gptq": weights rounded one input column at a time with the error moved into
  the columns not yet rounded (compress/rounding.py), on the calibration inputs; it cut weight-only
  int8's logit error from 1.4% to 0.2% and is reproduced exactly by each backend's own per-channel int8.
- TFLite: dynamic range (int8 weights, activations quantised per row inside each FULLY_CONNECTED at run
  time; the classifier in float from int8 weights) on the LiteRT form of the model (tflite_form.py),
  where relu(A) @ H is a FULLY_CONNECTED whose rows are feature columns: agreement 1.0000 on all 40
  matrix models. Static per-tensor int8 left 3-4% logit error (and is faster at M = 100, where the max
  pool then gathers int8); it stays available (``STATIC_SPECS``) for delegates and TFLite Micro.
- ExecuTorch: dynamic int8 as for TFLite (XNNPACK quantises each linear's input per row at run time),
  here on every linear including the classifier, with error-compensated weights on the range-equalised
  model (alpha 0.5: a row's one scale spans columns whose ranges differ); on 7 bundled models
  0.4-0.65% logit error and 99.5-100% agreement before equalisation (four of them: 0.47-0.62% -> 0.43-0.53%
  after); the XNNPACK quantiser's static per-tensor recipe left
  2.2-3.9% and missed 99% agreement on one of them (it stays available, ``STATIC_SPECS``).
- TensorRT's int8 arithmetic is exact, so its file keeps 8-bit weights and is verified with
  onnxruntime's Q/DQ reference semantics (graph optimisations off: every Q/DQ computed as written);
  onnxruntime's fused s8s8 kernels are not exact on AVX2 either, so they cannot stand in for TensorRT.
- ``weight_only`` for onnxruntime and TensorRT: int8 weights (per output channel), float activations.
  Static int8 activations leave about 1% relative logit error on L-GrIN (per-tensor scales over node
  features; measured: 16-bit activations with the same 8-bit weights cut it to 0.3%), and in the int8
  matrix of 40 models (docs/robustness.md) onnxruntime's static recipe missed 99% top-1 agreement on 2
  models and TensorRT's (symmetric activations: 7 bits after a ReLU) on 5; weight-only with
  error-compensated rounding missed none of the 40 (0.2% relative error, agreement >= 0.9973, mean
  0.9999). On CPU the integer
  kernels were no faster at this size (onnxruntime 0.087 ms int8 vs 0.092 ms fp32 at batch 1) and are
  what differs between CPUs; weight-only runs the same float kernels everywhere. The static recipes stay
  available (``STATIC_SPECS``, ``quantize_onnx(..., static=True)``) for accelerators that need integer
  activations.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class QuantSpec:
    """How one target's int8 artifact is made and checked."""

    tool: str
    activations: str  # what the activations are: float (weight-only), uint8/int8 and their scales
    weights: str  # granularity of the weight scales
    weight_bits: int  # 8, or 7 where the runtime's kernels saturate with 8
    equalize_alpha: float  # 0 = no range equalisation
    float_normalisation: bool
    float_classifier: bool  # the classifier computes in float (its weights may still be stored int8)
    calibration: str
    verify_with: str  # how the artifact is run for verification
    weight_only: bool = False  # int8 weights, float activations (no activation quantisation)
    # "gptq": weights rounded with error compensation on calibration inputs (compress/rounding.py);
    # "nearest": each weight to its nearest int8 step.
    weight_rounding: str = "nearest"

    def manifest(self) -> dict:
        return asdict(self)


def _weight_only(tool: str, activations: str, weights: str, verify_with: str) -> QuantSpec:
    """The weight-only recipe: int8 weights behind DequantizeLinear, float activations, no calibration."""
    return QuantSpec(
        tool=tool,
        activations=activations,
        weights=weights,
        weight_bits=8,
        equalize_alpha=0.0,  # equalisation moves ranges into the weights, which is all that is int8 here
        float_normalisation=True,
        float_classifier=True,
        calibration="none for activations; weights rounded on calibration inputs",
        verify_with=verify_with,
        weight_only=True,
        weight_rounding="gptq",
    )


SPECS: dict[str, QuantSpec] = {
    "onnx": _weight_only(
        tool="lgrin_edge weight-only int8 (DequantizeLinear on every constant weight)",
        activations="float32 (weight-only)",
        weights="int8 symmetric per output channel; relu(A) per tensor",
        verify_with="onnxruntime, default graph optimisation",
    ),
    "tensorrt": _weight_only(
        tool="lgrin_edge weight-only int8, in TensorRT's explicit-quantisation rules",
        activations="float (weight-only; TensorRT computes them in fp32 from the strongly typed graph)",
        weights="int8 symmetric per output channel (per tensor where TensorRT requires it)",
        verify_with="onnxruntime, graph optimisations off (Q/DQ reference semantics, as TensorRT computes)",
    ),
    "tflite": QuantSpec(
        tool="ai-edge-quantizer dynamic range on the litert-torch fp32 file",
        activations="float32 between layers; int8 per row at run time inside FULLY_CONNECTED (relu(A) @ H: "
        "per feature column)",
        weights="int8 symmetric per output channel (relu(A) per row); p int8 behind DEQUANTIZE",
        weight_bits=8,
        equalize_alpha=0.5,
        float_normalisation=True,
        float_classifier=True,
        calibration="none for activations; weights rounded on calibration inputs",
        verify_with="ai-edge-litert interpreter (XNNPACK)",
        weight_rounding="gptq",
    ),
    "executorch": QuantSpec(
        tool="XNNPACK quantiser (PT2E, dynamic) on the XNNPACK form of the folded model",
        activations="float32 between layers; int8 asymmetric per row at run time inside every linear",
        weights="int8 symmetric per output channel (relu(A), the neighbour selection and the readout too)",
        weight_bits=8,
        # One scale per row still spans a node's columns, whose ranges differ ([G1* | G2* | maxpool]):
        # equalising half of each column's range cut the training graphs' logit error on three models
        # from 0.56-0.62% to 0.48-0.53% (alpha 0.25: 0.51-0.56%, 0.75: 0.52-0.57%, 1.0: 0.60-0.75%).
        equalize_alpha=0.5,
        float_normalisation=True,
        float_classifier=False,
        calibration="none for activations; weights rounded on calibration inputs",
        verify_with="ExecuTorch runtime (XNNPACK delegate)",
        weight_rounding="gptq",
    ),
    "c": QuantSpec(
        tool="lgrin_edge.export.c_runtime.quantize",
        activations="int8 symmetric per column: node features exactly, branch layers balanced (range^0.5)",
        weights="int8 symmetric per output channel; relu(A) per row; classifier per class (float compute)",
        weight_bits=8,
        equalize_alpha=0.0,  # per-column scales already: equalisation would change nothing
        float_normalisation=False,
        float_classifier=True,
        calibration="max |activation|",
        verify_with="the compiled C99 runtime (ctypes)",
        # The float classifier's int8 weights; the integer layers keep plain rounding (measured on 11
        # models, error compensation left their logit error as it was: int8 activations dominate it).
        weight_rounding="gptq",
    ),
}

# The static int8 recipes (integer activations), for accelerators that need them (measured in
# docs/quantisation.md and docs/robustness.md); quantize_onnx(..., static=True) and
# export_tflite(..., static=True) use them.
STATIC_SPECS: dict[str, QuantSpec] = {
    "tflite": QuantSpec(
        tool="PT2E static quantisation (litert-torch)",
        activations="int8 asymmetric per tensor",
        weights="int8 symmetric per output channel",
        weight_bits=8,
        equalize_alpha=0.5,
        float_normalisation=False,
        float_classifier=False,
        calibration="min-max (PT2E observers)",
        verify_with="ai-edge-litert interpreter (XNNPACK)",
        weight_rounding="gptq",
    ),
    "executorch": QuantSpec(
        tool="XNNPACK quantiser (PT2E, static) on the XNNPACK form of the folded model",
        activations="int8 symmetric per tensor",
        weights="int8 symmetric per output channel",
        weight_bits=8,
        equalize_alpha=0.5,
        float_normalisation=True,
        float_classifier=False,
        calibration="min-max (PT2E observers)",
        verify_with="ExecuTorch runtime (XNNPACK delegate)",
        weight_rounding="gptq",
    ),
    "onnx": QuantSpec(
        tool="onnxruntime quantize_static (QDQ)",
        activations="uint8 asymmetric per tensor",
        weights="int8 symmetric per output channel",
        weight_bits=7,
        equalize_alpha=0.5,
        float_normalisation=True,
        float_classifier=True,
        calibration="min-max",
        verify_with="onnxruntime, default graph optimisation (the fused integer kernels users run)",
    ),
    "tensorrt": QuantSpec(
        tool="onnxruntime quantize_static (QDQ), rewritten to TensorRT's explicit-quantisation rules",
        activations="int8 symmetric per tensor, zero point 0",
        weights="int8 symmetric per output channel (per tensor where TensorRT requires it)",
        weight_bits=8,
        equalize_alpha=0.5,
        float_normalisation=True,
        float_classifier=True,
        calibration="min-max",
        verify_with="onnxruntime, graph optimisations off (Q/DQ reference semantics, as TensorRT computes)",
    ),
}

# onnxruntime's x86 u8 x s8 kernels sum two products in a saturating int16 (VPMADDUBSW): the largest
# |int8 weight| for which 2 * 255 * |w| still fits.
SATURATION_SAFE_WEIGHT = 32767 // (2 * 255)
