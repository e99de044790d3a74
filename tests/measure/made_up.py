"""Made-up pytest-benchmark JSON for the report's tests: benchmarks as benchmarks/ records them, and the
report run on them."""

from __future__ import annotations

import json
from pathlib import Path

from lgrin_edge.measure.outputs import MARKER
from lgrin_edge.measure.report import main


def bench(model, runtime, precision, median, batch=1, **extra):
    """An inference benchmark (test_latency.py, test_c_kernels.py, test_micro.py)."""
    info = {
        "model": model,
        "runtime": runtime,
        "precision": precision,
        "batch": batch,
        "dataset": "jv",
        "params": 1000,
        "bytes": 2048,
        "accuracy": 0.9,
        **extra,
    }
    return {"extra_info": info, "stats": {"median": median}}


def floor(precision: str, rate: float) -> dict:
    """A GEMM-rate benchmark (test_floor.py) measuring ``rate`` MAC/s."""
    info = {"kind": "floor", "precision": precision, "macs": 1_000_000, "runtime": "gemm"}
    return {"extra_info": info, "stats": {"median": 1_000_000 / rate}}


def seeds(model: str, dataset: str, accuracies: list[float], params: int, **extra) -> dict:
    """An accuracy-over-seeds benchmark (test_accuracy.py), mean and sample std as it computes them."""
    n = len(accuracies)
    mean = sum(accuracies) / n
    std = (sum((a - mean) ** 2 for a in accuracies) / (n - 1)) ** 0.5 if n > 1 else 0.0
    info = {
        "kind": "seeds", "model": model, "dataset": dataset, "seeds": list(range(n)),
        "accuracies": accuracies, "accuracy_mean": mean, "accuracy_std": std, "params": params, **extra,
    }  # fmt: skip
    return {"extra_info": info, "stats": {"median": 0.01}}


def report(tmp_path: Path, data: dict, name: str = "report.md", *args: str) -> str:
    """Run the report on ``data``; the text of its file ``name`` after the comment line it begins with."""
    path = tmp_path / "b.json"
    path.write_text(json.dumps(data))
    assert main([str(path), "--out", str(tmp_path / "r"), *args]) == 0
    first, blank, *rest = (tmp_path / "r" / name).read_text().splitlines(keepends=True)
    assert first.startswith(MARKER) and first.rstrip().endswith("-->") and blank == "\n"
    return "".join(rest)


def frontend(stage: str, runtime: str, median: float, hops: int = 1, **extra) -> dict:
    """An on-device front-end benchmark (test_frontend.py): ``hops`` 10 ms hops per round."""
    info = {"kind": "frontend", "stage": stage, "runtime": runtime, "hops": hops, "hop_s": 0.01, **extra}
    return {"extra_info": info, "stats": {"median": median}}
