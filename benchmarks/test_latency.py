"""Inference latency of L-GrIN on every runtime of the target table, against BLSTM and SENet (the
paper-scale SENet with --bench-training=full only: lgrin_edge/measure/context.py's FULL_ONLY).

Run: pytest --benchmark-only --benchmark-json=bench.json
Report: python -m lgrin_edge.measure.report bench.json
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from lgrin_edge.checkpoint import load_checkpoint
from lgrin_edge.export.targets import TARGETS
from lgrin_edge.measure.context import FULL_ONLY
from lgrin_edge.measure.macs import lgrin_macs
from lgrin_edge.measure.threads import one_thread

BATCHES = (1, 64)


@dataclass(frozen=True)
class Case:
    model: str  # label in the report
    arch: str  # registry name
    runtime: str  # "pytorch" or a target name
    precision: str
    opts: tuple[tuple[str, str], ...] = ()
    artifact: str = ""  # a target's follow-up artifact (the TensorRT engine) instead of its own file

    @property
    def target(self) -> str:
        """The report's name of what runs: the target, or target-artifact for a follow-up."""
        return f"{self.runtime}-{self.artifact}" if self.artifact else self.runtime

    @property
    def id(self) -> str:
        return f"{self.model}-{self.target}-{self.precision}"


def _cases() -> list[Case]:
    cases = [Case("lgrin", "lgrin", "pytorch", "fp32")]
    timed = [t for t in TARGETS.values() if t.host_timed]  # the others: benchmarks/test_browser.py
    cases += [Case("lgrin", "lgrin", t.name, p) for t in timed for p in t.precisions]
    follow_ups = [t for t in TARGETS.values() if t.follow_up and t.follow_up.load]
    cases += [
        Case("lgrin", "lgrin", t.name, t.follow_up.precision, artifact=t.follow_up.artifact)
        for t in follow_ups
    ]
    baselines = {
        "blstm": ("blstm", ()),
        "senet": ("senet", (("senet-preset", "compact"),)),
        "senet-paper": ("senet", (("senet-preset", "paper"),)),
    }
    for label, (arch, opts) in baselines.items():
        cases.append(Case(label, arch, "pytorch", "fp32", opts))
        cases += [Case(label, arch, "onnx", p, opts) for p in ("fp32", "int8")]
    return cases


CASES = _cases()


def _batch(x: np.ndarray, n: int) -> np.ndarray:
    return np.ascontiguousarray(x[np.arange(n) % len(x)])


class TorchRunner:
    def __init__(self, run: Path) -> None:
        self.model, _ = load_checkpoint(run)

    @torch.no_grad()
    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.model(torch.from_numpy(x)).numpy()


def _exported(runs, run: Path, case: Case) -> tuple[Callable[[np.ndarray], np.ndarray], dict]:
    """The runner of ``case``'s exported artifact and its report fields; skips where the export made none."""
    target = TARGETS[case.runtime]
    follow_up = target.follow_up if case.artifact else None
    manifest = runs.export(run, [target.name])
    wanted = follow_up.file if follow_up else target.files[case.precision]
    entries = manifest["artifacts"] + manifest.get("failed", [])
    entry = next((a for a in entries if a.get("path") in (wanted, f"unverified/{wanted}")), None)
    if entry is None or "error" in entry:
        reasons = [s.get("reason") for s in manifest["skipped"] if s["target"] == target.name]
        reason = entry["error"] if entry else "; ".join(r for r in reasons if r) or "not exported"
        pytest.skip(f"{case.model} {case.runtime}/{case.precision}: {reason}")
    path = run / "dist" / entry["path"]
    runner = (follow_up.load if follow_up else target.load)(path, 1)
    info = {
        "runtime": entry["runtime"],
        "target": case.target,
        "bytes": entry["bytes"],
        "accuracy": entry["accuracy"],
        # Timed even when outside the export tolerance (a baseline's int8 may be); the report marks it.
        "verified": entry["verified"],
        "top1_agreement": entry["top1_agreement"],
    }
    if target.fixed_batch and not follow_up:
        info["note"] = "fixed-batch artifact (batch 1) run in chunks"
    return runner, info


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_inference(benchmark, runs, dataset: str, case: Case, batch: int) -> None:
    if case.model in FULL_ONLY and runs.mode != "full":
        pytest.skip(FULL_ONLY[case.model])
    run = runs.run(dataset, case.arch, **dict(case.opts))
    metrics = json.loads((run / "metrics.json").read_text())
    ev = np.load(run / "eval.npz", allow_pickle=False)
    info = {
        "model": case.model,
        "dataset": dataset,
        "precision": case.precision,
        "batch": batch,
        "params": metrics["params"],
        "threads": 1,
    }
    if case.runtime == "pytorch":
        runner = TorchRunner(run)
        logits = runner(ev["x"])
        info.update(
            runtime="pytorch",
            bytes=(run / "model.safetensors").stat().st_size,
            accuracy=float(np.mean(logits.argmax(1) == ev["y"])),
        )
    else:
        runner, exported = _exported(runs, run, case)
        info.update(exported)
    if case.arch == "lgrin":
        info["macs"] = lgrin_macs(metrics["config"])
    benchmark.extra_info.update(info)
    benchmark.group = f"{dataset} batch {batch}"
    xb = _batch(ev["x"], batch)
    with one_thread():
        out = benchmark(runner, xb)
    assert np.asarray(out).shape == (batch, len(ev["classes"]))
