"""Every deployed form of the folded L-GrIN against the numpy reference, on the same FoldedLGrIN.

The float forms (torch, XNNPACK, LiteRT) run every configuration they support: learned, max and mean
pooling, inception on and off, G*conv and the linear convolution, over graphs with isolated nodes (no
neighbour but themselves) and self-only nodes. The int8 simulator and the C runtime run the paper's
configuration, the only one the runtime implements, on a trained model.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from lgrin_edge.deploy import int8, reference
from lgrin_edge.deploy.folded import POOLINGS, FoldedLGrIN, FoldError
from lgrin_edge.deploy.litert import LiteRTLGrIN
from lgrin_edge.deploy.pytorch import DeployLGrIN
from lgrin_edge.deploy.xnnpack import XnnpackLGrIN
from lgrin_edge.export.tolerances import C_REPRODUCTION, FOLD, VERIFY
from tests.export.tiny_model import synthetic, trained_deploy

M, P, C = 9, 4, 3
CONFIGS = [
    {"conv": conv, "inception": inception, "pooling": pooling}
    for conv in ("gstar", "linear")
    for inception in (True, False)
    for pooling in POOLINGS
]


def _graph(name: str, m: int) -> np.ndarray:
    """relu(A) of a named test graph over m nodes."""
    rng = np.random.default_rng(3)
    if name == "self_only":
        return np.eye(m, dtype=np.float32) * 0.5  # every node its own only neighbour: nothing to gather
    if name == "dense":
        return (rng.random((m, m)) + 0.1).astype(np.float32)
    if name == "hub":
        band = np.abs(np.arange(m)[:, None] - np.arange(m)[None, :]) <= 1
        hub = rng.random((m, m)) * band
        hub[m // 2] = rng.random(m) + 0.1  # one row of every node among rows of at most three
        return hub.astype(np.float32)
    sparse = rng.random((m, m)) * (rng.random((m, m)) < 0.35)
    sparse[2] = 0.0  # an isolated node: its own features
    sparse[5] = 0.0
    sparse[5, 5] = 0.7  # a node whose only neighbour is itself
    return sparse.astype(np.float32)


GRAPHS = ("random", "sparse", "self_only", "dense", "hub")


def _with_graph(model: FoldedLGrIN, graph: str) -> FoldedLGrIN:
    return model if graph == "random" else dataclasses.replace(model, adj=_graph(graph, model.M))


def _integer_readout(model: FoldedLGrIN) -> nn.Module:
    module = DeployLGrIN(model)
    module.integer_readout = True
    return module


FLOAT_FORMS: dict[str, Callable[[FoldedLGrIN], nn.Module]] = {
    "torch": DeployLGrIN,
    "torch-integer-readout": _integer_readout,
    "xnnpack": XnnpackLGrIN,
    "litert": LiteRTLGrIN,
}


def _close(got: np.ndarray, want: np.ndarray) -> None:
    """Within the folding tolerance (per unit of logit scale)."""
    scale = max(1.0, float(np.abs(want).max()))
    assert np.abs(got - want).max() <= FOLD * scale, np.abs(got - want).max() / scale


@pytest.mark.parametrize("form", FLOAT_FORMS)
@pytest.mark.parametrize("graph", GRAPHS)
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(str(v) for v in c.values()))
def test_float_forms_compute_the_reference(form: str, graph: str, config: dict) -> None:
    model, mean, std = FoldedLGrIN.random(M, P, C, eta=(8, 4), L=3, seed=1, **config)
    model = _with_graph(model, graph)
    x = (mean + std * np.random.default_rng(2).normal(size=(16, M, P))).astype(np.float32)
    with torch.no_grad():
        got = FLOAT_FORMS[form](model)(torch.from_numpy(x)).numpy()
    _close(got, reference.forward(model, x))


@pytest.fixture(scope="module", params=["trained", "sparse"])
def paper(request: pytest.FixtureRequest) -> tuple[FoldedLGrIN, np.ndarray, np.ndarray, np.ndarray]:
    """A trained paper-configuration model (its own graph, or one with isolated and self-only nodes),
    its calibration graphs, test graphs and reference logits."""
    x_train, y_train = synthetic(256, seed=0)
    model = trained_deploy(x_train, y_train).folded()
    model = _with_graph(model, "random" if request.param == "trained" else "sparse")
    x = synthetic(300, seed=1)[0]
    return model, x_train, x, reference.forward(model, x)


def _agreement(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(a.argmax(1) == b.argmax(1)))


def test_int8_simulation_agrees_with_the_reference(paper) -> None:
    model, cal, x, want = paper
    got = int8.simulate(int8.quantize(model, cal), x)
    assert _agreement(got, want) >= VERIFY["int8"]["min_agreement"]
    assert np.abs(got - want).max() > 1e-6  # really integer arithmetic


needs_cc = pytest.mark.skipif(
    not (shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")), reason="no C compiler on PATH"
)


@needs_cc
def test_c_runtime_computes_the_reference(paper, tmp_path: Path) -> None:
    from lgrin_edge.export.c_runtime import CModel, write_c_model

    model, cal, x, want = paper
    write_c_model(model, None, tmp_path / "fp32.lgrn", precision="fp32")
    _close(CModel(tmp_path / "fp32.lgrn")(x), want)
    write_c_model(model, cal, tmp_path / "int8.lgrn")
    got = CModel(tmp_path / "int8.lgrn")(x)
    sim = int8.simulate(int8.quantize(model, cal), x)
    assert (np.abs(got - sim) <= C_REPRODUCTION * (1 + np.abs(sim))).all()
    assert _agreement(got, want) >= VERIFY["int8"]["min_agreement"]


@pytest.mark.parametrize("config", [{"conv": "linear"}, {"inception": False}, {"pooling": "max"}])
def test_int8_refuses_what_the_c_runtime_does_not_implement(config: dict) -> None:
    model, mean, std = FoldedLGrIN.random(M, P, C, eta=(8, 4), seed=1, **config)
    cal = (mean + std * np.random.default_rng(0).normal(size=(8, M, P))).astype(np.float32)
    with pytest.raises(FoldError, match="the C runtime implements the paper's configuration only"):
        int8.quantize(model, cal)
