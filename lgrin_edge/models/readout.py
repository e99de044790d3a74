"""L-GrIN's readout Psi(H) (eq. 6): [max | p-weighted sum | mean] over the nodes, as one autograd step.

Written as three torch expressions, the readout's backward pass is three (B, M, F) gradients (amax's
through an equality mask), each materialised and then added: 1.5 ms of a 10 ms JapaneseVowels step
(batch 32, F = 396). Here the forward pass keeps the max's argmax (the max pool's kernel) and the
backward pass forms the whole gradient of H in one broadcast multiply-add plus a scatter of the max's
part. The gradient of a tie in the max goes to the first node (a subgradient, as the max pool's).
"""

from __future__ import annotations

import torch

from lgrin_edge.models.maxpool import all_nodes, max_and_argmax


class _LearnedReadout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        top, arg, _native = max_and_argmax(h, all_nodes(h.shape[1], h.device))
        weighted = torch.bmm(p.expand(h.shape[0], 1, -1), h)  # (B, 1, F)
        ctx.save_for_backward(h, p, arg)
        return torch.cat([top[:, 0], weighted[:, 0], h.mean(1)], dim=-1)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        h, p, arg = ctx.saved_tensors
        f = h.shape[2]
        g_max, g_p, g_mean = grad[:, :f], grad[:, f : 2 * f], grad[:, 2 * f :]
        grad_h = grad_p = None
        if ctx.needs_input_grad[0]:
            # d/dH of p^T H and mean(H): p_i g_p + g_mean / M for every node i, in one pass
            grad_h = torch.addcmul((g_mean / h.shape[1])[:, None, :], p[None, :, None], g_p[:, None, :])
            grad_h.scatter_add_(1, arg.long(), g_max[:, None, :])
        if ctx.needs_input_grad[1]:
            grad_p = torch.bmm(h, g_p[:, :, None]).sum(0)[:, 0]
        return grad_h, grad_p


def learned_readout(h: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """Psi(H) = [max_i h_i | sum_i p_i h_i | mean_i h_i] of node features h (B, M, F), p (M,) -> (B, 3F)."""
    return _LearnedReadout.apply(h, p)
