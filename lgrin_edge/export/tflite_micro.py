"""TensorFlow Lite Micro as a second verifier of the full-integer ``.tflite`` (``--static-int8``).

Microcontroller firmware runs the file in TFLite Micro, whose kernels and memory planner differ from
LiteRT's. Here its Python interpreter (pip ``tflite-micro``) runs the verified int8 file on the held-out
graphs, the smallest tensor arena it needs is found by bisection, and the operators a firmware must
register are read from the file; ``model_int8_tflm.h`` beside the model holds both as C++
(``MicroMutableOpResolver`` and the arena size). The default int8 file is dynamic range (float
activations, int8 weights), which TFLite Micro does not run; the check says so and names
``--static-int8``. A full-integer file whose fallback kept nodes in float (int8 input and output; its
manifest entry's ``fallback``) is run too, on TFLite Micro's float kernels, and recorded as not full
integer.

The arena is measured by this host build (64-bit pointers): a 32-bit microcontroller build needs about
as much or a little less.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from lgrin_edge.atomic import file_sha256, write_bytes
from lgrin_edge.export.runner import Runner, dequantise_affine, package_version, quantise_affine
from lgrin_edge.export.verify import EntryId, compare
from lgrin_edge.optional import installed, missing

# MicroMutableOpResolver method names that are not the CamelCase of the builtin operator's name.
_RESOLVER_NAMES = {"BATCH_MATMUL": "BatchMatMul"}
_MAX_ARENA = 64 << 20


def tflm_status() -> tuple[bool, str]:
    """Whether TFLite Micro's Python interpreter is installed, and a one-line reason or its version."""
    if not installed("tflite_micro"):
        return False, missing("tflite_micro")
    return True, f"tflite-micro {package_version('tflite-micro') or 'unknown'}"


def _schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    return schema


def model_facts(data: bytes) -> tuple[list[str], list[str]]:
    """(builtin operator names used, names of the float32 tensors) of a ``.tflite`` flatbuffer (read with
    tflite-micro's schema: ask :func:`tflm_status` first)."""
    schema = _schema()
    model = schema.Model.GetRootAsModel(data, 0)
    op_name = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    codes = []
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        codes.append(op_name[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())])
    ops, floats = set(), []
    for g in range(model.SubgraphsLength()):
        graph = model.Subgraphs(g)
        ops |= {codes[graph.Operators(i).OpcodeIndex()] for i in range(graph.OperatorsLength())}
        floats += [
            graph.Tensors(i).Name().decode()
            for i in range(graph.TensorsLength())
            if graph.Tensors(i).Type() == schema.TensorType.FLOAT32
        ]
    return sorted(ops), floats


def integer_input(data: bytes) -> bool:
    """Whether the ``.tflite`` flatbuffer's (first subgraph's) input is int8: a full-integer recipe's
    file, even where its fallback kept some nodes in float."""
    schema = _schema()
    graph = schema.Model.GetRootAsModel(data, 0).Subgraphs(0)
    return graph.Tensors(graph.Inputs(0)).Type() == schema.TensorType.INT8


class TFLMModel(Runner):
    """A full-integer ``.tflite`` run in TFLite Micro's interpreter: (B, M, P) float32 -> (B, C) logits."""

    def __init__(self, data: bytes, arena_bytes: int) -> None:
        from tflite_micro.python.tflite_micro import runtime

        self._interpreter = runtime.Interpreter.from_bytes(data, arena_size=int(arena_bytes))
        self._in, self._out = self._interpreter.get_input_details(0), self._interpreter.get_output_details(0)
        shape = tuple(int(d) for d in self._in["shape"])
        self.batch, self.input_shape = shape[0], shape[1:]
        self.num_classes = int(self._out["shape"][-1])

    @staticmethod
    def _qparams(details: dict) -> tuple[float, int]:
        q = details["quantization_parameters"]
        return float(q["scales"][0]), int(q["zero_points"][0])

    def _invoke(self, chunk: np.ndarray) -> np.ndarray:
        self._interpreter.set_input(quantise_affine(chunk, *self._qparams(self._in), np.int8), 0)
        self._interpreter.invoke()
        return dequantise_affine(self._interpreter.get_output(0), *self._qparams(self._out))


