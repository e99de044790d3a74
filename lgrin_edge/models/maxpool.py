"""The 1-hop max pool (eq. 5, third branch) for training, without forming the (B, M, K, F) gather.

Early in training about half of relu(A) is positive, so each node has K ~ M/2 neighbours and the
gathered tensor of the plain form (and its gradient) is hundreds of megabytes per batch at M = 90. Here
the forward pass keeps only the output and, per output value, the node that attained it; the backward
pass sends each gradient to that node. On CPU float32 a small C kernel does both (compiled on first use,
``maxpool1hop.c``; the batch is split over torch's thread count, ctypes releases the GIL); elsewhere
(CUDA, other dtypes, no C compiler, or ``LGRIN_EDGE_NO_NATIVE=1``) torch ops over node chunks do.

Ties: the first neighbour in the table's order gets the whole gradient, where torch's amax splits it
evenly; both are subgradients of the max, and they agree whenever the maximum is unique (for a node
feature that comes out of a ReLU, a tie at zero carries no gradient anyway).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from lgrin_edge.native import compile_library

KERNEL_SOURCE = Path(__file__).with_name("maxpool1hop.c")
_FLAGS = ("-std=c99", "-O3", "-fPIC", "-shared", "-march=native")
# Torch path: node chunks whose gathered block stays below this many elements (16 MiB of float32).
_CHUNK_ELEMENTS = 1 << 22

# Below this many elements touched per call, handing slices to a second thread costs more than it saves.
_PARALLEL_WORK = 1 << 20  # measured: +2% at JapaneseVowels (2 threads), neutral at M = 90-100

_state: dict = {}


def _library() -> ctypes.CDLL | None:
    """The compiled kernel, or None (the reason is kept for ``backend()``)."""
    if "lib" in _state:
        return _state["lib"]
    lib = None
    if os.environ.get("LGRIN_EDGE_NO_NATIVE"):
        _state["why"] = "LGRIN_EDGE_NO_NATIVE is set"
    else:
        try:
            lib = ctypes.CDLL(str(compile_library("train_kernels", [KERNEL_SOURCE], _FLAGS)))
            i64, vp = ctypes.c_int64, ctypes.c_void_p
            lib.lgrin_maxpool1hop_forward.argtypes = [vp, vp, i64, i64, i64, i64, i64, vp, vp]
            lib.lgrin_maxpool1hop_forward.restype = None
            lib.lgrin_maxpool1hop_backward.argtypes = [vp, vp, i64, i64, i64, i64, vp]
            lib.lgrin_maxpool1hop_backward.restype = None
        except (RuntimeError, OSError) as e:
            _state["why"] = str(e).splitlines()[0]
    _state["lib"] = lib
    return lib


def backend() -> str:
    """Which implementation CPU float32 training uses here: "C kernel" or "torch (why)"."""
    return "C kernel" if _library() is not None else f"torch ({_state.get('why', '')})"


def _over_batch(batch: int, run: Callable[[int, int], None], work: int = 1 << 62) -> None:
    """Call ``run(start, stop)`` on slices of the batch, one per torch thread (ctypes releases the GIL);
    one call on this thread when ``work`` (elements touched) is too small to repay the hand-off."""
    parts = max(1, min(torch.get_num_threads(), batch))
    if work < _PARALLEL_WORK:
        parts = 1
    step = -(-batch // parts)
    spans = [(s, min(batch, s + step)) for s in range(0, batch, step)]
    if len(spans) == 1:
        run(*spans[0])
        return
    if _state.get("threads") != len(spans):
        if "pool" in _state:
            _state["pool"].shutdown(wait=False)
        _state["pool"] = ThreadPoolExecutor(max_workers=len(spans), thread_name_prefix="lgrin-maxpool")
        _state["threads"] = len(spans)
    list(_state["pool"].map(lambda span: run(*span), spans))


def _native_forward(
    lib: ctypes.CDLL, h: torch.Tensor, nbr: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    b, m, f = h.shape
    rows = nbr.shape[0]
    out = torch.empty(b, rows, f, dtype=h.dtype)
    arg = torch.empty(b, rows, f, dtype=torch.int32)

    def run(s: int, e: int) -> None:
        lib.lgrin_maxpool1hop_forward(
            h.data_ptr() + s * 4 * m * f, nbr.data_ptr(), e - s, m, rows, nbr.shape[1], f,
            out.data_ptr() + s * 4 * rows * f, arg.data_ptr() + s * 4 * rows * f,
        )  # fmt: skip

    _over_batch(b, run, work=b * rows * nbr.shape[1] * f)
    return out, arg


def _native_backward(lib: ctypes.CDLL, g: torch.Tensor, arg: torch.Tensor, nodes: int) -> torch.Tensor:
    b, rows, f = g.shape
    grad = torch.empty(b, nodes, f, dtype=g.dtype)

    def run(s: int, e: int) -> None:
        lib.lgrin_maxpool1hop_backward(
            g.data_ptr() + s * 4 * rows * f, arg.data_ptr() + s * 4 * rows * f, e - s, nodes, rows, f,
            grad.data_ptr() + s * 4 * nodes * f,
        )  # fmt: skip

    _over_batch(b, run, work=b * rows * f)
    return grad


def _torch_forward(h: torch.Tensor, nbr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    b, _, f = h.shape
    rows, k = nbr.shape
    nbr = nbr.to(device=h.device, dtype=torch.long)
    out = h.new_empty(b, rows, f)
    arg = torch.empty(b, rows, f, dtype=torch.long, device=h.device)
    chunk = max(1, _CHUNK_ELEMENTS // max(1, b * k * f))
    for s in range(0, rows, chunk):
        idx = nbr[s : s + chunk]  # (c, K)
        values, which = h[:, idx].max(dim=2)  # (B, c, F); the first maximum on ties
        out[:, s : s + chunk] = values
        node = torch.arange(idx.shape[0], device=h.device)[None, :, None]
        arg[:, s : s + chunk] = idx[node, which]
    return out, arg


def max_and_argmax(h: torch.Tensor, nbr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """(out (B, R, F), arg (B, R, F), native): the max over each row of ``nbr`` and the node attaining it,
    by the C kernel where it applies (arg int32) or torch ops (arg int64)."""
    lib = _library() if h.device.type == "cpu" and h.dtype == torch.float32 else None
    if lib is None:
        return (*_torch_forward(h, nbr), False)
    return (*_native_forward(lib, h.contiguous(), nbr.to(torch.int32).contiguous()), True)


class _MaxPool1Hop(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h: torch.Tensor, nbr: torch.Tensor) -> torch.Tensor:
        out, arg, ctx.native = max_and_argmax(h, nbr)
        ctx.save_for_backward(arg)
        ctx.nodes = h.shape[1]
        return out

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> tuple[torch.Tensor, None]:
        (arg,) = ctx.saved_tensors
        if ctx.native:
            return _native_backward(_library(), grad_out.contiguous(), arg, ctx.nodes), None
        grad = grad_out.new_zeros(grad_out.shape[0], ctx.nodes, grad_out.shape[2])
        return grad.scatter_add_(1, arg, grad_out), None


def maxpool_neighbours(h: torch.Tensor, nbr: torch.Tensor) -> torch.Tensor:
    """out[b, i] = elementwise max of h[b, j] over the neighbours j = nbr[i, :] (rows padded by repeats).

    h: (B, M, F); nbr: (R, K) integer node indices in [0, M), R rows (M for the 1-hop pool). Returns
    (B, R, F), differentiable in h.
    """
    if h.dim() != 3 or nbr.dim() != 2 or nbr.shape[1] < 1:
        shapes = f"{tuple(h.shape)} and {tuple(nbr.shape)}"
        raise ValueError(f"h must be (B, M, F) and nbr (R, K >= 1); got {shapes}")
    # The C kernel would read outside h (checked on CPU only: on CUDA the check would synchronise).
    if h.device.type == "cpu" and len(nbr) and (int(nbr.min()) < 0 or int(nbr.max()) >= h.shape[1]):
        raise ValueError(f"nbr holds node indices outside [0, {h.shape[1]})")
    return _MaxPool1Hop.apply(h, nbr)


def node_max(h: torch.Tensor) -> torch.Tensor:
    """max over the nodes of h (B, M, F) -> (B, F), as h.amax(1) but with the max pool's backward pass
    (torch's amax backward builds an equality mask and converts it, 0.5 ms per JapaneseVowels step). The
    gradient of a tie goes to the first node instead of being split (both are subgradients)."""
    return maxpool_neighbours(h, all_nodes(h.shape[1], h.device))[:, 0]


def all_nodes(m: int, device: torch.device) -> torch.Tensor:
    """The one-row neighbour table (1, M) listing every node: its max pool is the max over the graph."""
    key = ("all", m, str(device))
    if key not in _state:
        _state[key] = torch.arange(m, device=device)[None]
    return _state[key]
