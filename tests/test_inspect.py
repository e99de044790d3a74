"""``python -m lgrin_edge.inspect``: the spec from each kind of file, one line where there is none."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lgrin_edge.checkpoint import CONFIG
from lgrin_edge.export.c_runtime import EXPORT_DIR
from lgrin_edge.inspect import main
from lgrin_edge.spec import NPZ_KEY, FeatureSpec, Named

KAT = EXPORT_DIR / "tests" / "data"


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(capsys, path: Path, message: str) -> None:
    code, out, err = _run(capsys, str(path))
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("error: "), err
    assert message in err, err


def test_the_summary_names_what_the_device_must_build(capsys):
    code, out, _ = _run(capsys, str(KAT / "kat_spec_int8.lgrn"))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].endswith("feature spec, from the .lgrn feature spec section")
    assert "extractor      kat (1)" in lines and "  seed: 7" in lines
    assert "input          motion, sample rate 50 Hz; channels: ax [m/s²], ay [m/s²], az [m/s²]" in lines
    assert "frame rate     50 Hz (one frame is one node)" in lines
    assert "     2  az  m/s²" in lines and "graph          M = 6 nodes per input" in lines
    assert any(line.startswith("  longer:  resample: T > M: the nearest frames at round(") for line in lines)
    assert any(line.startswith("normalisation  inside-model: the model's first operation") for line in lines)
    assert "classes        C = 4: calm, café, walk, run" in lines and lines[-1] == "stream         none"
    code, out, _ = _run(capsys, str(KAT / "kat_spec_int8.lgrn"), "--json")
    assert code == 0 and json.loads(out) == json.loads((KAT / "kat_spec.json").read_text())


def test_a_dataset_file_and_a_checkpoint_folder(tiny_run, tmp_path, capsys):
    spec = FeatureSpec(
        "mine", "1", {"deep": {"a": [1, 2]}}, (Named("u", "V"), Named("v")), classes=("p", "q")
    )
    np.savez(tmp_path / "d.npz", x=np.zeros((2, 3, 2), np.float32), y=np.array([0, 1]), **{
        NPZ_KEY: np.array([spec.to_json()])
    })  # fmt: skip
    code, out, _ = _run(capsys, str(tmp_path / "d.npz"))
    assert code == 0 and "graph          not yet chosen (a dataset: training sets M and the rule)" in out
    assert "  deep:\n    a: 1, 2\n" in out and "normalisation  not yet known (a dataset)" in out
    want = json.loads((tiny_run / CONFIG).read_text())[NPZ_KEY]
    for path in (tiny_run, tiny_run / CONFIG):
        code, out, _ = _run(capsys, str(path), "--json")
        assert code == 0 and json.loads(out) == want


def test_an_export_folder_its_manifest_and_samples(tiny_run, tmp_path, capsys):
    from lgrin_edge.export.pipeline import run_export

    run_export(tiny_run, ["c"], ["int8"], tmp_path / "dist", calibration_n=64, log=lambda *_: None)
    want = json.loads((tiny_run / CONFIG).read_text())[NPZ_KEY]
    for name in ("", "manifest.json", "samples.npz"):
        code, out, _ = _run(capsys, str(tmp_path / "dist" / name), "--json")
        assert code == 0 and json.loads(out) == want, name


def test_files_without_a_spec_get_one_line(tiny_run, tmp_path, capsys):
    _one_line_error(capsys, KAT / "kat_int8.lgrn", "a model file of format version 4 without a feature spec")
    np.savez(tmp_path / "old.npz", x=np.zeros((2, 3, 2), np.float32), y=np.array([0, 1]))
    _one_line_error(capsys, tmp_path / "old.npz", "an npz file of graphs without a feature spec")
    old = tmp_path / "old_run"
    shutil.copytree(tiny_run, old)
    cfg = json.loads((old / CONFIG).read_text())
    del cfg[NPZ_KEY]
    (old / CONFIG).write_text(json.dumps(cfg))
    _one_line_error(
        capsys, old, "a checkpoint config without a feature spec (trained before runs recorded one"
    )
    (tmp_path / "m.onnx").write_bytes(b"\x08\x07\x12\x07pytorch")  # ir_version, producer_name only
    _one_line_error(capsys, tmp_path / "m.onnx", "an ONNX model without a feature spec")


def test_what_is_no_artifact_or_is_damaged_gets_one_line(tmp_path, capsys):
    _one_line_error(capsys, tmp_path / "missing.onnx", "no such file or folder")
    _one_line_error(capsys, tmp_path, "a folder without config.json (a checkpoint) or manifest.json")
    (tmp_path / "notes.txt").write_text("hello")
    _one_line_error(capsys, tmp_path / "notes.txt", "not an artifact of lgrin-edge")
    (tmp_path / "x.json").write_text('{"a": 1}')
    _one_line_error(capsys, tmp_path / "x.json", "JSON, but not a feature spec")
    (tmp_path / "bad.json").write_text("{")
    _one_line_error(capsys, tmp_path / "bad.json", "not JSON")
    (tmp_path / "t.tflite").write_bytes(b"\xff\xff\x00\x00TFL3" + bytes(8))
    _one_line_error(capsys, tmp_path / "t.tflite", "damaged or not what its name says")
    data = (KAT / "kat_spec_int8.lgrn").read_bytes()
    (tmp_path / "cut.lgrn").write_bytes(data[:-8])
    _one_line_error(capsys, tmp_path / "cut.lgrn", "damaged .lgrn (its size or checksum does not match")
    spec = json.loads((KAT / "kat_spec.json").read_text())
    spec["spec_version"] = 9
    (tmp_path / "new.json").write_text(json.dumps(spec))
    _one_line_error(capsys, tmp_path / "new.json", "spec_version 9; this lgrin-edge reads version 1")


def test_the_module_runs_as_a_command():
    done = subprocess.run(
        [sys.executable, "-m", "lgrin_edge.inspect", str(KAT / "kat_spec_int8.lgrn"), "--jsno"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "unrecognized option --jsno; did you mean --json?" in done.stderr
    with pytest.raises(SystemExit):
        main(["--help"])
