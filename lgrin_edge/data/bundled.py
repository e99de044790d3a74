"""Real datasets shipped inside the aeon package (no download), with their official train/test splits,
and their feature specs (lgrin_edge/spec.py) from what the UEA archive publishes about each."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import numpy as np

from lgrin_edge.data.dataset import SequenceDataset, pad_sequences
from lgrin_edge.spec import UNKNOWN, FeatureSpec, Named

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

# The archive publishes neither the sensors' units nor their calibration: every unit is unknown.
_MOTION = tuple(Named(f"{sensor}_{axis}") for sensor in ("accelerometer", "gyroscope") for axis in "xyz")
_SOURCE = "UEA multivariate time series classification archive"


def _aeon() -> str:
    try:
        return f"aeon {version('aeon')}"
    except PackageNotFoundError:
        return UNKNOWN


def bundled_spec(name: str, classes: list[str]) -> FeatureSpec:
    """What the archive says each bundled dataset's frames are (the dataset's own classes)."""
    if name == "basicmotions":
        return FeatureSpec(
            extractor_id="uea-basicmotions",
            extractor_version=_aeon(),
            params={
                "source": _SOURCE,
                "device": "smartwatch",
                "sensors": "3-axis accelerometer, 3-axis gyroscope",
                "sample_rate_hz": 10,
                "recording_s": 10,
                "steps": 100,
            },
            features=_MOTION,  # each frame is one sample of the six channels, unprocessed
            input_kind="motion",
            sample_rate_hz=10,
            channels=_MOTION,
            frame_rate_hz=10,
            classes=tuple(classes),
        )
    return FeatureSpec(
        extractor_id="uea-japanesevowels",
        extractor_version=_aeon(),
        params={
            "source": _SOURCE,
            "utterance": "/ae/ by nine male speakers",
            "sample_rate_hz": 10000,
            "frame_length_s": 0.0256,
            "hop_s": 0.0064,
            "analysis": "12th-order linear prediction (LPC)",
            "coefficients": "LPC cepstrum 1-12",
            "frames_per_utterance": "7-29",
        },
        features=tuple(Named(f"lpcc{k}") for k in range(1, 13)),
        input_kind="audio",
        sample_rate_hz=10000,
        channels=(Named("mono"),),
        frame_rate_hz=156.25,  # one frame every 6.4 ms
        classes=tuple(classes),
    )


def read_aeon_splits(aeon_name: str) -> tuple[list[np.ndarray], list[str], list[bool]]:
    """aeon's classification problem ``aeon_name``, train then test: (time, channels) float32 sequences,
    their labels as text, and whether each is a test sequence."""
    from aeon.datasets import load_classification

    seqs, labels, is_test = [], [], []
    for split in ("train", "test"):
        x, y = load_classification(aeon_name, split=split)
        seqs.extend(np.asarray(s, dtype=np.float32).T for s in x)  # aeon gives (channels, time)
        labels.extend(str(v) for v in y)
        is_test.extend([split == "test"] * len(y))
    return seqs, labels, is_test


def load_bundled(name: str) -> SequenceDataset:
    """Load a bundled dataset; train and test are concatenated and marked by ``is_test``."""
    aeon_name, description = BUNDLED[name]
    seqs, labels, is_test = read_aeon_splits(aeon_name)
    classes = sorted(set(labels))
    return from_splits(name, seqs, labels, is_test, classes, description, bundled_spec(name, classes))


def from_splits(
    name: str,
    seqs: list[np.ndarray],
    labels: list[str],
    is_test: list[bool],
    classes: list[str],
    description: str,
    feature_spec: FeatureSpec,
) -> SequenceDataset:
    """A dataset of read_aeon_splits' sequences, padded, with labels as indices into ``classes``."""
    x, lengths = pad_sequences(seqs)
    return SequenceDataset(
        name=name,
        x=x,
        lengths=lengths,
        y=np.array([classes.index(v) for v in labels], dtype=np.int64),
        classes=classes,
        is_test=np.array(is_test),
        description=description,
        feature_spec=feature_spec,
    )
