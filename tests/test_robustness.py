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


# --static-int8: the static recipes' matrix, exported into each cell's own folder.


def _static_manifest(fallback: str | None, activations: str = "static") -> dict:
    """A manifest of a --static-int8 export: onnx, tflite (without the fallback, or with one that ended
    in ``fallback``: "float" or "min-max") and its TFLite Micro follow-up with the arena it needed."""
    tflite_info: dict = {"recipe": {"activations": activations, "calibration": "histogram"}}
    if fallback == "float":
        tflite_info["fallback"] = {"kept_float": [{"node": "linear_4", "module": "classifier"}]}
        tflite_info["recipe"]["float_nodes"] = ["linear_4"]
    elif fallback == "min-max":
        tflite_info["fallback"] = {"kept_float": [], "calibration": "min-max"}
        tflite_info["recipe"]["calibration"] = "min-max"
    entry = {"precision": "int8", "top1_agreement": 1.0, "accuracy": 0.95, "verified": True}
    return {
        "reference": {"accuracy": 0.95},
        "artifacts": [
            {"target": "onnx", **entry, "info": {"recipe": {"activations": activations}}},
            {"target": "tflite", **entry, "info": tflite_info},
            {"target": "tflite", "artifact": "tflite-micro", **entry, "arena_bytes": 12345},
        ],
        "failed": [],
    }


def _write_cell(out: Path, dist: str, manifest: dict, seed: int = 0) -> None:
    folder = out / f"japanesevowels-s{seed}-t1-detected" / dist
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps(manifest))


SELECTION = ["--datasets", "japanesevowels", "--seeds", "0", "--threads", "1", "--cpu", "detected"]


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--targets", "onnx", "c"], "--static-int8: c has no static int8 recipe"),
        (["--dist", "dist"], "--static-int8 --dist dist: that folder is the plain export's"),
    ],
)
def test_static_int8_refuses_what_it_cannot_measure(
    extra: list[str], said: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert (
        robustness.main(["--out", str(tmp_path), "--static-int8", "--report-only", *SELECTION, *extra]) == 2
    )
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"error: {said}")


def test_static_targets_are_those_with_a_static_recipe() -> None:
    from lgrin_edge.export.quant_spec import STATIC_SPECS

    assert set(robustness.STATIC_TARGETS) == set(STATIC_SPECS) and "c" not in robustness.STATIC_TARGETS


@pytest.mark.parametrize("fallback", [None, "float", "min-max"])
def test_static_report_names_the_fallback_and_the_arena(fallback: str | None, tmp_path: Path) -> None:
    _write_cell(tmp_path, "dist-static", _static_manifest(fallback))
    _write_cell(tmp_path, "dist", _static_manifest(None, "float"))  # the plain run's: not read here
    assert robustness.main(["--out", str(tmp_path), "--static-int8", "--report-only", *SELECTION]) == 0
    report = (tmp_path / "report-static-japanesevowels-s0-t1-detected.md").read_text()
    assert "static int8 (--static-int8)" in report
    assert "| 1.0000 (+0.00) arena 12,345 B |" in report  # the tflite/tflite-micro column
    assert ("1.0000 (+0.00) float: linear_4 |" in report) is (fallback == "float")
    assert ("1.0000 (+0.00) min-max calibration, full integer |" in report) is (fallback == "min-max")
    said = {None: "0 (0 of them", "float": "1 (1 of them", "min-max": "1 (0 of them"}[fallback]
    assert f"Cells with a fallback: {said} keep nodes in float)" in report
    assert "Largest TFLite Micro arena: 12,345 B (japanesevowels seed 0 t1 detected)" in report
    assert "Verified by the export (cells of 1): onnx 1/1, tflite 1/1, tflite/tflite-micro 1/1" in report
    rows = json.loads((tmp_path / "results-static-japanesevowels-s0-t1-detected.json").read_text())["rows"]
    tflite = next(r for r in rows if r["target"] == "tflite")
    assert tflite.get("float_nodes") == {None: None, "float": ["linear_4"], "min-max": []}[fallback]
    assert tflite.get("calibration") == {None: None, "float": "histogram", "min-max": "min-max"}[fallback]


def test_static_summary_counts_fallback_cells_and_the_largest_arena() -> None:
    rows = [
        {**_row("tflite", 1.0, 0.95, seed), **({"fallback": True, "float_nodes": ["mm"]} if seed else {})}
        for seed in (0, 1, 2)
    ]
    rows[2]["float_nodes"], rows[2]["calibration"] = [], "min-max"
    rows += [
        {**_row("tflite/tflite-micro", 1.0, 0.95, seed), "arena_bytes": 1000 * (seed + 1)} for seed in (0, 2)
    ]
    lines = robustness.static_summary(rows)
    assert lines[0] == "Verified by the export (cells of 3): tflite 3/3, tflite/tflite-micro 2/3"
    assert lines[1] == "Cells with a fallback: 2 (1 of them keep nodes in float)"
    assert lines[2:4] == [
        "- japanesevowels seed 1 t1 detected: float: mm",
        "- japanesevowels seed 2 t1 detected: min-max calibration, full integer",
    ]
    assert lines[4] == "Largest TFLite Micro arena: 3,000 B (japanesevowels seed 2 t1 detected)"


