import json

import numpy as np
import pytest
import torch

from lgrin_edge.models import create_model
from lgrin_edge.models.lgrin import LGrINOptions
from lgrin_edge.train import main
from lgrin_edge.train.recipes import RECIPE_KEYS, RECIPES, model_lambdas, resolve, train_settings
from lgrin_edge.train.trainer import TrainConfig, adam, fit


def test_every_recipe_sets_every_recipe_key():
    assert all(set(r) == set(RECIPE_KEYS) for r in RECIPES.values())


def test_paper_recipe_is_section_iv_a():
    p = RECIPES["paper"]
    assert (p["lr"], p["lr_step"], p["schedule"], p["ce_reduction"]) == (0.01, 50, "step", "dataset")
    assert not p["augment"] and not p["weight_decay"] and not p["label_smoothing"] and not p["average"]
    # A drawn from N(0, 1), eq. 8's weights as Section IV-A sets them (the model's own defaults)
    assert (p["adj_init"], p["adj_mean"], p["adj_lr"]) == (1.0, 0.0, None)
    assert p["structure_units"] == "frames"  # eq. 9's (i - j)^2 as written
    o = LGrINOptions(num_nodes=2, in_features=1, num_classes=2)
    assert p["lambdas"] == (o.lambda1, o.lambda2, o.lambda3) == (0.1, 0.1, 1e-4)


def test_overrides_replace_only_what_is_given():
    r = resolve("paper", {"lr": 0.002, "schedule": None})
    assert r["lr"] == 0.002 and r["schedule"] == "step"
    with pytest.raises(ValueError, match="recipe"):
        resolve("fast", {})


@pytest.mark.parametrize(
    "bad",
    [
        {"schedule": "linear"},
        {"label_smoothing": 1.0},
        {"average": 1.0},
        {"augment": ("flip",)},
        {"adj_lr": 0},
        {"adj_init": 0.0},
        {"adj_init": float("nan")},
        {"adj_mean": float("inf")},
    ],
)
def test_impossible_settings_are_refused(bad):
    with pytest.raises(ValueError):
        TrainConfig(**bad)


def test_decay_and_adj_lr_leave_the_structure_parameters_to_eq8():
    model = create_model("lgrin", num_nodes=6, in_features=2, num_classes=2, eta=(4, 2))
    opt = adam(model, 0.01, weight_decay=0.1, adj_lr=0.5)
    groups = {id(p): g for g in opt.param_groups for p in g["params"]}
    assert groups[id(model.adj)]["lr"] == 0.5 and groups[id(model.adj)]["weight_decay"] == 0.0
    assert groups[id(model.pool_p)]["weight_decay"] == 0.0
    assert groups[id(model.classifier.weight)]["weight_decay"] == 0.1
    assert len(groups) == len(list(model.parameters()))


def test_average_keeps_the_moving_average_not_the_last_weights():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((24, 6, 2)).astype(np.float32)
    y = (x[:, :, 0].mean(1) > 0).astype(np.int64)
    runs = {}
    for avg in (0.0, 0.9):
        torch.manual_seed(0)
        model = create_model("lgrin", num_nodes=6, in_features=2, num_classes=2, eta=(4, 2))
        model.norm.fit(torch.as_tensor(x))
        fit(model, x, y, x[:6], y[:6], TrainConfig(epochs=4, batch_size=8, average=avg))
        runs[avg] = model.classifier.weight.detach().clone()
    assert not torch.allclose(runs[0.0], runs[0.9])


def test_cli_records_the_recipe_and_its_overrides(tmp_path):
    out = tmp_path / "r"
    args = ["--dataset", "synthetic", "--epochs", "2", "--eta", "4", "2", "--device", "cpu"]
    args += ["--recipe", "paper", "--augment", "shift", "warp", "--label-smoothing", "0.1", "--out", str(out)]
    assert main(args) == 0
    train = json.loads((out / "config.json").read_text())["train"]
    assert train["recipe"] == "paper" and train["ce_reduction"] == "dataset"
    assert train["augment"] == ["shift", "warp"] and train["label_smoothing"] == 0.1 and train["epochs"] == 2


def test_cli_impossible_recipe_option_is_one_line(tmp_path, capsys):
    code = main(["--dataset", "synthetic", "--label-smoothing", "1.5", "--out", str(tmp_path / "r")])
    assert code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "label_smoothing" in err[0]
    assert not (tmp_path / "r").exists()


def test_a_run_without_recipe_options_trains_with_the_default_recipe(tiny_run):
    train = json.loads((tiny_run / "config.json").read_text())["train"]
    defaults = RECIPES["default"]
    assert train["recipe"] == "default"
    assert train["label_smoothing"] == defaults["label_smoothing"] > 0
    assert tuple(train["augment"]) == defaults["augment"] == ("shift",)


