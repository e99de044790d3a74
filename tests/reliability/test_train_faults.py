"""python -m lgrin_edge.train against bad options, bad data and faults: one line, exit 2, nothing lost."""

from __future__ import annotations

import errno
import importlib.abc
import json
import os
import shutil
import sys

import numpy as np
import pytest
from safetensors import SafetensorError

from lgrin_edge.atomic import exclusive
from lgrin_edge.train import main
from tests.reliability.conftest import leftovers, one_line_error, snapshot, write_dataset

TINY = ["--epochs", "1", "--eta", "4", "2", "--device", "cpu"]


@pytest.mark.parametrize(
    ("option", "needle"),
    [
        (["--epochs", "0"], "--epochs: must be >= 1"),
        (["--epochs", "-3"], "--epochs: must be >= 1"),
        (["--batch-size", "-8"], "--batch-size: must be >= 1"),
        (["--batch-size", "0"], "--batch-size: must be >= 1"),
        (["--nodes", "0"], "--nodes: must be >= 1"),
        (["--sort-k", "0"], "--sort-k: must be >= 1"),
        (["--lr-step", "0"], "--lr-step: must be >= 1"),
        (["--lr", "0"], "--lr: must be a finite number > 0"),
        (["--lr", "nan"], "--lr: must be a finite number"),
        (["--folds", "1"], "--folds: must be >= 2"),
        (["--eta", "0", "8"], "--eta: must be >= 1"),
        (["--layers", "0"], "--layers: must be >= 1"),
        (["--lambdas", "0.1", "-1", "0"], "--lambdas: must be a finite number >= 0"),
        (["--epochs", "ten"], "expected an integer"),
    ],
)
def test_impossible_options_are_refused_before_any_work(tmp_path, capsys, option, needle):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_info:
        main(["--dataset", "synthetic", "--out", str(out), *option])
    assert exit_info.value.code == 2
    one_line_error(capsys.readouterr().err, needle)
    assert not out.exists()


def test_sort_k_larger_than_the_graph_is_refused(tmp_path, capsys):
    data = write_dataset(tmp_path / "d.npz")
    out = tmp_path / "run"
    assert main(["--dataset", str(data), "--pooling", "sort", "--sort-k", "50", "--out", str(out)]) == 2
    one_line_error(capsys.readouterr().err, "--sort-k 50", "6 nodes")
    assert not out.exists()


def test_a_graph_too_large_for_memory_names_nodes(tmp_path, capsys):
    data = write_dataset(tmp_path / "d.npz")
    assert main(["--dataset", str(data), "--nodes", "100000", "--out", str(tmp_path / "run")]) == 2
    one_line_error(capsys.readouterr().err, "M = 100000 nodes", "--nodes")
    assert not (tmp_path / "run").exists()


def _bad_datasets(tmp_path):
    text = tmp_path / "text.npz"
    text.write_text("x,y\n1,2\n")
    npy = tmp_path / "array.npz"
    with open(npy, "wb") as f:
        np.save(f, np.zeros(3))
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    good = write_dataset(tmp_path / "good.npz")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:200])
    folder = tmp_path / "folder.npz"
    folder.mkdir()
    n = 24
    yield text, "not an .npz (zip) archive"
    yield npy, "single .npy array"
    yield empty, "empty"
    yield truncated, "damaged or truncated"
    yield folder, "is a folder"
    yield write_dataset(tmp_path / "noy.npz", y=None), "missing required array 'y'"
    yield write_dataset(tmp_path / "one.npz", y=np.zeros(n, np.int64)), "every label is 'c0'"
    test = np.arange(n) >= 18
    y = np.where(test, 2, np.arange(n) % 2)
    unseen = write_dataset(tmp_path / "unseen.npz", y=y, classes=np.array(["a", "b", "c"]), is_test=test)
    yield unseen, "test class(es) 'c' have no training samples"
    yield write_dataset(tmp_path / "t02.npz", is_test=np.arange(n) % 3), "is_test must be boolean"
    yield write_dataset(tmp_path / "t05.npz", is_test=np.full(n, 0.5)), "is_test must be boolean"
    x = np.ones((n, 6, 3), np.float32)
    x[3, 2, 1] = np.nan
    yield write_dataset(tmp_path / "nan.npz", x=x), "NaN/Inf values (first at sample 3, frame 2, feature 1)"
    yield write_dataset(tmp_path / "obj.npz", groups=np.array([object()] * n)), "pickled Python objects"
    yield tmp_path / "absent.npz", "not found"


