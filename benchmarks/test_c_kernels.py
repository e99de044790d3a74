"""The C99 runtime's kernel families side by side on the same exported int8 model, batch 1, one thread.

test_latency.py times the runtime as users get it ("native": the best kernels this CPU has); this file
adds the AVX2 and portable builds of the same source, so one run shows what a CPU without AVX-512 VNNI
(AVX2 kernels) or without any vector kernel for its ISA (portable C) would see. The kernels compute the
same integer activations, and logits within 1e-5 of their scale (tests/export/test_c_runtime.py), so
accuracy is that of the native build.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from lgrin_edge.benchmark.macs import lgrin_macs
from lgrin_edge.benchmark.threads import one_thread
from lgrin_edge.export import c_runtime as cr
from lgrin_edge.export.targets import TARGETS

KERNELS = [k for k in cr.KERNELS if k != "native"]


@pytest.mark.parametrize("kernel", KERNELS)
def test_c_kernel(benchmark, runs, dataset: str, kernel: str) -> None:
    if kernel == "avx2" and not cr.cpu_has_avx2():
        pytest.skip("the AVX2 kernels need an x86-64 CPU with AVX2; this machine has none")
    run = runs.run(dataset, "lgrin")
    manifest = runs.export(run, ["c"])
    wanted = TARGETS["c"].files["int8"]
    entry = next((a for a in manifest["artifacts"] if a.get("path") == wanted), None)
    if entry is None:
        pytest.skip(f"the C int8 model of {dataset} did not verify; see its manifest.json")
    metrics = json.loads((run / "metrics.json").read_text())
    ev = np.load(run / "eval.npz", allow_pickle=False)
    model = cr.CModel(run / "dist" / wanted, library=cr.build_library(kernel=kernel))
    logits = model(ev["x"])
    benchmark.extra_info.update(
        model="lgrin",
        dataset=dataset,
        precision="int8",
        batch=1,
        params=metrics["params"],
        threads=1,
        runtime=f"{entry['runtime']}, {kernel} kernels",
        target=f"c ({kernel} kernels)",
        kernel=kernel,
        bytes=entry["bytes"],
        accuracy=float(np.mean(logits.argmax(1) == ev["y"])),
        verified=entry["verified"],
        top1_agreement=entry["top1_agreement"],
        macs=lgrin_macs(metrics["config"]),
    )
    benchmark.group = f"{dataset} batch 1"
    x1 = np.ascontiguousarray(ev["x"][:1])
    with one_thread():
        out = benchmark(model, x1)
    assert out.shape == (1, len(ev["classes"]))
