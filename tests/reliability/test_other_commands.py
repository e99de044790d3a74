"""The other commands (quickstart, features, benchmark.report, android_demo/pack_assets.py) against bad
input: one line, the right exit code, nothing written or lost."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.reliability.conftest import one_line_error, snapshot

ROOT = Path(__file__).resolve().parents[2]


def test_quickstart_refuses_impossible_epochs(tmp_path, capsys):
    from lgrin_edge.quickstart import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--epochs", "0", "--runs", str(tmp_path / "r"), "--dist", str(tmp_path / "d")])
    assert exit_info.value.code == 2
    one_line_error(capsys.readouterr().err, "--epochs: must be >= 1")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("problem", ["folder", "suffix", "parent-file"])
def test_features_checks_its_output_before_extracting(tmp_path, capsys, problem):
    from lgrin_edge.features.__main__ import main

    root = tmp_path / "corpus" / "happy"
    root.mkdir(parents=True)
    (root / "a.wav").write_bytes(b"RIFF")  # never read: the output check comes first
    out = {"folder": tmp_path, "suffix": tmp_path / "data.csv", "parent-file": root / "a.wav" / "d.npz"}[
        problem
    ]
    needle = {
        "folder": "is a folder",
        "suffix": "must be a .npz file",
        "parent-file": "is a file, not a folder",
    }
    assert main(["wav-dir", str(tmp_path / "corpus"), "--out", str(out), "--no-cache", "--no-progress"]) == 2
    one_line_error(capsys.readouterr().err, needle[problem])


def test_features_refuses_nan_audio(tmp_path, capsys):
    sf = pytest.importorskip("soundfile", reason="the speech extra (soundfile) is not installed")
    from lgrin_edge.features.__main__ import main

    root = tmp_path / "corpus" / "happy"
    root.mkdir(parents=True)
    signal = np.sin(np.arange(16000) / 10).astype(np.float32)
    signal[100:200] = np.nan
    sf.write(root / "a.wav", signal, 16000, subtype="FLOAT")
    out = tmp_path / "d.npz"
    assert main(["wav-dir", str(tmp_path / "corpus"), "--out", str(out), "--no-cache", "--no-progress"]) == 2
    one_line_error(capsys.readouterr().err, "NaN/Inf samples", "a.wav")
    assert not out.exists()


def test_benchmark_report_names_missing_keys(tmp_path, capsys):
    from lgrin_edge.benchmark.report import main

    path = tmp_path / "bench.json"
    row = {"name": "t", "stats": {"median": 0.1}, "extra_info": {"model": "lgrin", "dataset": "jv"}}
    path.write_text(json.dumps({"benchmarks": [row]}))
    assert main([str(path), "--out", str(tmp_path / "r")]) == 2
    one_line_error(capsys.readouterr().err, "'t' lacks runtime, precision, batch")
    path.write_text(json.dumps({"benchmarks": [{"name": "t"}]}))
    assert main([str(path), "--out", str(tmp_path / "r")]) == 2
    one_line_error(capsys.readouterr().err, "has no stats.median")
    assert not (tmp_path / "r").exists()


def _pack_assets():
    spec = importlib.util.spec_from_file_location("pack_assets", ROOT / "android_demo" / "pack_assets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pack_assets_faults_keep_everything(good_export, tmp_path, capsys):
    pack = _pack_assets().main
    dist = tmp_path / "dist"
    shutil.copytree(good_export, dist)
    before = snapshot(dist)
    # --out naming the export folder (it used to be emptied), inside it, or around it
    for out in (dist, dist / "assets", tmp_path):
        assert pack(["--dist", str(dist), "--out", str(out), "--require", "c"]) == 1
        one_line_error(capsys.readouterr().err, "overlaps the export folder")
    # a folder of the user's
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "photo.jpg").write_bytes(b"\xff\xd8")
    assert pack(["--dist", str(dist), "--out", str(mine), "--require", "c"]) == 1
    one_line_error(capsys.readouterr().err, "did not write", "photo.jpg")
    assert (mine / "photo.jpg").read_bytes() == b"\xff\xd8"
    assert snapshot(dist) == before
    # a manifest entry without its checksum, a truncated samples.npz
    manifest = json.loads((dist / "manifest.json").read_text())
    entry = next(a for a in manifest["artifacts"] if a["target"] == "c")
    del entry["sha256"]
    (dist / "manifest.json").write_text(json.dumps(manifest))
    assert pack(["--dist", str(dist), "--out", str(tmp_path / "a1"), "--require", "c"]) == 1
    one_line_error(capsys.readouterr().err, "lacks sha256")
    shutil.copy(good_export / "manifest.json", dist / "manifest.json")
    data = (dist / "samples.npz").read_bytes()
    (dist / "samples.npz").write_bytes(data[: len(data) // 2])
    assert pack(["--dist", str(dist), "--out", str(tmp_path / "a2"), "--require", "c"]) == 1
    one_line_error(capsys.readouterr().err, "samples.npz is damaged or truncated")
    assert not (tmp_path / "a1").exists() and not (tmp_path / "a2").exists()
