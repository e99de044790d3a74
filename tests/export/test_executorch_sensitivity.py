"""The static int8 .pte's per-node sensitivity: each quantised unit of the XNNPACK quantiser's static
recipe alone, lowered and run in ExecuTorch on training graphs, ranked worst first."""

from __future__ import annotations

import pytest

from lgrin_edge.export.executorch import executorch_status, lowerable
from lgrin_edge.export.executorch_static import candidates, static_sensitivity
from lgrin_edge.export.runner import fixed_batch_example
from lgrin_edge.export.targets import TARGETS
from tests.export.tiny_model import synthetic, trained_deploy

AVAILABLE, REASON = executorch_status()
needs_executorch = pytest.mark.skipif(not AVAILABLE, reason=f"ExecuTorch unavailable: {REASON}")


def test_the_executorch_target_honours_sensitivity():
    assert TARGETS["executorch"].honours("sensitivity")


@needs_executorch
def test_the_sensitivity_report_ranks_every_quantised_node():
    deploy = trained_deploy(*synthetic(192, seed=0))
    cal, _ = synthetic(16, seed=3)
    units = candidates(lowerable(deploy), fixed_batch_example(cal, 2))
    rows = static_sensitivity(deploy, cal, batch=2)
    assert sorted(r["node"] for r in rows) == sorted(u[1] for u in units)  # one row per unit
    errors = [r["relative_error"] for r in rows]
    assert errors == sorted(errors, reverse=True) and errors[-1] > 0.0  # every row really quantised
    assert all(0.0 <= r["agreement"] <= 1.0 and not r["kept_float"] for r in rows)
    ops = {r["op"] for r in rows}
    assert {"linear", "linear+relu"} <= ops  # the relu fused into its linear is one unit
    assert {"reshape", "transpose", "max_pool2d"}.isdisjoint(ops)  # they only pass a scale on
    # every linear of the model is in the report, the layers' MLPs under their module path
    assert sum(r["op"].startswith("linear") for r in rows) == 14
    assert any(r["where"].startswith("layers.") for r in rows)
    assert any(r["where"] == "classifier" for r in rows)
