"""Write sequences in the project's npz dataset format (x, lengths, y, groups, classes, extras)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

from lgrin_edge.atomic import write_npz
from lgrin_edge.data.dataset import pad_sequences
from lgrin_edge.spec import NPZ_KEY, FeatureSpec


def write_dataset_npz(
    path: str | os.PathLike[str],
    seqs: Sequence[np.ndarray],
    y: Sequence[int] | np.ndarray,
    *,
    groups: Sequence[int] | np.ndarray | None = None,
    classes: Sequence[str] | None = None,
    extra: Mapping[str, Sequence[str] | np.ndarray] | None = None,
    spec: FeatureSpec | None = None,
) -> str:
    """Write one dataset file atomically (temp file in the same folder, then ``os.replace``).

    ``extra`` holds per-dataset metadata (e.g. ``files``, ``feature_names``); strings become fixed-width
    unicode arrays so that the file loads with ``allow_pickle=False``. ``spec``, the feature spec of the
    frames, is stored as its JSON in a one-string array (``feature_spec``).
    """
    x, lengths = pad_sequences(seqs)
    arrays: dict[str, np.ndarray] = {
        "x": x,
        "lengths": lengths,
        "y": np.asarray(y, dtype=np.int64),
    }
    n = len(seqs)
    if arrays["y"].shape != (n,):
        raise ValueError(f"y has shape {arrays['y'].shape}, expected ({n},)")
    if groups is not None:
        arrays["groups"] = np.asarray(groups, dtype=np.int64)
        if arrays["groups"].shape != (n,):
            raise ValueError(f"groups has shape {arrays['groups'].shape}, expected ({n},)")
    if classes is not None:
        names = [str(c) for c in classes]
        twice = sorted({c for c in names if names.count(c) > 1})
        if twice:
            raise ValueError(f"class names must differ; {', '.join(map(repr, twice))} appear more than once")
        arrays["classes"] = np.asarray(names, dtype=np.str_)
        if n and (arrays["y"].min() < 0 or arrays["y"].max() >= len(classes)):
            raise ValueError("y holds a label outside 0..C-1")
    if spec is not None:
        if spec.num_features != arrays["x"].shape[2]:
            raise ValueError(
                f"the feature spec names {spec.num_features} features, x has {arrays['x'].shape[2]}"
            )
        arrays[NPZ_KEY] = np.asarray([spec.to_json()], dtype=np.str_)
    for key, val in (extra or {}).items():
        if key in arrays:
            raise ValueError(f"extra key {key!r} clashes with a dataset key")
        arr = np.asarray(val)
        if arr.dtype == object or arr.dtype.kind in "SU":
            arr = np.asarray([str(v) for v in val], dtype=np.str_)
        arrays[key] = arr
    out = os.fspath(path)
    write_npz(out, **arrays)
    return out
