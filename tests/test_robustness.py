"""The int8 acceptance matrix command: its options, reuse of finished cells, and the bar it applies."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from lgrin_edge import robustness


def _row(target: str, agreement: float, accuracy: float, seed: int = 0) -> dict:
    return {
        "dataset": "japanesevowels",
        "seed": seed,
        "threads": 1,
        "cpu": "detected",
        "target": target,
        "agreement": agreement,
        "accuracy": accuracy,
        "fp32_accuracy": 0.95,
        "verified": agreement >= 0.99,
    }


def test_bar_counts_agreement_and_accuracy_change() -> None:
    _, ok = robustness.summarise([_row("c", 1.0, 0.95), _row("onnx", 0.9973, 0.9527)])
    assert ok
    # Two flips in one direction: agreement passes, the accuracy change (> 0.5 points) does not.
    table, ok = robustness.summarise([_row("c", 0.9946, 0.9554), _row("onnx", 1.0, 0.95)])
    assert not ok and "**miss**" in table


@pytest.mark.parametrize("bad", ["a/b", "run", "", ".."])
def test_dist_must_be_a_plain_name(bad: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        robustness.main(["--out", str(tmp_path), "--dist", bad, "--report-only"])
    assert exit_info.value.code == 2
    assert "--dist" in capsys.readouterr().err


def test_report_only_reads_finished_cells_from_the_named_dist(tmp_path: Path) -> None:
    cell = tmp_path / "japanesevowels-s0-t1-detected" / "v2"
    cell.mkdir(parents=True)
    manifest = {
        "reference": {"accuracy": 0.95},
        "artifacts": [
            {"target": "c", "precision": "int8", "top1_agreement": 1.0, "accuracy": 0.95, "verified": True}
        ],
        "failed": [],
    }
    (cell / "manifest.json").write_text(json.dumps(manifest))
    args = ["--out", str(tmp_path), "--dist", "v2", "--report-only", "--datasets", "japanesevowels"]
    assert robustness.main([*args, "--seeds", "0", "--threads", "1", "--cpu", "detected"]) == 0
    # Named after the selection: a partial run never replaces the whole matrix's report.
    assert (tmp_path / "report-v2-japanesevowels-s0-t1-detected.md").is_file()
    assert json.loads((tmp_path / "results-v2-japanesevowels-s0-t1-detected.json").read_text())["bar_met"]
    # A cell without that export is reported missing, and the run fails.
    assert robustness.main([*args, "--seeds", "0", "1", "--threads", "1", "--cpu", "detected"]) == 1


def test_cells_train_with_the_named_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--recipe reaches every cell's training command (the command itself is not run here)."""
    seen: list[list[str]] = []

    def fake_run(cmd, **kwargs):
        seen.append(cmd)
        return subprocess.CompletedProcess(cmd, 1)  # training "fails": the cell stops after it

    monkeypatch.setattr(robustness.subprocess, "run", fake_run)
    result = robustness.train_and_export_cell(tmp_path, "synthetic", 0, 1, "detected", 1, recipe="graph")
    assert "error" in result
    train = seen[0]
    assert "lgrin_edge.train" in train and train[train.index("--recipe") + 1] == "graph"


@pytest.mark.parametrize("cpu", robustness.CPU_PATHS)
def test_each_cpu_path_reaches_torch_in_the_cell(cpu: str) -> None:
    """A cell's process runs on the code path it names."""
    import sys

    import torch

    detected = torch.backends.cpu.get_cpu_capability()
    if cpu == "avx2" and detected not in ("AVX2", "AVX512"):
        pytest.skip(f"the avx2 path needs an x86-64 CPU with AVX2; torch detects {detected}")
    probe = "import torch; print(torch.backends.cpu.get_cpu_capability())"
    env = robustness.cell_env(2, cpu)
    got = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    want = {"detected": detected, "avx2": "AVX2", "default": "DEFAULT"}[cpu]
    assert got.stdout.strip() == want and env["OMP_NUM_THREADS"] == "2"


@pytest.fixture(scope="module")
def paper_start_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lgrin_edge.train import main

    out = tmp_path_factory.mktemp("cell") / "japanesevowels-s0-t1-detected" / "run"
    args = ["--dataset", "synthetic", "--recipe", "paper-start", "--epochs", "1", "--eta", "4", "2"]
    assert main([*args, "--device", "cpu", "--out", str(out)]) == 0
    return out


def test_a_cell_of_other_settings_is_named_not_reused(paper_start_run: Path) -> None:
    """A finished cell answers only for the recipe and epochs it was trained with."""
    assert robustness.trained_otherwise(paper_start_run, "paper-start", 1) == []
    assert robustness.trained_otherwise(paper_start_run, "paper-start", 2) == ["epochs"]
    differ = set(robustness.trained_otherwise(paper_start_run, "default", 1))
    assert {"adj_init", "adj_mean", "lambda1", "lambda2"} <= differ and "lambda3" not in differ
    result = robustness.train_and_export_cell(
        paper_start_run.parents[1], "japanesevowels", 0, 1, "detected", 1
    )
    assert "other settings" in result["error"] and "adj_mean" in result["error"]


def test_a_setting_an_older_run_did_not_record_counts_as_its_default(
    paper_start_run: Path, tmp_path: Path
) -> None:
    config = json.loads((paper_start_run / "config.json").read_text())
    del config["train"]["adj_mean"]  # written before the option existed: A started at mean 0
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert robustness.trained_otherwise(tmp_path, "paper-start", 1) == []


@pytest.mark.parametrize(
    ("text", "why"), [('{"reference": ', "not JSON"), ('{"artifacts": []}', "no 'reference'")]
)
def test_a_damaged_manifest_is_named_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, text: str, why: str
) -> None:
    manifest = tmp_path / "japanesevowels-s0-t1-detected" / "dist" / "manifest.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(text)
    args = ["--out", str(tmp_path), "--report-only", "--datasets", "japanesevowels", "--seeds", "0"]
    assert robustness.main([*args, "--threads", "1", "--cpu", "detected"]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: no cell produced int8 artifacts") and f"is damaged ({why})" in line
    assert manifest.read_text() == text


def test_a_dataset_file_gives_a_cell_folder_inside_out() -> None:
    assert robustness.cell_name("/elsewhere/my data.npz", 0, 1, "detected") == "my data-s0-t1-detected"
    assert robustness.cell_name("japanesevowels", 3, 2, "avx2") == "japanesevowels-s3-t2-avx2"
