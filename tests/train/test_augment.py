import pytest
import torch

from lgrin_edge.train.augment import AUGMENTS, Augmenter


def _graphs(b=6, m=12, p=3):
    t = torch.arange(m, dtype=torch.float32)
    x = torch.stack([torch.sin(t / 3 + i) for i in range(p)], dim=-1)  # (M, P), distinct per node
    return (x[None] + torch.arange(b, dtype=torch.float32)[:, None, None]).contiguous()


def test_shift_is_a_cyclic_rotation_of_each_graph():
    x = _graphs()
    y = Augmenter(["shift"], x, seed=0)(x)
    for g in range(len(x)):
        assert any(torch.equal(y[g], torch.roll(x[g], -k, dims=0)) for k in range(x.shape[1]))


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
    assert not torch.equal(Augmenter(["jitter"], x, seed=4)(x), Augmenter(["jitter"], x, seed=5)(x))


def test_every_transform_keeps_shape_and_finiteness():
    x = _graphs()
    y = Augmenter(list(AUGMENTS), x, seed=0)(x)
    assert y.shape == x.shape and torch.isfinite(y).all()


def test_unknown_augmentation_is_named():
    with pytest.raises(ValueError, match="mixup"):
        Augmenter(["shift", "mixup"], _graphs(), seed=0)
