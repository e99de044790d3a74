"""A model trained on the numpy front-end's features gives the same labels on the C front-end's: a tiny
espeak-ng corpus (three speaking styles as classes), its features by ``python -m lgrin_edge.features
wav-dir`` (lgrin-speech), a tiny L-GrIN trained by ``python -m lgrin_edge.train``, then every utterance's
frames computed again by the C front-end (lgrin_edge/frontend/native.py), made into graphs by
lgrin_edge/data/graph.py and classified: the same label and, to a tiny tolerance, the same logits as
from the numpy frames. What the device computes is what the model learnt from."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from lgrin_edge.analysis.extractors import STYLES, Utterance, render, sentence
from lgrin_edge.checkpoint import load_checkpoint
from lgrin_edge.data.graph import sequence_to_graphs
from lgrin_edge.export.tolerances import FRONTEND_PARITY
from lgrin_edge.features.__main__ import main as features_main
from lgrin_edge.features.speech import first_channel
from lgrin_edge.native import find_compiler
from lgrin_edge.train import main as train_main

pytestmark = [
    pytest.mark.skipif(
        shutil.which("espeak-ng") is None,
        reason="espeak-ng not installed (apt-get install espeak-ng): no speech to train and compare on",
    ),
    pytest.mark.skipif(find_compiler() is None, reason="no C compiler on PATH (cc, gcc or clang)"),
]
CLASSES = ("high-fast", "low-slow", "neutral")  # espeak-ng pitch and speed differ most between these
PER_CLASS = 4
RATES = (16000, 16000, 16000, 22050)  # one file per class at another rate: the resampler's path too


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(corpus root, features .npz, run folder)."""
    tmp = tmp_path_factory.mktemp("c_features")
    root, rng = tmp / "corpus", np.random.default_rng(7)
    for style in CLASSES:
        (root / style).mkdir(parents=True)
        pitch, speed, amplitude = STYLES[style]
        for i, rate in enumerate(RATES):
            text = sentence(rng, 4)
            u = Utterance(f"{i}.wav", style, 0, "en+m1", text, pitch, speed, amplitude, rate)
            render(u, root / style, rng)
    npz, run = tmp / "x.npz", tmp / "run"
    assert features_main(["wav-dir", str(root), "--out", str(npz), "--no-cache", "--no-progress"]) == 0
    argv = ["--dataset", str(npz), "--epochs", "3", "--eta", "16", "8", "--out", str(run), "--folds", "2"]
    assert train_main([*argv, "--device", "cpu"]) == 0
    return root, npz, run


def test_the_c_features_give_the_models_labels(trained: tuple[Path, Path, Path]) -> None:
    from lgrin_edge.frontend.native import c_frames

    root, npz, run = trained
    data = np.load(npz, allow_pickle=False)
    model, cfg = load_checkpoint(run)
    m, policy = cfg["config"]["num_nodes"], cfg.get("long_policy", "resample")
    graphs: dict[str, list[np.ndarray]] = {"numpy": [], "c": []}
    for i, file in enumerate(data["files"]):
        ours = data["x"][i, : data["lengths"][i]]
        signal, rate = first_channel(str(root / str(file)))
        device = c_frames(signal, rate)
        assert device.shape == ours.shape
        spread = np.maximum(ours.std(axis=0), 1e-6)
        assert np.all(np.abs(device - ours).max(axis=0) <= FRONTEND_PARITY * spread)
        graphs["numpy"].append(sequence_to_graphs(ours, m, policy))
        graphs["c"].append(sequence_to_graphs(device, m, policy))
    with torch.no_grad():
        logits = {k: model(torch.from_numpy(np.concatenate(v))).numpy() for k, v in graphs.items()}
    assert logits["c"].shape == (sum(map(len, graphs["c"])), len(CLASSES))
    assert np.array_equal(logits["c"].argmax(1), logits["numpy"].argmax(1))
    assert np.abs(logits["c"] - logits["numpy"]).max() < 1e-4 * max(1.0, np.abs(logits["numpy"]).max())
