import numpy as np
import pytest
import torch

from lgrin_edge import create_model
from lgrin_edge.compress.fold import DeployLGrIN, FoldError, fold_model, folded_arrays, neighbour_table
from lgrin_edge.export.c_runtime import reference_forward
from lgrin_edge.models.layers import neighbour_mask


def trained_like(**opts):
    torch.manual_seed(0)
    m = create_model("lgrin", **{"num_nodes": 9, "in_features": 4, "num_classes": 3, "eta": (8, 4), **opts})
    m.norm.fit(torch.randn(20, 9, 4) * 3 + 1)
    return m.eval()


@pytest.mark.parametrize(
    "opts",
    [
        {},
        {"adjacency": "binary"},
        {"pooling": "max"},
        {"pooling": "mean"},
        {"conv": "linear"},
        {"inception": False},
        {"num_layers": 3},
    ],
)
def test_folded_model_equals_training_model(opts):
    m = trained_like(**opts)
    d = fold_model(m)
    x = torch.randn(16, 9, 4) * 3 + 1
    with torch.no_grad():
        assert (m(x) - d(x)).abs().max() <= 1e-5


def test_folded_graph_holds_constants_not_their_recomputation():
    m = trained_like()
    d = fold_model(m)
    assert isinstance(d, DeployLGrIN)
    assert not any(isinstance(p, torch.nn.Parameter) and p.shape == (9, 9) for p in d.parameters())
    assert torch.equal(d.adj, torch.relu(m.adj.detach()))
    assert (d.adj >= 0).all()


def test_neighbour_table_matches_mask_and_pads_with_real_neighbours():
    adj = torch.relu(torch.randn(7, 7))
    adj[3] = 0
    table = neighbour_table(adj)
    mask = neighbour_mask(adj)
    for i in range(7):
        assert set(table[i].tolist()) == set(torch.nonzero(mask[i]).flatten().tolist())
    assert table[3].tolist() == [3] * table.shape[1]  # isolated node: itself


def test_folded_arrays_follow_the_c_contract():
    m = trained_like()
    arrays = folded_arrays(fold_model(m))
    x = np.random.default_rng(0).standard_normal((5, 9, 4)).astype(np.float32)
    with torch.no_grad():
        ref = m(torch.as_tensor(x)).numpy()
    assert np.abs(reference_forward(arrays, x) - ref).max() < 1e-4


@pytest.mark.parametrize(
    ("opts", "message"), [({"adjacency": "weighted"}, "input"), ({"pooling": "sort"}, "sort")]
)
def test_unfoldable_configurations_are_named(opts, message):
    with pytest.raises(FoldError, match=message):
        fold_model(trained_like(**opts))
