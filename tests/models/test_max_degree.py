"""The degree cap: relu(A) cut to each row's N largest entries, in training and in the folded model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lgrin_edge import create_model
from lgrin_edge.checkpoint import load_checkpoint, save_checkpoint
from lgrin_edge.deploy.folded import fold_lgrin
from lgrin_edge.deploy.reference import forward
from lgrin_edge.models.lgrin import LGrINOptions, keep_largest
from lgrin_edge.models.options import OptionError

SHAPE = {"num_nodes": 12, "in_features": 3, "num_classes": 4}


def test_keep_largest_keeps_each_rows_n_largest_and_passes_gradients_to_them_only() -> None:
    torch.manual_seed(0)
    a = torch.rand(2, 6, 6, requires_grad=True)
    kept = keep_largest(a, 2)
    assert ((kept > 0).sum(-1) == 2).all()
    assert torch.equal(kept.amax(-1), a.amax(-1)) and torch.equal(kept.sum(-1), a.topk(2, -1).values.sum(-1))
    kept.sum().backward()
    assert torch.equal(a.grad, (kept > 0).float())
    assert keep_largest(a, 6) is a and keep_largest(a, 9) is a  # no row has more: nothing to cut


def test_a_capped_model_folds_to_a_table_no_wider_than_the_cap_and_computes_the_same() -> None:
    torch.manual_seed(1)
    model = create_model("lgrin", eta=(8, 4), max_degree=3, **SHAPE).eval()
    assert int((model.graph() > 0).sum(1).max()) <= 3 < int((torch.relu(model.adj) > 0).sum(1).max())
    folded = fold_lgrin(model)
    assert folded.K <= 3
    x = torch.randn(5, 12, 3)
    with torch.no_grad():
        want = model(x).numpy()
    assert np.abs(forward(folded, x.numpy()) - want).max() < 1e-4


def test_without_a_cap_the_graph_is_relu_a_exactly() -> None:
    torch.manual_seed(2)
    model = create_model("lgrin", eta=(8, 4), **SHAPE)
    assert torch.equal(model.graph(), torch.relu(model.adj))
    assert torch.equal(torch.from_numpy(fold_lgrin(model).adj), torch.relu(model.adj).detach())


def test_config_json_records_the_cap_only_when_set(tmp_path) -> None:
    plain = create_model("lgrin", eta=(8, 4), **SHAPE)
    assert "max_degree" not in plain.config  # runs without it write the config they always wrote
    capped = create_model("lgrin", eta=(8, 4), max_degree=4, **SHAPE)
    save_checkpoint(capped, tmp_path, {"dataset": "toy"})
    assert json.loads((tmp_path / "config.json").read_text())["config"]["max_degree"] == 4
    loaded, _ = load_checkpoint(tmp_path)
    assert loaded.options.max_degree == 4 and torch.equal(loaded.graph(), capped.graph())


@pytest.mark.parametrize("bad", [0, -2, 2.5])
def test_an_impossible_cap_is_refused_naming_it(bad) -> None:
    with pytest.raises(OptionError, match="max_degree"):
        LGrINOptions(max_degree=bad, **SHAPE)
