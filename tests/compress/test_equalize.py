"""Range equalisation: exact in fp32, and it does bring the columns to one range."""

import numpy as np
import pytest
import torch

from lgrin_edge.checkpoint import load_checkpoint
from lgrin_edge.compress.equalize import equalize_ranges
from lgrin_edge.compress.fold import fold_model


@pytest.fixture(scope="module")
def folded(tiny_run):
    model, _ = load_checkpoint(tiny_run)
    cal = np.load(tiny_run / "calibration.npz")["x"].astype(np.float32)
    x = np.load(tiny_run / "eval.npz")["x"].astype(np.float32)
    return fold_model(model), cal, x


@pytest.mark.parametrize("alpha", [0.5, 1.0])
def test_equalised_model_computes_the_same_function(folded, alpha):
    deploy, cal, x = folded
    eq = equalize_ranges(deploy, cal, alpha)
    with torch.no_grad():
        want, got = deploy(torch.as_tensor(x)), eq(torch.as_tensor(x))
    assert float((want - got).abs().max()) <= 1e-5 * max(1.0, float(want.abs().max()))
    assert not torch.equal(eq.in_scale, deploy.in_scale)  # something was folded


def test_full_equalisation_brings_every_input_column_to_range_one(folded):
    deploy, cal, _ = folded
    eq = equalize_ranges(deploy, cal, 1.0)
    h = torch.as_tensor(cal) * eq.in_scale + eq.in_shift
    np.testing.assert_allclose(h.abs().amax((0, 1)).numpy(), 1.0, rtol=1e-5)


def test_alpha_is_validated(folded):
    deploy, cal, _ = folded
    with pytest.raises(ValueError, match="alpha"):
        equalize_ranges(deploy, cal, 0.0)
