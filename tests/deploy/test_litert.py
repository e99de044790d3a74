"""LiteRT form of the folded L-GrIN: fewer gathered rows, groups chosen optimally (its function against the
reference: test_forms.py)."""

from __future__ import annotations

import itertools

import pytest

from lgrin_edge.deploy.folded import GATHER_COST_ROWS, FoldedLGrIN, degree_groups
from lgrin_edge.deploy.litert import LiteRTLGrIN
from lgrin_edge.deploy.pytorch import DeployBranch, DeployLGrIN
from tests.deploy.test_forms import C, M, P, _with_graph


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


def test_litert_form_gathers_each_edge_once_not_every_padded_row() -> None:
    model, _, _ = FoldedLGrIN.random(M, P, C, eta=(8, 4), seed=1)
    model = _with_graph(model, "sparse")  # isolated and self-only nodes among the others
    form = LiteRTLGrIN(model)
    lists = [set(row) for row in model.nbr.tolist()]
    rest = [nb for i, nb in enumerate(lists) if nb != {i}]  # self-only nodes are sliced, not gathered
    assert form.self_only == len(lists) - len(rest) >= 2
    gathered = sum(size * degree for size, degree in form.groups)
    assert gathered < model.nbr.size
    # no dearer than one group per distinct degree, which gathers each edge once
    exact = sum(len(nb) for nb in rest) + GATHER_COST_ROWS * len({len(nb) for nb in rest})
    assert gathered + GATHER_COST_ROWS * len(form.groups) <= exact


def test_tflite_tensor_names_keep_the_class_paths_files_were_first_written_with() -> None:
    """litert-torch names a .tflite file's tensors after the classes computing them: moving a class
    must not rename them (the exported bytes depend on the model alone)."""
    names = {f"{c.__module__}.{c.__qualname__}" for c in (LiteRTLGrIN, DeployLGrIN, DeployBranch)}
    assert names == {
        "lgrin_edge.export.tflite_form.LiteRTLGrIN",
        "lgrin_edge.compress.fold.DeployLGrIN",
        "lgrin_edge.compress.fold.DeployBranch",
    }
