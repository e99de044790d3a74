"""Checkpoints the stream tests share: the bundled datasets trained briefly (seed 0), once a session."""

from __future__ import annotations

from pathlib import Path

import pytest


def _train(root: Path, dataset: str, epochs: int) -> Path:
    from lgrin_edge.train import main as train

    run = root / dataset
    assert train(["--dataset", dataset, "--epochs", str(epochs), "--out", str(run), "--device", "cpu"]) == 0
    return run


@pytest.fixture(scope="session")
def basicmotions_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """BasicMotions' L-GrIN as the defaults train it (150 epochs): M = 100, P = 6, 10 frames/s, resample.
    A briefly trained one is unsure of many graphs, and its C int8 file then misses the export's 99%
    agreement on one CPU code path or another."""
    return _train(tmp_path_factory.mktemp("runs"), "basicmotions", 150)


@pytest.fixture(scope="session")
def japanesevowels_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """JapaneseVowels' L-GrIN after 6 epochs: M = 29, P = 12, nine classes."""
    return _train(tmp_path_factory.mktemp("runs"), "japanesevowels", 6)


@pytest.fixture(scope="session")
def basicmotions_dist(tmp_path_factory: pytest.TempPathFactory, basicmotions_run: Path) -> Path:
    """That model exported for the C runtime and ONNX (c int8, onnx fp32 and int8, samples.npz)."""
    from lgrin_edge.export.__main__ import main as export

    out = tmp_path_factory.mktemp("dist") / "basicmotions"
    assert export(["--checkpoint", str(basicmotions_run), "--target", "c", "onnx", "--out", str(out)]) == 0
    return out
