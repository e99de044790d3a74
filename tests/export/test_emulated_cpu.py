"""int8 ONNX on another CPU: onnxruntime run under qemu emulating an AVX2 CPU without AVX-512/VNNI.

onnxruntime picks its integer kernels from CPUID; qemu's user-mode emulator reports the CPU model it is
given, so the saturating u8 x s8 kernels of such CPUs really run here, whatever this machine has.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from lgrin_edge.checkpoint import load_checkpoint
from lgrin_edge.compress.fold import fold_model
from lgrin_edge.export.onnx_export import OnnxModel, export_onnx, quantize_onnx

QEMU = shutil.which("qemu-x86_64-static") or shutil.which("qemu-x86_64")
pytestmark = pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64") or QEMU is None,
    reason="needs an x86-64 host with qemu-user-static (qemu-x86_64-static) to emulate an AVX2-only CPU",
)

_RUN = """
import sys, numpy as np, onnxruntime as ort
o = ort.SessionOptions(); o.intra_op_num_threads = 1
s = ort.InferenceSession(sys.argv[1], o, providers=["CPUExecutionProvider"])
x = np.load(sys.argv[2])
np.save(sys.argv[3], np.concatenate([s.run(None, {s.get_inputs()[0].name: r[None]})[0] for r in x]))
"""


def run_on_haswell(model: str, x: np.ndarray, tmp_path) -> np.ndarray:
    """onnxruntime's output for ``x`` (row by row) on an emulated Haswell (AVX2, FMA; no AVX-512)."""
    script, inp, out = tmp_path / "run.py", tmp_path / "x.npy", tmp_path / "y.npy"
    script.write_text(_RUN)
    np.save(inp, x)
    cmd = [QEMU, "-cpu", "Haswell", sys.executable, str(script), model, str(inp), str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    return np.load(out)


def _one_matmul(weight: int) -> onnx.ModelProto:
    """y = DQ(Q(x)) @ DQ(w): uint8 x (scale 1) times a constant int8 weight, 64 inputs."""
    k = 64
    inits = [
        numpy_helper.from_array(np.array(1.0, np.float32), "s"),
        numpy_helper.from_array(np.array(0, np.uint8), "zx"),
        numpy_helper.from_array(np.full((k, 4), weight, np.int8), "w"),
        numpy_helper.from_array(np.array(0, np.int8), "zw"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "zx"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "s", "zx"], ["xd"]),
        helper.make_node("DequantizeLinear", ["w", "s", "zw"], ["wd"]),
        helper.make_node("MatMul", ["xd", "wd"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    model.ir_version = 9
    return model


@pytest.mark.parametrize(("weight", "saturates"), [(127, True), (64, False)])
def test_emulated_avx2_cpu_reaches_the_saturating_kernel(weight, saturates, tmp_path):
    """The control: on the emulated CPU 8-bit weights really saturate and 7-bit ones do not."""
    path = tmp_path / "mm.onnx"
    onnx.save(_one_matmul(weight), str(path))
    x = np.full((1, 64), 255, np.float32)
    got = run_on_haswell(str(path), x, tmp_path)[0, 0]
    exact = 255 * weight * 64
    assert (got != exact) == saturates, (got, exact)


def test_onnx_int8_gives_the_same_logits_on_an_avx2_cpu(tiny_run, tmp_path):
    model, _ = load_checkpoint(tiny_run)
    cal = np.load(tiny_run / "calibration.npz")["x"].astype(np.float32)
    x = np.load(tiny_run / "eval.npz")["x"].astype(np.float32)[:40]
    fp32, int8 = tmp_path / "fp32.onnx", tmp_path / "int8.onnx"
    export_onnx(fold_model(model), torch.as_tensor(cal[:2]), fp32)
    quantize_onnx(fp32, cal, int8, flavour="onnx")
    here = np.concatenate([OnnxModel(int8)(r[None]) for r in x])
    there = run_on_haswell(str(int8), x, tmp_path)
    np.testing.assert_allclose(there, here, rtol=1e-5, atol=1e-5 * float(np.abs(here).max()))
