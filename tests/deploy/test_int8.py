"""The int8 form: what the quantiser stores and what it refuses (the runtime's integers against it:
tests/export/test_c_runtime.py; its logits against the reference: test_forms.py)."""

from __future__ import annotations

import numpy as np
import pytest

from lgrin_edge.deploy import int8
from lgrin_edge.deploy.folded import FoldedLGrIN


def _model(M: int = 29, P: int = 12, C: int = 9):
    model, mean, std = FoldedLGrIN.random(M, P, C, seed=0)
    rng = np.random.default_rng(100)
    cal = (mean + std * rng.normal(size=(128, M, P))).astype(np.float32)
    return model, cal


def test_the_quantised_model_holds_int8_weights_and_per_channel_requantisation() -> None:
    model, cal = _model()
    q = int8.quantize(model, cal)
    assert q.adj.dtype == np.int8 and q.nbr.dtype == np.int32 and q.M == 29
    assert len(q.layers) == 2 and [len(b) for b in q.layers[0].branches] == [2, 2]
    for layer, folded_layer in zip(q.layers, model.layers, strict=True):
        assert layer.adj_m.shape == layer.adj_s.shape == (29,)
        for branch, folded in zip(layer.branches, folded_layer.branches, strict=True):
            for fc, ref in zip(branch, folded.linears, strict=True):
                assert fc.w.dtype == np.int8 and fc.w.shape == ref.w.shape and np.abs(fc.w).max() == 127
                assert fc.b.dtype == fc.m.dtype == fc.s.dtype == np.int32
                assert fc.m.shape == fc.s.shape == (ref.w.shape[0],) and (fc.s >= 1).all()
    assert q.out_scale.shape == (model.widths[-1],) and q.out_scale.dtype == np.float32


def test_the_classifier_is_stored_int8_and_gptq_rounds_it_otherwise() -> None:
    model, cal = _model()
    plain, compensated = int8.quantize(model, cal), int8.quantize(model, cal, rounding="gptq")
    for q in (plain, compensated):
        assert q.cls_q.dtype == np.int8 and q.cls_q.shape == model.classifier.w.shape
        assert q.cls_s.shape == (9,)
    assert not np.array_equal(plain.cls_q, compensated.cls_q)
    np.testing.assert_array_equal(plain.layers[1].branches[0][1].w, compensated.layers[1].branches[0][1].w)


def test_bad_requests_are_named() -> None:
    model, cal = _model()
    with pytest.raises(ValueError, match="unknown rounding 'stochastic'"):
        int8.quantize(model, cal, rounding="stochastic")
    with pytest.raises(ValueError, match="unknown calibration method 'mse'"):
        int8.quantize(model, cal, method="mse")
    with pytest.raises(ValueError, match=r"calibration must have shape \(N, 29, 12\)"):
        int8.quantize(model, cal[:, :, :5])
    bad = cal.copy()
    bad[0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity"):
        int8.quantize(model, bad)
