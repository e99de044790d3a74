"""ExecuTorch target: fp32 and int8 ``.pte`` programs for PyTorch's edge runtime, XNNPACK delegate.

The folded L-GrIN is lowered as :class:`~lgrin_edge.deploy.xnnpack.XnnpackLGrIN`, the same arithmetic
written in operators XNNPACK implements, so the whole program runs in one delegated subgraph.

int8 (the default) is dynamic: every linear holds int8 weights (per output channel, error-compensated
rounding, compress/rounding.py) and XNNPACK quantises its input per row at run time, as the TFLite
target does; a static QuantSpec (``static=True``, ``--static-int8``) gives static per-tensor int8
activations (the XNNPACK quantiser's PT2E recipe, histogram observers), calibrated on training graphs.
Baselines are lowered as they are (no rewrite).

The program has a fixed batch (the example's); :class:`ExecuTorchModel` runs any batch in chunks.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lgrin_edge.atomic import write_bytes
from lgrin_edge.compress.fold import DeployLGrIN
from lgrin_edge.deploy.xnnpack import XnnpackLGrIN
from lgrin_edge.export.errors import ExportError
from lgrin_edge.export.quant_spec import Activations, Calibration, QuantSpec, conversion, given_or_chosen
from lgrin_edge.export.runner import Runner, check_export_request, fixed_batch_example, package_version
from lgrin_edge.optional import installed, missing

# The native runtime is built against one libtorch; nothing checks the match at import.
TESTED_VERSION = "1.5.1"


# The XNNPACK quantiser's int8 weights (quant_spec.HONOURS: the only width this exporter makes).
_WEIGHT_BITS = 8


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


def export_executorch(
    module: nn.Module,
    calibration: np.ndarray,
    out: str | Path,
    precision: str,
    batch: int = 1,
    spec: QuantSpec | None = None,
    *,
    static: bool = False,
) -> dict:
    """Lower ``module`` ((B, M, P) -> (B, C)) to a ``.pte`` with a fixed batch, XNNPACK-delegated.

    ``precision`` "fp32" or "int8" with the executorch recipe ``spec`` (without it
    ``spec_for("executorch", static)``): dynamic, or static calibrated per-tensor activations;
    ``calibration`` (N, M, P) raw training graphs. The file at ``out`` is replaced atomically. Returns
    facts for the manifest, among them which operators XNNPACK runs and which run on portable kernels,
    and what int8 did (``recipe``).
    """
    check_export_request(precision, batch)
    spec = given_or_chosen("executorch", spec, static) if precision == "int8" else None
    static = spec is not None and spec.activations is Activations.STATIC
    ok, why = executorch_status()
    if not ok:
        raise ExecuTorchError(why)
    calibration = np.asarray(calibration, np.float32)
    graph = lowerable(module)
    try:
        quantizer = None if spec is None else xnnpack_quantizer(static)
        buffer, info = program_bytes(graph, calibration, int(batch), quantizer)
    except Exception as exc:
        raise ExecuTorchError(f"lowering to ExecuTorch failed: {type(exc).__name__}: {exc}") from exc
    write_bytes(Path(out), buffer)
    facts = {
        "tool": f"executorch {package_version('executorch')}, XNNPACK partitioner",
        "batch": int(batch),
        "graph": type(graph).__name__,
        **_delegation(info),
    }
    if spec is not None:
        facts["int8"] = "static per-tensor activations" if static else "dynamic per-row activations"
        calibrated = Calibration.HISTOGRAM if static else Calibration.NONE
        facts["recipe"] = conversion(spec.activations, calibrated, _WEIGHT_BITS)
    return facts


def _delegation(info: object) -> dict:
    """How many subgraphs XNNPACK runs, and each operator's count inside them and outside (portable)."""
    delegated, portable = {}, {}
    for row in info.get_operator_delegation_dataframe().itertuples():
        if row.op_type == "Total":
            continue
        if row.occurrences_in_delegated_graphs:
            delegated[row.op_type] = int(row.occurrences_in_delegated_graphs)
        if row.occurrences_in_non_delegated_graphs:
            portable[row.op_type] = int(row.occurrences_in_non_delegated_graphs)
    return {
        "delegated_subgraphs": int(info.num_delegated_subgraphs),
        "delegated_ops": delegated,
        "portable_ops": portable,
    }


def lowerable(module: nn.Module) -> nn.Module:
    """The graph lowered for ``module``: a folded L-GrIN's XNNPACK form, a baseline as it is."""
    return XnnpackLGrIN(module.folded()) if isinstance(module, DeployLGrIN) else module.eval()


def xnnpack_quantizer(static: bool) -> Any:
    """The XNNPACK quantiser of the int8 recipes: per-channel symmetric weights, activations quantised
    per row at run time (dynamic) or per tensor from the calibration graphs (static)."""
    with _quiet():
        from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
            XNNPACKQuantizer,
            get_symmetric_quantization_config,
        )

    config = get_symmetric_quantization_config(is_per_channel=True, is_dynamic=not static)
    return XNNPACKQuantizer().set_global(config)


def program_bytes(
    graph: nn.Module, calibration: np.ndarray, batch: int, quantizer: Any = None
) -> tuple[bytes, object]:
    """The ``.pte`` bytes of ``graph`` with a fixed ``batch``, XNNPACK-delegated, PT2E-quantised by
    ``quantizer`` on ``calibration`` where one is given; and ExecuTorch's delegation info."""
    with _quiet():
        from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
        from executorch.devtools.backend_debug import get_delegation_info
        from executorch.exir import to_edge_transform_and_lower

        program = torch.export.export(graph, (fixed_batch_example(calibration, batch),))
        if quantizer is not None:
            program = _quantised(program, calibration, batch, quantizer)
        edge = to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()])
        info = get_delegation_info(edge.exported_program().graph_module)
        return bytes(edge.to_executorch().buffer), info


def _quantised(
    program: torch.export.ExportedProgram, calibration: np.ndarray, batch: int, quantizer: Any
) -> torch.export.ExportedProgram:
    """``program`` PT2E-quantised by ``quantizer``, its observers run over every calibration graph."""
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    prepared = prepare_pt2e(program.module(), quantizer)
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
