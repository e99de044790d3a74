"""The torch form of the folded L-GrIN, :class:`DeployLGrIN`: what the ONNX, TFLite (full integer) and
TensorRT exports convert, and what range equalisation and weight rounding edit (compress/).

How it differs from the reference (reference.py): nothing in the function; it is written in operators
exporters lower well. The 1-hop max pool is a gather of the neighbour table then a max over K (Gather +
ReduceMax in ONNX, never an additive large-negative mask, which breaks int8), and each linear layer one
Gemm with its bias. Module and buffer names (adj, nbr, in_scale, in_shift, pool_p; layers, classifier)
become the exported files' initializer names.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from lgrin_edge.deploy.folded import Branch, FoldedLGrIN, Layer, Linear

# litert-torch names every tensor of a .tflite file after the classes of the modules that compute it
# (import path and class name). These classes keep the path the files were first written with, where
# compress/fold.py still re-exports them, so a file's bytes depend on the model alone.
TFLITE_CLASS_PATH = "lgrin_edge.compress.fold"


def torch_linear(fc: Linear) -> nn.Linear:
    """An nn.Linear holding ``fc``'s weights (no random initialisation drawn: the global RNG is untouched)."""
    out, inp = fc.w.shape
    module = nn.utils.skip_init(nn.Linear, inp, out)
    module.weight = nn.Parameter(torch.from_numpy(fc.w.copy()))
    module.bias = nn.Parameter(torch.from_numpy(fc.b.copy()))
    return module


def as_linear(module: nn.Linear) -> Linear:
    """The weights an nn.Linear holds now, as a Linear."""
    return Linear(_array(module.weight), _array(module.bias))


def _array(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().copy()


class DeployBranch(nn.Module):
    """One folded graph convolution branch (G*conv's MLP or the linear projection)."""

    __module__ = TFLITE_CLASS_PATH

    def __init__(self, branch: Branch) -> None:
        super().__init__()
        self.linears = nn.ModuleList(torch_linear(fc) for fc in branch.linears)

    def forward(self, ah: torch.Tensor) -> torch.Tensor:
        # On (B*M, F) rows each linear layer exports as one Gemm with its bias inside: int8 runtimes then
        # requantise once per layer instead of once after the product and again after the bias (MatMul +
        # Add), whose pre-bias range is far wider than the layer's output.
        y = ah.reshape(-1, ah.shape[-1])
        for fc in self.linears:
            y = torch.relu(fc(y))
        return y.reshape(*ah.shape[:-1], y.shape[-1])


def torch_layers(model: FoldedLGrIN) -> nn.ModuleList:
    """The layers as modules: layers[l][b] is branch b of layer l (parameter names layers.l.b.linears.n)."""
    return nn.ModuleList(nn.ModuleList(DeployBranch(br) for br in layer.branches) for layer in model.layers)


class DeployLGrIN(nn.Module):
    """The folded L-GrIN as a torch module (module docstring).

    ``integer_readout`` (set on a copy by the full-integer TFLite export) writes the learned pooling so
    that it quantises to integers (TFLite Micro, NPUs); the function is the same.
    """

    __module__ = TFLITE_CLASS_PATH
    integer_readout = False

    def __init__(self, model: FoldedLGrIN) -> None:
        super().__init__()
        self.pooling = model.pooling
        self.inception = model.inception
        self.register_buffer("adj", torch.from_numpy(model.adj.copy()))
        self.register_buffer("nbr", torch.from_numpy(model.nbr).long())
        self.register_buffer("in_scale", torch.from_numpy(model.in_scale.copy()))
        self.register_buffer("in_shift", torch.from_numpy(model.in_shift.copy()))
        self.layers = torch_layers(model)
        if self.pooling == "learned":
            self.register_buffer("pool_p", torch.from_numpy(model.pool_p.copy()))
        self.classifier = torch_linear(model.classifier)
        self.eval()

    def folded(self) -> FoldedLGrIN:
        """This module's constants and weights as they are now (after range equalisation or weight
        rounding too), as a FoldedLGrIN."""
        layers = [
            Layer([Branch([as_linear(fc) for fc in br.linears]) for br in branches])
            for branches in self.layers
        ]
        return FoldedLGrIN(
            in_scale=_array(self.in_scale),
            in_shift=_array(self.in_shift),
            adj=_array(self.adj),
            layers=tuple(layers),
            pooling=self.pooling,
            inception=self.inception,
            pool_p=_array(self.pool_p) if self.pooling == "learned" else None,
            classifier=as_linear(self.classifier),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x * self.in_scale + self.in_shift
        for branches in self.layers:
            ah = torch.matmul(self.adj, h)
            outs = [br(ah) for br in branches]
            if self.inception:
                # (B, M, K, F) gathered neighbours, max over K: the int8-safe form of the 1-hop maxpool.
                outs.append(h[:, self.nbr].amax(dim=2))
            h = torch.cat(outs, dim=-1)
        if self.pooling == "max":
            g = h.amax(1)
        elif self.pooling == "mean":
            g = h.mean(1)
        elif self.integer_readout:
            # p as a (1, 1, M) operand broadcast over the batch: converters lower this to one integer
            # BATCH_MATMUL, where matmul(p, H) with a 1-D p becomes MUL + SUM that litert-torch leaves in
            # float (and an expanded (B, 1, M) p a float BROADCAST_TO).
            weighted = torch.matmul(self.pool_p[None, None, :], h).squeeze(1)
            g = torch.cat([h.amax(1), weighted, h.mean(1)], dim=-1)
        else:
            g = torch.cat([h.amax(1), torch.matmul(self.pool_p, h), h.mean(1)], dim=-1)
        return self.classifier(g)
