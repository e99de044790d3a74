"""The in-memory sequence dataset every loader returns, and its validation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from lgrin_edge.cli import UserError
from lgrin_edge.spec import FeatureSpec, unknown_spec


class DatasetError(UserError):
    """A dataset is malformed; the message names the problem and the offending field."""


@dataclass
class SequenceDataset:
    """Variable-length sequences zero-padded to a common length.

    x: (N, T, P) float32; lengths: (N,) true lengths; y: (N,) labels in 0..C-1; groups: (N,) subject or
    speaker ids or None; is_test: (N,) bool marking an official test split, or None; feature_spec: what
    the P features are (lgrin_edge/spec.py), None where nobody said (:attr:`spec` is then all unknown).
    """

    name: str
    x: np.ndarray
    lengths: np.ndarray
    y: np.ndarray
    classes: list[str]
    groups: np.ndarray | None = None
    is_test: np.ndarray | None = None
    default_nodes: int = 0
    description: str = ""
    extra: dict = field(default_factory=dict)
    feature_spec: FeatureSpec | None = None

    def __post_init__(self) -> None:
        validate(self)
        if not self.default_nodes:
            self.default_nodes = int(self.lengths.max())

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def num_features(self) -> int:
        return int(self.x.shape[2])

    @property
    def spec(self) -> FeatureSpec:
        """The dataset's feature spec: its own, or one that marks everything but P and the classes
        unknown."""
        return self.feature_spec or unknown_spec(self.num_features, self.classes)


def validate(ds: SequenceDataset) -> None:
    """Raise DatasetError naming the first problem found."""
    x, y = ds.x, ds.y
    if not isinstance(x, np.ndarray) or x.ndim != 3:
        raise DatasetError(f"{ds.name}: x must be a (N, T, P) array, got shape {getattr(x, 'shape', None)}")
    n, t, p = x.shape
    if n == 0:
        raise DatasetError(f"{ds.name}: the dataset is empty (N = 0)")
    if t == 0 or p == 0:
        raise DatasetError(f"{ds.name}: x has shape {x.shape}; need at least one frame and one feature")
    if x.dtype != np.float32:
        raise DatasetError(f"{ds.name}: x must be float32, got {x.dtype}")
    bad = ~np.isfinite(x)
    if bad.any():
        first = np.argwhere(bad)[0]
        raise DatasetError(
            f"{ds.name}: x holds {int(bad.sum())} NaN/Inf values (first at sample {first[0]}, "
            f"frame {first[1]}, feature {first[2]})"
        )
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise DatasetError(f"{ds.name}: y must be an integer array of shape ({n},), got {y.dtype} {y.shape}")
    c = len(ds.classes)
    if c < 2:
        raise DatasetError(f"{ds.name}: need at least 2 classes, got {c}")
    if y.min() < 0 or y.max() >= c:
        raise DatasetError(f"{ds.name}: labels must lie in 0..{c - 1}; found {int(y.min())}..{int(y.max())}")
    if ds.lengths.shape != (n,) or not np.issubdtype(ds.lengths.dtype, np.integer):
        raise DatasetError(f"{ds.name}: lengths must be an integer array of shape ({n},)")
    if ds.lengths.min() < 1 or ds.lengths.max() > t:
        raise DatasetError(
            f"{ds.name}: lengths must lie in 1..{t} (the padded length); found "
            f"{int(ds.lengths.min())}..{int(ds.lengths.max())}"
        )
    if ds.groups is not None and (ds.groups.shape != (n,) or not np.issubdtype(ds.groups.dtype, np.integer)):
        raise DatasetError(f"{ds.name}: groups must be an integer array of shape ({n},)")
    if ds.is_test is not None and ds.is_test.shape != (n,):
        raise DatasetError(f"{ds.name}: is_test must have shape ({n},)")
    _check_spec(ds)
    present = np.unique(y)
    if len(present) < 2:
        raise DatasetError(
            f"{ds.name}: every label is {ds.classes[int(present[0])]!r}; a classifier needs at least 2 "
            "classes with samples"
        )
    if ds.is_test is not None:
        test = ds.is_test.astype(bool)
        if test.all() or not test.any():
            raise DatasetError(f"{ds.name}: is_test marks {'every' if test.all() else 'no'} sample as test")
        unseen = sorted(set(np.unique(y[test]).tolist()) - set(np.unique(y[~test]).tolist()))
        if unseen:
            names = ", ".join(repr(ds.classes[i]) for i in unseen[:5])
            raise DatasetError(
                f"{ds.name}: test class(es) {names} have no training samples, so no model can learn them"
            )


def _check_spec(ds: SequenceDataset) -> None:
    """The feature spec, where there is one, describes these P features and these classes."""
    spec = ds.feature_spec
    if spec is None:
        return
    if spec.num_features != ds.num_features:
        raise DatasetError(
            f"{ds.name}: the feature spec names {spec.num_features} features, x has {ds.num_features}"
        )
    if list(spec.classes) != list(ds.classes):
        raise DatasetError(
            f"{ds.name}: the feature spec's classes {list(spec.classes)[:5]} differ from the dataset's "
            f"{list(ds.classes)[:5]}"
        )


def empty_classes(ds: SequenceDataset) -> list[str]:
    """Names of the classes without a single sample (a model can still train; they are never predicted)."""
    counts = np.bincount(ds.y, minlength=len(ds.classes))
    return [c for c, k in zip(ds.classes, counts, strict=True) if k == 0]


def pad_sequences(seqs: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(T_i, P) arrays -> zero-padded (N, T_max, P) float32 and int64 lengths (N,)."""
    if not seqs:
        raise DatasetError("no sequences to pad")
    widths = {s.shape[1] for s in seqs}
    if len(widths) != 1:
        raise DatasetError(f"sequences have different feature sizes: {sorted(widths)}")
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    x = np.zeros((len(seqs), int(lengths.max()), widths.pop()), dtype=np.float32)
    for i, s in enumerate(seqs):
        x[i, : len(s)] = s
    return x, lengths
