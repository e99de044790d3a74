"""The full-integer .tflite's per-node sensitivity and its fallback: calibrated again with min-max ranges,
then nodes kept in float until the file is within its bar on the training graphs, recorded in the
manifest, still run by TFLite Micro."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from lgrin_edge.export.quant_spec import Calibration, Recipe
from lgrin_edge.export.sensitivity import Attempt, keep_float_until, logit_error
from lgrin_edge.export.targets import TARGETS
from lgrin_edge.export.tflite import (
    TFLiteModel,
    _integer_module,
    export_tflite,
    run_bytes,
    static_sensitivity,
    tflite_status,
)
from lgrin_edge.export.tflite_micro import model_facts, tflm_follow_up, tflm_status
from lgrin_edge.export.tflite_static import RECALIBRATIONS, STATIC_BAR, StaticBar, convert
from lgrin_edge.export.verify import EntryId
from tests.export.tiny_model import synthetic, trained_deploy

# The errors fixture: calibration graphs, the float logits on them, each calibration's logit error.
Errors = tuple[np.ndarray, np.ndarray, dict[Calibration, float]]

TFLITE, TFLITE_WHY = tflite_status()
needs_tflite = pytest.mark.skipif(not TFLITE, reason=f"TFLite toolchain unavailable: {TFLITE_WHY}")
TFLM, TFLM_WHY = tflm_status()


def _attempt(kept: tuple[str, ...]) -> Attempt:
    return Attempt(kept, 1.0, 1.0 / (1 + len(kept)))  # error falls as nodes are kept float


def test_the_ladder_keeps_nodes_float_one_at_a_time_and_puts_back_what_hurts():
    ranking = [f"n{i}" for i in range(6)]
    tried: list[tuple[str, ...]] = []

    def attempt(kept: tuple[str, ...]) -> Attempt:
        tried.append(kept)
        return Attempt(kept, 1.0, 2.0) if "n1" in kept else _attempt(kept)  # n1 float hurts

    final, steps = keep_float_until(ranking, _attempt(()), attempt, lambda a: a.relative_error <= 0.25)
    assert tried == [("n0",), ("n0", "n1"), ("n0", "n2"), ("n0", "n2", "n3")]
    assert final.kept_float == ("n0", "n2", "n3") and steps[0].kept_float == () and len(steps) == 5
    tried.clear()  # never within the bar: every node tried once, the best attempt kept
    final, steps = keep_float_until(ranking, _attempt(()), attempt, lambda a: False)
    assert len(tried) == 6 and final.kept_float == ("n0", "n2", "n3", "n4", "n5")
    final, steps = keep_float_until(ranking, _attempt(()), attempt, lambda a: True)
    assert final.kept_float == () and len(steps) == 1


def test_the_recipe_names_float_nodes_only_where_there_are_some():
    facts = {"activations": "static", "calibration": "histogram", "weight_bits": 8, "float_parts": []}
    plain = Recipe(**facts, equalize_alpha=0.5, weight_rounding="gptq").manifest()
    assert "float_nodes" not in plain
    wide = Recipe(**facts, float_nodes=("linear_4",), equalize_alpha=0.5, weight_rounding="gptq")
    assert wide.manifest()["float_nodes"] == ["linear_4"]


def test_the_default_bar_is_the_verification_bar():
    assert STATIC_BAR.max_drop == pytest.approx(0.01)
    assert STATIC_BAR.holds(Attempt((), 0.99, STATIC_BAR.max_error))
    assert not STATIC_BAR.holds(Attempt((), 0.98, 0.0)) and not STATIC_BAR.holds(Attempt((), 1.0, 0.6))


def test_tflite_has_a_sensitivity_report():
    assert TARGETS["tflite"].honours("sensitivity")


@pytest.fixture(scope="module")
def deploy() -> nn.Module:
    return trained_deploy(*synthetic(192, seed=0))


@pytest.fixture(scope="module")
def errors(deploy: nn.Module) -> Errors:
    """Calibration graphs, the float module's logits on them, and each calibration's full-integer file's
    training-graph logit error."""
    cal, _ = synthetic(64, seed=3)
    module = _integer_module(deploy.eval())
    with torch.no_grad():
        reference = module(torch.from_numpy(cal)).numpy()
    example = torch.from_numpy(cal[:1])
    found = {}
    for observer in (Calibration.HISTOGRAM, *RECALIBRATIONS):
        found[observer] = logit_error(
            run_bytes(convert(module, cal, example, observer=observer), cal), reference
        )
    return cal, reference, found


@pytest.fixture(scope="module")
def forced(
    errors: Errors, deploy: nn.Module, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict, np.ndarray]:
    """A full-integer export whose bar (half the smallest training-graph logit error of any calibration)
    forces the fallback to its float nodes."""
    cal, _, found = errors
    path = tmp_path_factory.mktemp("fallback") / "model_int8.tflite"
    info = export_tflite(deploy, cal, path, "int8", static=True, bar=StaticBar(0.01, min(found.values()) / 2))
    return path, info, cal


def test_the_min_max_observer_replaces_only_the_activations_observer() -> None:
    from lgrin_edge.export.tflite_static import base_quantizer

    plain, minmax = base_quantizer().global_config, base_quantizer(Calibration.MIN_MAX).global_config
    assert "Histogram" in repr(plain.input_activation.observer_or_fake_quant_ctr)
    assert "MinMax" in repr(minmax.input_activation.observer_or_fake_quant_ctr)
    assert minmax.output_activation == minmax.input_activation and minmax.weight == plain.weight
    assert minmax.input_activation.dtype == plain.input_activation.dtype == torch.int8
    with pytest.raises(ValueError, match="max-abs"):
        base_quantizer(Calibration.MAX_ABS)


@needs_tflite
def test_a_file_the_min_max_calibration_brings_within_the_bar_stays_full_integer(
    errors: Errors, deploy: nn.Module, tmp_path: Path
) -> None:
    cal, reference, found = errors
    histogram, minmax = found[Calibration.HISTOGRAM], found[Calibration.MIN_MAX]
    if minmax >= histogram:
        pytest.skip(f"on this CPU path min-max calibration is no closer ({minmax:.4f} >= {histogram:.4f})")
    path = tmp_path / "model_int8.tflite"
    info = export_tflite(
        deploy, cal, path, "int8", static=True, bar=StaticBar(0.05, (minmax + histogram) / 2)
    )
    fallback = info["fallback"]
    assert [c["calibration"] for c in fallback["calibrations"]] == ["histogram", "min-max"]
    assert fallback["calibration"] == info["recipe"]["calibration"] == "min-max"
    assert fallback["full_integer"] and fallback["within_bar"] and fallback["kept_float"] == []
    assert "float_nodes" not in info["recipe"] and not info["float_ops"]
    (line,) = info["log"]  # the export log says what the fallback did
    assert line.startswith("full integer: the full-integer file missed the bar on 64 training graphs (")
    assert line.endswith("; written with min-max calibration, full integer, within the bar")
    model = TFLiteModel(path)
    assert model.input_dtype == np.int8 and model.output_dtype == np.int8
    assert logit_error(model(cal), reference) == pytest.approx(minmax, abs=1e-5)


@needs_tflite
def test_a_file_that_misses_its_bar_keeps_its_costliest_nodes_float(forced, deploy: nn.Module):
    path, info, cal = forced
    fallback = info["fallback"]
    assert [c["calibration"] for c in fallback["calibrations"]] == ["histogram", "min-max"]
    assert fallback["calibration"] == info["recipe"]["calibration"] == "histogram"  # the float rung's start
    first, *later = fallback["steps"]
    assert first["kept_float"] == [] and later, "the plain file was measured, then widened"
    kept = [k["node"] for k in fallback["kept_float"]]
    ranks = [fallback["ranking"].index(n) for n in kept]  # a node that did not help was put back
    assert ranks == sorted(ranks) and info["recipe"].get("float_nodes", []) == kept
    assert not any(n.startswith("cat") for n in kept)  # concatenations stay int8 (module docstring)
    assert fallback["full_integer"] is (not kept)
    (line,) = info["log"]
    assert "(histogram: agreement" in line and "; min-max: agreement" in line
    assert (f"; kept in float: {', '.join(kept)} (agreement" in line) is bool(kept)
    with torch.no_grad():
        reference = deploy(torch.from_numpy(cal)).numpy()
    model = TFLiteModel(path)
    assert model.input_dtype == np.int8 and model.output_dtype == np.int8  # int8 at its edges still
    final = next(s for s in fallback["steps"] if s["kept_float"] == kept)
    assert logit_error(model(cal), reference) == pytest.approx(final["relative_error"], abs=1e-5)
    if fallback["within_bar"]:
        assert final["relative_error"] <= fallback["bar"]["max_relative_logit_error"]
    assert bool(info["float_ops"]) is bool(kept)
    if kept:
        assert "full_integer" in model.facts()


@needs_tflite
@pytest.mark.skipif(not TFLM, reason=f"tflite-micro unavailable: {TFLM_WHY}")
def test_tflite_micro_runs_the_fallback_file(forced, deploy: nn.Module, tmp_path: Path):
    path, info, _ = forced
    x, y = synthetic(24, seed=1)
    with torch.no_grad():
        reference = deploy(torch.from_numpy(x)).numpy()
    micro = EntryId("tflite", "int8", "tflite-micro")
    made, not_made = tflm_follow_up(micro, path, tmp_path / "h.h", x, reference, y, lambda _m: None)
    (record,) = made or not_made
    assert record["arena_bytes"] > 0
    assert record["full_integer"] is (not model_facts(path.read_bytes())[1])
    assert record["full_integer"] is info["fallback"]["full_integer"]


@needs_tflite
def test_the_sensitivity_report_ranks_every_quantised_node(deploy: nn.Module):
    cal, _ = synthetic(32, seed=3)
    rows = static_sensitivity(deploy, cal)
    assert rows and [r["relative_error"] for r in rows] == sorted(
        (r["relative_error"] for r in rows), reverse=True
    )
    ops = {r["op"] for r in rows}
    assert {"linear", "cat"} <= ops
    assert all(0.0 <= r["agreement"] <= 1.0 and r["relative_error"] >= 0.0 for r in rows)
    assert any(r["where"].startswith("layers.") for r in rows)


@needs_tflite
def test_the_nodes_at_the_files_edges_are_never_widened(deploy: nn.Module):
    from lgrin_edge.export.tflite_static import annotated, candidates, edge_nodes

    cal, _ = synthetic(16, seed=3)
    module, example = _integer_module(deploy), torch.from_numpy(cal[:1])
    graph = annotated(module, cal, example)
    names = [name for name, _, _ in candidates(graph)]
    # The input normalisation's first node and the classifier: kept float, the file's input or output
    # would become float; nothing in between touches either.
    assert edge_nodes(graph, example) == {names[0], names[-1]}
