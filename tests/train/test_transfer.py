"""train --init-from RUN --finetune classifier: the source's A, p and inception layers kept, a new
classifier for the target's classes."""

import numpy as np
import pytest
from safetensors.torch import load_file

from lgrin_edge.data import make_synthetic
from lgrin_edge.train import main as train


def _npz(path, **kw):
    ds = make_synthetic(with_test_split=True, **kw)
    np.savez(path, x=ds.x, y=ds.y, lengths=ds.lengths, is_test=ds.is_test, classes=np.array(ds.classes))
    return str(path)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    out = tmp_path_factory.mktemp("source")
    args = ["--dataset", "synthetic", "--epochs", "3", "--eta", "16", "8", "--nodes", "20"]
    assert train([*args, "--out", str(out / "run"), "--device", "cpu"]) == 0
    return out / "run"


def test_classifier_finetune_keeps_everything_but_a_new_classifier(tmp_path, source):
    target = _npz(tmp_path / "t.npz", num_classes=2, seed=5)  # other classes, other samples
    out = tmp_path / "run"
    assert train(["--dataset", target, "--epochs", "3", "--init-from", str(source), "--out", str(out)]) == 0
    before, after = load_file(source / "model.safetensors"), load_file(out / "model.safetensors")
    assert after["classifier.weight"].shape[0] == 2 and before["classifier.weight"].shape[0] == 3
    frozen = [k for k in before if not k.startswith(("classifier.", "norm."))]
    assert "adj" in frozen and "pool_p" in frozen and any(k.startswith("layers.") for k in frozen)
    for k in frozen:
        assert bool((before[k] == after[k]).all()), k
    assert not bool((before["norm.shift"] == after["norm.shift"]).all())  # re-fitted on the target


def test_source_normalisation_is_kept_on_request(tmp_path, source):
    target = _npz(tmp_path / "t.npz", num_classes=2, seed=5)
    out = tmp_path / "run"
    args = ["--dataset", target, "--epochs", "2", "--init-from", str(source), "--transfer-norm", "source"]
    assert train([*args, "--out", str(out)]) == 0
    before, after = load_file(source / "model.safetensors"), load_file(out / "model.safetensors")
    assert bool((before["norm.scale"] == after["norm.scale"]).all())


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--nodes", "12"], "differs from the 20 nodes"),
        (["--model", "blstm"], "--model is blstm"),
    ],
)
def test_mismatches_are_one_line_before_any_training(tmp_path, source, capsys, extra, words):
    out = tmp_path / "run"
    assert train(["--dataset", "synthetic", "--init-from", str(source), "--out", str(out), *extra]) == 2
    assert words in capsys.readouterr().err and not out.exists()


def test_other_features_per_frame_are_refused(tmp_path, source, capsys):
    target = _npz(tmp_path / "t.npz", num_features=5)
    assert train(["--dataset", target, "--init-from", str(source), "--out", str(tmp_path / "run")]) == 2
    assert "has 5 features per frame" in capsys.readouterr().err


def test_finetune_without_a_source_is_refused(tmp_path, capsys):
    assert train(["--dataset", "synthetic", "--finetune", "all", "--out", str(tmp_path / "r")]) == 2
    assert "--init-from" in capsys.readouterr().err
