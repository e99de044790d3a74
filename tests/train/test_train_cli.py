import json

import numpy as np
import pytest
import torch

from lgrin_edge.checkpoint import CheckpointError, load_checkpoint
from lgrin_edge.models import create_model, model_names
from lgrin_edge.options_cli import cli_fields, values
from lgrin_edge.train import build_parser, main
from lgrin_edge.train.cli import model_config
from lgrin_edge.train.recipes import EQ8_WEIGHTS, RECIPE_KEYS, RECIPES, RecipeOptions


def test_run_folder_contents(tiny_run):
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    for key in (
        "model",
        "dataset",
        "protocol",
        "accuracy",
        "unweighted_accuracy",
        "folds",
        "params",
        "confusion",
        "config",
        "seed",
        "versions",
    ):
        assert key in metrics
    assert 0.0 <= metrics["accuracy"] <= 1.0 and metrics["protocol"] == "official-split"
    # The saved model's graph, against its start and against what eq. 8 alone makes of that start.
    graph = metrics["graph"]
    assert {"init_overlap", "chance_overlap"} <= set(graph) and graph["prior_alone_mass"] >= 0.0
    for name in (
        "model.safetensors",
        "config.json",
        "adjacency.png",
        "confusion.png",
        "curves.png",
        "history.csv",
        "calibration.npz",
        "eval.npz",
    ):
        assert (tiny_run / name).stat().st_size > 0
    # The learning curves: one row per epoch of every fit, in metrics.json and history.csv alike.
    (label, rows), *_ = metrics["history"].items()
    assert label == "fold 1" and [r["epoch"] for r in rows] == list(range(1, len(rows) + 1))
    assert all(
        np.isfinite([r["train_ce"], r["val_loss"], r["val_acc"], r["lr"], r["eq8"]]).all() for r in rows
    )
    lines = (tiny_run / "history.csv").read_text().splitlines()
    assert lines[0] == "fit,epoch,train_ce,eq8,val_loss,val_acc,lr"
    assert len(lines) == 1 + sum(len(h) for h in metrics["history"].values())
    assert lines[1].startswith("fold 1,1,")
    model, _cfg = load_checkpoint(tiny_run)
    ev = np.load(tiny_run / "eval.npz", allow_pickle=False)
    assert model(torch.as_tensor(ev["x"])).shape == (len(ev["y"]), 3)


