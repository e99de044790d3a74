"""fp32 ONNX export, int8 quantisation (both flavours) and the onnxruntime runner."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from lgrin_edge.atomic import file_sha256 as sha256
from lgrin_edge.compress.fold import fold_model
from lgrin_edge.export.errors import ExportError
from lgrin_edge.export.onnx_export import (
    OnnxModel,
    export_onnx,
    float_nodes,
    lint_deployment_graph,
    quantize_onnx,
    saturation_risks,
)
from lgrin_edge.export.quant_spec import STATIC_SPECS
from lgrin_edge.export.tensorrt_qdq import check_tensorrt_conformance
from lgrin_edge.models import create_model

M, P, C = 10, 6, 4


def _trained_lgrin() -> torch.nn.Module:
    """A small L-GrIN fitted for a few steps to a separable toy task (clear class margins)."""
    torch.manual_seed(0)
    model = create_model("lgrin", num_nodes=M, in_features=P, num_classes=C, eta=(16, 8))
    x, y = _data(96, seed=1)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: extra threads only add contention
    try:
        for _ in range(20):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    return fold_model(model)


def _data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(0, C, (n,), generator=gen)
    x = torch.randn(n, M, P, generator=gen) * 0.5
    x[torch.arange(n), :, y] += 1.5  # class c lifts feature c on every node
    return x, y


@pytest.fixture(scope="module")
def deploy() -> torch.nn.Module:
    return _trained_lgrin()


@pytest.fixture(scope="module")
def fp32_path(deploy, tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx") / "lgrin.onnx"
    export_onnx(deploy, _data(2, seed=2)[0], path)
    return path


@pytest.fixture(scope="module")
def int8_paths(fp32_path):
    """Each flavour's file with its default recipe (weight-only) and with the static recipe."""
    calib = _data(128, seed=3)[0].numpy()
    out = {}
    for flavour in ("onnx", "tensorrt"):
        for static in (False, True):
            path = fp32_path.with_name(f"lgrin.int8.{flavour}{'.static' if static else ''}.onnx")
            info = quantize_onnx(fp32_path, calib, path, flavour=flavour, static=static)
            out[flavour if not static else f"{flavour}-static"] = (path, info)
    return out


def _weight_bytes(path) -> int:
    return sum(numpy_helper.to_array(i).nbytes for i in onnx.load(str(path)).graph.initializer)


def test_fp32_matches_torch_for_any_batch(deploy, fp32_path):
    model = onnx.load(str(fp32_path))
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert not fp32_path.with_name(fp32_path.name + ".data").exists()  # one self-contained file
    runner = OnnxModel(fp32_path)
    for batch in (1, 3, 17):
        x = _data(batch, seed=10 + batch)[0]
        with torch.no_grad():
            expected = deploy(x).numpy()
        np.testing.assert_allclose(runner(x.numpy()), expected, atol=1e-4, rtol=0)


def test_fp32_graph_has_folded_constants_only(fp32_path):
    model = onnx.load(str(fp32_path))
    assert lint_deployment_graph(model) == []
    ops = {n.op_type for n in model.graph.node}
    assert {"GatherND", "ReduceMax"} <= ops or {"Gather", "ReduceMax"} <= ops  # the neighbour max
    assert all(not n.metadata_props for n in model.graph.node)  # no source paths in the artifact


def test_lint_catches_relu_of_constant_and_additive_mask():
    adj = numpy_helper.from_array(np.ones((3, 3), np.float32), "adj")
    mask = numpy_helper.from_array(np.full((3,), -1e4, np.float32), "mask")
    graph = helper.make_graph(
        [
            helper.make_node("Relu", ["adj"], ["adj_r"], name="relu_adj"),
            helper.make_node("MatMul", ["adj_r", "x"], ["h"], name="mm"),
            helper.make_node("Add", ["h", "mask"], ["y"], name="masked"),
        ],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 3])],
        [adj, mask],
    )
    problems = lint_deployment_graph(helper.make_model(graph))
    assert any("Relu" in p and "adj" in p for p in problems)
    assert any("large negative" in p and "mask" in p for p in problems)


def test_export_is_deterministic(deploy, fp32_path, tmp_path):
    again = tmp_path / "again.onnx"
    export_onnx(deploy, _data(2, seed=2)[0], again)
    assert sha256(again) == sha256(fp32_path)


