"""ExecuTorch target: lowering the XNNPACK form (its function: tests/deploy/test_forms.py), execution in
ExecuTorch's runtime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from lgrin_edge.export.executorch import ExecuTorchModel, executorch_status, export_executorch
from tests.export.tiny_model import C, M, P, synthetic, trained_deploy

AVAILABLE, REASON = executorch_status()
needs_executorch = pytest.mark.skipif(not AVAILABLE, reason=f"ExecuTorch unavailable: {REASON}")


@pytest.fixture(scope="module")
def folded() -> nn.Module:
    return trained_deploy(*synthetic(192, seed=0))


@needs_executorch
@pytest.mark.parametrize(("precision", "static"), [("fp32", False), ("int8", False), ("int8", True)])
def test_programs_run_in_executorch_like_the_model(folded, tmp_path: Path, precision, static):
    cal, _ = synthetic(64, seed=3)
    x, _ = synthetic(50, seed=1)
    path = tmp_path / f"{precision}.pte"
    info = export_executorch(folded, cal, path, precision, batch=4, static=static)
    assert info["delegated_subgraphs"] >= 1 and info["graph"] == "XnnpackLGrIN"
    assert set(info["portable_ops"]) <= {"getitem"}, info["portable_ops"]  # everything else delegated
    runner = ExecuTorchModel(path)
    assert (runner.batch, runner.input_shape, runner.num_classes) == (4, (M, P), C)
    logits = runner(x)  # 50 graphs in chunks of 4, the last one padded
    with torch.no_grad():
        reference = folded(torch.from_numpy(x)).numpy()
    assert logits.shape == (50, C) and logits.dtype == np.float32
    assert np.mean(logits.argmax(1) == reference.argmax(1)) >= 0.96
    if precision == "fp32":
        np.testing.assert_allclose(logits, reference, rtol=1e-4, atol=1e-4)
    else:
        assert np.abs(logits - reference).max() > 1e-6  # really quantised
    np.testing.assert_array_equal(runner(x[:3]), logits[:3])  # a batch's padding changes nothing


@needs_executorch
def test_bad_input_and_files_are_refused(folded, tmp_path: Path):
    cal, _ = synthetic(8, seed=3)
    path = tmp_path / "m.pte"
    export_executorch(folded, cal, path, "fp32")
    runner = ExecuTorchModel(path)
    with pytest.raises(ValueError, match="expected input"):
        runner(np.zeros((2, M + 1, P), np.float32))
    bad = np.zeros((1, M, P), np.float32)
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        runner(bad)
    broken = tmp_path / "broken.pte"
    broken.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="not a loadable ExecuTorch program"):
        ExecuTorchModel(broken)
    with pytest.raises(ValueError, match="precision"):
        export_executorch(folded, cal, tmp_path / "x.pte", "fp16")


def test_status_names_the_install_command_when_missing(monkeypatch):
    import lgrin_edge.export.executorch as module

    monkeypatch.setattr(module, "installed", lambda name: name != "executorch")
    ok, why = executorch_status()
    assert not ok and "pip install 'lgrin-edge[executorch]'" in why
