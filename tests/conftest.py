"""Shared fixtures: small synthetic data and tiny trained checkpoints."""

from __future__ import annotations

import pytest
import torch

torch.set_num_threads(2)


def pytest_ignore_collect(collection_path, config: pytest.Config) -> bool | None:
    """`pytest --benchmark-only` runs benchmarks/ only: these modules hold no benchmark."""
    if collection_path.name.startswith("test_") and config.getoption("benchmark_only"):
        return True
    return None


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory):
    """A tiny L-GrIN trained for a few epochs on synthetic data (official split), saved as a run folder."""
    from lgrin_edge.train import main

    out = tmp_path_factory.mktemp("run")
    code = main(
        [
            "--dataset",
            "synthetic",
            "--model",
            "lgrin",
            "--epochs",
            "3",
            "--out",
            str(out),
            "--eta",
            "16",
            "8",
            "--device",
            "cpu",
        ]
    )
    assert code == 0
    return out
