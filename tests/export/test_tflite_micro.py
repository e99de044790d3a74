"""TensorFlow Lite Micro checks the full-integer .tflite: agreement, smallest arena, operators to register."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from lgrin_edge.atomic import file_sha256
from lgrin_edge.export.targets import TARGETS
from lgrin_edge.export.tflite import TFLiteModel, export_tflite, tflite_status
from lgrin_edge.export.tflite_micro import (
    TFLMModel,
    model_facts,
    resolver_header,
    smallest_arena,
    tflm_follow_up,
    tflm_status,
)
from lgrin_edge.export.verify import EntryId
from tests.export.tiny_model import C, synthetic, trained_deploy

# The follow-up's identity, from its row of the target table.
MICRO = EntryId("tflite", TARGETS["tflite"].follow_up.precision, TARGETS["tflite"].follow_up.artifact)

TFLITE, TFLITE_WHY = tflite_status()
TFLM, TFLM_WHY = tflm_status()
needs_both = pytest.mark.skipif(
    not (TFLITE and TFLM), reason=f"needs the TFLite toolchain ({TFLITE_WHY}) and tflite-micro ({TFLM_WHY})"
)


@pytest.fixture(scope="module")
def deploy() -> nn.Module:
    return trained_deploy(*synthetic(192, seed=0))


def test_integer_readout_is_the_same_function(deploy):
    other = copy.deepcopy(deploy)
    other.integer_readout = True
    x = torch.from_numpy(synthetic(9, seed=4)[0])
    with torch.no_grad():
        torch.testing.assert_close(other(x), deploy(x), rtol=1e-6, atol=1e-6)


def test_resolver_header_names_tflm_methods():
    text = resolver_header(["BATCH_MATMUL", "FULLY_CONNECTED", "REDUCE_MAX"], 4096, "m.tflite")
    assert "r.AddBatchMatMul();" in text and "r.AddFullyConnected();" in text and "r.AddReduceMax();" in text
    assert "MicroMutableOpResolver<3>" in text and "kLgrinArenaBytes = 4096;" in text


@needs_both
def test_full_integer_file_runs_in_tflm_without_float_sections(deploy, tmp_path: Path):
    cal, _ = synthetic(64, seed=3)
    x, y = synthetic(40, seed=1)
    path = tmp_path / "model_int8.tflite"
    export_tflite(deploy, cal, path, "int8", batch=2, static=True)
    data = path.read_bytes()
    ops, floats = model_facts(data)
    assert floats == []  # the learned pooling is integer too
    assert "BATCH_MATMUL" in ops and "DEQUANTIZE" not in ops
    arena = smallest_arena(path)
    litert = TFLiteModel(path)(x)
    tflm = TFLMModel(data, arena)(x)
    assert np.mean(tflm.argmax(1) == litert.argmax(1)) >= 0.99
    with pytest.raises(RuntimeError):  # the bisection's answer is the smallest that works
        TFLMModel(data, arena - 16)(x[:1])
    with torch.no_grad():
        reference = deploy(torch.from_numpy(x)).numpy()
    header = tmp_path / "model_int8_tflm.h"
    made, not_made = tflm_follow_up(MICRO, path, header, x, reference, y, lambda _m: None)
    assert not_made == []
    (record,) = made
    assert record["artifact"] == "tflite-micro" and record["verified"] and record["arena_bytes"] == arena
    assert (record["target"], record["precision"], record["path"]) == ("tflite", "int8", path.name)
    assert record["bytes"] == len(data) and record["header_sha256"] == file_sha256(header)
    text = header.read_text()
    assert text.count("r.Add") == len(ops) and f"model_int8.tflite sha256: {file_sha256(path)}" in text


@needs_both
def test_dynamic_range_file_is_skipped_with_the_option_to_use(deploy, tmp_path: Path):
    cal, _ = synthetic(16, seed=3)
    path = tmp_path / "model_int8.tflite"
    export_tflite(deploy, cal, path, "int8")
    x, y = synthetic(4, seed=1)
    made, (skip,) = tflm_follow_up(
        MICRO, path, tmp_path / "model_int8_tflm.h", x, np.zeros((4, C), np.float32), y, lambda _m: None
    )
    assert "--static-int8" in skip["reason"] and made == []


def test_without_tflite_micro_the_check_is_a_skip_naming_the_extra(monkeypatch, tmp_path: Path):
    monkeypatch.setitem(sys.modules, "tflite_micro", None)  # what Python sees when it is not installed
    assert tflm_status() == (False, "tflite-micro is not installed (pip install 'lgrin-edge[micro]')")
    # The file is not even read: its operators are read with tflite-micro's own schema.
    x, y = synthetic(2, seed=1)
    made, (skip,) = tflm_follow_up(
        MICRO,
        tmp_path / "absent.tflite",
        tmp_path / "h.h",
        x,
        np.zeros((2, C), np.float32),
        y,
        lambda _m: None,
    )
    assert made == [] and skip["reason"] == tflm_status()[1]
    assert list(tmp_path.iterdir()) == []
