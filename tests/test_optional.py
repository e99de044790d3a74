"""Every optional package's absence is one skip line, never a traceback.

Each case runs a real command in a subprocess whose interpreter cannot find one top-level module (a
``sitecustomize`` hides it from every import finder, as if it were not installed) and checks the exit
code, the skip line naming the extra that installs the module, and that no traceback was printed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lgrin_edge.optional import OPTIONAL, install_hint, installed, missing

ROOT = Path(__file__).resolve().parents[1]

_HIDER = '''
import os, sys
_HIDDEN = set(os.environ.get("LGRIN_TEST_HIDE", "").split(",")) - {""}


class _Hide:
    """Wraps an import finder so that it cannot find the hidden top-level modules."""

    def __init__(self, inner):
        self._inner = inner

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in _HIDDEN:
            return None
        find = getattr(self._inner, "find_spec", None)
        return find(name, path, target) if find else None

    def __getattr__(self, attr):
        return getattr(self._inner, attr)


sys.meta_path[:] = [_Hide(f) for f in sys.meta_path]
for _name in list(sys.modules):
    if _name.partition(".")[0] in _HIDDEN:
        del sys.modules[_name]
'''

# Third-party lines that must never reach the terminal of the main job (they go to export.log).
_CHATTER = re.compile(
    r"absl|oneDNN|XNNPACK delegate|^[IWEF]\d{4} |Warning:|warnings\.warn|DeprecationWarning"
)


def run_hidden(tmp_path: Path, hidden: str, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """``python -m lgrin_edge.<args>`` with the module ``hidden`` not installed, as far as it can tell."""
    site = tmp_path / f"hide-{hidden}"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(_HIDER)
    env = {
        **os.environ,
        "LGRIN_TEST_HIDE": hidden,
        "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]),
        "OMP_NUM_THREADS": "1",
    }
    env.pop("LGRIN_EDGE_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=timeout
    )


def assert_skipped(result: subprocess.CompletedProcess, what: str, module: str, code: int = 0) -> None:
    """Exit ``code``, no traceback, and the line "skipped <what>: <package> is not installed (pip ...)"."""
    text = result.stdout + result.stderr
    assert "Traceback" not in text, text
    assert result.returncode == code, text
    line = f"skipped {what}: {missing(module)}"
    assert line in text, (line, text)


def test_hiding_really_hides(tmp_path):
    """The hider works: a hidden, installed module cannot be imported or found."""
    code = "import importlib.util; print(importlib.util.find_spec('numpy') is None); import numpy"
    (tmp_path / "probe.py").write_text(code)
    probe = run_hidden(tmp_path, "numpy", "probe")
    assert probe.stdout.strip() == "True", probe.stderr
    assert "ModuleNotFoundError: No module named 'numpy'" in probe.stderr


def test_missing_names_the_extra():
    assert missing("tflite_micro") == "tflite-micro is not installed (pip install 'lgrin-edge[micro]')"
    assert install_hint("onnxruntime.quantization") == "pip install 'lgrin-edge[export]'"
    assert not installed("lgrin_edge_no_such_module")
    for entry in OPTIONAL.values():
        assert entry.extra in missing(entry.module)


# (hidden module, export arguments, the manifest entry it skips)
EXPORT_CASES = [
    ("tflite_micro", ["--target", "tflite", "--precision", "int8"], "tflite/tflite-micro"),
    ("executorch", ["--target", "executorch"], "executorch/fp32"),
    ("onnx", ["--target", "onnx"], "onnx/fp32"),
    ("onnxruntime", ["--target", "onnx", "tensorrt"], "onnx/fp32"),
    ("onnxscript", ["--target", "onnx"], "onnx/fp32"),
    ("litert_torch", ["--target", "tflite"], "tflite/fp32"),
    ("ai_edge_litert", ["--target", "tflite"], "tflite/fp32"),
    ("ai_edge_quantizer", ["--target", "tflite", "--precision", "int8"], "tflite/int8"),
    ("tensorrt", ["--target", "tensorrt"], "tensorrt/engine"),
]


@pytest.mark.parametrize(("module", "args", "what"), EXPORT_CASES, ids=[c[0] for c in EXPORT_CASES])
def test_export_without(module, args, what, tiny_run, tmp_path):
    if not installed(module) and module != "tensorrt":
        pytest.skip(f"{module} is not installed here, so hiding it tests nothing new")
    result = run_hidden(
        tmp_path,
        module,
        "lgrin_edge.export",
        "--checkpoint",
        str(tiny_run),
        *args,
        "--out",
        str(tmp_path / "dist"),
    )
    assert_skipped(result, what, module)


def test_main_job_without_micro_is_quiet(tmp_path):
    """The README's main job with TFLite Micro absent: exit 0, the skip line, only the project's lines."""
    result = run_hidden(
        tmp_path,
        "tflite_micro",
        "lgrin_edge.quickstart",
        "--epochs",
        "40",
        "--runs",
        str(tmp_path / "runs"),
        "--dist",
        str(tmp_path / "dist"),
    )
    assert_skipped(result, "tflite/tflite-micro", "tflite_micro")
    chatter = [line for line in (result.stdout + result.stderr).splitlines() if _CHATTER.search(line)]
    assert not chatter, chatter
    log = tmp_path / "dist" / "japanesevowels" / "export.log"
    assert f"third-party library output: {log}" in result.stdout
    assert log.is_file()


def test_train_without_tensorboard(tmp_path):
    result = run_hidden(
        tmp_path,
        "tensorboard",
        "lgrin_edge.train",
        "--dataset",
        "synthetic",
        "--epochs",
        "1",
        "--eta",
        "8",
        "4",
        "--out",
        str(tmp_path / "run"),
        "--tensorboard",
        str(tmp_path / "tb"),
    )
    assert_skipped(result, "tensorboard", "tensorboard")
    assert (tmp_path / "run" / "model.safetensors").is_file()


def test_sweep_without_ray(tmp_path):
    result = run_hidden(
        tmp_path,
        "ray",
        "lgrin_edge.sweep",
        "--grid",
        "pooling",
        "--dataset",
        "synthetic",
        "--epochs",
        "1",
        "--out",
        str(tmp_path / "sweep"),
        "--backend",
        "ray",
    )
    text = result.stdout + result.stderr
    assert "Traceback" not in text, text
    assert missing("ray") in text, text


@pytest.mark.parametrize("module", ["soundfile", "opensmile"])
def test_speech_features_without(module, tmp_path):
    """Speech features read WAV files: without the package that does, one line naming the extra."""
    wav_dir = tmp_path / "wav"
    for label in ("a", "b"):
        (wav_dir / label).mkdir(parents=True)
        rate = 16000
        tone = (0.1 * np.sin(np.arange(rate // 2) * 2 * np.pi * 220 / rate) * 32767).astype("<i2")
        _write_wav(wav_dir / label / "x.wav", tone, rate)
    result = run_hidden(
        tmp_path, module, "lgrin_edge.features", "wav-dir", str(wav_dir), "--out", str(tmp_path / "f.npz")
    )
    text = result.stdout + result.stderr
    assert "Traceback" not in text, text
    assert result.returncode in (0, 2), text
    if result.returncode == 2:
        assert install_hint(module) in text, text


def _write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
