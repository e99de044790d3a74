"""Real datasets shipped inside the aeon package (no download), with their official train/test splits."""

from __future__ import annotations

import numpy as np

from lgrin_edge.data.dataset import SequenceDataset, pad_sequences

BUNDLED = {
    "basicmotions": (
        "BasicMotions",
        "smartwatch accelerometer + gyroscope (6 channels x 100 steps), 4 activities, 40 train / 40 test",
    ),
    "japanesevowels": (
        "JapaneseVowels",
        "speech frames of 12 LPC cepstral coefficients (7-29 frames), 9 speakers to identify, "
        "270 train / 370 test",
    ),
}


def load_bundled(name: str) -> SequenceDataset:
    """Load a bundled dataset; train and test are concatenated and marked by ``is_test``."""
    from aeon.datasets import load_classification

    aeon_name, description = BUNDLED[name]
    seqs, labels, is_test = [], [], []
    for split in ("train", "test"):
        x, y = load_classification(aeon_name, split=split)
        seqs.extend(np.asarray(s, dtype=np.float32).T for s in x)  # aeon gives (channels, time)
        labels.extend(str(v) for v in y)
        is_test.extend([split == "test"] * len(y))
    classes = sorted(set(labels))
    x, lengths = pad_sequences(seqs)
    return SequenceDataset(
        name=name,
        x=x,
        lengths=lengths,
        y=np.array([classes.index(v) for v in labels], dtype=np.int64),
        classes=classes,
        is_test=np.array(is_test),
        description=description,
    )
