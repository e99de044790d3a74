"""The full-integer ``.tflite`` (``--static-int8``): PT2E static quantisation converted by litert-torch, its
per-node int8 sensitivity, and the fallback that first re-calibrates and then keeps the costliest nodes in
float when the file misses its bar on the training graphs.

Every int8 file is first made full integer (tflite.py's module docstring has the recipe). It is then run
in LiteRT on the training graphs (the calibration set; never the held-out graphs the export verifies
on) against the float module: where the top-1 agreement drops more than ``max_drop`` or the logit error
exceeds ``max_error`` (:data:`STATIC_BAR`), the file is made again with min-max activation ranges
(:data:`RECALIBRATIONS`; the histogram observer clips the rare large activations a flipped graph can hinge
on, min-max keeps them), which stays full integer. Where that misses the bar too, each quantised node's
cost alone is measured (every other node float) and the costliest nodes are kept in float one at a time,
with int8 weights, those that help staying, until the file is within the bar
(sensitivity.keep_float_until). Such a file keeps int8 input and output, but it is no longer full
integer: integer-only NPUs cannot run its float nodes.
Quantisation-aware fine-tuning (``tune``, qat.py) comes first: its weights replace the module's only
where their file is closer to the float module on the training graphs, and the fallback starts from
whichever file that leaves.

16-bit activations (TFLite's 16x8 mode) would be the narrower remedy, but litert-torch's converter
(0.x) does not make them from a PT2E graph: a 16-bit concatenation fails its same-scale check against
its int8 inputs, and a 16-bit classifier converts into a FULLY_CONNECTED that computes nonsense
(training-graph agreement 0.26 on a BasicMotions model). Float is the widening that converts correctly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from lgrin_edge.export.pt2e_nodes import compute_nodes, module_path, selecting
from lgrin_edge.export.quant_spec import Calibration
from lgrin_edge.export.sensitivity import Attempt, NodeCost, keep_float_until, logit_error
from lgrin_edge.export.tolerances import VERIFY

# Calibration runs in chunks this large when the graph exports with a dynamic batch. The chunking changes
# the histogram observers' bins, so it is a constant: the same data must always give the same file.
CALIBRATION_CHUNK = 64

# bytes of a .tflite, (N, M, P) float32 graphs -> (N, C) logits (the LiteRT interpreter).
RunBytes = Callable[[bytes, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class StaticBar:
    """When a full-integer file is good enough, judged on the training graphs against the float module."""

    max_drop: float  # largest top-1 agreement drop from 1.0
    max_error: float  # largest relative logit error (sensitivity.logit_error)

    def holds(self, attempt: Attempt) -> bool:
        return attempt.agreement >= 1.0 - self.max_drop and attempt.relative_error <= self.max_error


# The verification bar's agreement drop (99%), and a logit error at which the held-out agreement is no
# longer at risk. Measured on training graphs (docs/quantisation.md, "Full integer: the fallback"): files
# that verified on every held-out graph had 6-50% here, so a bound below that would send models that
# verify into the fallback; 0.5 is where one flip in a handful of held-out graphs became likely.
STATIC_BAR = StaticBar(max_drop=1.0 - VERIFY["int8"]["min_agreement"], max_error=0.5)


def capture(module: nn.Module, calibration: np.ndarray, example: torch.Tensor) -> tuple[Any, int]:
    """The strict ``torch.export`` graph of ``module`` and the chunk its calibration runs in."""
    try:
        # A dynamic batch lets calibration run in large chunks (several times faster); an example of 2
        # keeps torch.export from specialising the dimension to 1.
        graph = torch.export.export(
            module,
            (torch.from_numpy(calibration[np.arange(2) % len(calibration)].copy()),),
            dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=1 << 16)},),
            strict=True,
        ).module()
        return graph, CALIBRATION_CHUNK
    except Exception:
        # Some graphs only export with the fixed batch; calibrate in chunks of that batch instead.
        return torch.export.export(module, (example,), strict=True).module(), example.shape[0]


# The fallback's integer rungs: activation observers tried, in order, after the recipe's histogram and
# before any node is widened to float.
RECALIBRATIONS = (Calibration.MIN_MAX,)


def base_quantizer(observer: Calibration = Calibration.HISTOGRAM) -> Any:
    """litert-torch's symmetric per-channel int8 quantizer, its activations observed by ``observer``
    (histogram: litert-torch's own choice; min-max: the full observed range)."""
    from litert_torch.quantize import pt2e_quantizer

    config = pt2e_quantizer.get_symmetric_quantization_config(is_per_channel=True)
    if observer == Calibration.MIN_MAX:
        from dataclasses import replace

        from torchao.quantization.pt2e.observer import MinMaxObserver

        # The same spec (int8, per tensor, affine, eps) with another observer.
        minmax = MinMaxObserver.with_args(eps=2**-12)
        spec = replace(config.input_activation, observer_or_fake_quant_ctr=minmax)
        config = replace(config, input_activation=spec, output_activation=spec)
    elif observer != Calibration.HISTOGRAM:
        raise ValueError(f"no full-integer recipe observes activations by {observer}")
    return pt2e_quantizer.PT2EQuantizer().set_global(config)


def annotated(module: nn.Module, calibration: np.ndarray, example: torch.Tensor) -> Any:
    """The graph of ``module`` as the full-integer recipe annotates it (observers in place, not run): what
    :func:`edge_nodes` and :func:`candidates` read."""
    from torchao.quantization.pt2e import quantize_pt2e

    graph, _ = capture(module, calibration, example)
    return quantize_pt2e.prepare_pt2e(graph, base_quantizer())


def edge_nodes(graph: Any, example: torch.Tensor) -> set[str]:
    """The quantised nodes of an :func:`annotated` graph next to the file's input or output (through
    unquantised ones): kept float, they would make the file's input or output float, the contract
    TFLite Micro and NPUs rely on."""
    compute = {n.name for n in compute_nodes(graph)}
    # The graph input, not the buffers (neighbour tables, A) that torch.export also makes placeholders.
    inputs = [n for n in graph.graph.nodes if n.op == "placeholder" and _is_input(n, example)]
    outputs = [n for n in graph.graph.nodes if n.op == "output"]
    found: set[str] = set()
    for starts, step in ((inputs, lambda n: list(n.users)), (outputs, lambda n: n.all_input_nodes)):
        todo = [m for n in starts for m in step(n)]
        while todo:
            node = todo.pop()
            if node.name in compute:
                found.add(node.name)
            elif _carries_values(node):  # not the batch size and the shapes made from it
                todo.extend(step(node))
    return found


def _carries_values(node: Any) -> bool:
    """Whether ``node`` passes float values on: observers (no recorded value) and float tensors do."""
    val = node.meta.get("val")
    return val is None or (isinstance(val, torch.Tensor) and val.is_floating_point())


def _is_input(node: Any, example: torch.Tensor) -> bool:
    val = node.meta.get("val")
    return isinstance(val, torch.Tensor) and val.dtype == example.dtype and val.shape[1:] == example.shape[1:]


def candidates(graph: Any) -> list[tuple[str, str, str]]:
    """(node, op, module path) of every node of an :func:`annotated` graph that the full-integer recipe
    quantises, in graph order."""
    return [(n.name, str(n.target).split(".")[1], module_path(n)) for n in compute_nodes(graph)]


def calibrated(
    module: nn.Module,
    calibration: np.ndarray,
    example: torch.Tensor,
    keep_float: frozenset[str] = frozenset(),
    only: str | None = None,
    observer: Calibration = Calibration.HISTOGRAM,
) -> tuple[Any, Any]:
    """PT2E-quantised graph of ``module`` calibrated on ``calibration`` by ``observer``, and the quantizer
    the converter is configured with; ``keep_float`` / ``only`` as in :func:`pt2e_nodes.selecting`
    (neither: the whole recipe)."""
    from torchao.quantization.pt2e import quantize_pt2e

    graph, chunk = capture(module, calibration, example)
    base = base_quantizer(observer)
    selected = base if not keep_float and only is None else selecting(base, keep_float, only)
    graph = quantize_pt2e.prepare_pt2e(graph, selected)
    observe(graph, calibration, chunk, example)
    return quantize_pt2e.convert_pt2e(graph, fold_quantize=False), base


def observe(graph: Any, calibration: np.ndarray, chunk: int, example: torch.Tensor) -> None:
    """Run the prepared ``graph`` over ``calibration`` in chunks of ``chunk`` (:func:`capture`), so that
    its observers see every training graph."""
    with torch.no_grad():
        for start in range(0, len(calibration), chunk):
            part = calibration[start : start + chunk]
            if len(part) < chunk and chunk == example.shape[0]:
                part = calibration[(start + np.arange(chunk)) % len(calibration)]
            graph(torch.from_numpy(np.ascontiguousarray(part)))


def convert(
    module: nn.Module,
    calibration: np.ndarray,
    example: torch.Tensor,
    keep_float: frozenset[str] = frozenset(),
    only: str | None = None,
    observer: Calibration = Calibration.HISTOGRAM,
) -> bytes:
    """The ``.tflite`` bytes of :func:`calibrated`'s graph (litert-torch)."""
    import litert_torch
    from litert_torch.quantize.quant_config import QuantConfig

    graph, base = calibrated(module, calibration, example, keep_float, only, observer)
    return litert_torch.convert(
        graph, (example,), quant_config=QuantConfig(pt2e_quantizer=base)
    ).model_content()


_NEVER_FLOAT = ("cat",)


def _measured(content: bytes, run: RunBytes, x: np.ndarray, reference: np.ndarray, kept: tuple) -> Attempt:
    logits = run(content, x)
    agreement = float(np.mean(logits.argmax(1) == reference.argmax(1)))
    return Attempt(tuple(kept), agreement, logit_error(logits, reference))


def node_costs(
    module: nn.Module,
    calibration: np.ndarray,
    example: torch.Tensor,
    run: RunBytes,
    reference: np.ndarray | None = None,
    graph: Any = None,
) -> list[NodeCost]:
    """Each quantised node's cost alone (every other node float), on the training graphs, worst first;
    measured against ``reference`` logits (default: ``module``'s own); ``graph``: ``module``'s
    :func:`annotated` graph where the caller has it."""
    if reference is None:
        with torch.no_grad():
            reference = module(torch.from_numpy(calibration)).numpy()
    if graph is None:
        graph = annotated(module, calibration, example)
    costs = []
    for name, op, where in candidates(graph):
        cost = _measured(convert(module, calibration, example, only=name), run, calibration, reference, ())
        costs.append(NodeCost(name, op, cost.relative_error, cost.agreement, False, where))
    return sorted(costs, key=lambda c: -c.relative_error)


# module -> (a copy with fine-tuned weights, the manifest's record of the fine-tuning): qat.fine_tuned.
Tune = Callable[[nn.Module], tuple[nn.Module, dict]]


def full_integer(
    module: nn.Module,
    calibration: np.ndarray,
    example: torch.Tensor,
    run: RunBytes,
    bar: StaticBar = STATIC_BAR,
    tune: Tune | None = None,
) -> tuple[bytes, dict | None, dict | None]:
    """The full-integer ``.tflite`` of ``module``, or where it misses ``bar`` on the training graphs the
    file the fallback ends with; the fallback's record for the manifest (None: it was not needed); and,
    with ``tune``, the fine-tuning's record (:func:`_tuned_or_not`: which weights the file starts from)."""
    with torch.no_grad():
        reference = module(torch.from_numpy(calibration)).numpy()
    content = convert(module, calibration, example)
    first = _measured(content, run, calibration, reference, ())
    tuning = None
    data = (calibration, example, run, reference)
    if tune is not None:
        module, content, first, tuning = _tuned_or_not(module, tune, data, (content, first), bar)
    if bar.holds(first):
        return content, None, tuning
    record = {
        "why": f"the full-integer file missed the bar on {len(calibration)} training graphs",
        "bar": {"max_agreement_drop": bar.max_drop, "max_relative_logit_error": bar.max_error},
    }
    tried = [{"calibration": str(Calibration.HISTOGRAM), **first.manifest()}]
    for observer in RECALIBRATIONS:
        again = convert(module, calibration, example, observer=observer)
        measured = _measured(again, run, calibration, reference, ())
        tried.append({"calibration": str(observer), **measured.manifest()})
        if bar.holds(measured):
            integer = {"calibration": str(observer), "calibrations": tried, "steps": [], "kept_float": []}
            return again, record | integer | {"within_bar": True, "full_integer": True, "ranking": []}, tuning
    content, record = _float_nodes(module, data, (content, first), bar, record)
    return content, record | {"calibrations": tried}, tuning


def _float_nodes(
    module: nn.Module, data: tuple, start: tuple[bytes, Attempt], bar: StaticBar, record: dict
) -> tuple[bytes, dict]:
    """The fallback's float rung: the file that keeps the costliest nodes of ``module`` in float until it
    is within ``bar`` (or the closest one), from the histogram-calibrated file ``start``; and ``record``
    completed. ``data``: (calibration, example, run, reference)."""
    calibration, example, run, reference = data
    # A concatenation kept in float leaves its int8 inputs' scales to the converter, which clips them
    # (measured: training-graph logit error 0.22 -> 1.54); it stays int8, its inputs may widen. The
    # nodes at the file's edges stay int8 so that its input and output do.
    graph = annotated(module, calibration, example)
    edges = edge_nodes(graph, example)
    costs = [
        c
        for c in node_costs(module, calibration, example, run, reference, graph)
        if c.op not in _NEVER_FLOAT and c.node not in edges
    ]
    files: dict[tuple, bytes] = {(): start[0]}

    def attempt(kept: tuple[str, ...]) -> Attempt:
        files[kept] = convert(module, calibration, example, keep_float=frozenset(kept))
        return _measured(files[kept], run, calibration, reference, kept)

    final, steps = keep_float_until([c.node for c in costs], start[1], attempt, bar.holds)
    where = {c.node: c.where for c in costs}
    return files[final.kept_float], record | {
        "calibration": str(Calibration.HISTOGRAM),
        "steps": [s.manifest() for s in steps],
        "kept_float": [{"node": n, "module": where[n]} for n in final.kept_float],
        "within_bar": bar.holds(final),
        "full_integer": not final.kept_float,
        "ranking": [c.node for c in costs],
    }


def _tuned_or_not(
    module: nn.Module, tune: Tune, data: tuple, plain: tuple[bytes, Attempt], bar: StaticBar
) -> tuple[nn.Module, bytes, Attempt, dict]:
    """The module, file and training-graph measurement the recipe goes on with: the fine-tuned weights'
    where their file is within ``bar`` and the post-training file ``plain`` is not, or where both are on
    the same side of it and the fine-tuned one has a lower logit error without losing agreement;
    otherwise the post-training ones; and the fine-tuning's record saying which.
    ``data``: (calibration, example, run, reference)."""
    calibration, example, run, reference = data
    tuned, record = tune(module)
    content = convert(tuned, calibration, example)
    attempt = _measured(content, run, calibration, reference, ())
    if bar.holds(attempt) != bar.holds(plain[1]):
        better = bar.holds(attempt)  # a full-integer file within the bar beats a closer one that is not
    else:
        better = attempt.relative_error < plain[1].relative_error and attempt.agreement >= plain[1].agreement

    def facts(a: Attempt) -> dict:
        return {"agreement": round(a.agreement, 6), "relative_logit_error": round(a.relative_error, 6)}

    record = {
        **record,
        "training_graphs": len(calibration),
        "post_training": facts(plain[1]),
        "fine_tuned": facts(attempt),
        "kept": "fine-tuned" if better else "post-training (the fine-tuned file was not better)",
    }
    return (tuned, content, attempt, record) if better else (module, *plain, record)
