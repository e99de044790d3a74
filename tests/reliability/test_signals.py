"""Ctrl-C (SIGINT) in the middle of a command: one line, exit 130, earlier output intact, no staging left."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.reliability.conftest import leftovers, one_line_error, snapshot

ROOT = Path(__file__).resolve().parents[2]


def interrupt(cmd: list[str], ready: str, cwd: Path) -> tuple[int, str]:
    """Run ``cmd``, send SIGINT once ``ready`` appears on its output (plus a moment), return rc and stderr.

    The child gets SIGINT's default disposition, as a command typed in a terminal has: a test run started
    in the background (``pytest &`` in a script) ignores SIGINT, and its children would inherit that."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", *cmd],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if ready in line:
            break
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


def test_sigint_while_training_over_an_earlier_run(good_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    before = snapshot(run)
    cmd = ["lgrin_edge.train", "--dataset", "synthetic", "--epochs", "2000", "--out", str(run), "--overwrite"]
    code, err = interrupt(cmd, "lgrin on", tmp_path)
    assert code == 130, err
    one_line_error("error: " + err if err.startswith("interrupted") else err, "interrupted", "unchanged")
    assert snapshot(run) == before and not leftovers(tmp_path)


def test_sigint_while_exporting_over_an_earlier_export(good_run, good_export, tmp_path):
    dist = tmp_path / "dist"
    shutil.copytree(good_export, dist)
    before = snapshot(dist)
    cmd = ["lgrin_edge.export", "--checkpoint", str(good_run), "--target", "all", "--out", str(dist)]
    code, err = interrupt(cmd, "export onnx/int8", tmp_path)
    assert code == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("interrupted")
    assert snapshot(dist) == before and not leftovers(tmp_path)


def test_sigint_while_the_command_starts_is_one_line(tmp_path):
    """Ctrl-C while the command's imports load (torch and the rest, before lgrin_edge.cli.run): Python's
    import-time report (-X importtime) says when the package is in, the signal goes right after."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "lgrin_edge.train",
            "--dataset",
            "synthetic",
            "--out",
            str(out),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.rpartition("|")[2].strip() == "lgrin_edge":  # the package (and its start-up handler) is in
            break
    proc.send_signal(signal.SIGINT)
    stdout, rest = proc.communicate(timeout=120)
    assert proc.returncode == 130, rest
    lines = [line for line in rest.splitlines() if not line.startswith("import time:")]
    assert lines == ["interrupted while starting: nothing was read or written"], rest
    assert stdout == "" and not out.exists()
