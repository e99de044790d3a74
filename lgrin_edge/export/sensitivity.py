"""Per-layer int8 sensitivity: which node's quantisation costs how much, for users whose artifact misses
its tolerance.

Each quantisable node of the fp32 ONNX graph is quantised *alone* (every other node kept in float), with
the target's own recipe (quant_spec.py), and run on graphs from the training data (never the test
split): the logit error and top-1 agreement with fp32 that this one node costs. The nodes the recipe
keeps in float are listed as such, so the report also says what the tool did about the worst layers.
Weights are rounded plainly here: the costs are what error-compensated rounding (compress/rounding.py,
the default recipes) then reduces. The full-integer TFLite recipe has the same report, made from its own
PT2E graph (tflite_static.py), and its fallback widens nodes in this report's order
(:func:`keep_float_until`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from lgrin_edge.export.quant_spec import QuantSpec

# Ops onnxruntime's QDQ quantiser gives Q/DQ pairs to; the rest (Reshape, Transpose, ...) only pass
# quantised tensors through and cost nothing on their own.
_QUANTISABLE = ("MatMul", "Gemm", "Mul", "Add", "Concat", "GatherND", "Gather", "ReduceMax", "ReduceMean")


@dataclass
class NodeCost:
    node: str
    op: str
    relative_error: float  # ||int8 - fp32|| / ||fp32 - per-sample mean|| over the logits
    agreement: float  # top-1 agreement with fp32
    kept_float: bool  # the recipe already keeps this node in float
    where: str = ""  # the module it computes in, where the graph records one


def logit_error(logits: np.ndarray, reference: np.ndarray) -> float:
    """Logit error relative to the spread of the reference logits (0 = identical)."""
    spread = np.linalg.norm(reference - reference.mean(axis=1, keepdims=True))
    return float(np.linalg.norm(logits - reference) / max(spread, 1e-12))


def onnx_sensitivity(
    fp32_path: Path, calibration: np.ndarray, x: np.ndarray, spec: QuantSpec
) -> list[NodeCost]:
    """The cost of quantising each node alone under ``spec`` (an onnx or tensorrt recipe), worst first.
    ``x``: graphs to measure on (training data)."""
    import onnx

    from lgrin_edge.export.onnx_export import OnnxModel, float_nodes, quantize_onnx

    model = onnx.load(str(fp32_path))
    reference = OnnxModel(fp32_path)(x)
    kept = set(float_nodes(model, spec))
    costs = []
    with tempfile.TemporaryDirectory(prefix="lgrin-sens-") as tmp:
        for node in model.graph.node:
            if node.op_type not in _QUANTISABLE:
                continue
            if node.name in kept:
                costs.append(NodeCost(node.name, node.op_type, 0.0, 1.0, True))
                continue
            path = Path(tmp) / "one.onnx"
            quantize_onnx(fp32_path, calibration, path, spec, only=node.name)
            logits = OnnxModel(path, reference_qdq=spec.target == "tensorrt")(x)
            agreement = float(np.mean(logits.argmax(1) == reference.argmax(1)))
            costs.append(NodeCost(node.name, node.op_type, logit_error(logits, reference), agreement, False))
    return sorted(costs, key=lambda c: -c.relative_error)


def format_report(costs: list[NodeCost], limit: int = 12) -> str:
    """A terminal table of the costliest nodes."""
    rows = [f"{'node':28s} {'op':10s} {'logit err':>9s} {'agree':>7s}  recipe"]
    for c in costs[:limit]:
        what = "kept in float" if c.kept_float else "int8"
        where = f"  ({c.where})" if c.where else ""
        rows.append(f"{c.node:28s} {c.op:10s} {c.relative_error:9.4f} {c.agreement:7.4f}  {what}{where}")
    return "\n".join(rows)


def as_dicts(costs: list[NodeCost]) -> list[dict]:
    return [asdict(c) for c in costs]


@dataclass(frozen=True)
class Attempt:
    """One int8 file of a fallback, measured on training graphs: the nodes it kept in float."""

    kept_float: tuple[str, ...]
    agreement: float
    relative_error: float

    def manifest(self) -> dict:
        return {
            "kept_float": list(self.kept_float),
            "agreement": round(self.agreement, 6),
            "relative_error": round(self.relative_error, 6),
        }


def keep_float_until(
    ranking: list[str],
    first: Attempt,
    attempt: Callable[[tuple[str, ...]], Attempt],
    holds: Callable[[Attempt], bool],
) -> tuple[Attempt, list[Attempt]]:
    """Keep nodes of ``ranking`` (costliest first) in float one at a time until an attempt ``holds``; a
    node whose float form does not lower the logit error without losing agreement is put back (a float
    node between int8 ones can cost more than it saves: the converter then picks scales around it).
    Returns the attempt it ends with (within the bar, or the best one) and every attempt, ``first``
    (nothing kept) included: at most one conversion per node."""
    steps, best = [first], first
    for node in ranking:
        if holds(best):
            break
        step = attempt((*best.kept_float, node))
        steps.append(step)
        if step.relative_error < best.relative_error and step.agreement >= best.agreement:
            best = step
    return best, steps
