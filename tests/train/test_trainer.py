import numpy as np
import pytest
import torch

from lgrin_edge.models import create_model
from lgrin_edge.train.trainer import TrainConfig, _batches, adam, fit, prior_alone, steps_per_epoch


@pytest.mark.parametrize(
    ("n", "fixed", "even"),
    [(34, [32, 2], [17, 17]), (65, [32, 32, 1], [21, 22, 22]), (32, [32], [32]), (5, [5], [5])],
)
def test_batches_fixed_and_even_cover_the_epoch_once(n: int, fixed: list[int], even: list[int]) -> None:
    perm = torch.randperm(n)
    for batching, sizes in (("fixed", fixed), ("even", even)):
        parts = _batches(perm, 32, batching)
        assert [len(p) for p in parts] == sizes
        assert torch.equal(torch.cat(parts), perm)  # every graph once, in the epoch's order


def test_adam_gives_a_its_own_epsilon_and_learning_rate() -> None:
    model = create_model("lgrin", num_nodes=6, in_features=3, num_classes=2)
    opt = adam(model, 0.01, adj_lr=0.02, adj_eps=1e-3)
    adj = next(g for g in opt.param_groups if any(p is model.adj for p in g["params"]))
    others = [g for g in opt.param_groups if g is not adj]
    assert (adj["lr"], adj["eps"]) == (0.02, 1e-3)
    assert all(g["eps"] == 1e-8 and g["lr"] == 0.01 for g in others)


BAD = [("adj_eps", 0.0), ("adj_eps", float("nan")), ("batching", "odd")]


@pytest.mark.parametrize(("field", "value"), BAD)
def test_impossible_optimiser_settings_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        TrainConfig(**{field: value})


@pytest.mark.parametrize(
    ("n", "batching", "steps"), [(34, "fixed", 2), (33, "fixed", 1), (33, "even", 2), (1, "fixed", 1)]
)
def test_steps_per_epoch_counts_the_batches_that_step(n: int, batching: str, steps: int) -> None:
    """A batch of one graph is skipped (batch-norm statistics), unless it is the whole training set."""
    assert steps_per_epoch(n, TrainConfig(batch_size=32, batching=batching)) == steps


def test_prior_alone_is_adam_on_eq8_only() -> None:
    """One step moves each entry by about the rate against eq. 8's gradient; without eq. 8, nothing moves;
    over a run, entries far from the diagonal fall first."""
    start = np.full((5, 5), 0.5, np.float32)
    cfg = TrainConfig(lr=0.01, lr_step=50)
    one = prior_alone(start, 0.1, 0.1, cfg, steps_per_epoch=1, epochs=1)
    np.testing.assert_allclose(one, start - 0.01, atol=1e-6)  # every gradient is positive here
    np.testing.assert_array_equal(prior_alone(start, 0.0, 0.0, cfg, 1, 3), start)
    run = prior_alone(start, 0.01, 0.01, TrainConfig(lr=0.01, adj_eps=0.5), steps_per_epoch=2, epochs=20)
    off = np.abs(np.subtract.outer(np.arange(5), np.arange(5)))
    by_distance = [run[off == k].mean() for k in range(5)]
    assert by_distance == sorted(by_distance, reverse=True) and by_distance[0] > by_distance[-1]


@pytest.mark.parametrize("reduction", ["mean", "sum", "dataset"])
def test_train_ce_is_the_mean_cross_entropy_per_graph(reduction: str, capsys) -> None:
    """What the log's "train ce" is: with the weights held (lr 0), the epoch's figure is the training
    graphs' mean cross-entropy whatever --ce-reduction; eq. 8's terms are logged apart, not in it."""
    torch.manual_seed(0)
    model = create_model("lgrin", num_nodes=6, in_features=3, num_classes=2)
    x, y = torch.randn(10, 6, 3), torch.randint(0, 2, (10,))
    cfg = TrainConfig(epochs=1, lr=0.0, batch_size=4, ce_reduction=reduction)
    res = fit(model, x.numpy(), y.numpy(), x[:4].numpy(), y[:4].numpy(), cfg)
    with torch.no_grad():
        ce = float(torch.nn.functional.cross_entropy(model(x), y))
        eq8 = float(model.regularization())
    (row,) = res.history
    assert row["train_ce"] == pytest.approx(ce, rel=1e-5) and row["eq8"] == pytest.approx(eq8, rel=1e-6)
    assert eq8 != 0.0
    legend, line = capsys.readouterr().out.splitlines()[:2]  # a log, not a terminal: lines, not a bar
    assert "train ce = mean cross-entropy per training graph" in legend and "chance: ln 2 = 0.69" in legend
    assert "eq. 8 = the structure terms, the rest of the training loss" in legend
    assert f"train ce {ce:.3f}, eq. 8 {eq8:.4g}, val ce " in line and ": epoch 1/1" in line


def test_fit_shifts_graphs_only_where_the_check_allows() -> None:
    """fit() shifts the training graphs only where train/augment.py's shift_check allows it: here the
    class is where a frame is high (aligned recordings), so only differing lengths turn shifts on."""
    y = np.arange(12) % 2
    x = np.zeros((12, 6, 3), np.float32)
    x[np.arange(12), np.where(y == 0, 1, 4)] = 1.0
    x += 0.01 * np.random.default_rng(0).standard_normal(x.shape).astype(np.float32)

    def trained(augment: tuple[str, ...], loops: np.ndarray | None) -> torch.Tensor:
        torch.manual_seed(0)
        model = create_model("lgrin", num_nodes=6, in_features=3, num_classes=2)
        cfg = TrainConfig(epochs=2, batch_size=4, augment=augment)
        fit(model, x, y, x[:4], y[:4], cfg, train_loops=loops)
        return model.classifier.weight.detach().clone()

    plain = trained((), None)
    for loops in (None, np.full(12, 6)):  # one length, and the place is the class: nothing moves
        assert torch.equal(trained(("shift",), loops), plain)
    assert not torch.equal(trained(("shift",), np.array([3] * 6 + [6] * 6)), plain)
