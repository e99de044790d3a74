"""aeon's baselines through the train command: accuracy, the run folder, a round trip without pickle."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from lgrin_edge.baselines import BASELINES
from lgrin_edge.baselines.loader import load_baseline
from lgrin_edge.baselines.rocket import Rocket, as_collection
from lgrin_edge.baselines.state import encode
from lgrin_edge.checkpoint import CheckpointError
from lgrin_edge.data import load_dataset
from lgrin_edge.train import main as train_main


@pytest.fixture(scope="module", params=["japanesevowels", "basicmotions"])
def run(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / f"{request.param}-minirocket"
    code = train_main(["--dataset", request.param, "--model", "minirocket", "--out", str(out)])
    assert code == 0
    return out


def test_minirocket_trains_on_the_official_split_well_above_chance(run):
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["protocol"] == "official-split" and metrics["model"] == "minirocket"
    chance = 1 / len(metrics["classes"])
    assert metrics["accuracy"] > 0.9 > 3 * chance
    assert metrics["fitted_values"] > 0 and metrics["fitted_bytes"] >= 4 * metrics["fitted_values"]
    assert json.loads((run / "config.json").read_text())["model"] == "minirocket"


def test_the_saved_run_predicts_what_it_scored_without_unpickling(run, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a baseline's run was unpickled")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    model, _ = load_baseline(run)
    ev = np.load(run / "eval.npz", allow_pickle=False)
    accuracy = float(np.mean(model.predict(ev["x"]) == ev["y"]))
    assert accuracy == json.loads((run / "metrics.json").read_text())["accuracy"]


@pytest.mark.parametrize("name", list(BASELINES))
def test_round_trip_gives_identical_logits_and_aeons_predictions(name, tmp_path):
    ds = load_dataset("basicmotions")
    train, test = ~ds.is_test, ds.is_test
    model = Rocket.fit(name, ds.x[train], ds.y[train], ds.num_classes, seed=0)
    (tmp_path / "run").mkdir()
    config = model.save(tmp_path / "run")
    loaded = Rocket.load(name, json.loads(json.dumps(config)), tmp_path / "run" / "model.safetensors")
    assert np.array_equal(loaded.logits(ds.x[test]), model.logits(ds.x[test]))
    # the saved classifier predicts what aeon's own fitted pipeline predicts
    aeon = np.asarray(model.pipeline.predict(as_collection(ds.x[test], model.steps)))
    assert np.array_equal(loaded.predict(ds.x[test]), aeon)
    assert np.mean(aeon == ds.y[test]) > 0.9


def test_export_refuses_a_baseline_run_in_one_line(run, capsys):
    from lgrin_edge.export.__main__ import main as export_main

    code = export_main(["--checkpoint", str(run), "--target", "c", "--out", str(run.parent / "dist")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "Traceback" not in err
    assert "minirocket is a practitioners' baseline" in err and "not a graph model" in err
    assert not (run.parent / "dist").exists()


@pytest.mark.parametrize(
    ("options", "named"),
    [(["--epochs", "3", "--lr", "0.1"], "--epochs, --lr apply"), (["--device", "cuda"], "runs on the CPU")],
)
def test_graph_model_options_are_refused_before_any_work(options, named, tmp_path, capsys):
    out = tmp_path / "run"
    code = train_main(["--model", "minirocket", "--out", str(out), *options])
    assert code == 2 and named in capsys.readouterr().err
    assert not out.exists()


def test_an_edited_config_is_refused(run, tmp_path):
    cfg = json.loads((run / "config.json").read_text())
    copy = tmp_path / "edited"
    copy.mkdir()
    for name in ("model.safetensors", "metrics.json"):
        (copy / name).write_bytes((run / name).read_bytes())
    cfg["config"]["steps"] += 1
    (copy / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="edited or damaged"):
        load_baseline(copy)


def test_state_refuses_what_it_cannot_save_without_pickle():
    with pytest.raises(TypeError, match="without pickle"):
        encode(object(), "x", {})


def test_sequences_are_zero_padded_or_cut_to_the_fitted_length():
    x = np.arange(2 * 5 * 3, dtype=np.float32).reshape(2, 5, 3)
    padded, cut = as_collection(x, 9), as_collection(x, 4)
    assert padded.shape == (2, 3, 9) and np.array_equal(padded[:, :, :5], x.transpose(0, 2, 1))
    assert not padded[:, :, 5:].any()
    assert np.array_equal(cut, x[:, :4].transpose(0, 2, 1))


def test_kfold_with_groups_uses_the_graph_models_folds_and_fits_variable_length(tmp_path):
    from lgrin_edge.data.splits import make_folds

    rng = np.random.default_rng(0)
    n, t = 60, 40
    y = np.arange(n) % 2
    lengths = rng.integers(12, t + 1, n)
    x = np.zeros((n, t, 1), np.float32)
    for i in range(n):  # class 1 rises, class 0 falls; each sequence its own length
        ramp = np.linspace(0, 1, lengths[i], dtype=np.float32)
        x[i, : lengths[i], 0] = (ramp if y[i] else 1 - ramp) + 0.1 * rng.standard_normal(lengths[i])
    data = tmp_path / "mine.npz"
    np.savez(data, x=x, y=y, lengths=lengths, groups=np.arange(n) // 4)
    out = tmp_path / "run"
    code = train_main(
        ["--dataset", str(data), "--model", "hydra", "--folds", "3", "--seed", "2", "--out", str(out)]
    )
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["protocol"] == "3-fold-group-stratified" and metrics["accuracy"] > 0.9
    folds = make_folds(load_dataset(str(data)), 3, 2)
    assert [f["n_test"] for f in metrics["folds"]] == [len(f.test) for f in folds]
    assert [f["n_train"] for f in metrics["folds"]] == [len(f.train) + len(f.val) for f in folds]
    assert not (out / "eval.npz").exists()  # the run's classifier saw every sequence
    model, _ = load_baseline(out)
    assert model.predict(x[:5, :20]).shape == (5,)  # shorter input is zero-padded to the fitted length


def test_hydra_leaves_torchs_thread_count_as_it_found_it():
    """aeon's Hydra sets torch's threads to its n_jobs (1): a later training in the process must not run
    on one thread because a baseline was fitted before it."""
    import torch

    from lgrin_edge.baselines.rocket import Rocket

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(12, 20, 2)).astype(np.float32), np.arange(12) % 2
        model = Rocket.fit("hydra", x, y, num_classes=2, seed=0)
        assert torch.get_num_threads() == 2
        model.logits(x)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
