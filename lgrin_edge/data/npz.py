"""The public npz dataset format (see docs/data-format.md) and its loader.

Keys: ``x`` float32 (N, T, P) zero-padded; optional ``lengths`` int (N,); ``y`` int (N,) in 0..C-1;
optional ``groups`` int (N,); optional ``classes`` unicode (C,); optional ``is_test`` bool (N,) marking an
official test split; optional ``feature_spec`` unicode (1,), the feature spec's JSON (lgrin_edge/spec.py).
Loaded with ``allow_pickle=False``: object arrays are refused.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from lgrin_edge.data.dataset import DatasetError, SequenceDataset
from lgrin_edge.spec import NPZ_KEY, FeatureSpec, SpecError, unknown_spec


def load_npz(path: str | Path) -> SequenceDataset:
    """Load and validate a dataset file; every problem raises DatasetError naming it."""
    path = Path(path)
    _check_file(path)
    arrays = _read_arrays(path)
    for key in ("x", "y"):
        if key not in arrays:
            raise DatasetError(f"{path}: missing required array {key!r} (found {sorted(arrays)})")
    x = arrays["x"]
    if x.dtype != np.float32:
        raise DatasetError(f"{path}: x must be float32, got {x.dtype}")
    y = arrays["y"]
    if not np.issubdtype(y.dtype, np.integer):
        raise DatasetError(f"{path}: y must hold integer labels, got {y.dtype}")
    y = y.astype(np.int64)
    if x.ndim != 3:
        raise DatasetError(f"{path}: x must be (N, T, P), got shape {x.shape}")
    lengths = arrays.get("lengths", np.full(len(x), x.shape[1]))
    classes = _class_names(path, arrays, y)
    groups = arrays.get("groups")
    is_test = _test_marks(path, arrays)
    return SequenceDataset(
        name=path.stem,
        x=x,
        lengths=np.asarray(lengths, dtype=np.int64) if np.issubdtype(lengths.dtype, np.integer) else lengths,
        y=y,
        classes=classes,
        groups=None if groups is None else groups,
        is_test=is_test,
        description=f"user dataset {path}",
        feature_spec=_feature_spec(path, arrays, x.shape[2], classes),
    )


def read_spec_array(array: np.ndarray) -> FeatureSpec:
    """The feature spec an npz file holds under :data:`~lgrin_edge.spec.NPZ_KEY`: one JSON string."""
    if array.dtype.kind != "U" or array.size != 1:
        raise SpecError(
            f"{NPZ_KEY} must be one unicode string (the spec's JSON), got {array.dtype} {array.shape}"
        )
    return FeatureSpec.from_json(str(array.reshape(-1)[0]))


def _feature_spec(path: Path, arrays: dict[str, np.ndarray], p: int, classes: list[str]) -> FeatureSpec:
    """The file's spec (its classes filled in where it names none), or, for a file without one, the
    feature names it has and "unknown" for everything else."""
    if NPZ_KEY not in arrays:
        names = arrays.get("feature_names")
        known = names is not None and names.dtype.kind == "U" and names.shape == (p,)
        return unknown_spec(p, classes, [str(n) for n in names] if known else None, extractor="npz")
    try:
        spec = read_spec_array(arrays[NPZ_KEY])
    except SpecError as e:
        raise DatasetError(f"{path}: {e}") from None
    return spec if spec.classes else replace(spec, classes=tuple(classes))


def _check_file(path: Path) -> None:
    """Refuse what is not a readable, non-empty file before numpy sees it (clearer messages)."""
    if path.is_dir():
        raise DatasetError(f"{path} is a folder; --dataset takes an .npz file (docs/data-format.md)")
    if not path.is_file():
        raise DatasetError(f"dataset file not found: {path}")
    if path.stat().st_size == 0:
        raise DatasetError(f"dataset file is empty: {path}")
    if not os.access(path, os.R_OK):
        raise DatasetError(f"cannot read {path}: permission denied")


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    return npz_arrays(path.read_bytes(), str(path), DatasetError)


def npz_arrays(data: bytes, where: str, error: type[Exception]) -> dict[str, np.ndarray]:
    """The arrays of the .npz ``data`` (read from ``where``), never unpickling; ``error`` with one line
    saying what the bytes are where they are not such a file."""
    if data.startswith(b"\x93NUMPY"):
        raise error(f"{where} is a single .npy array, not an .npz archive of named arrays (x, y, ...)")
    if not data.startswith(b"PK"):
        raise error(f"{where} is not an .npz (zip) archive; write it with numpy.savez")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except ValueError as e:
        if "allow_pickle" in str(e):
            raise error(
                f"{where} holds pickled Python objects (object arrays); store plain numeric or unicode arrays"
            ) from e
        raise error(f"{where} is not a readable .npz ({e})") from e
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise error(f"{where} is a damaged or truncated .npz archive ({e})") from e


def _class_names(path: Path, arrays: dict[str, np.ndarray], y: np.ndarray) -> list[str]:
    """The ``classes`` array, or "0".."C-1" for the labels found."""
    if "classes" in arrays:
        if arrays["classes"].dtype.kind != "U" or arrays["classes"].ndim != 1:
            raise DatasetError(f"{path}: classes must be a 1-D unicode array")
        names = [str(c) for c in arrays["classes"]]
        twice = sorted({c for c in names if names.count(c) > 1})
        if twice:
            # Two labels of one name would be reported, and exported, as one class.
            raise DatasetError(
                f"{path}: classes names {twice[0]!r} more than once; each class needs its own name"
            )
        return names
    return [str(i) for i in range(int(y.max()) + 1 if y.size else 0)]


def _test_marks(path: Path, arrays: dict[str, np.ndarray]) -> np.ndarray | None:
    """``is_test`` as bool (0/1 numbers accepted), or None without an official split."""
    is_test = arrays.get("is_test")
    if (
        is_test is not None
        and is_test.dtype != np.bool_
        and (not np.issubdtype(is_test.dtype, np.number) or not np.isin(is_test, (0, 1)).all())
    ):
        raise DatasetError(f"{path}: is_test must be boolean (or 0/1); found values {np.unique(is_test)[:5]}")
    return None if is_test is None else is_test.astype(bool)
