"""A wheel (not an editable install) carries the C sources, so its c target really builds and runs."""

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_c_target_exports_from_a_wheel_install(tiny_run, tmp_path):
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(ROOT)]
    subprocess.run([*build, "-w", str(wheels)], check=True, capture_output=True, cwd=tmp_path)
    (wheel,) = wheels.glob("lgrin_edge-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = Path(
        subprocess.check_output(
            [py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], text=True
        ).strip()
    )
    # The wheel goes into the fresh environment; its dependencies come from this one (a path entry, so
    # this environment's editable-install hook is not run and cannot shadow the wheel's package).
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    (site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    env = {**os.environ, "LGRIN_CACHE_DIR": str(tmp_path / "cache")}
    where = subprocess.check_output(
        [py, "-c", "import lgrin_edge; print(lgrin_edge.__file__)"], text=True, env=env, cwd=tmp_path
    )
    assert Path(where.strip()).is_relative_to(site), where
    out = tmp_path / "dist"
    cmd = [py, "-m", "lgrin_edge.export", "--checkpoint", str(tiny_run), "--target", "c", "--out", str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert (out / "model_int8.lgrn").stat().st_size > 0
    (entry,) = json.loads((out / "manifest.json").read_text())["artifacts"]
    assert entry["target"] == "c" and entry["verified"], entry
