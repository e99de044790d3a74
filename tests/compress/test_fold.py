"""fold_model: the deployment module of a trained model (L-GrIN folded, baselines as they are)."""

from __future__ import annotations

import pytest
import torch

from lgrin_edge import create_model
from lgrin_edge.compress.fold import DeployBaseline, DeployLGrIN, FoldError, fold_model
from tests.deploy.test_folded import CONFIGS, trained_like


@pytest.mark.parametrize("opts", CONFIGS)
def test_folded_model_equals_training_model(opts: dict) -> None:
    m = trained_like(**opts)
    d = fold_model(m)
    assert isinstance(d, DeployLGrIN)
    x = torch.randn(16, 9, 4) * 3 + 1
    with torch.no_grad():
        assert (m(x) - d(x)).abs().max() <= 1e-5


def test_a_baseline_is_deployed_as_it_is() -> None:
    torch.manual_seed(0)
    m = create_model("blstm", num_nodes=9, in_features=4, num_classes=3).eval()
    d = fold_model(m)
    assert isinstance(d, DeployBaseline) and d.config == m.config
    x = torch.randn(4, 9, 4)
    with torch.no_grad():
        assert torch.equal(d(x), m(x))


@pytest.mark.parametrize(
    ("opts", "message"), [({"adjacency": "weighted"}, "input"), ({"pooling": "sort"}, "sort")]
)
def test_unfoldable_configurations_are_named(opts: dict, message: str) -> None:
    with pytest.raises(FoldError, match=message):
        fold_model(trained_like(**opts))
