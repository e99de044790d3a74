"""A tiny separable problem and a small L-GrIN trained on it, shared by the exporters' tests."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from lgrin_edge.compress.fold import fold_model
from lgrin_edge.models import create_model

M, P, C = 8, 5, 3


def synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Graphs whose class shifts a class-specific block of nodes: separable, so a few steps learn it."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, C, n)
    x = rng.normal(0.0, 1.0, (n, M, P)).astype(np.float32)
    for c in range(C):
        x[y == c, 2 * c : 2 * c + 3, :] += 1.5
    return x, y


def trained_deploy(x_train: np.ndarray, y_train: np.ndarray, seed: int = 0, **config) -> nn.Module:
    """A small L-GrIN (eta 16, 8) trained for 40 full-batch steps, folded for deployment."""
    torch.manual_seed(seed)
    model = create_model("lgrin", num_nodes=M, in_features=P, num_classes=C, eta=(16, 8), **config)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    x, y = torch.from_numpy(x_train), torch.from_numpy(y_train)
    model.train()
    for _ in range(40):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return fold_model(model)
