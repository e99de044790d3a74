"""The other commands (quickstart, features, sweep, robustness, benchmark.report, the C tool lgrin_bench,
android_demo/pack_assets.py) against bad input: one line, the right exit code, nothing written or lost."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
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

    signal = np.sin(np.arange(16000) / 10).astype(np.float32)
    for cls in ("happy", "sad"):
        (tmp_path / "corpus" / cls).mkdir(parents=True)
        sf.write(tmp_path / "corpus" / cls / "b.wav", signal, 16000, subtype="FLOAT")
    signal[100:200] = np.nan
    sf.write(tmp_path / "corpus" / "happy" / "a.wav", signal, 16000, subtype="FLOAT")
    out = tmp_path / "d.npz"
    assert main(["wav-dir", str(tmp_path / "corpus"), "--out", str(out), "--no-cache", "--no-progress"]) == 2
    one_line_error(capsys.readouterr().err, "NaN/Inf samples", "a.wav")
    assert not out.exists()


def _corpus(root: Path, classes: tuple[str, ...], suffix: str = ".wav") -> Path:
    """Class folders of one file each; never read (the checks these tests reach come first)."""
    for cls in classes:
        (root / cls).mkdir(parents=True)
        (root / cls / f"a{suffix}").write_bytes(b"RIFF")
    return root


@pytest.mark.parametrize(
    ("classes", "needle"),
    [
        (("happy",), "holds files of one class only ('happy'); a dataset needs at least 2 classes"),
        (("Happy", "happy ", "sad"), "class folders 'Happy' and 'happy ' under"),
    ],
)
def test_features_refuses_one_class_and_two_folders_of_one_class(tmp_path, capsys, classes, needle):
    from lgrin_edge.features.__main__ import main

    root = _corpus(tmp_path / "corpus", classes, ".csv")  # OpenFace CSVs: no optional package needed
    out = tmp_path / "d.npz"
    assert main(["openface-dir", str(root), "--out", str(out), "--no-cache", "--no-progress"]) == 2
    one_line_error(capsys.readouterr().err, needle)
    assert not out.exists()


@pytest.mark.parametrize(
    ("command", "module", "line"),
    [
        ("wav-dir", "opensmile", "opensmile is not installed (pip install 'lgrin-edge[speech]')"),
        ("wav-dir", "soundfile", "soundfile is not installed (pip install 'lgrin-edge[speech]')"),
        ("video-dir", "mediapipe", "mediapipe is not installed (pip install 'lgrin-edge[video]')"),
        ("video-dir", "cv2", "opencv-contrib-python is not installed (pip install 'lgrin-edge[video]')"),
    ],
)
def test_features_without_an_optional_package_is_one_line(
    tmp_path, capsys, monkeypatch, command, module, line
):
    from lgrin_edge.features.__main__ import main

    monkeypatch.setitem(sys.modules, module, None)  # how Python hides a module: it is then not found
    root = _corpus(tmp_path / "corpus", ("happy", "sad"))
    out = tmp_path / "d.npz"
    extractor = ["--extractor", "opensmile-is09"] if command == "wav-dir" else []  # the default needs neither
    assert main([command, str(root), "--out", str(out), "--no-cache", "--no-progress", *extractor]) == 2
    assert one_line_error(capsys.readouterr().err) == f"error: {line}"
    assert not out.exists()


def _sweep(tmp_path: Path, rows: list[dict], *extra: str) -> int:
    from lgrin_edge.sweep import main

    grid = tmp_path / "g.json"
    grid.write_text(json.dumps({"name": "g", "rows": rows}))
    args = ["--grid", str(grid), "--dataset", "synthetic", "--epochs", "1", "--out", str(tmp_path / "out")]
    return main([*args, "--workers", "1", *extra])


TINY = {"eta": [8, 4], "num_layers": 1}


def test_sweep_refuses_an_impossible_grid_value_before_any_cell(tmp_path, capsys):
    assert _sweep(tmp_path, [{"name": "fine", **TINY}, {"name": "neg", "lr": -0.5, **TINY}]) == 2
    one_line_error(capsys.readouterr().err, "g.json: row 'neg': lr must be a finite number > 0, got -0.5")
    assert not (tmp_path / "out").exists()


def test_sweep_without_ray_says_so_and_a_damaged_cell_runs_again(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # how Python hides a module: it is then not found
    rows = [{"name": "a", **TINY}, {"name": "b", "pooling": "mean", **TINY}]
    assert _sweep(tmp_path, rows, "--backend", "ray") == 2
    assert one_line_error(capsys.readouterr().err) == (
        "error: --backend ray: ray is not installed (pip install 'lgrin-edge[ray]')"
    )
    assert not (tmp_path / "out").exists()
    assert _sweep(tmp_path, rows) == 0  # the default, auto: the local pool
    said = capsys.readouterr().out
    assert said.splitlines()[0] == "skipped ray: ray is not installed (pip install 'lgrin-edge[ray]')"
    cells = tmp_path / "out" / "cells"
    damaged, kept = sorted(cells.iterdir())
    record = json.loads(damaged.read_text())
    del record["accuracy"]
    damaged.write_text(json.dumps(record))
    before = kept.read_bytes()
    assert _sweep(tmp_path, rows, "--backend", "local") == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    (warning,) = [line for line in captured.err.splitlines() if line.startswith("warning:")]
    assert f"{damaged.name} (lacks 'accuracy')" in warning and "run again" in warning
    assert "1 finished earlier, 1 to run" in captured.out
    assert kept.read_bytes() == before
    assert 0 <= json.loads(damaged.read_text())["accuracy"] <= 1


def test_robustness_refuses_an_unknown_dataset_before_any_cell(tmp_path, capsys):
    from lgrin_edge.robustness import main

    out = tmp_path / "r"
    args = ["--out", str(out), "--seeds", "0", "--threads", "1", "--cpu", "detected", "--epochs", "1"]
    assert main([*args, "--datasets", "synthetic", "nosuchdata"]) == 2
    one_line_error(capsys.readouterr().err, "--datasets: unknown dataset 'nosuchdata'")
    assert main([*args, "--datasets", "synthetic", "--seeds", "0", "0"]) == 2
    one_line_error(capsys.readouterr().err, "--seeds names 0 more than once")
    assert not out.exists()


def _lgrin_bench(tmp_path: Path) -> Path:
    """export/tools/lgrin_bench.c built with the runtime, under AddressSanitizer where the compiler has it."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler on PATH to build export/tools/lgrin_bench.c")
    export = ROOT / "export"
    sources = [str(export / "tools" / "lgrin_bench.c"), *map(str, sorted((export / "src").glob("*.c")))]
    base = [cc, "-std=c99", "-O1", "-ffp-contract=off", f"-I{export / 'include'}", *sources, "-lm"]
    out = tmp_path / "lgrin_bench"
    asan = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]
    for flags in (asan, []):  # a compiler without the sanitizers still checks the behaviour
        if subprocess.run([*base, *flags, "-o", str(out)], capture_output=True).returncode == 0:
            return out
    pytest.fail(f"{cc} could not build export/tools/lgrin_bench.c")


