"""python -m lgrin_edge.export against bad options, damaged checkpoints and failing exports: one line,
and the earlier, verified artifacts stay byte-identical."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from safetensors.torch import load_file, save_file

from lgrin_edge.atomic import exclusive, file_sha256
from lgrin_edge.export.__main__ import main
from tests.reliability.conftest import leftovers, one_line_error, snapshot


@pytest.fixture
def dist(good_export, tmp_path):
    """A private copy of the good export folder, and its snapshot."""
    out = tmp_path / "dist"
    shutil.copytree(good_export, out)
    assert {"model_int8.lgrn", "model_fp32.onnx"} <= {p.name for p in out.iterdir()}
    return out


@pytest.fixture
def run(good_run, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(good_run, out)
    return out


def export(checkpoint, out, *extra):
    return main(["--checkpoint", str(checkpoint), "--out", str(out), "--calibration", "32", *extra])


@pytest.mark.parametrize(
    ("option", "needle"),
    [
        (["--threads", "0"], "--threads: must be >= 1"),
        (["--calibration", "0"], "--calibration: must be >= 1"),
        (["--batch", "-1"], "--batch: must be >= 1"),
        (["--target", "coreml"], "invalid choice: 'coreml'"),
    ],
)
def test_bad_options_change_nothing(good_run, dist, capsys, option, needle):
    before = snapshot(dist)
    with pytest.raises(SystemExit) as exit_info:
        export(good_run, dist, *option)
    assert exit_info.value.code == 2
    one_line_error(capsys.readouterr().err, needle)
    assert snapshot(dist) == before


def _flip_bytes(path, count=400):
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(0)
    for i in rng.choice(np.arange(200, len(data)), size=count, replace=False):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _rehash(run, name):
    """Make config.json's checksum agree with a file the test changed on purpose."""
    cfg = json.loads((run / "config.json").read_text())
    cfg["files"][name] = file_sha256(run / name)
    (run / "config.json").write_text(json.dumps(cfg))


