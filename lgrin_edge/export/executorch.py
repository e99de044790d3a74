"""ExecuTorch target: fp32 and int8 ``.pte`` programs for PyTorch's edge runtime, XNNPACK delegate.

The folded L-GrIN is lowered as :class:`XnnpackLGrIN`, the same arithmetic written in operators XNNPACK
implements, so the whole program runs in one delegated subgraph. Lowered as written, four operators
have no XNNPACK kernel and fall back to ExecuTorch's portable ones: the 1-hop max pool's gather
(``index``) and ``amax``, the 3-D ``mean`` and the 1-D ``pool_p @ H`` (``sum``); the delegate then splits
into four subgraphs with conversions at every cut, and ran 2-8x slower than eager PyTorch. Rewritten:

- ``relu(A) @ H`` is ``linear(H^T, relu(A))^T``;
- the 1-hop max pool is a ``linear`` of H^T with a constant 0/1 selection matrix (K*M, M) that gathers the
  K neighbours of every node, then ``max_pool2d`` over K (in int8 the 0/1 weights are exact);
- the readout's max is ``max_pool2d`` over the nodes, and [p-weighted sum | mean] one ``linear`` with the
  rows [p; 1/M].

int8 (the default) is dynamic: every linear holds int8 weights (per output channel, error-compensated
rounding, compress/rounding.py) and XNNPACK quantises its input per row at run time, as the TFLite
target does; ``static=True`` gives static per-tensor int8 activations (the XNNPACK quantiser's PT2E
recipe), calibrated on training graphs. Baselines are lowered as they are (no rewrite).

The program has a fixed batch (the example's); :class:`ExecuTorchModel` runs any batch in chunks.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lgrin_edge.atomic import write_bytes
from lgrin_edge.compress.fold import DeployLGrIN
from lgrin_edge.export.errors import ExportError
from lgrin_edge.export.runner import Runner, check_export_request, fixed_batch_example, package_version
from lgrin_edge.optional import installed, missing

# The native runtime is built against one libtorch; nothing checks the match at import.
TESTED_VERSION = "1.5.1"


class ExecuTorchError(ExportError):
    """Lowering to ExecuTorch failed or its toolchain is missing."""


def executorch_status() -> tuple[bool, str]:
    """Whether ``.pte`` files can be made and run here, and a one-line reason or tool summary."""
    if not installed("executorch"):  # metadata alone can outlive a removed or shadowed package
        return False, missing("executorch")
    version = package_version("executorch") or "unknown"
    try:
        with _quiet():
            from executorch.runtime import Runtime

            backends = Runtime.get().backend_registry.registered_backend_names
    except Exception as exc:  # its native extension can fail against another torch build
        cause = exc.__cause__ or exc
        line = f"{type(cause).__name__}: {cause}".splitlines()[0]
        return False, f"executorch {version} does not load here: {line}"
    if "XnnpackBackend" not in backends:
        return False, f"executorch {version} has no XNNPACK backend in this build"
    return True, f"executorch {version} (XNNPACK), torch {torch.__version__}"


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """ExecuTorch's lowering warns about deprecated pytree calls dozens of times; none concern the user."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        previous = logging.root.manager.disable
        logging.disable(logging.WARNING)
        try:
            yield
        finally:
            logging.disable(previous)


