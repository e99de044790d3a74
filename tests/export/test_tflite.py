"""TFLite target: conversion with litert-torch, execution in ai-edge-litert, the caller-side wrapper."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from lgrin_edge.export.quant_spec import QuantSpec
from lgrin_edge.export.tflite import TFLiteError, TFLiteModel, export_tflite, tflite_status
from lgrin_edge.export.tflite_static import STATIC_BAR, StaticBar
from tests.export.tiny_model import C, M, P, synthetic, trained_deploy

AVAILABLE, REASON = tflite_status()
pytestmark = pytest.mark.skipif(not AVAILABLE, reason=f"TFLite toolchain unavailable: {REASON}")


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    x_train, y_train = synthetic(192, seed=0)
    x_test, y_test = synthetic(96, seed=1)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


@pytest.fixture(scope="module")
def deploy(data: dict[str, np.ndarray]) -> nn.Module:
    """A small L-GrIN trained for a few steps, folded for deployment."""
    return trained_deploy(data["x_train"], data["y_train"])


@pytest.fixture(scope="module")
def reference(deploy: nn.Module, data: dict[str, np.ndarray]) -> np.ndarray:
    with torch.no_grad():
        return deploy(torch.from_numpy(data["x_test"])).numpy()


@pytest.fixture(scope="module")
def fp32_file(deploy: nn.Module, data: dict[str, np.ndarray], tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("tflite") / "model_fp32.tflite"
    return path, export_tflite(deploy, data["x_train"], path, "fp32")


@pytest.fixture(scope="module")
def int8_file(deploy: nn.Module, data: dict[str, np.ndarray], tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("tflite") / "model_int8.tflite"
    return path, export_tflite(deploy, data["x_train"], path, "int8", batch=4)


@pytest.fixture(scope="module")
def static_file(deploy: nn.Module, data: dict[str, np.ndarray], tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("tflite") / "model_int8_static.tflite"
    # The recipe itself, not its fallback (test_tflite_fallback.py): this small model's training-graph
    # agreement (0.99 +- one graph) sits on the fallback's bar, which a looser one keeps it from.
    loose = StaticBar(max_drop=0.05, max_error=STATIC_BAR.max_error)
    return path, export_tflite(deploy, data["x_train"], path, "int8", batch=4, static=True, bar=loose)


def _tensor_dtypes(path: Path) -> dict[str, set[str]]:
    """Operator name -> dtypes of its constant (weight) inputs, as the interpreter reports them."""
    interpreter = TFLiteModel(path)._interpreter
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    found: dict[str, set[str]] = {}
    for op in interpreter._get_ops_details():
        for i in op["inputs"]:
            t = tensors.get(int(i))
            weighted = op["op_name"] in ("FULLY_CONNECTED", "BATCH_MATMUL")
            if t is not None and len(t["shape"]) == 2 and weighted:
                found.setdefault(op["op_name"], set()).add(np.dtype(t["dtype"]).name)
    return found


def test_fp32_matches_pytorch(fp32_file, reference: np.ndarray, data: dict[str, np.ndarray]) -> None:
    path, info = fp32_file
    assert info["tool"] == "litert-torch" and info["precision"] == "fp32" and info["batch"] == 1
    assert info["input"] == {"name": info["input"]["name"], "shape": [1, M, P], "dtype": "float32"}
    model = TFLiteModel(path)
    assert (model.batch, model.input_shape, model.num_classes) == (1, (M, P), C)
    np.testing.assert_allclose(model(data["x_test"]), reference, atol=1e-4, rtol=0)


def test_dynamic_range_int8_agrees_with_fp32(
    int8_file, fp32_file, reference: np.ndarray, data: dict[str, np.ndarray]
) -> None:
    path, info = int8_file
    assert info["input"]["dtype"] == "float32" and info["output"]["dtype"] == "float32"
    assert info["quantization"]["method"].startswith("dynamic range")
    # The products hold int8 weights (the file is int8, not a float model with a label).
    assert "int8" in _tensor_dtypes(path)["FULLY_CONNECTED"]
    logits = TFLiteModel(path)(data["x_test"])
    assert float((logits.argmax(1) == reference.argmax(1)).mean()) >= 0.97
    # Per-row activation scales keep the error far below static int8's.
    spread = np.linalg.norm(reference - reference.mean(1, keepdims=True))
    assert np.linalg.norm(logits - reference) / spread < 0.03
    assert path.stat().st_size < fp32_file[0].stat().st_size


def test_static_int8_agrees_with_fp32(
    static_file, fp32_file, reference: np.ndarray, data: dict[str, np.ndarray]
) -> None:
    path, info = static_file
    assert info["input"]["dtype"] == "int8" and info["output"]["dtype"] == "int8"
    assert info["input"]["scale"] > 0 and info["output"]["scale"] > 0
    assert info["quantization"]["calibration_samples"] == len(data["x_train"])
    # Everything computes in int8, the learned pooling included (TFLite Micro runs it).
    assert info["float_ops"] == [] and "fallback" not in info
    assert info["recipe"] == {
        "activations": "static",
        "calibration": "histogram",
        "weight_bits": 8,
        "float_parts": [],
    }
    logits = TFLiteModel(path)(data["x_test"])
    agreement = float((logits.argmax(1) == reference.argmax(1)).mean())
    assert agreement >= 0.95, agreement
    acc_fp32 = float((reference.argmax(1) == data["y_test"]).mean())
    acc_int8 = float((logits.argmax(1) == data["y_test"]).mean())
    assert acc_fp32 > 0.9 and acc_int8 >= acc_fp32 - 0.05, (acc_fp32, acc_int8)
    assert np.abs(logits - reference).max() < 0.25 * np.abs(reference).max()
    # Graph structure dominates a model this small; the <= 35% size goal is measured on real checkpoints.
    assert path.stat().st_size < fp32_file[0].stat().st_size


def test_the_int8_file_does_what_its_spec_asks(
    deploy: nn.Module, data: dict[str, np.ndarray], int8_file, tmp_path: Path
) -> None:
    path, info = int8_file
    assert info["recipe"] == {
        "activations": "dynamic",
        "calibration": "none",
        "weight_bits": 8,
        "float_parts": ["classifier"],
    }
    # Without the classifier kept in float, every FULLY_CONNECTED quantises its input at run time.
    spec = QuantSpec("tflite", "dynamic")
    other = tmp_path / "all_dynamic.tflite"
    facts = export_tflite(deploy, data["x_train"], other, "int8", batch=4, spec=spec)
    assert facts["recipe"]["float_parts"] == [] and other.read_bytes() != path.read_bytes()
    with pytest.raises(ValueError, match="the tflite exporter was given a QuantSpec for executorch"):
        export_tflite(deploy, data["x_train"], other, "int8", spec=QuantSpec("executorch", "dynamic"))


@pytest.mark.parametrize("kind", ["int8_file", "static_file"])
@pytest.mark.parametrize("n", [1, 3, 4, 9])
def test_any_batch_runs_in_fixed_chunks(
    kind: str, fp32_file, data: dict[str, np.ndarray], n: int, request: pytest.FixtureRequest
) -> None:
    x = data["x_test"][:n]
    int8 = TFLiteModel(request.getfixturevalue(kind)[0])
    assert int8.batch == 4
    one_by_one = np.concatenate([int8(x[i : i + 1]) for i in range(n)])
    # Padding rows must not leak into real ones: each graph gets the same logits alone or in a chunk.
    np.testing.assert_array_equal(int8(x), one_by_one)
    assert TFLiteModel(fp32_file[0])(x).shape == (n, C)


def test_empty_batch(fp32_file) -> None:
    assert TFLiteModel(fp32_file[0])(np.zeros((0, M, P), np.float32)).shape == (0, C)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((M, P), np.float32),
        np.zeros((2, M, P + 1), np.float32),
        np.zeros((2, M + 1, P), np.float32),
        np.full((2, M, P), np.nan, np.float32),
        np.full((2, M, P), np.inf, np.float32),
        np.array([[["a"] * P] * M]),
    ],
    ids=["2d", "features", "nodes", "nan", "inf", "strings"],
)
def test_bad_input_is_rejected(fp32_file, bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        TFLiteModel(fp32_file[0])(bad)


def test_missing_or_corrupt_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        TFLiteModel(tmp_path / "absent.tflite")
    corrupt = tmp_path / "corrupt.tflite"
    corrupt.write_bytes(b"not a flatbuffer" * 8)
    with pytest.raises(ValueError):
        TFLiteModel(corrupt)


def test_bad_export_arguments(deploy: nn.Module, data: dict[str, np.ndarray], tmp_path: Path) -> None:
    out = tmp_path / "m.tflite"
    with pytest.raises(ValueError, match="precision"):
        export_tflite(deploy, data["x_train"], out, "fp16")
    with pytest.raises(ValueError, match="batch"):
        export_tflite(deploy, data["x_train"], out, "fp32", batch=0)
    with pytest.raises(ValueError, match="calibration"):
        export_tflite(deploy, data["x_train"][0], out, "fp32")
    bad = data["x_train"][:4].copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        export_tflite(deploy, bad, out, "int8")
    assert list(tmp_path.iterdir()) == []


class _Unconvertible(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Data-dependent output shape: no static graph exists.
        return torch.nonzero(x > 0).float()


def test_failed_export_leaves_nothing(data: dict[str, np.ndarray], tmp_path: Path) -> None:
    out = tmp_path / "m.tflite"
    out.write_bytes(b"previous artifact")
    with pytest.raises(TFLiteError):
        export_tflite(_Unconvertible(), data["x_train"][:4], out, "fp32")
    assert [p.name for p in tmp_path.iterdir()] == ["m.tflite"]
    assert out.read_bytes() == b"previous artifact"


def test_fp32_export_is_deterministic(
    deploy: nn.Module, data: dict[str, np.ndarray], fp32_file, tmp_path: Path
):
    again = tmp_path / "again.tflite"
    export_tflite(deploy, data["x_train"], again, "fp32")
    assert again.read_bytes() == fp32_file[0].read_bytes()
