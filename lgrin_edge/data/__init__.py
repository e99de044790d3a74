"""Datasets: bundled real data, the public npz format, synthetic test data, graph construction, folds."""

from __future__ import annotations

from pathlib import Path

from lgrin_edge.data.bundled import BUNDLED, load_bundled
from lgrin_edge.data.dataset import DatasetError, SequenceDataset
from lgrin_edge.data.npz import load_npz
from lgrin_edge.data.synthetic import make_synthetic

DATASET_NAMES = (*BUNDLED, "synthetic")


def load_dataset(spec: str) -> SequenceDataset:
    """A bundled name (basicmotions, japanesevowels), 'synthetic', or a path to an npz file."""
    if spec in BUNDLED:
        return load_bundled(spec)
    if spec == "synthetic":
        return make_synthetic(with_test_split=True)
    if spec.endswith(".npz") or Path(spec).exists():
        return load_npz(spec)
    raise DatasetError(
        f"unknown dataset {spec!r}: use one of {', '.join(DATASET_NAMES)} or a path to an .npz"
    )


__all__ = ["DATASET_NAMES", "DatasetError", "SequenceDataset", "load_dataset", "make_synthetic"]
