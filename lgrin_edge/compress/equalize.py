"""Per-column range equalisation of a folded L-GrIN, exact in fp32.

int8 runtimes give each activation tensor one scale (TFLite, TFLite Micro and XNNPACK even require one
scale across a concatenation), while L-GrIN's node features concatenate columns whose ranges differ by
orders of magnitude ([G1* | G2* | maxpool], and the input features themselves). ReLU, max, mean, the
learned pooling, relu(A) @ H and the 1-hop max pool all commute with a positive per-column scale, and a
linear layer absorbs the inverse scale in its input columns, so every column can be brought to a common
range without changing the fp32 function: the scales are folded into constants, nothing is added to the
graph. What remains per tensor afterwards is what per-column quantisation would have given.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from lgrin_edge.compress.fold import DeployLGrIN

# Columns whose calibrated range is below this (dead ReLU units, constant features) keep scale 1: any
# scale represents them exactly, and dividing by a tiny range would only inflate the next weights.
_DEAD = 1e-8


def _column_scale(values: torch.Tensor, alpha: float, per_column: bool = True) -> torch.Tensor:
    """Scale that brings each column (last axis) of ``values`` to range 1, raised to ``alpha``; with
    ``per_column`` False one scale for the whole tensor (its largest column reaches 1)."""
    r = values.abs().flatten(0, -2).amax(0).double()
    if not per_column:
        r = r.max().expand_as(r)
    s = torch.where(r > _DEAD, r.clamp_min(_DEAD).pow(-alpha), torch.ones_like(r))
    return s.float()


def _max_pool(h: torch.Tensor, nbr: torch.Tensor) -> torch.Tensor:
    """1-hop max pool one neighbour column at a time: calibration batches are too large to gather."""
    out = h[:, nbr[:, 0]].clone()
    for k in range(1, nbr.shape[1]):
        torch.maximum(out, h[:, nbr[:, k]], out=out)
    return out


@torch.no_grad()
def equalize_ranges(
    deploy: DeployLGrIN, calibration: np.ndarray, alpha: float = 1.0, blocks: bool = False
) -> DeployLGrIN:
    """A copy of ``deploy`` whose activation columns span about the same range on ``calibration``.

    ``alpha`` in (0, 1] is how much of each column's range is moved into the next weights (1: all of it,
    every column then reaches |value| <= 1; 0.5: the geometric balance of cross-layer equalisation).
    The result computes the same function as ``deploy`` up to fp32 rounding.
    """
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    eq = copy.deepcopy(deploy).eval()
    x = torch.as_tensor(np.asarray(calibration, np.float32))
    h = x * eq.in_scale + eq.in_shift
    d = _column_scale(h, alpha)  # scale carried by each column of the current H
    eq.in_scale.mul_(d)
    eq.in_shift.mul_(d)
    h = h * d
    for branches in eq.layers:
        ah = torch.matmul(eq.adj, h)
        outs = []
        for br in branches:
            y, inv = ah, 1.0 / d
            for fc in br.linears:
                fc.weight.mul_(inv[None, :])  # the input columns arrive scaled: undo it in the weights
                y = torch.relu(fc(y))
                s = _column_scale(y, alpha, per_column=not blocks)
                fc.weight.mul_(s[:, None])
                fc.bias.mul_(s)
                y = y * s
                inv = 1.0 / s
            outs.append((y, s))
        if eq.inception:
            outs.append((_max_pool(h, eq.nbr), d))  # the max pool passes its columns' scales on
        h = torch.cat([o for o, _ in outs], dim=-1)
        d = torch.cat([s for _, s in outs])
    cls = eq.classifier.weight
    if eq.pooling == "learned":
        cls.mul_(torch.cat([1.0 / d] * 3)[None, :])
    else:
        cls.mul_((1.0 / d)[None, :])
    return eq
