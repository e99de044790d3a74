"""The folded L-GrIN value: folding a trained model, the neighbour table, validation, random models."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from lgrin_edge import create_model
from lgrin_edge.deploy import reference
from lgrin_edge.deploy.folded import (
    FoldedLGrIN,
    FoldError,
    Linear,
    fold_lgrin,
    neighbour_lists,
    neighbour_table,
)
from lgrin_edge.models.layers import neighbour_mask


def trained_like(**opts) -> torch.nn.Module:
    torch.manual_seed(0)
    m = create_model("lgrin", **{"num_nodes": 9, "in_features": 4, "num_classes": 3, "eta": (8, 4), **opts})
    m.norm.fit(torch.randn(20, 9, 4) * 3 + 1)
    return m.eval()


CONFIGS = [
    {},
    {"adjacency": "binary"},
    {"pooling": "max"},
    {"pooling": "mean"},
    {"conv": "linear"},
    {"inception": False},
    {"num_layers": 3},
    {"conv": "linear", "inception": False, "pooling": "mean"},
]


@pytest.mark.parametrize("opts", CONFIGS)
def test_folded_model_computes_the_training_model(opts: dict) -> None:
    m = trained_like(**opts)
    folded = fold_lgrin(m)
    x = torch.randn(16, 9, 4) * 3 + 1
    with torch.no_grad():
        want = m(x).numpy()
    assert np.abs(reference.forward(folded, x.numpy()) - want).max() <= 1e-5 * max(1.0, np.abs(want).max())
    cfg = m.config
    assert (folded.conv, folded.inception, folded.pooling) == (cfg["conv"], cfg["inception"], cfg["pooling"])
    assert cfg["num_layers"] == folded.L and (folded.M, folded.P, folded.C) == (9, 4, 3)
    assert folded.eta == ((8, 4) if cfg["inception"] else (8,))


def test_folded_graph_holds_relu_of_a() -> None:
    m = trained_like()
    folded = fold_lgrin(m)
    np.testing.assert_array_equal(folded.adj, torch.relu(m.adj.detach()).numpy())
    assert folded.adj.dtype == np.float32 and folded.nbr.dtype == np.int32


@pytest.mark.parametrize(
    ("opts", "message"), [({"adjacency": "weighted"}, "input"), ({"pooling": "sort"}, "sort")]
)
def test_unfoldable_configurations_are_named(opts: dict, message: str) -> None:
    with pytest.raises(FoldError, match=message):
        fold_lgrin(trained_like(**opts))


def test_neighbour_table_matches_training_mask_and_pads_with_a_real_neighbour() -> None:
    adj = np.maximum(np.random.default_rng(0).normal(size=(7, 7)), 0).astype(np.float32)
    adj[3] = 0  # isolated: no neighbour, so itself
    adj[5] = 0
    adj[5, 5] = 0.4  # self-only: its one neighbour is itself
    table = neighbour_table(adj)
    mask = neighbour_mask(torch.from_numpy(adj)).numpy()
    assert table.dtype == np.int32 and table.shape == (7, mask.sum(1).max())
    for i, row in enumerate(table):
        assert set(row) == set(np.flatnonzero(mask[i]))
        listed = neighbour_lists(adj)[i]
        np.testing.assert_array_equal(row[: len(listed)], listed)  # ascending, then the first repeated
        assert set(row[len(listed) :]) <= {listed[0]}
    assert table[3].tolist() == [3] * table.shape[1] and table[5].tolist() == [5] * table.shape[1]


def test_random_is_fixed_by_its_seed_and_follows_the_paper_configuration() -> None:
    a, mean, std = FoldedLGrIN.random(6, 3, 4, eta=(5, 3), L=2, seed=7)
    b, _, _ = FoldedLGrIN.random(6, 3, 4, eta=(5, 3), L=2, seed=7)
    for (name, x), (_, y) in zip(a.arrays(), b.arrays(), strict=True):
        np.testing.assert_array_equal(x, y, err_msg=name)
    assert (a.conv, a.inception, a.pooling, a.eta, a.widths) == (
        "gstar",
        True,
        "learned",
        (5, 3),
        (3, 11, 19),
    )
    np.testing.assert_allclose(a.in_scale, 1 / std)
    np.testing.assert_allclose(a.in_shift, -mean / std)
    other, _, _ = FoldedLGrIN.random(6, 3, 4, eta=(5, 3), L=2, seed=8)
    assert not np.array_equal(other.adj, a.adj)


def _broken(model: FoldedLGrIN) -> list[tuple[dict, str]]:
    layer = model.layers[0]
    first = layer.branches[0]
    narrow = dataclasses.replace(first, linears=(Linear(np.zeros((5, 2)), np.zeros(5)), first.linears[1]))
    shallow = dataclasses.replace(first, linears=first.linears[:1])
    bad_w = np.array(model.classifier.w)
    bad_w[0, 0] = np.nan
    return [
        ({"in_shift": model.in_shift[:-1]}, r"'in_shift' has shape \(2,\), expected \(3,\)"),
        ({"adj": model.adj[:, :-1]}, r"'adj' has shape \(6, 5\), expected \(6, 6\)"),
        (
            {
                "layers": (
                    dataclasses.replace(layer, branches=(narrow, *layer.branches[1:])),
                    *model.layers[1:],
                )
            },
            r"'layers\[0\].branches\[0\].linears\[0\].w' has shape \(5, 2\), expected \(5, 3\)",
        ),
        ({"layers": model.layers[:1]}, r"'classifier.w' has shape \(4, 57\), expected \(4, 33\)"),
        ({"layers": ()}, "at least one inception layer"),
        (
            {"layers": (model.layers[0], dataclasses.replace(layer, branches=layer.branches[:1]))},
            "layer 0's 2",
        ),
        ({"layers": (dataclasses.replace(layer, branches=(shallow, *layer.branches[1:])),)}, "every branch"),
        ({"classifier": Linear(bad_w, model.classifier.b)}, "'classifier.w' contains NaN or infinity"),
        ({"pooling": "sort"}, "pooling must be one of learned|max|mean, got 'sort'"),
        ({"pool_p": None}, "pool_p is given with learned pooling and only with it"),
        ({"pooling": "max"}, "pool_p is given with learned pooling and only with it"),
    ]


def test_a_model_that_does_not_fit_together_is_refused_naming_the_field() -> None:
    model, _, _ = FoldedLGrIN.random(6, 3, 4, eta=(5, 3), L=2, seed=7)
    for change, message in _broken(model):
        with pytest.raises(ValueError, match=message):
            dataclasses.replace(model, **change)
