"""LiteRT form of the folded L-GrIN: the same function, fewer gathered rows, groups chosen optimally."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from lgrin_edge.compress.fold import DeployLGrIN, neighbour_table
from lgrin_edge.export.tflite_form import LiteRTLGrIN, degree_groups
from tests.export.tiny_model import M, synthetic, trained_deploy


def _brute_force(degrees: list[int], cost: int) -> int:
    """Cheapest split of sorted ``degrees`` into contiguous groups, by trying every set of cuts."""
    n, best = len(degrees), None
    for k in range(n):
        for cuts in itertools.combinations(range(1, n), k):
            bounds = (0, *cuts, n)
            total = sum((b - a) * degrees[b - 1] + cost for a, b in itertools.pairwise(bounds))
            best = total if best is None else min(best, total)
    return best


@pytest.mark.parametrize("degrees", [[2], [1, 1, 2, 5, 5, 9], [3, 3, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8]])
@pytest.mark.parametrize("cost", [0, 3, 20])
def test_degree_groups_cover_every_node_at_least_cost(degrees: list[int], cost: int) -> None:
    groups = degree_groups(degrees, cost)
    assert sum(size for size, _ in groups) == len(degrees)
    start, total = 0, 0
    for size, degree in groups:
        assert degree == max(degrees[start : start + size])  # each group padded to its own largest degree
        total += size * degree + cost
        start += size
    assert total == _brute_force(degrees, cost)


def _with_graph(deploy: DeployLGrIN, adj: torch.Tensor) -> DeployLGrIN:
    """``deploy`` with its constant graph replaced (relu(A) and the neighbour table that follows)."""
    deploy.adj = adj
    deploy.nbr = neighbour_table(adj)
    return deploy


def _graphs() -> dict[str, torch.Tensor]:
    rng = np.random.default_rng(3)
    sparse = rng.random((M, M)) * (rng.random((M, M)) < 0.35)
    sparse[2] = 0.0  # an isolated node: its own features
    sparse[5] = 0.0
    sparse[5, 5] = 0.7  # a node whose only neighbour is itself
    return {
        "sparse": torch.tensor(sparse, dtype=torch.float32),
        "self_only": torch.eye(M) * 0.5,  # every node its own neighbour: no gather at all
        "dense": torch.tensor(rng.random((M, M)) + 0.1, dtype=torch.float32),
    }


@pytest.mark.parametrize("graph", ["sparse", "self_only", "dense"])
@pytest.mark.parametrize(
    "config",
    [{}, {"pooling": "max"}, {"pooling": "mean"}, {"inception": False}],
    ids=["learned", "max", "mean", "no-inception"],
)
def test_litert_form_computes_the_folded_model(graph: str, config: dict) -> None:
    x_train, y_train = synthetic(64, seed=0)
    deploy = _with_graph(trained_deploy(x_train, y_train, **config), _graphs()[graph])
    form = LiteRTLGrIN(deploy)
    x = torch.from_numpy(synthetic(16, seed=1)[0])
    with torch.no_grad():
        expected, got = deploy(x), form(x)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5 * float(expected.abs().max()))


def test_litert_form_gathers_each_edge_once_not_every_padded_row() -> None:
    x_train, y_train = synthetic(64, seed=0)
    deploy = _with_graph(trained_deploy(x_train, y_train), _graphs()["sparse"])
    form = LiteRTLGrIN(deploy)
    lists = [set(row) for row in deploy.nbr.tolist()]
    edges = sum(
        len(nb) for i, nb in enumerate(lists) if nb != {i}
    )  # self-only nodes are sliced, not gathered
    assert form.self_only == sum(nb == {i} for i, nb in enumerate(lists)) >= 2
    gathered = sum(size * degree for size, degree in form.groups)
    padded = deploy.nbr.numel()
    assert gathered < padded
    assert gathered <= edges + 20 * len(form.groups)  # padding only where merging groups was cheaper


def test_litert_form_refuses_a_pooling_it_cannot_write() -> None:
    x_train, y_train = synthetic(64, seed=0)
    deploy = trained_deploy(x_train, y_train)
    deploy.pooling = "sort"
    with pytest.raises(ValueError, match="pooling 'sort'"):
        LiteRTLGrIN(deploy)