def test_unlearnable_or_unreadable_data_is_refused(tmp_path, capsys):
    for data, needle in _bad_datasets(tmp_path):
        out = tmp_path / "run"
        assert main(["--dataset", str(data), "--out", str(out), *TINY]) == 2, data
        one_line_error(capsys.readouterr().err, needle)
        assert not out.exists(), data


def test_class_names_without_samples_are_warned_about(tmp_path, capsys):
    data = write_dataset(tmp_path / "d.npz", classes=np.array(["a", "b", "never"]))
    assert main(["--dataset", str(data), "--out", str(tmp_path / "run"), *TINY]) == 0
    assert "warning: 1 class(es) have no samples and can never be predicted: never" in capsys.readouterr().err


def test_an_earlier_run_is_kept_unless_overwrite(good_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    before = snapshot(run)
    assert main(["--dataset", "synthetic", "--out", str(run), *TINY]) == 2
    one_line_error(capsys.readouterr().err, "already holds a training run", "--overwrite")
    assert snapshot(run) == before
    (run / "notes.txt").write_text("mine")
    before = snapshot(run)
    assert main(["--dataset", "synthetic", "--out", str(run), "--overwrite", *TINY]) == 2
    one_line_error(capsys.readouterr().err, "not a training run", "notes.txt")
    assert snapshot(run) == before
    target = tmp_path / "file"
    target.write_text("x")
    assert main(["--dataset", "synthetic", "--out", str(target), *TINY]) == 2
    one_line_error(capsys.readouterr().err, "is not a folder")


def test_overwrite_replaces_the_run_as_one_unit(good_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    assert main(["--dataset", "synthetic", "--out", str(run), "--overwrite", "--seed", "5", *TINY]) == 0
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["train"]["seed"] == 5 and not leftovers(tmp_path)


def test_a_full_disk_while_saving_keeps_the_earlier_run(good_run, tmp_path, capsys, monkeypatch):
    import lgrin_edge.train.cli as train

    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    before = snapshot(run)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(run / "confusion.png"))

    monkeypatch.setattr(train, "plot_confusion", full)
    assert main(["--dataset", "synthetic", "--out", str(run), "--overwrite", *TINY]) == 2
    one_line_error(capsys.readouterr().err, "no space left on the device", "confusion.png")
    assert snapshot(run) == before and not leftovers(tmp_path)


def test_a_second_writer_is_refused(good_run, tmp_path, capsys):
    run = tmp_path / "run"
    with exclusive(run, "run folder"):
        assert main(["--dataset", "synthetic", "--out", str(run), *TINY]) == 2
    one_line_error(capsys.readouterr().err, "another process is writing the run folder")
    assert not run.exists()


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_files_get_the_umask_mode(tmp_path, umask):
    old = os.umask(umask)
    try:
        assert main(["--dataset", "synthetic", "--out", str(tmp_path / "run"), *TINY]) == 0
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "run").iterdir()}
    assert set(modes.values()) == {0o666 & ~umask}, modes
    assert (tmp_path / "run").stat().st_mode & 0o777 == 0o777 & ~umask


