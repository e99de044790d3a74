"""The numpy reference forward of a folded L-GrIN in float32: the function every other form is checked
against (the int8 simulator, the torch module, the XNNPACK and LiteRT forms, the C runtime).

Per layer: relu(A) @ H, each branch a chain of linear + ReLU, then [branches | 1-hop max pool of H]
(branches only without inception); then the pooling and the classifier. Products are 2-D matmuls
(numpy's broadcast matmul may skip BLAS) and the max pool goes one neighbour column at a time, never
through a (B, M, K, F) gather.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from lgrin_edge.deploy.folded import Branch, FoldedLGrIN


def adj_mul(adj: np.ndarray, h: np.ndarray) -> np.ndarray:
    """adj (M, M) @ h (B, M, F) as one 2-D matmul."""
    B, M, F = h.shape
    return (adj @ h.transpose(1, 0, 2).reshape(M, B * F)).reshape(M, B, F).transpose(1, 0, 2)


def lin(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """x (B, M, F) @ w.T for w (out, F), as one 2-D matmul."""
    B, M, F = x.shape
    return (x.reshape(B * M, F) @ w.T).reshape(B, M, -1)


def max_pool(h: np.ndarray, nbr: np.ndarray) -> np.ndarray:
    """1-hop max pool (B, M, F) over the neighbour table nbr (M, K)."""
    out = h[:, nbr[:, 0], :].copy()
    for k in range(1, nbr.shape[1]):
        np.maximum(out, h[:, nbr[:, k], :], out=out)
    return out


def branch_outputs(branch: Branch, ah: np.ndarray) -> list[np.ndarray]:
    """The output of each of the branch's linear + ReLU steps on relu(A) @ H (the last is the branch's)."""
    outs, y = [], ah
    for fc in branch.linears:
        y = np.maximum(lin(y, fc.w) + fc.b, 0)
        outs.append(y)
    return outs


def layer_activations(
    model: FoldedLGrIN, h: np.ndarray
) -> Iterator[tuple[np.ndarray, np.ndarray, list[list[np.ndarray]]]]:
    """Yield (relu(A) @ H, the next H, each branch's :func:`branch_outputs`) per layer from the
    normalised input h (B, M, P) float32."""
    for layer in model.layers:
        ah = adj_mul(model.adj, h)
        outs = [branch_outputs(br, ah) for br in layer.branches]
        pooled = [max_pool(h, model.nbr)] if model.inception else []
        h = np.concatenate([o[-1] for o in outs] + pooled, axis=2)
        yield ah, h, outs


def readout(model: FoldedLGrIN, h: np.ndarray) -> np.ndarray:
    """The classifier's input from the last H (B, M, F): [max | p-weighted sum | mean] over the nodes for
    learned pooling, the max or the mean for the others."""
    if model.pooling == "max":
        return h.max(axis=1)
    if model.pooling == "mean":
        return h.mean(axis=1)
    return np.concatenate([h.max(axis=1), np.einsum("m,bmf->bf", model.pool_p, h), h.mean(axis=1)], axis=1)


def normalise(model: FoldedLGrIN, x: np.ndarray) -> np.ndarray:
    """The normalised input H_0 of raw graphs x (B, M, P), float32; a wrong shape is refused."""
    x = np.asarray(x, np.float32)
    if x.ndim != 3 or x.shape[1:] != (model.M, model.P):
        raise ValueError(f"input must have shape (batch, {model.M}, {model.P}), got {x.shape}")
    return x * model.in_scale + model.in_shift


def forward(model: FoldedLGrIN, x: np.ndarray) -> np.ndarray:
    """float32 logits (B, C) of raw graphs x (B, M, P)."""
    h = normalise(model, x)
    for _ah, h_next, _outs in layer_activations(model, h):
        h = h_next
    return (readout(model, h) @ model.classifier.w.T + model.classifier.b).astype(np.float32)
