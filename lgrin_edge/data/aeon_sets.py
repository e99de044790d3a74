"""Every classification dataset the aeon package ships inside itself (no download), in the project's form.

aeon keeps its bundled problems as ``<Name>/<Name>_TRAIN.ts`` (+ ``_TEST.ts``) files in
``aeon/datasets/data``; a problem is a classification one when its header says ``@classLabel true``.
Two kinds are left out: ``_eq`` files (the same series padded to equal length, a second copy of a
problem) and ``UnitTest`` (aeon's fixture for its own tests, a cut of another archive problem).

:func:`load_aeon` reads one with aeon's own loader (its official train/test split kept as ``is_test``,
variable-length series zero-padded with their true lengths); :func:`write_aeon_npz` writes the
project's dataset file (docs/data-format.md) that ``--dataset FILE.npz`` reads.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import numpy as np

from lgrin_edge.atomic import write_npz
from lgrin_edge.data.bundled import from_splits, read_aeon_splits
from lgrin_edge.data.dataset import DatasetError, SequenceDataset
from lgrin_edge.spec import NPZ_KEY, unknown_spec

# aeon's fixture for its own unit tests, not a benchmark problem.
FIXTURES = ("UnitTest",)


def aeon_data_folder() -> Path:
    import aeon.datasets

    return Path(aeon.datasets.__file__).parent / "data"


def _is_classification(train_file: Path) -> bool:
    """Whether a .ts file's header declares class labels (its data follow ``@data``)."""
    with open(train_file, encoding="utf-8", errors="replace") as f:
        for line in f:
            words = line.strip().lower().split()
            if words[:2] == ["@classlabel", "true"]:
                return True
            if words[:1] == ["@data"]:
                return False
    return False


def aeon_classification_names() -> list[str]:
    """The names of the classification problems aeon bundles, sorted case-insensitively."""
    names = []
    for folder in aeon_data_folder().iterdir():
        train = folder / f"{folder.name}_TRAIN.ts"
        test = folder / f"{folder.name}_TEST.ts"
        if folder.name in FIXTURES or not (train.is_file() and test.is_file()):
            continue
        if _is_classification(train):
            names.append(folder.name)
    return sorted(names, key=str.lower)


def _class_order(labels: list[str]) -> list[str]:
    """Class names in numeric order where every label is a number ("2" before "10"), else text order."""
    names = sorted(set(labels))
    try:
        return sorted(names, key=float)
    except ValueError:
        return names


def load_aeon(name: str) -> SequenceDataset:
    """One bundled aeon classification problem; train and test concatenated, marked by ``is_test``."""
    names = aeon_classification_names()
    if name not in names:
        raise DatasetError(f"aeon bundles no classification dataset {name!r}; it has {', '.join(names)}")
    seqs, labels, is_test = read_aeon_splits(name)
    if any(not np.isfinite(s).all() for s in seqs):
        raise DatasetError(f"aeon's {name} holds missing or infinite values; it cannot be graphed as it is")
    classes = _class_order(labels)
    description = f"{name}, bundled with aeon {version('aeon')} (its train/test split)"
    spec = unknown_spec(seqs[0].shape[1], classes, extractor=f"aeon-{name}")
    return from_splits(name, seqs, labels, is_test, classes, description, spec)


def write_aeon_npz(name: str, path: str | Path) -> SequenceDataset:
    """Write aeon's ``name`` as the project's dataset file ``path`` (atomically); return the data."""
    ds = load_aeon(name)
    write_npz(
        path,
        x=ds.x,
        lengths=ds.lengths,
        y=ds.y,
        classes=np.array(ds.classes),
        is_test=ds.is_test,
        **{NPZ_KEY: np.array([ds.spec.to_json()])},
    )
    return ds
