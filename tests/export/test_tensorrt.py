"""TensorRT conformance check (on deliberately broken Q/DQ models), commands, and the engine path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from lgrin_edge.export.errors import ExportError
from lgrin_edge.export.onnx_export import OnnxModel, export_onnx, quantize_onnx
from lgrin_edge.export.tensorrt_qdq import check_tensorrt_conformance
from lgrin_edge.export.trt_engine import (
    TensorRTModel,
    build_command,
    build_engine,
    tensorrt_status,
    trtexec_command,
)

K, N = 4, 3  # MatMul weight (K, N): output channels on axis 1


def _qdq_model(
    *,
    act_zp: np.ndarray | None = None,
    w_scale: np.ndarray | None = None,
    w_axis: int | None = 1,
    w_zp: np.ndarray | None = None,
    act_scale: np.ndarray | None = None,
    extra_nodes: list | None = None,
    opset: int = 17,
) -> onnx.ModelProto:
    """x -> Q/DQ -> MatMul(DQ(W)) -> y; by default conformant. Keyword arguments break one rule each."""
    w = np.arange(K * N, dtype=np.int8).reshape(K, N) - 5
    inits = [
        numpy_helper.from_array(np.array(0.1, np.float32) if act_scale is None else act_scale, "a_scale"),
        numpy_helper.from_array(np.array(0, np.int8) if act_zp is None else act_zp, "a_zp"),
        numpy_helper.from_array(w, "w_q"),
        numpy_helper.from_array(np.full(N, 0.02, np.float32) if w_scale is None else w_scale, "w_scale"),
        numpy_helper.from_array(np.zeros(N, np.int8) if w_zp is None else w_zp, "w_zp"),
    ]
    w_attrs = {} if w_axis is None else {"axis": w_axis}
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "a_scale", "a_zp"], ["xq"], name="q_x"),
        helper.make_node("DequantizeLinear", ["xq", "a_scale", "a_zp"], ["xd"], name="dq_x"),
        helper.make_node("DequantizeLinear", ["w_q", "w_scale", "w_zp"], ["wd"], name="dq_w", **w_attrs),
        helper.make_node("MatMul", ["xd", "wd"], ["y0"], name="matmul"),
        *(extra_nodes or [helper.make_node("Identity", ["y0"], ["y"], name="out")]),
    ]
    graph = helper.make_graph(
        nodes,
        "qdq",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", K])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", N])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def _violations(model: onnx.ModelProto, tmp_path: Path) -> list[str]:
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    return check_tensorrt_conformance(path)


def test_conformant_model_passes_and_runs(tmp_path):
    import onnxruntime as ort

    model = _qdq_model()
    assert _violations(model, tmp_path) == []
    out = ort.InferenceSession(model.SerializeToString()).run(None, {"x": np.ones((2, K), np.float32)})[0]
    assert out.shape == (2, N)


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        ({"act_zp": np.array(0, np.uint8)}, "uint8"),
        ({"act_zp": np.array(3, np.int8)}, "nonzero zero point"),
        ({"w_zp": np.array([0, 1, 0], np.int8)}, "nonzero zero point"),
        ({"w_scale": np.array(0.02, np.float32), "w_zp": np.array(0, np.int8), "w_axis": None}, "per-tensor"),
        ({"w_scale": np.full(K, 0.02, np.float32), "w_zp": np.zeros(K, np.int8), "w_axis": 0}, "axis 0"),
        ({"act_scale": np.full(K, 0.1, np.float32), "act_zp": np.zeros(K, np.int8)}, "activation"),
        ({"w_scale": np.array([0.02, -0.01, 0.02], np.float32)}, "positive"),
        ({"opset": 21}, "opset 21"),
    ],
)
def test_check_names_each_broken_rule(broken, expected, tmp_path):
    violations = _violations(_qdq_model(**broken), tmp_path)
    assert violations, f"{broken} was not caught"
    assert any(expected in v for v in violations), violations


def test_check_catches_unsupported_ops(tmp_path):
    custom = helper.make_node("FusedMatMul", ["y0", "y0"], ["y"], name="fused", domain="com.microsoft")
    model = _qdq_model(extra_nodes=[custom])
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    assert any("domain 'com.microsoft'" in v for v in _violations(model, tmp_path))
    dyn = _qdq_model(extra_nodes=[helper.make_node("MatMulInteger", ["y0", "y0"], ["y"], name="mmi")])
    assert any("unsupported op MatMulInteger" in v for v in _violations(dyn, tmp_path))


def test_check_catches_int32_bias_and_first_operand_per_channel(tmp_path):
    bias = numpy_helper.from_array(np.zeros(N, np.int32), "b_q")
    bias_scale = numpy_helper.from_array(np.full(N, 0.002, np.float32), "b_scale")
    model = _qdq_model(
        extra_nodes=[
            helper.make_node("DequantizeLinear", ["b_q", "b_scale"], ["bd"], name="dq_b", axis=0),
            helper.make_node("Add", ["y0", "bd"], ["y"], name="add_b"),
        ]
    )
    model.graph.initializer.extend([bias, bias_scale])
    assert any("int32" in v for v in _violations(model, tmp_path))
    # A constant first MatMul operand (the folded adjacency) scaled per column: a contraction axis.
    adj = _qdq_model()
    for node in adj.graph.node:
        if node.op_type == "MatMul":
            node.input[:] = ["wd", "xd"]
    assert any("contraction axis" in v for v in _violations(adj, tmp_path))


def test_check_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        check_tensorrt_conformance(tmp_path / "missing.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00garbage")
    with pytest.raises(ExportError, match="not a valid ONNX"):
        check_tensorrt_conformance(bad)


def test_commands(tmp_path):
    path = tmp_path / "model.int8.onnx"
    onnx.save(_qdq_model(), str(path))
    cmd = build_command(path, tmp_path / "model.engine")
    assert cmd.startswith("python3 export/tensorrt/build_engine.py ") and str(path) in cmd
    assert "--max-batch 64" in cmd
    trt = trtexec_command(path, tmp_path / "model.engine", max_batch=32)
    assert "--stronglyTyped" in trt and f"--maxShapes=x:32x{K}" in trt and f"--minShapes=x:1x{K}" in trt


def test_status_is_explained():
    ok, why = tensorrt_status()
    assert isinstance(ok, bool) and why


def test_build_engine_checks_inputs_before_tensorrt(tmp_path):
    with pytest.raises(FileNotFoundError):
        build_engine(tmp_path / "missing.onnx", tmp_path / "m.engine")
    with pytest.raises(ValueError, match="min_batch"):
        build_engine(tmp_path / "missing.onnx", tmp_path / "m.engine", min_batch=4, opt_batch=2)


def test_engine_build_and_run(tmp_path):
    ok, why = tensorrt_status()
    if not ok:
        pytest.skip(f"no TensorRT engine can be built here: {why}")
    import torch

    from lgrin_edge.compress.fold import fold_model
    from lgrin_edge.models import create_model

    torch.manual_seed(0)
    deploy = fold_model(create_model("lgrin", num_nodes=8, in_features=5, num_classes=3, eta=(16, 8)))
    x = np.random.default_rng(0).standard_normal((64, 8, 5)).astype(np.float32)
    fp32, int8 = tmp_path / "m.onnx", tmp_path / "m.int8.onnx"
    export_onnx(deploy, torch.from_numpy(x[:2]), fp32)
    quantize_onnx(fp32, x, int8, flavour="tensorrt")
    engine = tmp_path / "m.engine"
    build_engine(int8, engine, max_batch=8)
    got = TensorRTModel(engine)(x[:11])  # 11 > max_batch: runs in chunks
    ref = OnnxModel(int8)(x[:11])
    assert got.shape == ref.shape
    assert (got.argmax(1) == ref.argmax(1)).mean() >= 0.9


def test_engine_runner_without_tensorrt(tmp_path):
    ok, _ = tensorrt_status()
    if ok:
        pytest.skip("TensorRT is available; the runner is exercised by test_engine_build_and_run")
    engine = tmp_path / "model.engine"
    engine.write_bytes(b"not an engine")
    with pytest.raises(RuntimeError, match="cannot build or run"):
        TensorRTModel(engine)


def test_standalone_builder_script(tmp_path, capsys):
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "export" / "tensorrt" / "build_engine.py"
    spec = importlib.util.spec_from_file_location("build_engine_script", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # must import without tensorrt or lgrin_edge
    onnx_path = tmp_path / "m.onnx"
    onnx.save(_qdq_model(), str(onnx_path))
    rc = module.main([str(onnx_path), str(tmp_path / "m.engine")])
    if tensorrt_status()[0]:
        assert rc == 0 and (tmp_path / "m.engine").stat().st_size > 0
    else:
        assert rc in (1, 2) and "error:" in capsys.readouterr().err
        assert not (tmp_path / "m.engine").exists()


@pytest.mark.parametrize("agrees", [True, False])
def test_engine_is_staged_and_placed_only_once_verified(tmp_path, monkeypatch, agrees):
    """File handling of the engine follow-up, on a machine without TensorRT: the builder and runner are
    stand-ins (this checks where bytes go, not TensorRT), so an engine that does not verify leaves the
    earlier one in place and nothing behind in the staging folder."""
    from lgrin_edge.export import targets
    from lgrin_edge.export import trt_engine as tensorrt

    out, stage = tmp_path / "dist", tmp_path / "dist" / ".stage"
    stage.mkdir(parents=True)
    (out / "model_int8_qdq.onnx").write_bytes(b"onnx")
    earlier = out / targets.ENGINE_FILE
    earlier.write_bytes(b"earlier engine")
    reference = np.eye(3, dtype=np.float32)[[0, 1, 2, 0]] * 5
    seen = []
    monkeypatch.setattr(tensorrt, "tensorrt_status", lambda: (True, "stand-in"))
    monkeypatch.setattr(
        tensorrt, "build_engine", lambda src, dst: (seen.append(dst), dst.write_bytes(b"new"))
    )
    monkeypatch.setattr(
        tensorrt, "TensorRTModel", lambda path: lambda x: reference if agrees else reference[:, ::-1].copy()
    )
    from lgrin_edge.export.verify import EntryId

    entry = {"path": "model_int8_qdq.onnx"}
    what = EntryId("tensorrt", "int8", "engine")
    call = targets.FollowUpCall(
        what, targets.ENGINE_FILE, entry, out, stage, out, np.zeros((4, 2, 2)), reference, [0, 1, 2, 0], print
    )
    made, not_made = targets._trt_engine(call)
    assert seen == [stage / targets.ENGINE_FILE]  # built in the staging folder, not over the earlier file
    assert not list(stage.iterdir())
    if agrees:
        assert made and made[0]["verified"] and not not_made and earlier.read_bytes() == b"new"
    else:
        assert (
            not made and not_made[0]["verified"] is False and "earlier engine is kept" in not_made[0]["kept"]
        )
        assert earlier.read_bytes() == b"earlier engine"
