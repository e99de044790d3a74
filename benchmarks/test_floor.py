"""The compute floor: this CPU's single-thread fp32 and int8 GEMM rates, measured in the same run.

The report divides each L-GrIN runtime's latency by (L-GrIN MACs / rate) to express it as a multiple
of the floor.
"""

from __future__ import annotations

import numpy as np
import torch

from lgrin_edge.measure.threads import one_thread

N = 256


def test_floor_fp32_gemm(benchmark) -> None:
    a, b = torch.randn(N, N), torch.randn(N, N)
    benchmark.extra_info.update(kind="floor", precision="fp32", macs=N**3, runtime="torch.mm", threads=1)
    benchmark.group = "compute floor"
    with one_thread():
        out = benchmark(torch.mm, a, b)
    assert out.shape == (N, N)


def test_floor_int8_gemm(benchmark) -> None:
    import onnxruntime as ort
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["a", "b"], ["y"])],
        "gemm",
        [
            helper.make_tensor_value_info("a", TensorProto.UINT8, [N, N]),
            helper.make_tensor_value_info("b", TensorProto.INT8, [N, N]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.INT32, [N, N])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {
        "a": rng.integers(0, 255, (N, N), dtype=np.uint8),
        "b": rng.integers(-127, 127, (N, N), dtype=np.int8),
    }
    benchmark.extra_info.update(
        kind="floor", precision="int8", macs=N**3, runtime="onnxruntime MatMulInteger", threads=1
    )
    benchmark.group = "compute floor"
    (out,) = benchmark(sess.run, None, feeds)
    assert out.shape == (N, N)
