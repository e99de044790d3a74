"""Fixtures the web tests share: a real headless Chromium, and a briefly trained model's web export."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def chromium() -> None:
    """Skips the test, naming what to install, where Chromium or ChromeDriver is missing."""
    from lgrin_edge.web.browser import chromium_status

    ok, reason = chromium_status()
    if not ok:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def jv_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """JapaneseVowels' L-GrIN after 6 epochs exported for the C runtime and the web (``--target c web``):
    model_int8.lgrn, manifest.json, samples.npz, and the page with its runtime and model in ``web/``."""
    from lgrin_edge.export.__main__ import main as export
    from lgrin_edge.export.targets import TARGETS
    from lgrin_edge.train import main as train

    ok, reason = TARGETS["web"].status()
    if not ok:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("web")
    run, dist = root / "run", root / "dist"
    args = ["--dataset", "japanesevowels", "--epochs", "6", "--out", str(run), "--device", "cpu"]
    assert train(args) == 0
    assert export(["--checkpoint", str(run), "--target", "c", "web", "--out", str(dist)]) == 0
    return dist
