"""The 1-hop max pool without the (B, M, K, F) gather equals the brute-force max, in value and gradient."""

from __future__ import annotations

import pytest
import torch

from lgrin_edge.deploy.folded import neighbour_table
from lgrin_edge.models import maxpool
from lgrin_edge.models.layers import neighbour_index, neighbour_mask


def brute_force(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    cand = h.unsqueeze(1).expand(-1, mask.shape[0], -1, -1)
    return cand.masked_fill(~mask[None, :, :, None], float("-inf")).amax(dim=2)


@pytest.fixture(params=["native", "torch"])
def backend(request, monkeypatch):
    if request.param == "torch":
        monkeypatch.setitem(maxpool._state, "lib", None)
    elif maxpool._library() is None:
        pytest.skip(f"the C kernel is unavailable here: {maxpool.backend()}")
    return request.param


@pytest.mark.parametrize(
    ("b", "m", "f", "density"), [(5, 29, 12, 0.5), (3, 17, 70, 0.1), (1, 8, 33, 0.9), (2, 13, 150, 0.4)]
)
def test_value_and_gradient_match_brute_force(backend, b, m, f, density):
    gen = torch.Generator().manual_seed(m * f)
    adj = torch.relu(torch.rand(m, m, generator=gen) - (1 - density))
    adj[3] = 0  # an isolated node keeps its own features
    mask = neighbour_mask(adj)
    nbr = neighbour_index(mask)
    h = torch.randn(b, m, f, generator=gen, requires_grad=True)
    ref_h = h.detach().clone().requires_grad_()
    out = maxpool.maxpool_neighbours(h, nbr)
    ref = brute_force(ref_h, mask)
    assert torch.equal(out, ref)
    weights = torch.randn(out.shape, generator=gen)
    (out * weights).sum().backward()
    (ref * weights).sum().backward()
    torch.testing.assert_close(h.grad, ref_h.grad, rtol=0, atol=1e-6)
    assert torch.equal(out[:, 3], h.detach()[:, 3])


def test_threads_split_the_batch_exactly(backend):
    torch.manual_seed(0)
    nbr = neighbour_index(neighbour_mask(torch.relu(torch.randn(11, 11))))
    h = torch.randn(7, 11, 5)
    with_two = maxpool.maxpool_neighbours(h, nbr)
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert torch.equal(maxpool.maxpool_neighbours(h, nbr), with_two)
    finally:
        torch.set_num_threads(old)


def test_torch_path_gradcheck_in_float64(monkeypatch):
    monkeypatch.setitem(maxpool._state, "lib", None)
    torch.manual_seed(1)
    nbr = neighbour_index(neighbour_mask(torch.relu(torch.randn(6, 6))))
    h = torch.randn(2, 6, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: maxpool.maxpool_neighbours(t, nbr), (h,))


def test_backend_says_which_path_trains():
    assert maxpool.backend() == "C kernel" or maxpool.backend().startswith("torch (")


def test_node_max_equals_amax_in_value_and_gradient(backend):
    gen = torch.Generator().manual_seed(7)
    h = torch.randn(4, 23, 85, generator=gen, requires_grad=True)  # continuous values: no ties
    ref_h = h.detach().clone().requires_grad_()
    out = maxpool.node_max(h)
    assert torch.equal(out, ref_h.amax(1))
    weights = torch.randn(out.shape, generator=gen)
    (out * weights).sum().backward()
    (ref_h.amax(1) * weights).sum().backward()
    assert torch.equal(h.grad, ref_h.grad)


@pytest.mark.parametrize(
    ("h_shape", "nbr", "match"),
    [
        ((2, 5, 3), torch.tensor([[0, 5]] * 5), "outside"),
        ((2, 5, 3), torch.tensor([[-1, 0]] * 5), "outside"),
        ((2, 5), torch.tensor([[0]] * 5), "must be"),
        ((2, 5, 3), torch.zeros(5, 0, dtype=torch.long), "must be"),
    ],
)
def test_bad_neighbour_tables_are_refused(h_shape, nbr, match):
    with pytest.raises(ValueError, match=match):
        maxpool.maxpool_neighbours(torch.zeros(h_shape), nbr)


def test_training_and_deployment_pool_over_the_same_neighbourhoods():
    """Training's neighbour index and the folded model's neighbour table (deploy/folded.py) hold the same
    neighbours per node, isolated and self-only nodes included, so the max pool is the same function."""
    gen = torch.Generator().manual_seed(5)
    adj = torch.relu(torch.randn(12, 12, generator=gen))
    adj[3] = 0  # isolated: itself
    adj[7] = 0
    adj[7, 7] = 0.3  # self-only
    trained = neighbour_index(neighbour_mask(adj))
    deployed = torch.from_numpy(neighbour_table(adj.numpy())).long()
    assert trained.shape == deployed.shape
    assert [set(r) for r in trained.tolist()] == [set(r) for r in deployed.tolist()]
    h = torch.randn(2, 12, 5, generator=gen)
    assert torch.equal(maxpool.maxpool_neighbours(h, trained), maxpool.maxpool_neighbours(h, deployed))
