import pytest
import torch

from lgrin_edge.models import create_model
from lgrin_edge.training.trainer import TrainConfig, _batches, adam


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
