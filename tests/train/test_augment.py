import numpy as np
import pytest
import torch

from lgrin_edge.train.augment import AUGMENTS, Augmenter, shift_check


def _graphs(b=6, m=12, p=3):
    t = torch.arange(m, dtype=torch.float32)
    x = torch.stack([torch.sin(t / 3 + i) for i in range(p)], dim=-1)  # (M, P), distinct per node
    return (x[None] + torch.arange(b, dtype=torch.float32)[:, None, None]).contiguous()


LOOPS = np.array([3, 12, 5, 12, 7, 1])  # graphs of different lengths: no shared time axis


def test_shift_is_a_cyclic_rotation_of_each_graph_where_lengths_differ():
    x = _graphs()
    y = Augmenter(["shift"], x, seed=0, loops=LOOPS)(x)
    for g in range(len(x)):
        assert any(torch.equal(y[g], torch.roll(x[g], -k, dims=0)) for k in range(x.shape[1]))
    assert not torch.equal(y, x)


@pytest.mark.parametrize("loops", [None, np.full(6, 12), np.full(6, 5)])
def test_graphs_of_one_length_without_labels_are_never_shifted(loops):
    x = _graphs()
    assert torch.equal(Augmenter(["shift"], x, seed=0, loops=loops)(x), x)


def _bumps(place_free: bool, n: int = 40, m: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Graphs of equal energy. place_free: class 0 is one bump, class 1 two bumps 10 frames apart, at a
    random place; otherwise the class is where one bump sits."""
    rng = np.random.default_rng(0)
    y = np.arange(n) % 2
    t = np.arange(m)

    def bump(at: np.ndarray) -> np.ndarray:
        gap = np.abs(t[None] - at[:, None])
        return np.exp(-((np.minimum(gap, m - gap) / 1.5) ** 2))  # cyclic distance

    if place_free:
        at = rng.integers(0, m, n)
        x = np.where(y[:, None] == 0, np.sqrt(2) * bump(at), bump(at) + bump((at + 10) % m))
    else:
        x = bump(np.where(y == 0, 10, 40))
    x = x + 0.01 * rng.standard_normal((n, m))
    return x[:, :, None].astype(np.float32), y


def test_shift_check_keeps_the_place_of_aligned_recordings():
    x, y = _bumps(place_free=False)
    on, why = shift_check(x, y, np.full(len(x), 64), seed=0)
    assert not on and "no better than" in why


def test_shift_check_shifts_where_the_place_carries_no_class():
    x, y = _bumps(place_free=True)
    on, why = shift_check(x, y, np.full(len(x), 64), seed=0)
    assert on and "clearly better" in why
    on, why = shift_check(x, y, np.arange(len(x)) % 3 + 60, seed=0)  # lengths differ: no check needed
    assert on and "lengths differ" in why
    assert shift_check(x[:2], y[:2], np.full(2, 64), seed=0)[0] is False  # too few to tell


def test_augmenter_with_labels_follows_the_check():
    x, y = _bumps(place_free=False)
    aug = Augmenter(["shift"], torch.as_tensor(x), 0, np.full(len(x), 64), torch.as_tensor(y))
    assert not aug.shifts and "leave-one-out" in aug.shift_reason
    x, y = _bumps(place_free=True)
    aug = Augmenter(["shift"], torch.as_tensor(x), 0, np.full(len(x), 64), torch.as_tensor(y))
    assert aug.shifts and not torch.equal(aug(torch.as_tensor(x)), torch.as_tensor(x))


def test_loops_must_match_the_training_graphs():
    with pytest.raises(ValueError, match="one length per training graph"):
        Augmenter(["shift"], _graphs(), seed=0, loops=np.array([3, 4]))


def test_warp_keeps_the_ends_and_stays_between_neighbouring_frames():
    x = _graphs()
    y = Augmenter(["warp"], x, seed=1)(x)
    assert torch.allclose(y[:, 0], x[:, 0]) and torch.allclose(y[:, -1], x[:, -1], atol=1e-5)
    lo = torch.minimum(x[:, :-1], x[:, 1:]).amin(1)
    hi = torch.maximum(x[:, :-1], x[:, 1:]).amax(1)
    assert ((y.amin(1) >= lo - 1e-5) & (y.amax(1) <= hi + 1e-5)).all()
    assert not torch.allclose(y, x)


def test_scale_and_jitter_are_small_in_feature_units_and_seeded():
    x = _graphs(b=64)
    a, b = Augmenter(["scale", "jitter"], x, seed=3), Augmenter(["jitter", "scale"], x, seed=3)
    ya, yb = a(x), b(x)
    assert torch.equal(ya, yb)  # the order the user names them in does not matter
    rel = ((ya - x).std(dim=(0, 1)) / x.reshape(-1, 3).std(0)).max()
    assert 0.01 < rel < 0.3
    jitter = [Augmenter(["jitter"], x, seed=s)(x) for s in (4, 5)]
    assert not torch.equal(*jitter)


def test_every_transform_keeps_shape_and_finiteness():
    x = _graphs()
    y = Augmenter(list(AUGMENTS), x, seed=0, loops=LOOPS)(x)
    assert y.shape == x.shape and torch.isfinite(y).all()


def test_unknown_augmentation_is_named():
    with pytest.raises(ValueError, match="mixup"):
        Augmenter(["shift", "mixup"], _graphs(), seed=0)
