"""Quantisation-aware fine-tuning of the full-integer .tflite: it fine-tunes a copy on the training graphs,
keeps the fine-tuned weights only where their file is closer to the float module there, records what it
did in the manifest, and gives the same file for the same inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from lgrin_edge.export.__main__ import main
from lgrin_edge.export.pipeline import ExportOptions, ExportSetupError, check_options
from lgrin_edge.export.qat import QAT_LR, fine_tuned
from lgrin_edge.export.sensitivity import logit_error
from lgrin_edge.export.tflite import TFLiteModel, _integer_module, export_tflite, tflite_status
from tests.export.tiny_model import synthetic, trained_deploy

TFLITE, TFLITE_WHY = tflite_status()
needs_tflite = pytest.mark.skipif(not TFLITE, reason=f"TFLite toolchain unavailable: {TFLITE_WHY}")
EPOCHS = 3


@pytest.fixture(scope="module")
def deploy() -> nn.Module:
    return trained_deploy(*synthetic(192, seed=0))


@pytest.fixture(scope="module")
def calibration() -> np.ndarray:
    return synthetic(64, seed=3)[0]


@pytest.fixture(scope="module")
def tuned_export(
    deploy: nn.Module, calibration: np.ndarray, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("qat") / "model_int8.tflite"
    return path, export_tflite(deploy, calibration, path, "int8", static=True, qat_epochs=EPOCHS)


def test_the_option_is_refused_where_it_changes_nothing():
    with pytest.raises(
        ExportSetupError, match=r"^--qat-epochs fine-tunes the full-integer file: add --static-int8$"
    ):
        check_options(ExportOptions(["tflite"], ["int8"], qat_epochs=5))
    with pytest.raises(ExportSetupError, match="--precision fp32 makes none"):
        check_options(ExportOptions(["tflite"], ["fp32"], static_int8=True, qat_epochs=5))
    with pytest.raises(
        ExportSetupError, match=r"--qat-epochs changes nothing for onnx; it applies to tflite$"
    ):
        check_options(ExportOptions(["onnx"], ["int8"], static_int8=True, qat_epochs=5))
    notes = check_options(ExportOptions(["tflite", "executorch"], ["int8"], static_int8=True, qat_epochs=5))
    assert "note: --qat-epochs applies to tflite; ignored by executorch" in notes
    assert check_options(ExportOptions(["onnx"], ["int8"], qat_epochs=0)) == []


def test_the_command_refuses_it_in_one_line_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture):
    out = tmp_path / "dist"
    argv = [
        "--checkpoint",
        str(tmp_path / "none"),
        "--target",
        "tflite",
        "--out",
        str(out),
        "--qat-epochs",
        "3",
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --qat-epochs fine-tunes the full-integer file: add --static-int8"]
    assert not out.exists()


@pytest.mark.parametrize("precision, static", [("int8", False), ("fp32", True), ("fp32", False)])
def test_fine_tuning_is_refused_for_files_that_are_not_full_integer(
    deploy: nn.Module, calibration: np.ndarray, tmp_path: Path, precision: str, static: bool
):
    with pytest.raises(ValueError, match="full-integer"):
        export_tflite(deploy, calibration, tmp_path / "m.tflite", precision, static=static, qat_epochs=2)
    assert not (tmp_path / "m.tflite").exists()


def test_fine_tuning_changes_a_copy_and_lowers_its_distillation_loss(deploy: nn.Module, calibration):
    module = _integer_module(deploy)
    before = {k: v.clone() for k, v in module.state_dict().items()}
    example = torch.from_numpy(calibration[:1].copy())
    tuned, record = fine_tuned(module, calibration, example, EPOCHS)
    assert all(torch.equal(v, module.state_dict()[k]) for k, v in before.items()), "the input is kept"
    assert any(not torch.equal(v, tuned.state_dict()[k]) for k, v in before.items())
    assert len(record.losses) == EPOCHS + 1 and record.lr == QAT_LR
    assert record.losses[-1] < record.losses[0]


@needs_tflite
def test_the_manifest_records_the_fine_tuning_and_the_file_is_the_one_it_describes(
    tuned_export, deploy: nn.Module, calibration: np.ndarray
):
    path, info = tuned_export
    tuning = info["quantization"]["fine_tuning"]
    assert tuning["epochs"] == EPOCHS and tuning["lr"] == QAT_LR
    assert tuning["training_graphs"] == len(calibration)
    assert tuning["loss_after"] < tuning["loss_before"]
    with torch.no_grad():
        reference = deploy(torch.from_numpy(calibration)).numpy()
    model = TFLiteModel(path)
    assert model.input_dtype == np.int8 and model.output_dtype == np.int8 and not info["float_ops"]
    measured = logit_error(model(calibration), reference)
    kept = "fine_tuned" if tuning["kept"] == "fine-tuned" else "post_training"
    assert measured == pytest.approx(tuning[kept]["relative_logit_error"], abs=1e-5)
    # The file kept is never further from the float module on the training graphs than the other.
    assert measured <= tuning["post_training"]["relative_logit_error"] + 1e-6
    assert "fallback" not in info  # the tiny model is well within the bar either way


@needs_tflite
def test_fine_tuning_on_the_tiny_model_is_kept(tuned_export):
    """On this separable problem the fine-tuned file is closer to the float module than the
    post-training one (measured: relative logit error 0.040 -> 0.030), so it is the file written."""
    tuning = tuned_export[1]["quantization"]["fine_tuning"]
    assert tuning["kept"] == "fine-tuned"
    assert tuning["fine_tuned"]["relative_logit_error"] < tuning["post_training"]["relative_logit_error"]


@needs_tflite
def test_the_same_inputs_give_the_same_fine_tuned_file(
    tuned_export, deploy: nn.Module, calibration: np.ndarray, tmp_path: Path
):
    path, info = tuned_export
    again = export_tflite(
        deploy, calibration, tmp_path / "again.tflite", "int8", static=True, qat_epochs=EPOCHS
    )
    assert (tmp_path / "again.tflite").read_bytes() == path.read_bytes()
    assert again["quantization"] == info["quantization"]
