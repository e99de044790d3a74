import itertools

import pytest
import torch

from lgrin_edge import create_model
from lgrin_edge.models.layers import maxpool_1hop, neighbour_mask
from lgrin_edge.models.lgrin import ADJACENCIES, CONVS, POOLINGS, LGrIN, structure_matrix


def small(**kw) -> LGrIN:
    torch.manual_seed(0)
    return create_model("lgrin", **{"num_nodes": 7, "in_features": 5, "num_classes": 3, "eta": (8, 4), **kw})


def test_output_shape_and_widths():
    m = small()
    assert m(torch.randn(4, 7, 5)).shape == (4, 3)
    # eq. 5: each inception layer outputs eta1 + eta2 + its input width
    assert [layer.out_features for layer in m.layers] == [8 + 4 + 5, 8 + 4 + 17]
    assert m.classifier.in_features == 3 * (8 + 4 + 17)


def test_paper_configuration_parameter_count():
    # 2 layers, eta (128, 64), M=90, P=136, C=6: counted by hand from eqs. 4-6 (A and p included)
    m = create_model("lgrin", num_nodes=90, in_features=136, num_classes=6)
    g = lambda f, e: f * e + e + e * e + e  # noqa: E731
    expected = g(136, 128) + g(136, 64) + g(328, 128) + g(328, 64) + 90 * 90 + 90 + (3 * 520 * 6 + 6)
    assert sum(p.numel() for p in m.parameters()) == expected == 148372


def test_gradients_reach_adjacency_and_pooling():
    m = small()
    loss = m(torch.randn(2, 7, 5)).sum() + m.regularization()
    loss.backward()
    assert m.adj.grad is not None and m.adj.grad.abs().sum() > 0
    assert m.pool_p.grad is not None and m.pool_p.grad.abs().sum() > 0


def test_structure_loss_matches_equation_8_by_hand():
    m = create_model(
        "lgrin", num_nodes=3, in_features=2, num_classes=2, eta=(2, 2), lambda1=0.1, lambda2=0.1, lambda3=1e-4
    )
    with torch.no_grad():
        m.adj.copy_(torch.tensor([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0], [2.0, 1.0, -0.5]]))
        m.pool_p.copy_(torch.tensor([1.0, 2.0, -1.0]))
    # A_d = [[0,1,4],[1,0,1],[4,1,0]] -> e^T (A_d . A) e = -2 + 2 + 3 - 1 + 8 + 1 = 11
    # ||A||_F^2 = 1 + 4 + 0.25 + 9 + 0 + 1 + 4 + 1 + 0.25 = 20.5 ; ||p||^2 = 6
    expected = 0.1 * 11 + 0.1 * 20.5 + 1e-4 * 6
    assert m.regularization().item() == pytest.approx(expected, rel=1e-6)
    assert torch.equal(structure_matrix(3), torch.tensor([[0.0, 1, 4], [1, 0, 1], [4, 1, 0]]))


def test_maxpool_1hop_equals_brute_force():
    torch.manual_seed(1)
    adj = torch.relu(torch.randn(6, 6))
    adj[2] = 0  # node 2 has no neighbour: it keeps its own features
    h = torch.randn(3, 6, 4)
    got = maxpool_1hop(h, neighbour_mask(adj))
    for b, i in itertools.product(range(3), range(6)):
        nbrs = [j for j in range(6) if adj[i, j] > 0] or [i]
        ref = torch.stack([h[b, j] for j in nbrs]).max(0).values
        assert torch.equal(got[b, i], ref)


@pytest.mark.parametrize(
    "opts",
    [{"conv": c} for c in CONVS]
    + [{"adjacency": a} for a in ADJACENCIES]
    + [{"pooling": p} for p in POOLINGS]
    + [
        {"inception": False},
        {"num_layers": 1},
        {"num_layers": 3},
        {"eta": (16, 32)},
        {"lambda1": 0.0, "lambda2": 1.0, "lambda3": 0.0},
    ],
)
def test_every_ablation_trains_a_step(opts):
    m = small(**opts)
    opt = torch.optim.Adam(m.parameters(), lr=0.01)
    x, y = torch.randn(4, 7, 5), torch.tensor([0, 1, 2, 0])
    before = [p.detach().clone() for p in m.parameters()]
    loss = torch.nn.functional.cross_entropy(m(x), y) + m.regularization()
    loss.backward()
    opt.step()
    assert torch.isfinite(loss)
    assert any(not torch.equal(b, p) for b, p in zip(before, m.parameters(), strict=True))


def test_wrong_input_shape_is_named():
    with pytest.raises(ValueError, match=r"7 nodes, 5 features"):
        small()(torch.randn(2, 7, 6))


@pytest.mark.parametrize(
    "bad", [{"adjacency": "dense"}, {"pooling": "sum"}, {"conv": "gat"}, {"eta": (0, 4)}]
)
def test_bad_options_are_rejected(bad):
    with pytest.raises(ValueError):
        small(**bad)


def test_print_shows_layer_widths():
    text = repr(small(num_layers=1))
    assert "GraphInception(\n      in_features=5, out_features=17, inception=True\n" in text
    assert "GStarConv(\n          in_features=5, eta=8\n" in text
    assert "LinearGraphConv(\n          in_features=5, eta=8\n" in repr(small(conv="linear", inception=False))