def test_lgrin_bench_names_a_folder_or_a_bad_file_in_one_line(tmp_path):
    bench = _lgrin_bench(tmp_path)
    (tmp_path / "empty.lgrn").write_bytes(b"")
    model = (ROOT / "export" / "tests" / "data" / "kat_int8.lgrn").read_bytes()
    (tmp_path / "cut.lgrn").write_bytes(model[:100])
    cases = {
        str(tmp_path): "is a folder, not a model file (.lgrn)",
        str(tmp_path / "nope.lgrn"): "cannot open (No such file or directory)",
        str(tmp_path / "empty.lgrn"): "empty.lgrn: ",
        str(tmp_path / "cut.lgrn"): "cut.lgrn: ",
        "/dev/null": "a device, pipe or socket, not a model file (.lgrn)",
    }
    before = snapshot(tmp_path)
    for path, needle in cases.items():
        r = subprocess.run([str(bench), path, "10"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 2, (path, r.stderr)
        assert "Sanitizer" not in r.stderr and not r.stdout
        one_line_error(r.stderr, path, needle)
    good = ROOT / "export" / "tests" / "data" / "kat_int8.lgrn"
    r = subprocess.run([str(bench), str(good), "3"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "us per inference" in r.stdout, r.stderr
    assert snapshot(tmp_path) == before


def test_benchmark_report_names_missing_keys(tmp_path, capsys):
    from lgrin_edge.measure.report import main

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