def test_a_failed_static_export_is_a_miss_not_a_crash() -> None:
    failed = {**_row("tflite", 0.0, 0.0), "error": "litert-torch could not convert", "verified": False}
    table, ok = robustness.summarise([_row("onnx", 1.0, 0.95), failed], static=True)
    assert not ok and "| **failed** |" in table and "| tflite | 1 | - | - | - |" in table
    assert "tflite 0/1" in table


@pytest.mark.parametrize(("static", "activations"), [(True, "dynamic"), (False, "static")])
def test_an_export_of_the_other_recipes_is_named_not_read(
    static: bool, activations: str, tmp_path: Path
) -> None:
    _write_cell(tmp_path, "mixed", _static_manifest(None, activations))
    result = robustness.train_and_export_cell(
        tmp_path, "japanesevowels", 0, 1, "detected", 1, run=False, dist="mixed", static=static
    )
    assert f"exported {'without' if static else 'with'} --static-int8" in result["error"]
    assert f"onnx: {activations} activations" in result["error"] and "rows" not in result


def test_a_plain_export_with_the_c_runtimes_static_activations_is_read(tmp_path: Path) -> None:
    """c and web always calibrate their activations: that is not a --static-int8 export."""
    manifest = _static_manifest(None, "float")
    c = {"target": "c", "precision": "int8", "top1_agreement": 1.0, "accuracy": 0.95, "verified": True}
    manifest["artifacts"].append({**c, "info": {"recipe": {"activations": "static"}}})
    _write_cell(tmp_path, "dist", manifest)
    result = robustness.train_and_export_cell(tmp_path, "japanesevowels", 0, 1, "detected", 1, run=False)
    assert "error" not in result and {r["target"] for r in result["rows"]} >= {"c", "onnx"}


def test_a_static_cell_reuses_the_finished_training(
    paper_start_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cell a plain run finished is exported again (static recipes, its own folder), never trained
    again, and the plain export stays as it was."""
    import shutil

    cell = tmp_path / paper_start_run.parent.name
    shutil.copytree(paper_start_run, cell / "run")
    _write_cell(tmp_path, "dist", _static_manifest(None, "float"))
    plain = (cell / "dist" / "manifest.json").read_bytes()
    seen: list[list[str]] = []

    def export(cmd, **kwargs):  # stands in for the export command: writes what it would
        seen.append(cmd)
        out = Path(cmd[cmd.index("--out") + 1])
        out.mkdir()
        (out / "manifest.json").write_text(json.dumps(_static_manifest("float")))
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(robustness.subprocess, "run", export)
    result = robustness.train_and_export_cell(
        tmp_path, "japanesevowels", 0, 1, "detected", 1, recipe="paper-start",
        dist="dist-static", targets=robustness.STATIC_TARGETS, static=True,
    )  # fmt: skip
    (cmd,) = seen
    assert "lgrin_edge.export" in cmd and cmd[cmd.index("--checkpoint") + 1] == str(cell / "run")
    assert cmd[-3:] == ["--precision", "int8", "--static-int8"]
    assert cmd[cmd.index("--target") + 1 : cmd.index("--out")] == list(robustness.STATIC_TARGETS)
    assert any(r.get("float_nodes") == ["linear_4"] for r in result["rows"])
    assert (cell / "dist" / "manifest.json").read_bytes() == plain and (
        cell / "log-dist-static.txt"
    ).is_file()


def test_an_untrained_static_cell_trains_first(tmp_path: Path) -> None:
    cmds = robustness.cell_commands(tmp_path / "c", "basicmotions", 3, 20, "default", "dist-static",
                                    robustness.STATIC_TARGETS, static=True)  # fmt: skip
    assert [c[2] for c in cmds] == ["lgrin_edge.train", "lgrin_edge.export"]
    assert "--static-int8" not in cmds[0] and "--static-int8" in cmds[1]
    plain = robustness.cell_commands(tmp_path / "c", "basicmotions", 3, 20, "default", "dist", ("all",))
    assert "--static-int8" not in plain[1] and "--precision" not in plain[1]


def test_a_skipped_tflite_micro_check_is_shown_not_hidden(tmp_path: Path) -> None:
    manifest = _static_manifest(None)
    manifest["artifacts"].pop()  # no TFLite Micro record: the check was skipped
    reason = "no verified tflite/int8 file to start from"
    manifest["skipped"] = [
        {"target": "tflite", "precision": "int8", "artifact": "tflite-micro", "reason": reason},
        {"target": "tensorrt", "precision": "int8", "artifact": "engine", "reason": "no GPU"},
    ]
    _write_cell(tmp_path, "dist-static", manifest)
    assert robustness.main(["--out", str(tmp_path), "--static-int8", "--report-only", *SELECTION]) == 0
    report = (tmp_path / "report-static-japanesevowels-s0-t1-detected.md").read_text()
    assert "| 1.0000 (+0.00) | skipped |" in report and "tflite/tflite-micro 0/1" in report
    assert "tensorrt/engine" not in report and "Largest TFLite Micro arena: none recorded" in report
