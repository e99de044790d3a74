"""LiteRT form of the folded L-GrIN: fewer gathered rows, groups chosen optimally, the full-integer file
converted from it (its function against the reference: test_forms.py)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from lgrin_edge.compress.fold import fold_model
from lgrin_edge.deploy.folded import GATHER_COST_ROWS, FoldedLGrIN, degree_groups
from lgrin_edge.deploy.litert import LiteRTLGrIN
from lgrin_edge.deploy.pytorch import DeployBranch, DeployLGrIN
from lgrin_edge.export.runner import fixed_batch_example
from lgrin_edge.export.sensitivity import logit_error
from lgrin_edge.export.tflite import TFLiteModel, export_tflite, run_bytes, tflite_status
from lgrin_edge.export.tflite_static import StaticBar, convert
from lgrin_edge.models import create_model
from tests.deploy.test_forms import C, M, P, _with_graph
from tests.export import tiny_model


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


def test_the_readout_is_deploy_lgrins_integer_readout() -> None:
    """The full-integer file converts this form in place of DeployLGrIN with ``integer_readout``: the same
    function in fp32 (a relabelling, so only the order of the sums differs)."""
    model, mean, std = FoldedLGrIN.random(M, P, C, eta=(8, 4), seed=2)
    assert model.pooling == "learned"
    model = _with_graph(model, "sparse")
    deploy = DeployLGrIN(model)
    deploy.integer_readout = True
    x = torch.from_numpy((mean + std * np.random.default_rng(5).normal(size=(12, M, P))).astype(np.float32))
    with torch.no_grad():
        for full_integer in (False, True):
            got = LiteRTLGrIN(model, full_integer=full_integer)(x)
            torch.testing.assert_close(got, deploy(x), rtol=1e-5, atol=1e-5)
    assert LiteRTLGrIN.integer_readout


def _trained_on_half_isolated(x: np.ndarray, y: np.ndarray) -> DeployLGrIN:
    """tiny_model's L-GrIN trained on a fixed graph whose first half of nodes is isolated (self-only, no
    gather) and whose other nodes neighbour every node (the largest degree K = M, which a table would
    gather for every node)."""
    m = tiny_model.M
    graph = np.zeros((m, m), np.float32)
    graph[m // 2 :] = np.abs(np.random.default_rng(0).normal(size=(m - m // 2, m))) + 0.05
    torch.manual_seed(0)
    model = create_model(
        "lgrin", num_nodes=m, in_features=tiny_model.P, num_classes=tiny_model.C, eta=(16, 8)
    )
    model.adj.requires_grad_(False).copy_(torch.from_numpy(graph))
    opt = torch.optim.Adam([w for w in model.parameters() if w.requires_grad], lr=0.01)
    for _ in range(40):
        opt.zero_grad()
        nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        opt.step()
    return fold_model(model)


TFLITE, TFLITE_WHY = tflite_status()


@pytest.mark.skipif(not TFLITE, reason=f"needs the TFLite toolchain: {TFLITE_WHY}")
def test_the_full_integer_file_gathers_degree_groups_not_the_k_wide_table(tmp_path: Path) -> None:
    x_train, y_train = tiny_model.synthetic(128, seed=0)
    x_test = tiny_model.synthetic(200, seed=1)[0]
    module = _trained_on_half_isolated(x_train, y_train)
    path, m = tmp_path / "model_int8.tflite", tiny_model.M
    # Any bar: the file must stay full integer for its operators to be the ones inspected here.
    info = export_tflite(module, x_train, path, "int8", batch=2, static=True, bar=StaticBar(1.0, np.inf))
    assert info["float_ops"] == [] and info["input"]["dtype"] == "int8"
    interpreter = TFLiteModel(path)._interpreter
    shapes = {t["index"]: tuple(t["shape"]) for t in interpreter.get_tensor_details()}
    gathered = [
        shapes[op["outputs"][0]] for op in interpreter._get_ops_details() if op["op_name"] == "GATHER_ND"
    ]
    form = LiteRTLGrIN(module.folded())
    assert form.self_only == m // 2 and form.groups == [(m // 2, m)]
    # Each layer's max pool gathers the one group's M/2 x M rows (the relabelling, where the order is not
    # already the identity, the M input rows), never the table's M x M.
    pooled = [rows for rows in (max(shape[:2]) for shape in gathered) if rows != m]
    assert pooled == [m // 2 * m] * len(module.layers), gathered
    assert not any(m * m in shape for shape in shapes.values()), shapes
    assert not any(shape[1:3] == (m, m) for shape in shapes.values() if len(shape) == 4), shapes
    with torch.no_grad():
        reference = module(torch.from_numpy(x_test)).numpy()
    # The bar test_tflite.py holds the tiny model's full-integer file to ...
    logits = TFLiteModel(path)(x_test)
    assert np.mean(logits.argmax(1) == reference.argmax(1)) >= 0.95
    assert logit_error(logits, reference) < 0.1
    assert np.abs(logits - reference).max() < 0.25 * np.abs(reference).max()
    # ... and is within a few output steps of the table form's file: the same operators on the same int8
    # values, only the shared scale's observer also seeing the max pool's concatenation over the nodes.
    module.integer_readout = True
    table = run_bytes(convert(module, x_train, fixed_batch_example(x_train, 2)), x_test)
    assert np.abs(logits - table).max() <= 3 * info["output"]["scale"] * (1 + 1e-5)
