"""The learned readout Psi(H) as one autograd step equals its three torch expressions, value and gradient."""

from __future__ import annotations

import pytest
import torch

from lgrin_edge.models import maxpool
from lgrin_edge.models.readout import learned_readout


def reference(h: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    return torch.cat([h.amax(1), torch.einsum("m,bmf->bf", p, h), h.mean(1)], dim=-1)


@pytest.mark.parametrize("native", [True, False])
def test_value_and_gradients_match_the_torch_expressions(native, monkeypatch):
    if not native:
        monkeypatch.setitem(maxpool._state, "lib", None)
    elif maxpool._library() is None:
        pytest.skip(f"the C kernel is unavailable here: {maxpool.backend()}")
    gen = torch.Generator().manual_seed(3)
    h = torch.randn(5, 17, 40, generator=gen, requires_grad=True)  # continuous values: no ties in the max
    p = torch.randn(17, generator=gen, requires_grad=True)
    h2, p2 = h.detach().clone().requires_grad_(), p.detach().clone().requires_grad_()
    out, ref = learned_readout(h, p), reference(h2, p2)
    torch.testing.assert_close(out, ref, rtol=1e-6, atol=1e-6)
    weights = torch.randn(out.shape, generator=gen)
    (out * weights).sum().backward()
    (ref * weights).sum().backward()
    torch.testing.assert_close(h.grad, h2.grad, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(p.grad, p2.grad, rtol=1e-5, atol=1e-5)


def test_gradcheck_in_float64():
    gen = torch.Generator().manual_seed(4)
    h = torch.randn(3, 6, 4, dtype=torch.float64, generator=gen, requires_grad=True)
    p = torch.randn(6, dtype=torch.float64, generator=gen, requires_grad=True)
    assert torch.autograd.gradcheck(learned_readout, (h, p))
