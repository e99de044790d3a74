"""What practitioners reach for first, measured beside L-GrIN: aeon's MiniRocket, MultiRocket and Hydra
(lgrin_edge/baselines/), trained through the train command (same official split and folds) and run in
their own runtime (aeon's numba or torch transform, then the ridge classifier), warm, on one thread.

Per (dataset, baseline): the test accuracy over --bench-seeds (report: "Accuracy over seeds" and the
practitioners' section), then its batch-1 latency (an inference row: report.md's table), with the size of
the fitted arrays. Runs are cached beside conftest's in --bench-cache (the training mode does not apply).
Run: pytest --benchmark-only benchmarks/test_practitioners.py --benchmark-json=bench.json
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lgrin_edge import __version__
from lgrin_edge.baselines import BASELINES
from lgrin_edge.baselines.loader import load_baseline
from lgrin_edge.measure.threads import one_thread


def _run(request: pytest.FixtureRequest, dataset: str, model: str, seed: int) -> Path:
    """The run of ``model`` on ``dataset`` with ``seed``, trained once and cached."""
    from lgrin_edge.train import main as train_main

    root = Path(request.config.getoption("--bench-cache")) / f"v{__version__}-baselines"
    out = root / f"{dataset}-{model}-seed{seed}"
    if not (out / "metrics.json").exists():
        code = train_main(["--dataset", dataset, "--model", model, "--seed", str(seed), "--out", str(out)])
        if code != 0:
            raise RuntimeError(f"training {model} on {dataset} failed")
    return out


def _seeds(request: pytest.FixtureRequest) -> list[int]:
    return [int(s) for s in request.config.getoption("--bench-seeds").split(",")]


@pytest.mark.parametrize("model", list(BASELINES))
def test_practitioners_accuracy_over_seeds(benchmark, dataset: str, model: str, request) -> None:
    seeds = _seeds(request)
    folders = [_run(request, dataset, model, s) for s in seeds]
    metrics = [json.loads((f / "metrics.json").read_text()) for f in folders]
    accuracies = [m["accuracy"] for m in metrics]
    fitted, _ = load_baseline(folders[0])
    ev = np.load(folders[0] / "eval.npz", allow_pickle=False)
    benchmark.extra_info.update(
        kind="seeds",
        model=model,
        dataset=dataset,
        seeds=seeds,
        accuracies=accuracies,
        accuracy_mean=float(np.mean(accuracies)),
        accuracy_std=float(np.std(accuracies, ddof=1)) if len(seeds) > 1 else 0.0,
        params=metrics[0]["fitted_values"],
        classes=len(ev["classes"]),
        test_samples=len(ev["x"]),
    )
    benchmark.group = f"{dataset} accuracy over seeds"
    with one_thread():
        pred = benchmark(fitted.predict, ev["x"])
    assert np.mean(pred == ev["y"]) == accuracies[0]


@pytest.mark.parametrize("model", list(BASELINES))
def test_practitioners_batch1(benchmark, dataset: str, model: str, request) -> None:
    run = _run(request, dataset, model, _seeds(request)[0])
    metrics = json.loads((run / "metrics.json").read_text())
    fitted, _ = load_baseline(run)
    ev = np.load(run / "eval.npz", allow_pickle=False)
    benchmark.extra_info.update(
        model=model,
        dataset=dataset,
        runtime=f"aeon ({BASELINES[model][1]})",
        precision="fp32",  # the transform's; the scaler and ridge compute in fp64
        batch=1,
        accuracy=metrics["accuracy"],
        params=metrics["fitted_values"],
        bytes=metrics["fitted_bytes"],
        threads=1,
        practitioners=True,
    )
    benchmark.group = f"{dataset} batch 1"
    x = np.ascontiguousarray(ev["x"][:1])
    with one_thread():
        fitted.logits(x)  # warm: numba's compiled kernels and torch's first call
        out = benchmark(fitted.logits, x)
    assert out.shape == (1, len(ev["classes"]))
