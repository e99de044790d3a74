"""python -m lgrin_edge.export against bad options, damaged checkpoints and failing exports: one line,
and the earlier, verified artifacts stay byte-identical."""

from __future__ import annotations

import errno
import json
import os
import shutil

import numpy as np
import pytest
from safetensors.torch import load_file, save_file

from lgrin_edge.atomic import exclusive, file_sha256
from lgrin_edge.export.__main__ import main
from lgrin_edge.export.pipeline import EXPORT_LOG, run_export
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
    # Only the manifest changes (it records the failed attempt) and the run's own log; every artifact and
    # sample is as it was.
    changed = {k for k in after if after[k] != before[k]}
    assert str(dist / "manifest.json") in changed
    assert changed <= {str(dist / "manifest.json"), str(dist / EXPORT_LOG)}
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
    before = snapshot(dist)
    # Nothing verified and nothing earlier kept (another checkpoint): the earlier export stays as it was,
    # manifest and samples included, and the run says so.
    manifest = run_export(blstm, ["c"], ["int8"], dist, log=print)
    assert manifest["artifacts"] == [] and manifest["failed"][0]["kept"] == "no file written"
    assert f"the earlier export in {dist} is unchanged" in capsys.readouterr().out
    assert snapshot(dist) == before and not leftovers(dist)
    assert export(blstm, dist, "--target", "c") == 1  # the command: the same, exit 1 (and its own log)
    after = snapshot(dist)
    assert {k: v for k, v in after.items() if not k.endswith(EXPORT_LOG)} == {
        k: v for k, v in before.items() if not k.endswith(EXPORT_LOG)
    }


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
    # A later export of another target carries the earlier files into the new folder, that one included.
    unverified = file_sha256(dist / "unverified" / "model_int8.lgrn")
    assert export(good_run, dist, "--target", "onnx", "--precision", "fp32") == 0
    assert file_sha256(dist / "unverified" / "model_int8.lgrn") == unverified
    assert file_sha256(dist / "model_int8.lgrn") == lgrn and not leftovers(dist)
    assert {a["path"] for a in _whole(dist)["artifacts"]} == {
        "model_int8.lgrn",
        "model_fp32.onnx",
        "model_int8.onnx",
    }


def _whole(folder):
    """The folder's manifest, once checked to describe the folder exactly: every file it lists matches
    its sha256, and every other file is one an export writes beside them."""
    manifest = json.loads((folder / "manifest.json").read_text())
    listed = {a["path"]: a["sha256"] for a in manifest["artifacts"]}
    for path, digest in listed.items():
        assert file_sha256(folder / path) == digest, path
    others = {p.name for p in folder.iterdir()} - set(listed)
    assert others <= {"manifest.json", "samples.npz", EXPORT_LOG, "unverified"}, others
    return manifest


def _interrupted_at(step):
    """A log callback that stops the export (Ctrl-C) at its ``step``-th line."""
    lines = []

    def log(line):
        lines.append(line)
        if len(lines) > step:
            raise KeyboardInterrupt

    return log