@pytest.mark.parametrize("flavour", ["onnx", "tensorrt", "onnx-static", "tensorrt-static"])
def test_int8_agrees_with_fp32_and_is_small(deploy, fp32_path, int8_paths, flavour):
    path, info = int8_paths[flavour]
    x, _ = _data(200, seed=4)
    with torch.no_grad():
        ref = deploy(x).numpy()
    out = OnnxModel(path)(x.numpy())
    assert (out.argmax(1) == ref.argmax(1)).mean() >= 0.97
    # Mean, not max: symmetric signed activations (TensorRT) spend a bit on the sign of post-ReLU values,
    # so its logits are looser than the uint8 flavour's; weight-only keeps float activations and is the
    # closest of all. Top-1 is what all must keep.
    tolerance = {"onnx": 0.02, "tensorrt": 0.02, "onnx-static": 0.05, "tensorrt-static": 0.1}[flavour]
    assert np.abs(out - ref).mean() < tolerance * np.abs(ref).max()
    # This model is tiny, so compare the stored weights (graph overhead would dominate the file sizes).
    # Both static flavours keep the pooled head float (int8-stored classifier, float biases and p), a
    # large share of this tiny model's weights; the bundled models' files are checked in test_pipeline.py.
    assert _weight_bytes(path) <= 0.6 * _weight_bytes(fp32_path)
    weights_int8 = [i for i in onnx.load(str(path)).graph.initializer if i.data_type == TensorProto.INT8]
    assert weights_int8, "no int8 initializers: nothing was quantised"
    assert info["flavour"] == flavour.split("-")[0]
    # TensorRT's rules are checked once, where the file is made, and the facts say so.
    assert info.get("conformance") == ("passed" if info["flavour"] == "tensorrt" else None)
    if flavour.endswith("static"):
        assert info["calibration_samples"] == 128
        spec = STATIC_SPECS[info["flavour"]]
        assert set(info["float_nodes"]) == set(float_nodes(onnx.load(str(fp32_path)), spec))
        assert info["recipe"]["activations"] == "static" and info["recipe"]["calibration"] == "min-max"
        assert info["recipe"]["float_parts"] == ["normalisation", "classifier"]
        assert info["recipe"]["weight_bits"] == (7 if info["flavour"] == "onnx" else 8)
    else:
        # Weight-only: every weight int8, no activation quantised.
        model = onnx.load(str(path))
        assert not [n for n in model.graph.node if n.op_type == "QuantizeLinear"]
        fp32 = onnx.load(str(fp32_path))
        matrices = {i.name for i in fp32.graph.initializer if len(i.dims) == 2}
        used = {name for n in fp32.graph.node if n.op_type in ("Gemm", "MatMul") for name in n.input}
        assert sorted(info["weight_only_int8"]) == sorted(matrices & used)  # p and biases stay float
        assert info["recipe"] == {
            "activations": "float",
            "calibration": "none",
            "weight_bits": 8,
            "float_parts": [],
        }


def test_onnx_flavour_cannot_saturate_onnxruntime_x86_kernels(int8_paths):
    """u8 x s8 pairs summed in int16 (VPMADDUBSW, AVX2 / AVX-512 without VNNI) stay exact."""
    assert saturation_risks(onnx.load(str(int8_paths["onnx-static"][0]))) == []
    assert saturation_risks(onnx.load(str(int8_paths["onnx"][0]))) == []  # no integer kernels at all
    # The check bites: the static TensorRT flavour keeps 8-bit weights (TensorRT's int8 is exact), which
    # is why it is verified with onnxruntime's Q/DQ reference semantics instead of its fused kernels.
    assert saturation_risks(onnx.load(str(int8_paths["tensorrt-static"][0])))


def test_float_nodes_keep_normalisation_and_head(fp32_path):
    model = onnx.load(str(fp32_path))
    kept = float_nodes(model, STATIC_SPECS["onnx"])
    ops = {n.name: n.op_type for n in model.graph.node}
    assert [ops[k] for k in kept[:2]] == ["Mul", "Add"]  # x * scale + shift
    assert ops[kept[2]] in ("Gemm", "MatMul")  # the classifier, then its pooling
    assert {ops[k] for k in kept[3:]} >= {"Concat", "ReduceMax", "ReduceMean"}
    assert float_nodes(model, STATIC_SPECS["tflite"]) == []  # full integer: nothing kept in float