class XnnpackLGrIN(nn.Module):
    """DeployLGrIN in XNNPACK's operators (module docstring); same weights, same outputs in fp32."""

    def __init__(self, deploy: DeployLGrIN) -> None:
        super().__init__()
        if deploy.pooling not in ("learned", "max", "mean"):
            raise ExecuTorchError(f"pooling {deploy.pooling!r} has no XNNPACK form")
        m = deploy.adj.shape[0]
        self.pooling, self.inception, self.nodes = deploy.pooling, deploy.inception, m
        self.register_buffer("in_scale", deploy.in_scale.clone())
        self.register_buffer("in_shift", deploy.in_shift.clone())
        self.register_buffer("adj", deploy.adj.clone())
        nbr = deploy.nbr.long()
        self.neighbours = nbr.shape[1]
        select = torch.zeros(self.neighbours * m, m)  # row k*M + i picks node nbr[i, k]
        for k in range(self.neighbours):
            select[torch.arange(m) + k * m, nbr[:, k]] = 1.0
        self.register_buffer("select", select)
        rows = [deploy.pool_p.reshape(1, m)] if self.pooling == "learned" else []
        if self.pooling in ("learned", "mean"):
            rows.append(torch.full((1, m), 1.0 / m))
        self.register_buffer("weighted", torch.cat(rows) if rows else torch.zeros(0, m))
        self.layers = deploy.layers
        self.classifier = deploy.classifier
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, m = x.shape[0], self.nodes
        h = x * self.in_scale + self.in_shift
        for branches in self.layers:
            ht = h.transpose(1, 2)  # (B, F, M)
            ah = F.linear(ht, self.adj).transpose(1, 2)  # relu(A) @ H
            outs = [br(ah) for br in branches]
            if self.inception:
                f = ht.shape[1]
                gathered = F.linear(ht, self.select).reshape(b, f, self.neighbours, m)
                outs.append(F.max_pool2d(gathered, (self.neighbours, 1)).reshape(b, f, m).transpose(1, 2))
            h = torch.cat(outs, dim=-1)
        ht = h.transpose(1, 2)
        f = ht.shape[1]
        parts = []
        if self.pooling in ("learned", "max"):
            parts.append(F.max_pool2d(ht.reshape(b, f, 1, m), (1, m)).reshape(b, f))
        if len(self.weighted):
            # (B, F, R) -> (B, R*F): [p-weighted sum | mean], the order DeployLGrIN concatenates
            parts.append(F.linear(ht, self.weighted).transpose(1, 2).reshape(b, -1))
        return self.classifier(torch.cat(parts, dim=-1) if len(parts) > 1 else parts[0])


def export_executorch(
    module: nn.Module,
    calibration: np.ndarray,
    out: str | Path,
    precision: str,
    batch: int = 1,
    static: bool = False,
) -> dict:
    """Lower ``module`` ((B, M, P) -> (B, C)) to a ``.pte`` with a fixed batch, XNNPACK-delegated.

    ``precision`` "fp32" or "int8" (dynamic, or with ``static`` calibrated per-tensor activations);
    ``calibration`` (N, M, P) raw training graphs. The file at ``out`` is replaced atomically. Returns
    facts for the manifest, among them which operators XNNPACK runs and which run on portable kernels.
    """
    check_export_request(precision, batch)
    ok, why = executorch_status()
    if not ok:
        raise ExecuTorchError(why)
    calibration = np.asarray(calibration, np.float32)
    graph = XnnpackLGrIN(module) if isinstance(module, DeployLGrIN) else module.eval()
    example = (fixed_batch_example(calibration, int(batch)),)
    with _quiet():
        from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
        from executorch.devtools.backend_debug import get_delegation_info
        from executorch.exir import to_edge_transform_and_lower

        try:
            program = torch.export.export(graph, example)
            if precision == "int8":
                program = _quantised(program, calibration, int(batch), static)
            edge = to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()])
            info = get_delegation_info(edge.exported_program().graph_module)
            buffer = edge.to_executorch().buffer
        except Exception as exc:
            raise ExecuTorchError(f"lowering to ExecuTorch failed: {type(exc).__name__}: {exc}") from exc
    write_bytes(Path(out), bytes(buffer))
    delegated, portable = {}, {}
    for row in info.get_operator_delegation_dataframe().itertuples():
        if row.op_type == "Total":
            continue
        if row.occurrences_in_delegated_graphs:
            delegated[row.op_type] = int(row.occurrences_in_delegated_graphs)
        if row.occurrences_in_non_delegated_graphs:
            portable[row.op_type] = int(row.occurrences_in_non_delegated_graphs)
    facts = {
        "tool": f"executorch {package_version('executorch')}, XNNPACK partitioner",
        "batch": int(batch),
        "graph": type(graph).__name__,
        "delegated_subgraphs": int(info.num_delegated_subgraphs),
        "delegated_ops": delegated,
        "portable_ops": portable,
    }
    if precision == "int8":
        facts["int8"] = "static per-tensor activations" if static else "dynamic per-row activations"
    return facts