def test_a_full_disk_while_saving_the_weights_keeps_the_earlier_run(good_run, tmp_path, capsys, monkeypatch):
    import lgrin_edge.checkpoint as checkpoint

    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    before = snapshot(run)

    def full(state, path, metadata=None):
        # what safetensors raises when the file system is full
        raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

    monkeypatch.setattr(checkpoint, "save_file", full)
    assert main(["--dataset", "synthetic", "--out", str(run), "--overwrite", *TINY]) == 2
    one_line_error(capsys.readouterr().err, "no space left on the device", "model.safetensors")
    assert snapshot(run) == before and not leftovers(tmp_path)


@pytest.mark.parametrize(
    ("options", "needles"),
    [
        (
            ["--pooling", "mean", "--layers", "1"],
            ['--pooling mean (the run has pooling "learned")', "--layers 1 (the run has num_layers 2)"],
        ),
        (["--eta", "8", "4", "--no-inception"], ["--eta 8 4 (the run has eta [16, 8])", "--no-inception"]),
        (["--lambdas", "1", "0.1", "0.0001"], ["--lambdas 1.0 0.1 0.0001 (the run has lambda1 0.1"]),
        (["--adj-init", "0.5", "--layers", "2"], ["--adj-init (A starts from the run's)"]),
    ],
)
def test_init_from_refuses_options_it_cannot_honour(good_run, tmp_path, capsys, options, needles):
    out = tmp_path / "run"
    before = snapshot(good_run)
    assert main(["--dataset", "synthetic", "--init-from", str(good_run), "--out", str(out), *options]) == 2
    line = one_line_error(capsys.readouterr().err, f"--init-from {good_run} keeps that run's model", *needles)
    assert "--layers 2" not in line  # an option that repeats RUN's model is no problem
    assert not out.exists() and snapshot(good_run) == before


def test_init_from_takes_options_that_repeat_the_source_model(good_run, tmp_path):
    # good_run: paper-start (eq. 8 in frames, 0.1 0.1 1e-4), eta 16 8, the default layers and pooling
    same = ["--eta", "16", "8", "--layers", "2", "--pooling", "learned", "--lambdas", "0.1", "0.1", "0.0001"]
    args = ["--dataset", "synthetic", "--init-from", str(good_run), "--out", str(tmp_path / "run")]
    assert main([*args, *same, "--structure-units", "frames", "--epochs", "1", "--device", "cpu"]) == 0


def test_init_from_a_run_whose_config_was_edited_names_config_json(good_run, tmp_path, capsys):
    source = tmp_path / "source"
    shutil.copytree(good_run, source)
    cfg = json.loads((source / "config.json").read_text())
    cfg["classes"] = [*cfg["classes"], "extra", "more"]
    (source / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    before = snapshot(source)
    out = tmp_path / "run"
    assert main(["--dataset", "synthetic", "--init-from", str(source), "--out", str(out), *TINY]) == 2
    one_line_error(capsys.readouterr().err, str(source / "config.json"), "edited or damaged")
    assert not out.exists() and snapshot(source) == before


class _HideTensorboard(importlib.abc.MetaPathFinder):
    """An environment without tensorboard: finding it fails, as with no (or a broken) install."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "tensorboard":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def test_tensorboard_without_the_package_skips_only_that_log(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "meta_path", [_HideTensorboard(), *sys.meta_path])
    for name in [n for n in sys.modules if n.partition(".")[0] == "tensorboard"]:
        monkeypatch.delitem(sys.modules, name)
    out, logs = tmp_path / "run", tmp_path / "tb"
    assert main(["--dataset", "synthetic", "--out", str(out), "--tensorboard", str(logs), *TINY]) == 0
    captured = capsys.readouterr()
    skipped = "skipped tensorboard: tensorboard is not installed (pip install 'lgrin-edge[tensorboard]')"
    assert (captured.out + captured.err).count("skipped tensorboard") == 1 and skipped in captured.out
    assert "Traceback" not in captured.err and (out / "model.safetensors").is_file() and not logs.exists()