def test_damaged_checkpoints_are_refused_and_the_export_kept(run, dist, capsys, tmp_path):
    before = snapshot(dist)
    for name in ("model.safetensors", "calibration.npz", "eval.npz"):
        damaged = tmp_path / f"damaged-{name}"
        shutil.copytree(run, damaged)
        _flip_bytes(damaged / name)
        assert export(damaged, dist, "--target", "c") == 2
        one_line_error(capsys.readouterr().err, f"{name} is damaged or was replaced")
        assert snapshot(dist) == before
    truncated = tmp_path / "truncated"
    shutil.copytree(run, truncated)
    data = (truncated / "model.safetensors").read_bytes()
    (truncated / "model.safetensors").write_bytes(data[: len(data) // 3])
    assert export(truncated, dist) == 2
    one_line_error(capsys.readouterr().err, "model.safetensors is damaged or was replaced")
    assert snapshot(dist) == before


def test_nan_weights_are_named(good_run, tmp_path, dist, capsys):
    run = tmp_path / "nanrun"
    shutil.copytree(good_run, run)
    state = load_file(str(run / "model.safetensors"))
    key = next(k for k, v in state.items() if v.is_floating_point() and v.numel() > 1)
    state[key][0] = float("nan")
    save_file(state, str(run / "model.safetensors"), metadata={"format_version": "1"})
    _rehash(run, "model.safetensors")
    before = snapshot(dist)
    assert export(run, dist) == 2
    one_line_error(capsys.readouterr().err, f"tensor {key!r} holds NaN/Inf")
    assert snapshot(dist) == before


@pytest.mark.parametrize(
    ("arrays", "needle"),
    [
        ({"x": np.zeros((4, 3, 2), np.float32), "y": np.zeros(4, np.int64)}, "do not fit the model's graphs"),
        ({"x": None, "y": np.zeros(4, np.int64)}, "lacks the array 'x'"),
        ({"y": None}, "lacks the array 'y'"),
    ],
)
def test_eval_data_of_the_wrong_shape_is_named(run, dist, capsys, arrays, needle):
    with np.load(run / "eval.npz") as f:
        data = {k: f[k] for k in f.files}
    for k, v in arrays.items():
        if v is None:
            data.pop(k)
        else:
            data[k] = v
    np.savez(run / "eval.npz", **data)
    _rehash(run, "eval.npz")
    before = snapshot(dist)
    assert export(run, dist) == 2
    one_line_error(capsys.readouterr().err, "eval.npz", needle)
    assert snapshot(dist) == before


def test_checkpoint_paths_users_type(good_run, tmp_path, capsys):
    out = tmp_path / "o"
    assert export(good_run / "config.json", out, "--target", "onnx", "--precision", "fp32") == 0
    assert (out / "model_fp32.onnx").is_file()
    assert export(good_run / "metrics.json", tmp_path / "o2") == 2
    one_line_error(capsys.readouterr().err, "is a file; pass the run folder")
    assert export(tmp_path / "nothing", tmp_path / "o3") == 2
    one_line_error(capsys.readouterr().err, "does not exist")
    assert not (tmp_path / "o2").exists() and not (tmp_path / "o3").exists()


def test_a_failing_re_export_keeps_the_verified_files(good_run, dist, capsys, monkeypatch):
    import lgrin_edge.export.c_runtime as c_runtime

    before = snapshot(dist)

    def broken(*args, **kwargs):
        raise RuntimeError("quantiser crashed")

    monkeypatch.setattr(c_runtime, "quantize", broken)
    assert export(good_run, dist, "--target", "c") == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "c/int8" in err
    after = snapshot(dist)
    # Only the manifest changes (it records the failed attempt); every artifact and sample is as it was.
    assert {k for k in after if after[k] != before[k]} == {str(dist / "manifest.json")}
    manifest = json.loads((dist / "manifest.json").read_text())
    kept = [a for a in manifest["artifacts"] if a["target"] == "c"]
    assert kept and kept[0]["sha256"] == file_sha256(dist / "model_int8.lgrn")
    assert manifest["failed"][0]["kept"] == "the earlier file is kept"
    assert not leftovers(dist)


def test_a_baseline_cannot_replace_the_c_model(tmp_path, dist, capsys):
    from lgrin_edge.train import main as train

    blstm = tmp_path / "blstm"
    args = [
        "--dataset",
        "synthetic",
        "--model",
        "blstm",
        "--hidden",
        "8",
        "--epochs",
        "1",
        "--out",
        str(blstm),
    ]
    assert train(args) == 0
    capsys.readouterr()
    lgrn = file_sha256(dist / "model_int8.lgrn")
    assert export(blstm, dist, "--target", "c") == 1
    assert file_sha256(dist / "model_int8.lgrn") == lgrn


def test_a_foreign_or_locked_output_folder_is_refused(good_run, tmp_path, capsys):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "manifest.json").write_text('{"mine": true}')
    assert export(good_run, foreign) == 2
    one_line_error(capsys.readouterr().err, "was not written by lgrin_edge.export")
    assert (foreign / "manifest.json").read_text() == '{"mine": true}'
    locked = tmp_path / "locked"
    with exclusive(locked, "export folder"):
        assert export(good_run, locked) == 2
    one_line_error(capsys.readouterr().err, "another process is writing the export folder")


def test_an_artifact_outside_tolerance_never_replaces_a_verified_one(good_run, dist, capsys, monkeypatch):
    from lgrin_edge.export.tolerances import VERIFY

    monkeypatch.setitem(VERIFY, "int8", {"min_agreement": 1.01})  # nothing can pass
    lgrn = file_sha256(dist / "model_int8.lgrn")
    assert export(good_run, dist, "--target", "c") == 1
    assert "NO (not written)" in capsys.readouterr().out
    assert file_sha256(dist / "model_int8.lgrn") == lgrn and not (dist / "unverified").exists()
    assert export(good_run, dist, "--target", "c", "--keep-unverified") == 1
    manifest = json.loads((dist / "manifest.json").read_text())
    assert manifest["failed"][0]["path"] == "unverified/model_int8.lgrn"
    assert (dist / "unverified" / "model_int8.lgrn").is_file()
    assert file_sha256(dist / "model_int8.lgrn") == lgrn
