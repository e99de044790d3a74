"""The static int8 ``.pte``'s per-node sensitivity (``--sensitivity``): what quantising each node of the
``--static-int8`` recipe alone costs, every other node float.

Each node the XNNPACK quantiser annotates (executorch.xnnpack_quantizer, static) is quantised alone with
that recipe's calibration, lowered to a ``.pte`` and run in ExecuTorch's runtime on the training graphs
(the calibration set; never the held-out graphs the export verifies on) against the float module: the
logit error and top-1 agreement it costs (sensitivity.NodeCost). The nodes are chosen as for the
full-integer ``.tflite`` (tflite_static's quantizer that annotates one node of the base recipe); the
report ranks the static recipe, the one with integer activations, whichever recipe the export writes.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lgrin_edge.export.executorch import (
    ExecuTorchError,
    ExecuTorchModel,
    _quiet,
    executorch_status,
    lowerable,
    program_bytes,
    xnnpack_quantizer,
)
from lgrin_edge.export.pt2e_nodes import compute_nodes, module_path, selecting
from lgrin_edge.export.runner import fixed_batch_example
from lgrin_edge.export.sensitivity import NodeCost, as_dicts, logit_error


def candidates(graph: nn.Module, example: torch.Tensor) -> list[tuple[frozenset[str], str, str, str]]:
    """(its nodes, its first node, op, module path) of every unit the static recipe quantises in
    ``graph``, in graph order: a unit that would keep no annotation alone is none (a concatenation
    sharing its inputs' scale drops with them, tflite_static._drop)."""
    exported = torch.export.export(graph, (example,)).module()
    base = xnnpack_quantizer(True)
    with _quiet():  # copying the graph warns about torch's own pytree specs
        annotated = base.annotate(base.transform_for_annotation(copy.deepcopy(exported)))
    every = frozenset(n.name for n in compute_nodes(annotated))
    found = []
    for unit in _units(annotated):
        names = frozenset(n.name for n in unit)
        alone = selecting(base, every - names, None)
        with _quiet():
            kept = compute_nodes(alone.annotate(alone.transform_for_annotation(copy.deepcopy(exported))))
        if kept:
            op = "+".join(str(n.target).split(".")[1] for n in unit)
            found.append((every - names, unit[0].name, op, module_path(unit[0])))
    return found


def _units(annotated: Any) -> list[list[Any]]:
    """The annotated nodes quantised as one: a node whose output the quantiser leaves to its user (a
    linear fused with the relu after it) with that user. Nodes that only pass a neighbour's scale on
    (reshapes, transposes, pools) are no unit: they cost nothing on their own."""
    from torchao.quantization.pt2e.quantizer import SharedQuantizationSpec

    def owns(node: Any) -> bool:
        a = node.meta["quantization_annotation"]
        specs = [a.output_qspec, *a.input_qspec_map.values()]
        return any(s is not None and not isinstance(s, SharedQuantizationSpec) for s in specs)

    units, fused = [], set()
    for node in compute_nodes(annotated):
        if node in fused or not owns(node):
            continue
        unit = [node]
        while unit[-1].meta["quantization_annotation"].output_qspec is None:
            users = [
                u
                for u in unit[-1].users
                if (a := u.meta.get("quantization_annotation")) and unit[-1] not in a.input_qspec_map
            ]
            if len(users) != 1:
                break
            unit.append(users[0])
            fused.add(users[0])
        units.append(unit)
    return units


def _run(content: bytes, x: np.ndarray) -> np.ndarray:
    """Logits of the ``.pte`` ``content`` on ``x`` in ExecuTorch's runtime (one thread)."""
    with tempfile.TemporaryDirectory(prefix="lgrin-pte-") as tmp:
        path = Path(tmp) / "model.pte"
        path.write_bytes(content)
        return ExecuTorchModel(path)(x)


def node_costs(module: nn.Module, calibration: np.ndarray, batch: int = 1) -> list[NodeCost]:
    """Each node of the static recipe quantised alone (every other node float), lowered with a fixed
    ``batch`` and run in ExecuTorch on ``calibration`` (training graphs) against ``module``; worst first."""
    ok, why = executorch_status()
    if not ok:
        raise ExecuTorchError(why)
    calibration = np.asarray(calibration, np.float32)
    graph = lowerable(module)
    with torch.no_grad():
        reference = module.eval()(torch.from_numpy(calibration)).numpy()
    base: Any = xnnpack_quantizer(True)
    costs = []
    for others, name, op, where in candidates(graph, fixed_batch_example(calibration, batch)):
        try:
            content, _ = program_bytes(graph, calibration, batch, selecting(base, others, None))
        except Exception as exc:
            msg = f"lowering with only {name} in int8 failed: {type(exc).__name__}: {exc}"
            raise ExecuTorchError(msg) from exc
        logits = _run(content, calibration)
        agreement = float(np.mean(logits.argmax(1) == reference.argmax(1)))
        costs.append(NodeCost(name, op, logit_error(logits, reference), agreement, False, where))
    return sorted(costs, key=lambda c: -c.relative_error)


def static_sensitivity(module: nn.Module, calibration: np.ndarray, batch: int = 1) -> list[dict]:
    """:func:`node_costs` as manifest rows (sensitivity_executorch.json)."""
    return as_dicts(node_costs(module, calibration, int(batch)))
