"""export --verify-data: every artifact verified on the user's own held-out graphs, bad files refused in
one line before any work, and the graphs and flips every verdict rests on said and recorded."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from lgrin_edge.atomic import file_sha256
from lgrin_edge.checkpoint import load_checkpoint
from lgrin_edge.export.__main__ import main
from lgrin_edge.export.pipeline import run_export
from lgrin_edge.export.targets import PRECISIONS, TARGETS
from lgrin_edge.export.verify import allowed_flips, compare
from tests.reliability.conftest import one_line_error, snapshot


def export(run, out, *extra: str) -> int:
    return main(["--checkpoint", str(run), "--out", str(out), "--target", "c", *extra])


def _model_logits(run, x: np.ndarray) -> np.ndarray:
    model, _ = load_checkpoint(run)
    with torch.no_grad():
        return model(torch.as_tensor(x)).numpy()


@pytest.fixture(scope="module")
def own_graphs(tiny_run, tmp_path_factory):
    """120 graphs, the checkpoint's held-out ones five times over in another order (where its int8 file
    verifies), labelled so that the trained model is right on exactly the first half: the reference
    accuracy on them is 0.5, whatever the model."""
    with np.load(tiny_run / "eval.npz") as f:
        x = np.concatenate([f["x"]] * 5)[np.random.default_rng(1).permutation(5 * len(f["x"]))][:120]
    pred = _model_logits(tiny_run, x).argmax(1)
    y = np.where(np.arange(len(x)) < 60, pred, (pred + 1) % 3).astype(np.int32)
    path = tmp_path_factory.mktemp("own") / "mine.npz"
    np.savez(path, x=x, y=y)
    return path, x, y


@pytest.fixture(scope="module")
def verified(tiny_run, own_graphs, tmp_path_factory):
    """An export verified on ``own_graphs``, and what it printed."""
    out = tmp_path_factory.mktemp("dist") / "dist"
    said: list[str] = []  # what the command prints, for the module's tests (capsys is per test)
    manifest = run_export(tiny_run, ["c"], list(PRECISIONS), out, log=said.append, verify_data=own_graphs[0])
    return out, manifest, said


def test_verifies_on_exactly_the_given_graphs(verified, own_graphs):
    out, manifest, lines = verified
    path, x, y = own_graphs
    assert manifest["eval_data"] == {"kind": f"verify-data {path}", "sha256": file_sha256(path), "n": 120}
    assert manifest["reference"]["accuracy"] == 0.5  # the labels made for the model: these graphs, no others
    (entry,) = manifest["artifacts"]
    runner = TARGETS["c"].load(out / entry["path"], 1)
    assert entry["accuracy"] == float(np.mean(runner(x).argmax(1) == y))
    assert entry["flips_allowed"] == 1 and entry["flips"] <= 1
    with np.load(out / "samples.npz") as f:
        assert np.array_equal(f["x"], x[: len(f["x"])])
    bar = [i for i, line in enumerate(lines) if line.startswith("verifying every artifact on 120 held-out")]
    export_lines = [i for i, line in enumerate(lines) if line.startswith("export ")]
    assert len(bar) == 1 and bar[0] < export_lines[0], lines
    assert f"(verify-data {path})" in lines[bar[0]] and "at most 1 of them for int8" in lines[bar[0]]


def test_the_data_verified_on_does_not_change_the_files(tiny_run, verified, tmp_path):
    manifest = verified[1]
    assert export(tiny_run, tmp_path / "plain") == 0
    plain = json.loads((tmp_path / "plain" / "manifest.json").read_text())
    assert plain["artifacts"][0]["sha256"] == manifest["artifacts"][0]["sha256"]
    assert plain["eval_data"]["kind"] == "official test split" and "sha256" not in plain["eval_data"]


def _bad_files(folder, x, y):
    """name -> (path of a bad --verify-data file, what its error line must say)."""
    cases = {
        "no x": ({"y": y}, "lacks the array 'x'"),
        "no y": ({"x": x}, "lacks the array 'y'"),
        "wrong M": ({"x": x[:, :5], "y": y}, "the checkpoint's model takes graphs (N, 24, 8)"),
        "wrong P": ({"x": x[:, :, :3], "y": y}, "x has shape (120, 24, 3)"),
        "NaN": ({"x": np.where(np.arange(x.size).reshape(x.shape) == 7, np.nan, x), "y": y}, "NaN/Inf"),
        "Inf": ({"x": np.where(np.arange(x.size).reshape(x.shape) == 7, np.inf, x), "y": y}, "NaN/Inf"),
        "empty": ({"x": x[:0], "y": y[:0]}, "holds no graphs"),
        "label 3": ({"x": x, "y": np.where(y == 0, 3, y)}, "outside the checkpoint's 3 classes (0..2): 3"),
        "label -1": ({"x": x, "y": y - 1}, "outside the checkpoint's 3 classes (0..2): -1"),
        "float labels": ({"x": x, "y": y.astype(np.float64)}, "expected integer class indices"),
        "one y per graph": ({"x": x, "y": y[:-1]}, "expected one label per graph (120,)"),
        "object array": ({"x": x, "y": np.array([None] * len(y))}, "pickled Python objects"),
    }
    files = {}
    for name, (arrays, needle) in cases.items():
        path = folder / (name.replace(" ", "_") + ".npz")
        np.savez(path, **arrays)
        files[name] = (path, needle)
    whole = (folder / "no_x.npz").read_bytes()
    (folder / "truncated.npz").write_bytes(whole[: len(whole) // 2])
    files["truncated"] = (folder / "truncated.npz", "damaged or truncated .npz")
    (folder / "text.npz").write_text("x,y\n1,2\n")
    files["not npz"] = (folder / "text.npz", "is not an .npz (zip) archive")
    np.save(folder / "x.npy", x)
    files[".npy"] = (folder / "x.npy", "is a single .npy array")
    files["missing"] = (folder / "nothing.npz", "no such file")
    files["folder"] = (folder, "a folder")
    return files


def test_each_bad_file_is_one_line_and_writes_nothing(tiny_run, verified, own_graphs, tmp_path, capsys):
    out = verified[0]
    before = snapshot(out.parent)
    for name, (path, needle) in _bad_files(tmp_path, *own_graphs[1:]).items():
        fresh = tmp_path / f"out-{name}"
        assert export(tiny_run, fresh, "--verify-data", str(path)) == 2, name
        one_line_error(capsys.readouterr().err, f"--verify-data {path}", needle)
        assert not fresh.exists(), name
        assert export(tiny_run, out, "--verify-data", str(path)) == 2, name
        capsys.readouterr()
    assert snapshot(out.parent) == before


def _near_ties(run, tmp_path) -> tuple:
    """300 graphs on which the trained model's top two classes are nearly tied: int8 rounding flips many
    of them, so a file misses the bar on them."""
    with np.load(run / "eval.npz") as f:
        x = f["x"]
    rng = np.random.default_rng(0)
    pool = (rng.normal(size=(4000, *x.shape[1:])) * x.std((0, 1)) + x.mean((0, 1))).astype(np.float32)
    top = np.sort(_model_logits(run, pool), axis=1)
    pick = np.argsort(top[:, -1] - top[:, -2])[:300]
    path = tmp_path / "ties.npz"
    np.savez(path, x=pool[pick], y=np.zeros(300, np.int64))
    return path, pool[pick]


def test_a_failed_file_says_its_flips(tiny_run, tmp_path, capfd):
    # capfd: the export's progress lines go to the terminal itself (library output goes to its log)
    path, x = _near_ties(tiny_run, tmp_path)
    out = tmp_path / "dist"
    assert export(tiny_run, out, "--verify-data", str(path), "--keep-unverified") == 1
    printed = capfd.readouterr().out
    (failed,) = json.loads((out / "manifest.json").read_text())["failed"]
    # The count is the file's own: run it again in its runtime, against the trained model.
    logits = TARGETS["c"].load(out / failed["path"], 1)(x)
    flips = int(np.sum(logits.argmax(1) != _model_logits(tiny_run, x).argmax(1)))
    assert failed["flips"] == flips > failed["flips_allowed"] == 3
    said = f"({flips} of 300 graphs flipped, the bar allows 3)"
    assert f"NOT VERIFIED (no file written): top-1 agreement {1 - flips / 300:.4f} {said}" in printed
    assert f"not written c/int8: outside tolerance {said}" in printed


def test_a_k_fold_run_names_its_few_graphs_and_suggests_verify_data(tmp_path, capfd):
    from lgrin_edge.train import main as train

    rng = np.random.default_rng(0)
    y = np.arange(60) % 3
    x = (rng.normal(size=(60, 20, 3)) + y[:, None, None]).astype(np.float32)
    np.savez(tmp_path / "data.npz", x=x, y=y, classes=np.array(["a", "b", "c"]))
    run = tmp_path / "run"
    args = ["--dataset", str(tmp_path / "data.npz"), "--folds", "2", "--epochs", "2", "--eta", "8", "4"]
    assert train([*args, "--out", str(run), "--device", "cpu"]) == 0
    capfd.readouterr()
    # onnx fp32: what is checked is what the export says about its few graphs, not whether a 2-epoch model's
    # int8 file keeps every one of them (a near tie among 9 graphs flips on one CPU and not another)
    assert export(run, tmp_path / "dist", "--target", "onnx", "--precision", "fp32") == 0
    lines = capfd.readouterr().out.splitlines()
    n = json.loads((tmp_path / "dist" / "manifest.json").read_text())["eval_data"]["n"]
    (note,) = [line for line in lines if "k-fold" in line]
    assert f"validation split, {n} graphs; --verify-data NPZ" in note and "(N, 20, 3)" in note
    (bar,) = [line for line in lines if line.startswith(f"verifying every artifact on {n} held-out graphs")]
    assert f"at most {allowed_flips(n, 0.99)} of them" in bar


def test_earlier_files_kept_say_which_graphs_verified_them(tiny_run, own_graphs, tmp_path):
    out = tmp_path / "dist"
    onnx = ("--target", "onnx", "--precision", "fp32")

    def manifest() -> tuple[dict, dict]:
        found = json.loads((out / "manifest.json").read_text())
        return found["eval_data"], {a["target"]: a for a in found["artifacts"]}

    assert export(tiny_run, out) == 0
    plain, _ = manifest()
    assert export(tiny_run, out, *onnx, "--verify-data", str(own_graphs[0])) == 0
    mine, entries = manifest()
    assert mine["kind"] == f"verify-data {own_graphs[0]}"
    assert entries["c"]["verified_on"] == plain and "verified_on" not in entries["onnx"]
    assert export(tiny_run, out, *onnx) == 0  # c's graphs are this run's again
    now, entries = manifest()
    assert now == plain and "verified_on" not in entries["c"] and "verified_on" not in entries["onnx"]


@pytest.mark.parametrize("n", [1, 99, 100, 101, 199, 200, 370, 1214, 100_000])
def test_allowed_flips_is_the_bar_in_graphs(n):
    assert allowed_flips(n, 0.99) == math.floor(n / 100)
    reference = np.tile(np.eye(3, dtype=np.float32)[0], (n, 1))
    for flips in (allowed_flips(n, 0.99), allowed_flips(n, 0.99) + 1):
        logits = reference.copy()
        logits[: min(flips, n), 1] = 2.0
        result = compare(logits, reference, np.zeros(n, np.int64), "int8")
        assert result["flips"] == min(flips, n) and result["flips_allowed"] == n // 100
        assert result["verified"] == (result["top1_agreement"] >= 0.99) == (flips <= n // 100)