def test_tensorrt_flavour_is_conformant_and_onnx_flavour_is_not(int8_paths):
    for key in ("tensorrt", "tensorrt-static"):
        assert check_tensorrt_conformance(int8_paths[key][0]) == []
        assert onnx.load(str(int8_paths[key][0])).opset_import[0].version == 17
    # The static onnxruntime flavour uses uint8 activations: valid for onnxruntime, not for TensorRT.
    assert any("uint8" in v for v in check_tensorrt_conformance(int8_paths["onnx-static"][0]))


def test_quantize_is_deterministic(fp32_path, int8_paths, tmp_path):
    calib = _data(128, seed=3)[0].numpy()
    again = tmp_path / "again.onnx"
    quantize_onnx(fp32_path, calib, again, flavour="tensorrt")
    assert sha256(again) == sha256(int8_paths["tensorrt"][0])
    quantize_onnx(fp32_path, calib, again, flavour="tensorrt", static=True)
    assert sha256(again) == sha256(int8_paths["tensorrt-static"][0])


@pytest.mark.parametrize("name", ["blstm", "senet"])
def test_baselines_export_and_quantise(name, tmp_path):
    torch.manual_seed(0)
    deploy = fold_model(create_model(name, num_nodes=M, in_features=P, num_classes=C))
    x = _data(32, seed=5)[0]
    path = tmp_path / f"{name}.onnx"
    export_onnx(deploy, x[:2], path)
    with torch.no_grad():
        ref = deploy(x).numpy()
    np.testing.assert_allclose(OnnxModel(path)(x.numpy()), ref, atol=1e-4, rtol=0)
    q = tmp_path / f"{name}.int8.onnx"
    quantize_onnx(path, x.numpy(), q, flavour="tensorrt")
    assert check_tensorrt_conformance(q) == []
    assert np.abs(OnnxModel(q)(x.numpy()) - ref).max() < 0.05 + 0.1 * np.abs(ref).max()


def test_fixed_batch_export_runs_any_batch(deploy, tmp_path):
    path = tmp_path / "fixed.onnx"
    export_onnx(deploy, _data(4, seed=6)[0], path, dynamic_batch=False)
    dims = onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_value == 4
    x = _data(9, seed=7)[0]
    with torch.no_grad():
        expected = deploy(x).numpy()
    np.testing.assert_allclose(OnnxModel(path)(x.numpy()), expected, atol=1e-4, rtol=0)


def test_clear_errors(fp32_path, tmp_path):
    with pytest.raises(FileNotFoundError):
        OnnxModel(tmp_path / "missing.onnx")
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"not a protobuf at all")
    with pytest.raises(ExportError, match="not a valid ONNX"):
        OnnxModel(corrupt)
    out = tmp_path / "q.onnx"
    with pytest.raises(ValueError, match="calibration shape"):
        quantize_onnx(fp32_path, np.zeros((8, M + 1, P), np.float32), out)
    with pytest.raises(ValueError, match=r"\(N, M, P\)"):
        quantize_onnx(fp32_path, np.zeros((8, M * P), np.float32), out)
    with pytest.raises(ValueError, match="finite"):
        quantize_onnx(fp32_path, np.full((8, M, P), np.nan, np.float32), out)
    with pytest.raises(ValueError, match="flavour"):
        quantize_onnx(fp32_path, np.zeros((8, M, P), np.float32), out, flavour="tflite")
    assert not out.exists() and not list(tmp_path.glob(".q.onnx.*"))  # nothing half-written
    runner = OnnxModel(fp32_path)
    with pytest.raises(ValueError, match="shape"):
        runner(np.zeros((2, M, P + 1), np.float32))
    bad = np.zeros((2, M, P), np.float32)
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        runner(bad)
    with pytest.raises(ValueError, match="example"):
        export_onnx(torch.nn.Identity(), torch.zeros(M, P), tmp_path / "x.onnx")


def test_weight_only_files_are_recognised_for_their_session_option(int8_paths, fp32_path):
    from lgrin_edge.export.onnx_export import weight_only_file

    assert weight_only_file(int8_paths["onnx"][0].read_bytes())
    assert weight_only_file(int8_paths["tensorrt"][0].read_bytes())
    assert not weight_only_file(int8_paths["onnx-static"][0].read_bytes())
    assert not weight_only_file(fp32_path.read_bytes())
