"""The per-layer int8 sensitivity report."""

import numpy as np
import torch

from lgrin_edge.checkpoint import load_checkpoint
from lgrin_edge.compress.fold import fold_model
from lgrin_edge.export.onnx_export import export_onnx
from lgrin_edge.export.quant_spec import SPECS, STATIC_SPECS
from lgrin_edge.export.sensitivity import format_report, logit_error, onnx_sensitivity


def test_sensitivity_ranks_nodes_and_marks_what_the_recipe_keeps_float(tiny_run, tmp_path):
    model, _ = load_checkpoint(tiny_run)
    cal = np.load(tiny_run / "calibration.npz")["x"].astype(np.float32)[:32]
    fp32 = tmp_path / "fp32.onnx"
    export_onnx(fold_model(model), torch.as_tensor(cal[:2]), fp32)
    costs = onnx_sensitivity(fp32, cal, cal, STATIC_SPECS["onnx"])
    errors = [c.relative_error for c in costs]
    assert errors == sorted(errors, reverse=True)
    assert any(c.kept_float and c.op == "Gemm" for c in costs)  # the classifier
    assert errors[0] > 0  # quantising the worst node alone does cost something
    assert all(0 <= c.agreement <= 1 for c in costs)
    assert costs[0].node in format_report(costs)
    # Weight-only int8 stores every weight int8, the classifier's too: each is measured, none "kept".
    weight_only = onnx_sensitivity(fp32, cal, cal, SPECS["onnx"])
    assert not any(c.kept_float for c in weight_only)
    assert any(c.op == "Gemm" and c.relative_error > 0 for c in weight_only)


def test_logit_error_is_relative_to_the_spread():
    ref = np.array([[1.0, -1.0], [2.0, -2.0]])  # zero-mean rows: the spread is ||ref||
    assert logit_error(ref, ref) == 0
    assert np.isclose(logit_error(ref * 2, ref), 1.0)
