"""The sweep command on tiny grids of the synthetic data: both backends, resuming, failures, refusals."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lgrin_edge.analysis import backends
from lgrin_edge.analysis.cells import stored_cell
from lgrin_edge.analysis.grids import load_grid
from lgrin_edge.sweep import build_parser, main, plan

ROOT = Path(__file__).resolve().parents[2]
TINY = {"eta": [8, 4], "num_layers": 1}


def grid_file(tmp_path: Path, rows: list[dict], name: str = "tiny") -> str:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"name": name, "rows": rows}))
    return str(path)


def cell_files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "cells").glob("*.json"))}


def sweep(grid: str, out: Path, *extra: str) -> int:
    return main(["--grid", grid, "--dataset", "synthetic", "--epochs", "2", "--out", str(out), *extra])


def test_local_backend_cells_are_folds_of_train_and_a_rerun_skips_them(tmp_path, capsys):
    grid = grid_file(tmp_path, [{"name": "paper", **TINY}, {"name": "mean pool", "pooling": "mean", **TINY}])
    out = tmp_path / "out"
    # 2 threads per cell, as this test session's own training below (conftest): the same arithmetic.
    assert sweep(grid, out, "--backend", "local", "--workers", "1", "--cpus-per-task", "2") == 0
    first = cell_files(out)
    assert len(first) == 2
    said = capsys.readouterr().out
    assert "backend: local process pool" in said and "0 finished earlier, 2 to run" in said
    report = json.loads((out / "tiny.json").read_text())
    assert report["backend"] == "local" and report["cells_run"] == 2 and not report["failed"]
    assert "| paper | " in (out / "tiny.md").read_text()
    assert len((out / "tiny.csv").read_text().splitlines()) == 3

    # A cell is fold 1 of `train --seed 0` with the same settings: the same accuracy.
    from lgrin_edge.train import main as train

    run = tmp_path / "run"
    args = ["--dataset", "synthetic", "--epochs", "2", "--eta", "8", "4", "--layers", "1", "--out", str(run)]
    assert train([*args, "--device", "cpu"]) == 0
    trained = json.loads((run / "metrics.json").read_text())["folds"][0]["accuracy"]
    paper = next(s for s in report["summary"] if s["row"] == "paper")
    assert paper["mean_accuracy"] == pytest.approx(trained)

    capsys.readouterr()
    assert sweep(grid, out, "--backend", "local") == 0
    assert "2 finished earlier, 0 to run" in capsys.readouterr().out
    assert cell_files(out) == first


def test_killed_midway_a_rerun_runs_only_the_missing_cells(tmp_path):
    rows = [{"name": f"r{i}", "eta": [8, 4], "num_layers": 1, "epochs": 40 + i} for i in range(3)]
    grid, out = grid_file(tmp_path, rows), tmp_path / "out"
    cmd = [sys.executable, "-m", "lgrin_edge.sweep", "--grid", grid, "--dataset", "synthetic"]
    cmd += ["--out", str(out), "--backend", "local", "--workers", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    try:
        deadline = time.time() + 120
        while not cell_files(out) and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its pool worker, as a power cut would
        proc.wait()
    before = cell_files(out)
    assert 1 <= len(before) < 3, "the sweep should have been killed after its first cell"
    stamps = {n: (out / "cells" / n).stat().st_mtime_ns for n in before}
    assert main(["--grid", grid, "--dataset", "synthetic", "--out", str(out), "--backend", "local"]) == 0
    after = cell_files(out)
    assert len(after) == 3
    assert {n: after[n] for n in before} == before  # finished cells untouched, byte for byte
    assert {n: (out / "cells" / n).stat().st_mtime_ns for n in before} == stamps
    assert json.loads((out / "tiny.json").read_text())["cells_run"] == 3 - len(before)


def test_ctrl_c_keeps_the_finished_cells_and_says_so(tmp_path):
    """Ctrl-C in a terminal reaches the driver and its pool: the cells stored so far stay, the line says
    how many, and the next run finds them finished."""
    rows = [{"name": "quick", **TINY, "epochs": 2}, {"name": "slow", **TINY, "epochs": 5000}]
    grid, out = grid_file(tmp_path, rows), tmp_path / "out"
    cmd = [sys.executable, "-m", "lgrin_edge.sweep", "--grid", grid, "--dataset", "synthetic"]
    cmd += ["--out", str(out), "--backend", "local", "--workers", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    # SIGINT as a terminal leaves it: a shell's background job (a CI script started with &) ignores it,
    # and a child inherits that, so the Ctrl-C below would not reach the sweep.
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    try:
        deadline = time.time() + 120
        while not cell_files(out) and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        time.sleep(0.5)  # the slow cell is running
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: the driver and its workers
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    lines = [line for line in err.splitlines() if line.strip() and "cells:" not in line]  # not the bar
    assert "Traceback" not in err and len(lines) == 1, err
    assert lines[0] == (
        f"interrupted: 1 of 2 cells finished and kept in {out}; re-run the same command to resume"
    )
    (name,) = cell_files(out)
    assert json.loads((out / "cells" / name).read_text())["settings"]["train"]["epochs"] == 2
    args = build_parser().parse_args(["--grid", grid, "--dataset", "synthetic", "--out", str(out)])
    cells, _ = plan(args, load_grid(grid))
    found = [stored_cell(out, c) for cs in cells.values() for c in cs]
    assert sum(r is not None for r, _ in found) == 1 and all(why is None for _, why in found)


def test_a_failing_cell_is_reported_and_the_others_finish(tmp_path, capsys):
    grid = grid_file(tmp_path, [{"name": "fine", **TINY}, {"name": "diverges", "lr": 1e30, **TINY}])
    out = tmp_path / "out"
    assert sweep(grid, out, "--backend", "local", "--workers", "1") == 1
    assert len(cell_files(out)) == 1
    failed = json.loads((out / "tiny.json").read_text())["failed"]
    assert len(failed) == 1 and "diverges" in failed[0]["what"] and failed[0]["error"]
    assert "failed: diverges" in capsys.readouterr().err


def test_an_out_folder_with_other_files_is_refused_before_any_work(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert sweep("components", out, "--backend", "local") == 2
    err = capsys.readouterr().err
    assert "did not write (notes.txt)" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_without_ray_auto_runs_locally_and_ray_is_one_line_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # how Python hides a module: it is then not found
    name, says, skipped = backends.choose_backend("auto", None)
    assert name == "local" and says == "backend: local process pool"
    assert skipped == "skipped ray: ray is not installed (pip install 'lgrin-edge[ray]')"
    assert backends.choose_backend("local", None) == ("local", "backend: local process pool", None)
    for args, flag in ((("ray", None), "--backend ray"), (("auto", "ray://head:10001"), "--address")):
        with pytest.raises(backends.UserError) as e:
            backends.choose_backend(*args)
        assert str(e.value) == f"{flag}: ray is not installed (pip install 'lgrin-edge[ray]')"


def test_ray_backend_starts_and_stops_its_own_local_instance(tmp_path, capsys):
    ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'lgrin-edge[ray]'")
    grid = grid_file(tmp_path, [{"name": "paper", **TINY}])
    out = tmp_path / "out"
    assert sweep(grid, out, "--backend", "ray", "--workers", "1") == 0
    assert not ray.is_initialized()  # the sweep shut its instance down
    assert "backend: Ray (a local Ray instance)" in capsys.readouterr().out
    (cell,) = [json.loads(b) for b in cell_files(out).values()]
    assert cell["fold"] == 0 and cell["seed"] == 0 and 0 <= cell["accuracy"] <= 1
    assert json.loads((out / "tiny.json").read_text())["backend"] == "ray"


def test_help_explains_every_option():
    for action in build_parser()._actions:
        assert action.help and len(action.help) > 10, action.dest


def test_bad_input_is_one_line_and_creates_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    assert sweep("nope", out) == 2
    assert sweep("transfer", out) == 2  # needs --init-from
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "not a built-in grid" in err[0] and "--init-from" in err[1]
    assert not out.exists()


def test_an_address_with_the_local_backend_is_refused():
    with pytest.raises(backends.UserError, match="--address"):
        backends.choose_backend("local", "ray://head:10001")


def test_rows_that_only_name_a_default_share_their_cells(tmp_path, capsys):
    rows = [{"name": "implicit", **TINY}, {"name": "explicit", "conv": "gstar", "pooling": "learned", **TINY}]
    out = tmp_path / "out"
    assert sweep(grid_file(tmp_path, rows), out, "--backend", "local", "--workers", "1") == 0
    assert "2 rows x 1 dataset(s) = 1 cells" in capsys.readouterr().out
    assert len(cell_files(out)) == 1


def test_data_without_an_official_split_gives_one_cell_per_fold_of_the_group_aware_protocol(tmp_path):
    import numpy as np

    from lgrin_edge.data import make_synthetic

    ds = make_synthetic(n=48, with_groups=True)
    data = tmp_path / "grouped.npz"
    np.savez(data, x=ds.x, y=ds.y, lengths=ds.lengths, groups=ds.groups)
    out = tmp_path / "out"
    args = ["--grid", grid_file(tmp_path, [{"name": "paper", **TINY}]), "--dataset", str(data)]
    assert main([*args, "--folds", "2", "--epochs", "2", "--out", str(out), "--backend", "local"]) == 0
    cells = [json.loads(b) for b in cell_files(out).values()]
    assert sorted(c["fold"] for c in cells) == [0, 1]
    assert all(c["n_test"] == 24 for c in cells)  # two disjoint halves, every group on one side
    report = json.loads((out / "tiny.json").read_text())
    assert report["protocols"] == {str(data): "2-fold-group-stratified"}
