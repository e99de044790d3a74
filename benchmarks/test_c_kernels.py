"""The C99 runtime's builds and kernel families side by side on the same exported int8 model.

test_latency.py times every runtime of the target table (the C runtime as users get it: the library every
CMake preset builds, which picks its kernel family at load). This file adds, on the same file:

- the single-family ``-march=native`` build, the reference the dispatching library must stay within 5% of;
- each kernel family of the dispatching library forced through the API (``CModel(kernels=...)``), so one
  run shows what a CPU without AVX-512 VNNI (avx2) or without any vector kernels (portable) would see;
- batch 64 with the batch split over 1 and 2 caller threads, one workspace each (the runtime's
  thread-safe pattern).

The families compute the same integers (tests/export/test_c_runtime.py), so accuracy is the same for all.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lgrin_edge.export import c_runtime as cr
from lgrin_edge.export.targets import TARGETS
from lgrin_edge.measure.macs import lgrin_macs
from lgrin_edge.measure.threads import one_thread

# (label, build, kernels, batch, threads); kernels None: the family the runtime chose for this CPU
CASES = [
    ("native", "native", None, 1, 1),
    *[(f"dispatch-{f}", "dispatch", f, 1, 1) for f in cr.kernel_families()],
    ("dispatch", "dispatch", None, 64, 1),
    ("dispatch", "dispatch", None, 64, 2),
    ("native", "native", None, 64, 1),
]


def _c_model(runs, dataset: str) -> tuple[Path, dict, dict]:
    run = runs.run(dataset, "lgrin")
    manifest = runs.export(run, ["c"])
    wanted = TARGETS["c"].files["int8"]
    entry = next((a for a in manifest["artifacts"] if a.get("path") == wanted), None)
    if entry is None:
        pytest.skip(f"the C int8 model of {dataset} did not verify; see its manifest.json")
    return run, entry, json.loads((run / "metrics.json").read_text())


@pytest.mark.parametrize(
    ("label", "build", "kernels", "batch", "threads"), CASES, ids=[f"{c[0]}-b{c[3]}-t{c[4]}" for c in CASES]
)
def test_c_runtime(
    benchmark, runs, dataset: str, label: str, build: str, kernels: str | None, batch: int, threads: int
) -> None:
    run, entry, metrics = _c_model(runs, dataset)
    ev = np.load(run / "eval.npz", allow_pickle=False)
    path = run / "dist" / entry["path"]
    try:
        model = cr.CModel(path, num_threads=threads, library=cr.build_library(build=build), kernels=kernels)
    except ValueError as e:
        pytest.skip(str(e))
    logits = model(ev["x"])
    benchmark.extra_info.update(
        model="lgrin",
        dataset=dataset,
        precision="int8",
        batch=batch,
        params=metrics["params"],
        threads=threads,
        runtime=f"{entry['runtime']}, {build} build, {model.kernels} kernels",
        target=f"c ({label})",
        build=build,
        kernel=model.kernels,
        workspace_bytes=model.workspace_bytes,
        bytes=entry["bytes"],
        accuracy=float(np.mean(logits.argmax(1) == ev["y"])),
        verified=entry["verified"],
        top1_agreement=entry["top1_agreement"],
        macs=lgrin_macs(metrics["config"]),
    )
    benchmark.group = f"{dataset} batch {batch}"
    xb = np.ascontiguousarray(ev["x"][np.arange(batch) % len(ev["x"])])
    # one torch/BLAS thread; the C runtime's own threads are the caller's (CModel splits the batch)
    with one_thread():
        out = benchmark(model, xb)
    assert out.shape == (batch, len(ev["classes"]))