# One trial of smallest_arena, in a child process: TFLite Micro's interpreter can crash (not raise) when
# the arena is too small even for its own bookkeeping. Exit 0: the model ran.
_TRIAL = """
import sys
import numpy as np
from tflite_micro.python.tflite_micro import runtime
interpreter = runtime.Interpreter.from_bytes(open(sys.argv[1], "rb").read(), arena_size=int(sys.argv[2]))
details = interpreter.get_input_details(0)
interpreter.set_input(np.zeros(details["shape"], details["dtype"]), 0)
interpreter.invoke()
"""


def smallest_arena(path: Path, step: int = 16) -> int:
    """The smallest tensor arena (bytes, a multiple of ``step``) with which TFLite Micro runs the model."""

    def runs(size: int) -> bool:
        cmd = [sys.executable, "-c", _TRIAL, str(path), str(size)]
        return subprocess.run(cmd, capture_output=True, check=False).returncode == 0

    lo, hi = 0, 1 << 12
    while not runs(hi):
        lo, hi = hi, hi * 2
        if hi > _MAX_ARENA:
            raise RuntimeError(f"TFLite Micro cannot run {path.name} within {_MAX_ARENA} bytes of arena")
    while hi - lo > step:
        mid = (lo + hi) // 2 // step * step
        lo, hi = (lo, mid) if runs(mid) else (mid, hi)
    return hi


def resolver_header(ops: list[str], arena_bytes: int, model: str, sha256: str = "") -> str:
    """C++ for a firmware: the operators to register and the arena size, for ``model`` (whose sha256
    the header quotes, so a header left beside a newer file is recognisable)."""
    adds = "\n".join(
        f"  r.Add{_RESOLVER_NAMES.get(op, ''.join(w.capitalize() for w in op.split('_')))}();" for op in ops
    )
    return f"""// TensorFlow Lite Micro set-up for {model}, written and checked by lgrin_edge.export.
// {model} sha256: {sha256 or "-"}
#pragma once
#include <cstddef>

#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

// Smallest tensor arena TFLite Micro's host interpreter ran this model with (64-bit build).
constexpr size_t kLgrinArenaBytes = {arena_bytes};

inline tflite::MicroMutableOpResolver<{len(ops)}> LgrinOpResolver() {{
  tflite::MicroMutableOpResolver<{len(ops)}> r;
{adds}
  return r;
}}
"""


def tflm_follow_up(
    what: EntryId,
    path: Path,
    header: Path,
    x: np.ndarray,
    reference: np.ndarray,
    y: np.ndarray,
    log: Callable,
) -> tuple[list[dict], list[dict]]:
    """Run the verified int8 ``.tflite`` at ``path`` in TFLite Micro and write its resolver ``header``;
    returns (the verified record, []) or ([], a skipped (``reason``) or failed (``verified`` False) entry),
    entries of ``what`` (the follow-up's row of the target table)."""
    ok, why = tflm_status()
    if not ok:  # before model_facts, which reads the file with tflite-micro's schema
        return [], [what.skipped(why)]
    data = path.read_bytes()
    ops, floats = model_facts(data)
    if floats and not integer_input(data):
        reason = (
            "this int8 file computes in float between layers (dynamic range), which TFLite Micro does not "
            "run; export with --static-int8 for microcontrollers"
        )
        return [], [what.skipped(reason)]
    arena = smallest_arena(path)
    result = compare(TFLMModel(data, arena)(x), reference, y, "int8")
    # A full-integer file whose fallback kept nodes in float (tflite_static.py) still runs here, on
    # TFLite Micro's float reference kernels; integer-only accelerators cannot run those nodes.
    integer = {"full_integer": not floats}
    record = what.record(path.name, path, why, result, arena_bytes=arena, ops=ops, **integer)
    if not result["verified"]:
        return [], [{**record, "kept": "the .tflite stays (it verified in LiteRT); no header written"}]
    write_bytes(header, resolver_header(ops, arena, path.name, record["sha256"]).encode())
    record.update(resolver_header=header.name, header_sha256=file_sha256(header))
    mixed = "" if not floats else f"; not full integer: {len(floats)} float tensors (float kernels)"
    log(f"tflite-micro: arena {arena:,} B, {len(ops)} operators ({header.name}){mixed}")
    return [record], []
