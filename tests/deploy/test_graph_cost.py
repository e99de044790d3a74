"""What a folded graph's 1-hop max pool costs per form, the warning beyond a stated factor, and the
XNNPACK form's runs (its function against the reference, hub graph included: test_forms.py)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from lgrin_edge.deploy import reference
from lgrin_edge.deploy.folded import (
    SEGMENT_COST_ROWS,
    WARN_FACTOR,
    FoldedLGrIN,
    GraphCost,
    degree_segments,
    graph_cost_text,
)
from lgrin_edge.deploy.pytorch import DeployLGrIN
from lgrin_edge.deploy.xnnpack import XnnpackLGrIN
from tests.deploy.test_forms import _graph


def _brute_force(degrees: list[int], cost: int) -> int:
    """Cheapest split of ``degrees`` in their order into runs padded to their own largest degree."""
    n, best = len(degrees), None
    for k in range(n):
        for cuts in itertools.combinations(range(1, n), k):
            bounds = (0, *cuts, n)
            total = sum((b - a) * max(degrees[a:b]) + cost for a, b in itertools.pairwise(bounds))
            best = total if best is None else min(best, total)
    return best


@pytest.mark.parametrize(
    "degrees", [[2], [3, 3, 9, 3, 3, 2, 2, 2], [1, 8, 1, 1, 7, 1, 1, 1], [5, 4, 3, 2, 1]]
)
@pytest.mark.parametrize("cost", [0, 3, 20])
def test_degree_segments_cover_the_nodes_in_order_at_least_cost(degrees: list[int], cost: int) -> None:
    runs = degree_segments(degrees, cost)
    assert sum(size for size, _ in runs) == len(degrees)
    start, total = 0, 0
    for size, width in runs:
        assert width == max(degrees[start : start + size])
        total += size * width + cost
        start += size
    assert total == _brute_force(degrees, cost)


def _hub(m: int = 40, hub: int = 17) -> np.ndarray:
    """A banded graph (three neighbours a row, two at the ends) with one row of every node."""
    a = (np.abs(np.arange(m)[:, None] - np.arange(m)[None, :]) <= 1).astype(np.float32)
    a[hub] = 1.0
    return a


def test_cost_facts_of_a_graph_with_a_hub() -> None:
    cost = GraphCost.of(_hub())
    facts = cost.to_dict()
    assert (facts["max_degree"], facts["median_degree"], facts["edges"]) == (40, 3.0, 38 * 3 + 2 * 2 - 3 + 40)
    assert facts["widest_rows"] == facts["hub_rows"] == [17]
    assert facts["max_pool_rows"]["table"] == 40 * 40 and facts["table_waste"] == 1600 / facts["edges"]
    # the forms that group rows read about the edges, the hub row once
    for form in ("litert", "xnnpack"):
        assert facts["max_pool_rows"][form] <= facts["edges"] + 2 * 40
    assert "K = 40 neighbours at most (row 17), median degree 3" in cost.summary()


def test_the_warning_names_the_targets_beyond_the_factor_and_only_those() -> None:
    cost = GraphCost.of(_hub())
    text = cost.warning({"c": "table", "tflite": "litert", "executorch": "xnnpack", "onnx": "table"})
    assert text is not None and text.startswith(
        "warning: row 17 has 40 neighbours where the median row has 3"
    )
    assert "(c 10.3x, onnx 10.3x)" in text and "--max-degree" in text  # tflite, executorch: about E
    assert "tflite 10.3x" in cost.warning({"tflite": "table"})  # the full-integer file's gather
    assert cost.warning({"tflite": "litert", "executorch": "xnnpack"}) is None
    assert cost.warning({"c": "table"}, factor=11.0) is None
    banded = GraphCost.of(_hub()[:, :] * (np.abs(np.arange(40)[:, None] - np.arange(40)) <= 1))
    assert banded.hubs() == [] and banded.warning({"c": "table", "onnx": "table"}) is None
    assert banded.rows["table"] <= WARN_FACTOR * banded.edges


def test_export_text_is_the_summary_and_the_warning_of_a_model() -> None:
    model, _, _ = FoldedLGrIN.random(40, 3, 2, eta=(4, 2), seed=0)
    hub = dataclasses.replace(model, adj=_hub())
    lines = graph_cost_text(hub, {"c": "table", "executorch": "xnnpack"}).splitlines()
    assert len(lines) == 2 and lines[0].startswith("graph: K = 40") and lines[1].startswith("warning:")
    plain, _, _ = FoldedLGrIN.random(40, 3, 2, eta=(4, 2), seed=0, inception=False)
    no_pool = dataclasses.replace(plain, adj=_hub())  # no max pool to pay for
    assert graph_cost_text(no_pool, {"c": "table"}).count("\n") == 0


def test_xnnpack_form_selects_about_the_edges_not_k_rows_of_every_node() -> None:
    model, _, _ = FoldedLGrIN.random(40, 3, 2, eta=(4, 2), seed=0)
    form = XnnpackLGrIN(dataclasses.replace(model, adj=_hub()))
    selected = sum(b.shape[0] for name, b in form.named_buffers() if name.startswith("select"))
    assert len(form.runs) > 1 and selected == GraphCost.of(_hub()).rows["xnnpack"] < 40 * 40 / 4
    one = XnnpackLGrIN(dataclasses.replace(model, adj=_graph("dense", 40)))
    assert one.runs == [(40, 40)] and one.select.shape == (40 * 40, 40)  # one table, as before
    assert SEGMENT_COST_ROWS > 0


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_the_runs_lower_to_xnnpack_whole_and_run_in_executorch_like_the_reference(
    tmp_path, precision
) -> None:
    from lgrin_edge.export.executorch import ExecuTorchModel, executorch_status, export_executorch

    ok, why = executorch_status()
    if not ok:
        pytest.skip(f"ExecuTorch unavailable: {why}")
    model, mean, std = FoldedLGrIN.random(40, 3, 2, eta=(8, 4), seed=0)
    model = dataclasses.replace(model, adj=_hub())
    rng = np.random.default_rng(1)
    cal, x = ((mean + std * rng.normal(size=(n, 40, 3))).astype(np.float32) for n in (32, 20))
    info = export_executorch(DeployLGrIN(model), cal, tmp_path / "m.pte", precision)
    assert set(info["portable_ops"]) <= {"getitem"}, info["portable_ops"]  # every run delegated
    got, want = ExecuTorchModel(tmp_path / "m.pte")(x), reference.forward(model, x)
    if precision == "fp32":
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    else:
        assert np.mean(got.argmax(1) == want.argmax(1)) >= 0.9