def test_an_interrupt_at_any_step_leaves_one_whole_export(good_run, dist, tmp_path, monkeypatch):
    import lgrin_edge.atomic as atomic
    import lgrin_edge.export.pipeline as pipeline

    def new_export(out, log=lambda *_: None):
        # Calibrated on 16 graphs where the earlier export used 32: other int8 files, another manifest.
        return run_export(good_run, ["onnx", "c"], ["fp32", "int8"], out, calibration_n=16, log=log)

    steps = []
    clean = new_export(tmp_path / "clean", steps.append)
    assert sum(line.startswith("export ") for line in steps) == 3  # a line before each artifact
    earlier, before = _whole(dist), snapshot(dist)
    for step, line in enumerate(steps):
        with pytest.raises(KeyboardInterrupt):
            new_export(dist, _interrupted_at(step))
        assert snapshot(dist) == before, line
        assert not leftovers(dist), line
        with pytest.raises(KeyboardInterrupt):
            new_export(tmp_path / "fresh", _interrupted_at(step))
        assert not (tmp_path / "fresh").exists() and not leftovers(tmp_path / "fresh"), line

    def fault(error):
        def write_json(path, obj):
            if path.name == "manifest.json":
                raise error
            atomic.write_json(path, obj)

        return write_json

    for error in (KeyboardInterrupt(), OSError(errno.ENOSPC, "No space left on device", "manifest.json")):
        with monkeypatch.context() as m:
            m.setattr(pipeline, "write_json", fault(error))
            with pytest.raises(type(error)):
                new_export(dist)
        assert snapshot(dist) == before and not leftovers(dist)

    def interrupted_swap(after):
        def swap_in(stage, folder):
            if after:
                atomic.swap_in(stage, folder)
            raise KeyboardInterrupt

        return swap_in

    with monkeypatch.context() as m:
        m.setattr(pipeline, "swap_in", interrupted_swap(after=False))
        with pytest.raises(KeyboardInterrupt):
            new_export(dist)
    assert snapshot(dist) == before and not leftovers(dist)
    with monkeypatch.context() as m:
        m.setattr(pipeline, "swap_in", interrupted_swap(after=True))
        with pytest.raises(KeyboardInterrupt):
            new_export(dist)
    new = _whole(dist)  # the new export, whole: the swap is one step
    assert new["calibration_samples"] == 16 and earlier["calibration_samples"] == 32
    assert not leftovers(dist)
    assert {a["path"]: a["sha256"] for a in new["artifacts"]} == {
        a["path"]: a["sha256"] for a in clean["artifacts"]
    }


def test_an_out_folder_holding_other_files_is_refused_and_untouched(good_run, dist, tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    (mine / "model_int8.lgrn").write_bytes(b"a file of mine that an export's would replace")
    before = snapshot(mine)
    assert export(good_run, mine, "--target", "c") == 2
    one_line_error(capsys.readouterr().err, "holds files that are not a lgrin_edge export", "notes.txt")
    assert snapshot(mine) == before and not leftovers(mine)
    (dist / "notes.txt").write_text("my notes, put among an export's files")
    before = snapshot(dist)
    assert export(good_run, dist, "--target", "c") == 2
    one_line_error(capsys.readouterr().err, "holds files that are not a lgrin_edge export (notes.txt)")
    assert snapshot(dist) == before and not leftovers(dist)


def test_an_unwritable_destination_is_refused_before_any_work(good_run, tmp_path, capsys, monkeypatch):
    import lgrin_edge.export.pipeline as pipeline

    def no_work(*args, **kwargs):
        raise AssertionError("the checkpoint was loaded before the output folder was checked")

    monkeypatch.setattr(pipeline, "load_checkpoint", no_work)
    # /proc takes no new entries, even from root, though os.access says it may.
    assert export(good_run, "/proc/lgrin-export", "--target", "c") == 2
    one_line_error(
        capsys.readouterr().err, "cannot create /proc/lgrin-export: /proc is not writable", "no new entries"
    )
    readonly = tmp_path / "ro"
    readonly.mkdir()
    readonly.chmod(0o500)
    try:
        if os.geteuid() == 0:
            pytest.skip("running as root: permission bits do not stop writes (the /proc case above ran)")
        assert export(good_run, readonly / "dist", "--target", "c") == 2
        one_line_error(capsys.readouterr().err, f"{readonly} is not writable (permission denied)")
    finally:
        readonly.chmod(0o700)


def test_more_calibration_graphs_than_there_are_is_said(good_run, tmp_path):
    lines = []
    manifest = run_export(good_run, ["c"], ["int8"], tmp_path / "o", calibration_n=10**6, log=lines.append)
    with np.load(good_run / "calibration.npz") as f:
        n = len(f["x"])
    assert f"note: --calibration 1000000: using the {n} training graphs there are" in lines
    assert manifest["calibration_samples"] == n
