"""The torch form: constants as buffers, and the folded value it holds read back exactly."""

from __future__ import annotations

import numpy as np
import torch

from lgrin_edge.deploy.folded import FoldedLGrIN
from lgrin_edge.deploy.pytorch import DeployLGrIN


def test_the_graph_is_constants_not_parameters() -> None:
    model, _, _ = FoldedLGrIN.random(9, 4, 3, eta=(8, 4), seed=0)
    d = DeployLGrIN(model)
    assert [n for n, _ in d.named_buffers()] == ["adj", "nbr", "in_scale", "in_shift", "pool_p"]
    assert not any(p.shape == (9, 9) for p in d.parameters())
    assert d.nbr.dtype == torch.int64 and torch.equal(d.nbr, torch.from_numpy(model.nbr).long())


def test_the_torch_form_gives_back_the_value_it_was_made_from() -> None:
    model, _, _ = FoldedLGrIN.random(9, 4, 3, eta=(8, 4), L=3, seed=4, conv="linear", pooling="mean")
    back = DeployLGrIN(model).folded()
    for (name, a), (_, b) in zip(model.arrays(), back.arrays(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert (back.conv, back.pooling, back.inception) == ("linear", "mean", True)


def test_making_the_module_draws_no_random_numbers() -> None:
    model, _, _ = FoldedLGrIN.random(9, 4, 3, eta=(8, 4), seed=0)
    state = torch.get_rng_state()
    DeployLGrIN(model)
    assert torch.equal(torch.get_rng_state(), state)
