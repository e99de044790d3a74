"""Microcontroller memory: TensorFlow Lite Micro's tensor arena beside the C runtime's workspace.

The full-integer ``.tflite`` (``export --target tflite --static-int8``) runs in TFLite Micro's
interpreter, whose smallest arena the export measures; the C runtime's workspace comes from the same
model's ``.lgrn`` (test_c_kernels.py records it too). Both are what a microcontroller must provide beside
the model's constants. TFLite Micro's reference kernels on this host are timed as one more peer at batch 1.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from lgrin_edge.export.c_runtime import CModel
from lgrin_edge.export.targets import TARGETS
from lgrin_edge.measure.macs import lgrin_macs
from lgrin_edge.measure.threads import one_thread


def test_tflite_micro(benchmark, runs, dataset: str) -> None:
    from lgrin_edge.export.tflite_micro import TFLMModel, tflm_status

    ok, why = tflm_status()
    if not ok:
        pytest.skip(why)
    run = runs.run(dataset, "lgrin")
    manifest = runs.export(run, ["tflite", "c"], static_int8=True)
    micro = next((a for a in manifest["artifacts"] if a["target"] == "tflite" and "arena_bytes" in a), None)
    if micro is None:
        pytest.skip(f"TFLite Micro did not verify the full-integer file of {dataset}; see its manifest.json")
    c_file = run / "dist-static" / TARGETS["c"].files["int8"]
    metrics = json.loads((run / "metrics.json").read_text())
    ev = np.load(run / "eval.npz", allow_pickle=False)
    model = TFLMModel((run / "dist-static" / micro["path"]).read_bytes(), micro["arena_bytes"])
    benchmark.extra_info.update(
        model="lgrin",
        dataset=dataset,
        precision="int8",
        batch=1,
        params=metrics["params"],
        threads=1,
        runtime=micro["runtime"],
        target="tflite-micro",
        bytes=micro["bytes"],
        accuracy=micro["accuracy"],
        verified=micro["verified"],
        top1_agreement=micro["top1_agreement"],
        arena_bytes=micro["arena_bytes"],
        c_workspace_bytes=CModel(c_file).workspace_bytes if c_file.is_file() else None,
        macs=lgrin_macs(metrics["config"]),
    )
    benchmark.group = f"{dataset} batch 1"
    x1 = np.ascontiguousarray(ev["x"][:1])
    with one_thread():
        out = benchmark(model, x1)
    assert out.shape == (1, len(ev["classes"]))