def _quantised(
    program: torch.export.ExportedProgram, calibration: np.ndarray, batch: int, static: bool
) -> torch.export.ExportedProgram:
    """PT2E int8 of ``program`` with the XNNPACK quantiser: per-channel symmetric weights, activations
    quantised per row at run time (dynamic) or per tensor from the calibration graphs (static)."""
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    config = get_symmetric_quantization_config(is_per_channel=True, is_dynamic=not static)
    prepared = prepare_pt2e(program.module(), XNNPACKQuantizer().set_global(config))
    with torch.no_grad():
        for start in range(0, len(calibration), batch):
            prepared(fixed_batch_example(calibration[start:], batch))
    converted = convert_pt2e(prepared)
    return torch.export.export(converted, (fixed_batch_example(calibration, batch),))


def add_named_data(path: Path, key: str, data: bytes) -> None:
    """Add ``data`` to the program's named data under ``key``: a ``Program.named_data`` entry and a
    segment of the file, which the runtime returns by key (``Program::get_named_data_map()``, then
    ``get_data(key)``). The file is read and written by ExecuTorch's own serialiser, once checked to give
    back its exact bytes without the addition, so nothing but the new entry and segment changes."""
    with _quiet():
        from executorch.exir._serialize._named_data_store import NamedDataStoreOutput
        from executorch.exir._serialize._program import deserialize_pte_binary, serialize_pte_binary
        from executorch.exir._serialize.data_serializer import DataEntry

    def serialise(pte: object) -> bytes:
        return bytes(serialize_pte_binary(pte, extract_delegate_segments=True))

    original = path.read_bytes()
    pte = deserialize_pte_binary(original)
    if serialise(pte) != original:
        raise ExecuTorchError(f"{path}: ExecuTorch's serialiser does not reproduce the file; not changed")
    named = pte.named_data or NamedDataStoreOutput(buffers=[], pte_data={}, external_data={})
    if key in named.pte_data:
        raise ExecuTorchError(f"{path} already holds named data {key!r}")
    named.buffers.append(data)
    named.pte_data[key] = DataEntry(buffer_index=len(named.buffers) - 1, alignment=1, tensor_layout=None)
    pte.named_data = named
    write_bytes(path, serialise(pte))


class ExecuTorchModel(Runner):
    """A ``.pte`` classifier run in ExecuTorch's runtime: (B, M, P) float32 in, (B, C) logits out."""

    def __init__(self, path: str | Path, num_threads: int = 1) -> None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no ExecuTorch program at {path}")
        ok, why = executorch_status()
        if not ok:
            raise ExecuTorchError(why)
        from executorch.extension.pybindings.portable_lib import _unsafe_reset_threadpool
        from executorch.runtime import Runtime

        # XNNPACK's thread pool is one per process: the most recent runner's count applies.
        _unsafe_reset_threadpool(int(num_threads))
        try:
            self._method = Runtime.get().load_program(path).load_method("forward")
        except Exception as exc:
            raise ValueError(f"{path} is not a loadable ExecuTorch program: {exc}") from exc
        meta = self._method.metadata
        if meta.num_inputs() != 1 or meta.num_outputs() != 1:
            raise ValueError(f"{path}: expected one input and one output")
        shape_in = tuple(meta.input_tensor_meta(0).sizes())
        shape_out = tuple(meta.output_tensor_meta(0).sizes())
        if len(shape_in) != 3 or len(shape_out) != 2 or shape_in[0] != shape_out[0]:
            raise ValueError(f"{path}: expected (B, M, P) -> (B, C), found {shape_in} -> {shape_out}")
        self.batch, self.input_shape, self.num_classes = shape_in[0], shape_in[1:], shape_out[1]

    def _invoke(self, chunk: np.ndarray) -> np.ndarray:
        return self._method.execute((torch.from_numpy(chunk),))[0].numpy().astype(np.float32)