def test_recipe_tag_changes_with_the_settings(monkeypatch):
    from lgrin_edge.train import recipes

    before = recipes.recipe_tag("default")
    monkeypatch.setitem(recipes.RECIPES, "default", {**RECIPES["default"], "label_smoothing": 0.2})
    assert recipes.recipe_tag("default") != before and len(before) == 8


def test_impossible_recipe_option_is_refused_before_the_data_is_read(tmp_path, capsys):
    missing = tmp_path / "no-such-data.npz"
    assert main(["--dataset", str(missing), "--average", "1.0", "--out", str(tmp_path / "r")]) != 0
    err = capsys.readouterr().err
    assert "average" in err and "no-such-data" not in err


def test_adj_init_and_adj_mean_scale_and_shift_the_same_draw(monkeypatch):
    """A starts at adj_mean + adj_init x the paper's N(0, 1) draw, so (0, 1) is the paper's start."""
    from lgrin_edge.train import protocol

    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 6, 2)).astype(np.float32)
    split = protocol.GraphSplit(x, np.arange(8) % 2, np.arange(8))
    starts = {}
    for s, mu in ((1.0, 0.0), (0.1, 0.0), (0.01, 0.5)):
        _, res = protocol.train_one(
            "lgrin", {"num_nodes": 6, "in_features": 2, "num_classes": 2, "eta": (4, 2)},
            split, split, TrainConfig(epochs=1, batch_size=8, adj_init=s, adj_mean=mu), "t",
        )  # fmt: skip
        starts[s] = res.init_adj
    np.testing.assert_allclose(starts[0.1], 0.1 * starts[1.0], rtol=1e-6)
    np.testing.assert_allclose(starts[0.01], 0.5 + 0.01 * starts[1.0], rtol=1e-6)


def test_cli_puts_the_recipes_lambdas_and_adj_init_into_the_run(tmp_path):
    base = ["--dataset", "synthetic", "--epochs", "1", "--eta", "4", "2", "--device", "cpu"]
    nodes = 24  # the synthetic corpus's M
    for recipe, extra, want in [
        ("graph", [], RECIPES["graph"]["lambdas"]),
        ("paper", [], RECIPES["paper"]["lambdas"]),
        ("default", ["--lambdas", "0.2", "0.3", "0", "--structure-units", "frames"], (0.2, 0.3, 0.0)),
        ("default", ["--lambdas", "0.2", "0.3", "0"], (0.2 / nodes**2, 0.3, 0.0)),
        ("paper", ["--structure-units", "sequence"], (0.1 / nodes**2, 0.1, 1e-4)),
    ]:
        out = tmp_path / f"{recipe}{len(extra)}"
        assert main([*base, "--recipe", recipe, *extra, "--out", str(out)]) == 0
        config = json.loads((out / "config.json").read_text())
        assert (config["config"]["lambda1"], config["config"]["lambda2"], config["config"]["lambda3"]) == want
        assert config["num_nodes"] == nodes
        assert config["train"]["adj_init"] == RECIPES[recipe]["adj_init"]
        assert "lambdas" not in config["train"]  # one home: the model's options


def test_sequence_units_divide_lambda1_by_m_squared():
    """The default's lambda1 is 1 / M^2: 1e-4 at BasicMotions' 100 nodes, 1/841 at JapaneseVowels' 29."""
    d = resolve("default", {})
    assert d["structure_units"] == "sequence" and d["lambdas"][0] == 1.0
    assert model_lambdas(d, 100) == {"lambda1": 1e-4, "lambda2": 1e-3, "lambda3": 1e-4}
    assert model_lambdas(d, 29)["lambda1"] == pytest.approx(1 / 841)
    frames = resolve("default", {"structure_units": "frames"})
    assert model_lambdas(frames, 100)["lambda1"] == 1.0
    with pytest.raises(ValueError, match="structure_units"):
        model_lambdas(resolve("default", {"structure_units": "pixels"}), 10)
    assert not set(train_settings(d)) & {"lambdas", "structure_units"}
    TrainConfig(**train_settings(d))  # every other setting is the optimiser's


def test_default_starts_a_level_and_paper_start_is_the_paper_draw():
    d, p = RECIPES["default"], RECIPES["paper-start"]
    assert (d["adj_mean"], d["adj_init"]) == (0.5, 0.01) and (p["adj_mean"], p["adj_init"]) == (0.0, 1.0)
    graph_keys = ("adj_mean", "adj_init", "lambdas", "structure_units")
    assert {k: v for k, v in d.items() if k not in graph_keys} == {
        k: v for k, v in p.items() if k not in graph_keys
    }
