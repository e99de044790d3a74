"""The GPU check script's CPU dry run: every stage runs and the reports are written (the real run needs
a CUDA device: bash benchmarks/gpu_check.sh)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_check_dry_run_on_cpu(tmp_path):
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--device", "cpu", "--quick", "--seeds", "0", "--out", str(tmp_path)])
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert {r["model"] for r in report["training"]} == {"lgrin", "blstm", "senet", "gcn"}
    assert all(r["exit"] == 0 and 0 <= r["accuracy"] <= 1 for r in report["training"])
    assert {r["autocast"] for r in report["throughput"]} == {"none", "bf16"}
    assert all(r["graphs_per_s"] > 0 for r in report["throughput"])
    assert [r["batch"] for r in report["latency"]] == [1, 1, 64, 64]
    assert any(a["target"] == "onnx" and a["verified"] for a in report["export"]["artifacts"])
    assert "# GPU check" in (tmp_path / "gpu_check.md").read_text()
