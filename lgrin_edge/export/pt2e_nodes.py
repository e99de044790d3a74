"""Selecting the nodes of a PT2E graph that a quantizer annotates: the quantised operations, the module
each computes in, and a quantizer that leaves chosen ones in float (the per-node sensitivity reports and
the full-integer fallback of tflite_static.py and executorch_static.py)."""

from __future__ import annotations

from typing import Any


def selecting(base: Any, keep_float: frozenset[str], only: str | None) -> Any:
    """A quantizer annotating as ``base`` does, less the compute nodes named in ``keep_float`` (or every
    one but ``only``): those compute in float from their int8 neighbours' dequantised outputs."""
    from torchao.quantization.pt2e.quantizer import Quantizer

    class Selected(Quantizer):
        def transform_for_annotation(self, model: Any) -> Any:
            return base.transform_for_annotation(model)

        def annotate(self, model: Any) -> Any:
            model = base.annotate(model)
            dropped = {
                n
                for n in compute_nodes(model)
                if n.name in keep_float or (only is not None and n.name != only)
            }
            drop(model, dropped)
            return model

        def validate(self, model: Any) -> None:
            base.validate(model)

    return Selected()


def drop(graph: Any, dropped: set[Any]) -> None:
    """Remove the annotations of ``dropped``, then of every node whose annotation shares a scale with a
    dropped one (reshapes and concatenations pass their input's scale on), until none refers to one."""
    from torchao.quantization.pt2e.quantizer import SharedQuantizationSpec

    def refers(qspec: object) -> bool:
        if not isinstance(qspec, SharedQuantizationSpec):
            return False
        ends = qspec.edge_or_node if isinstance(qspec.edge_or_node, tuple) else (qspec.edge_or_node,)
        return any(end in dropped for end in ends)

    while True:
        for node in dropped:
            node.meta.pop("quantization_annotation", None)
        more = {
            n
            for n in graph.graph.nodes
            if (a := n.meta.get("quantization_annotation")) is not None
            and (refers(a.output_qspec) or any(refers(q) for q in a.input_qspec_map.values()))
        }
        if not more:
            return
        dropped |= more


def compute_nodes(graph: Any) -> list[Any]:
    """The operations the quantizer gave int8 inputs or outputs (weights and constants are not)."""
    return [n for n in graph.graph.nodes if n.op == "call_function" and "quantization_annotation" in n.meta]


def module_path(node: Any) -> str:
    """The module path a node computes in (``layers.0.1.linears.0``), or the top level."""
    stack = node.meta.get("nn_module_stack") or {}
    return next(reversed(stack.values()))[0] if stack else "top level"