def test_training_is_deterministic(tmp_path):
    args = ["--dataset", "synthetic", "--epochs", "2", "--eta", "8", "4", "--device", "cpu"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    a = (tmp_path / "a" / "model.safetensors").read_bytes()
    assert a == (tmp_path / "b" / "model.safetensors").read_bytes()


def test_kfold_with_groups(tmp_path):
    from lgrin_edge.data import make_synthetic

    ds = make_synthetic(n=48, with_groups=True)
    np.savez(tmp_path / "g.npz", x=ds.x, y=ds.y, lengths=ds.lengths, groups=ds.groups)
    out = tmp_path / "run"
    assert (
        main(
            [
                "--dataset",
                str(tmp_path / "g.npz"),
                "--model",
                "gcn",
                "--folds",
                "3",
                "--epochs",
                "2",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["protocol"] == "3-fold-group-stratified" and len(metrics["folds"]) == 3


def test_checkpoint_from_another_config_is_named(tiny_run, tmp_path):
    cfg = json.loads((tiny_run / "config.json").read_text())
    cfg["config"]["eta"] = [32, 8]
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    (tmp_path / "model.safetensors").write_bytes((tiny_run / "model.safetensors").read_bytes())
    with pytest.raises(CheckpointError, match="another configuration"):
        load_checkpoint(tmp_path)


def test_corrupt_checkpoint_is_named(tiny_run, tmp_path):
    (tmp_path / "config.json").write_text((tiny_run / "config.json").read_text())
    data = (tiny_run / "model.safetensors").read_bytes()
    (tmp_path / "model.safetensors").write_bytes(data[: len(data) // 3])
    with pytest.raises(CheckpointError, match="damaged or was replaced"):
        load_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing")


def test_bad_cli_inputs_exit_with_a_message(tmp_path, capsys):
    assert main(["--dataset", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown dataset" in capsys.readouterr().err
    np.savez(
        tmp_path / "bad.npz",
        x=np.zeros((4, 3, 2), np.float32),
        y=np.array([0, 1, 7, 0]),
        classes=np.array(["a", "b"]),
    )
    assert main(["--dataset", str(tmp_path / "bad.npz"), "--out", str(tmp_path / "o")]) == 2
    assert "labels must lie" in capsys.readouterr().err


def test_progress_is_one_line_per_tenth_in_a_log(tmp_path, capsys):
    # pytest captures stderr, so it is not a terminal: the log-line form of progress.
    assert (
        main(["--dataset", "synthetic", "--epochs", "20", "--eta", "4", "2", "--out", str(tmp_path / "r")])
        == 0
    )
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if ": epoch " in line]
    assert len(lines) == 10 and "epoch 20/20" in lines[-1] and "s left" in lines[0]
    # a line before them says what their numbers are
    legend = out.splitlines()[out.splitlines().index(lines[0]) - 1]
    assert "train ce = mean cross-entropy per training graph" in legend and "eq. 8 = " in legend
    assert "M = " in out and "(the longest sequence has" in out


def test_tensorboard_logs_every_epoch_of_every_fit(tmp_path):
    pytest.importorskip("tensorboard", reason="tensorboard is not installed (pip install tensorboard)")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logs = tmp_path / "tb"
    args = ["--dataset", "synthetic", "--epochs", "3", "--eta", "8", "4", "--device", "cpu"]
    assert main([*args, "--out", str(tmp_path / "run"), "--tensorboard", str(logs)]) == 0
    events = EventAccumulator(str(logs))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"fold 1/train_ce", "fold 1/val_loss", "fold 1/val_acc", "fold 1/lr"} <= tags
    assert [e.step for e in events.Scalars("fold 1/val_acc")] == [1, 2, 3]


def test_tensorboard_target_must_be_a_folder(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    args = ["--dataset", "synthetic", "--epochs", "1", "--out", str(tmp_path / "run"), "--tensorboard"]
    assert main([*args, str(blocker)]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("name", model_names(presets=True))
def test_every_registered_name_is_a_model_built_as_create_model_builds_it(name):
    config = model_config(build_parser().parse_args(["--model", name]), 10)
    shape = {"num_nodes": 10, "in_features": 3, "num_classes": 2}
    recipe = {k: v for k, v in config.items() if k in EQ8_WEIGHTS}  # eq. 8's weights: the recipe's
    assert create_model(name, **shape, **config).config == create_model(name, **shape, **recipe).config


def test_model_options_on_the_command_line_reach_the_model_config():
    def config(*argv: str) -> dict:
        return model_config(build_parser().parse_args(argv), 10)

    assert config("--model", "gcn", "--hidden", "16") == {"hidden": 16}
    assert config("--model", "blstm") == {}  # BLSTM's own width (300), not GCN's
    assert config("--model", "senet", "--senet-preset", "paper") == {"preset": "paper"}
    assert config("--model", "senet-paper") == {"preset": "paper"}
    got = config("--eta", "8", "4", "--layers", "1", "--no-inception", "--conv", "linear", "--sort-k", "3")
    assert (got["eta"], got["num_layers"], got["inception"], got["conv"], got["sort_k"]) == (
        (8, 4), 1, False, "linear", 3,
    )  # fmt: skip
    assert got["lambda1"] == pytest.approx(1 / 100)  # the default recipe's, in sequence units at M = 10


def test_a_preset_refuses_an_option_it_fixes_otherwise(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["--dataset", "synthetic", "--model", "senet-paper", "--senet-preset", "compact"]
    assert main([*argv, "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        "error: --model senet-paper is senet with --senet-preset paper; leave --senet-preset out or choose "
        "another --model\n"
    )
    assert not out.exists()


def test_a_preset_trains_as_its_model_with_the_fixed_options(tmp_path):
    out = tmp_path / "run"
    small = ["--epochs", "1", "--nodes", "4", "--batch-size", "96"]  # a paper-scale SENet: 26M parameters
    assert main(["--dataset", "synthetic", "--model", "senet-paper", *small, "--out", str(out)]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "senet" and config["config"]["preset"] == "paper"
    assert json.loads((out / "metrics.json").read_text())["model"] == "senet-paper"


@pytest.mark.parametrize("recipe", list(RECIPES))
def test_every_recipe_setting_is_an_option_that_takes_the_recipes_value(recipe):
    settings = RECIPES[recipe]
    assert tuple(settings) == RECIPE_KEYS and set(RECIPE_KEYS) == {f.name for f in cli_fields(RecipeOptions)}
    argv = []
    for f in cli_fields(RecipeOptions):
        value = settings[f.name]
        if value is not None:  # None: the option's own default (adj_lr: --lr), never typed
            argv += [f.flag, *map(str, value if isinstance(value, tuple) else [value])]
    assert values(RecipeOptions, build_parser().parse_args(argv)) == {
        k: v for k, v in settings.items() if v is not None
    }


def test_window_training_cuts_sequences_into_the_streams_windows(tmp_path, capsys):
    from lgrin_edge.checkpoint import CONFIG
    from lgrin_edge.spec import FeatureSpec

    out = tmp_path / "run"
    argv = ["--dataset", "basicmotions", "--window", "2", "--hop", "1", "--epochs", "2", "--eta", "8", "4"]
    assert main([*argv, "--device", "cpu", "--out", str(out)]) == 0
    config = json.loads((out / CONFIG).read_text())
    assert config["windows"] == {
        "window_s": 2.0,
        "hop_s": 1.0,
        "frame_rate_hz": 10.0,
        "window_frames": 20,
        "hop_frames": 10,
    }
    assert config["num_nodes"] == 20  # one node per frame of the window
    spec = FeatureSpec.from_dict(config["feature_spec"])
    assert spec.stream is not None and spec.graph.num_nodes == 20
    assert config["feature_spec"]["stream"] == {
        "mode": "sliding",
        "window_s": 2.0,
        "hop_s": 1.0,
        "smoothing": {"kind": "mean", "decisions": 3},
        "trained_on": "windows",
    }
    # 40 test recordings of 100 frames: windows at frames 0, 10, ..., 80, nine each.
    ev = np.load(out / "eval.npz")
    assert ev["x"].shape == (360, 20, 6)
    metrics = json.loads((out / "metrics.json").read_text())
    (fold,) = metrics["folds"]
    assert (fold["n_test"], fold["n_test_sequences"]) == (360, 40)
    assert metrics["per_sequence"]["vote"] == "mean-probability"
    assert metrics["per_sequence"]["accuracy"] == fold["sequence_accuracy"]
    assert "per sequence (mean-probability vote)" in capsys.readouterr().out
    model, _ = load_checkpoint(out)
    assert model(torch.as_tensor(ev["x"][:2])).shape == (2, 4)


def test_window_kfold_tests_each_sequence_in_one_fold_only(tmp_path):
    import dataclasses

    from lgrin_edge.data import make_synthetic
    from lgrin_edge.spec import NPZ_KEY, unknown_spec

    ds = make_synthetic(n=48, with_groups=True)
    spec = dataclasses.replace(unknown_spec(ds.num_features, ds.classes), frame_rate_hz=10)
    data = tmp_path / "g.npz"
    arrays = {"lengths": ds.lengths, "groups": ds.groups, "classes": np.array(ds.classes)}
    np.savez(data, x=ds.x, y=ds.y, **arrays, **{NPZ_KEY: np.array([spec.to_json()])})
    out = tmp_path / "run"
    argv = ["--dataset", str(data), "--window", "1.2", "--hop", "0.5", "--folds", "3", "--epochs", "1"]
    assert main([*argv, "--eta", "8", "4", "--device", "cpu", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["protocol"] == "3-fold-group-stratified" and metrics["num_nodes"] == 12
    windows = sum(len(range(0, max(int(n) - 12, 0) + 1, 5)) for n in ds.lengths)
    folds = metrics["folds"]
    # A sequence whose windows fell in two folds would be counted as a test sequence twice.
    assert sum(f["n_test_sequences"] for f in folds) == len(ds.y)
    assert sum(f["n_test"] for f in folds) == windows


@pytest.mark.parametrize(
    ("dataset", "options", "message"),
    [
        ("basicmotions", ["--hop", "1"], "error: --hop applies with --window only\n"),
        ("basicmotions", ["--window", "2"], "error: --window needs --hop SECONDS"),
        ("basicmotions", ["--window", "0.04", "--hop", "1"], "error: --window 0.04 s is 0 frames at 10"),
        ("basicmotions", ["--window", "nan", "--hop", "1"], "argument --window: must be a finite number > 0"),
        ("basicmotions", ["--window", "2", "--hop", "0"], "argument --hop: must be a finite number > 0"),
        ("synthetic", ["--window", "2", "--hop", "1"], "error: --window needs the frames' rate"),
        (
            "basicmotions",
            ["--window", "2", "--hop", "1", "--nodes", "8", "--long-policy", "chunk"],
            "error: --long-policy chunk with a --window of 20 frames > M = 8",
        ),
    ],
)
def test_impossible_windows_are_one_line_before_any_work(tmp_path, capsys, dataset, options, message):
    out = tmp_path / "run"
    try:
        code = main(["--dataset", dataset, *options, "--out", str(out)])
    except SystemExit as stop:  # argparse refuses a value that is no option value at all
        code = stop.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()


def test_a_degree_cap_trains_into_config_json_and_the_terminal_reports_k(tmp_path, capsys):
    argv = ["--dataset", "synthetic", "--epochs", "2", "--eta", "4", "2", "--device", "cpu"]
    assert main([*argv, "--max-degree", "3", "--out", str(tmp_path / "capped")]) == 0
    out = capsys.readouterr().out
    config = json.loads((tmp_path / "capped" / "config.json").read_text())["config"]
    degrees = json.loads((tmp_path / "capped" / "metrics.json").read_text())["graph"]["degrees"]
    assert config["max_degree"] == 3 and degrees["max_degree"] <= 3
    assert f"graph: K = {degrees['max_degree']} neighbours at most" in out
    model, _ = load_checkpoint(tmp_path / "capped")
    assert int((model.graph() > 0).sum(1).max()) <= 3
    with pytest.raises(SystemExit) as refused:
        main([*argv, "--max-degree", "0", "--out", str(tmp_path / "bad")])
    assert refused.value.code == 2
    assert "--max-degree" in capsys.readouterr().err and not (tmp_path / "bad").exists()
