"""Evaluation protocols: the official split, or stratified k-fold that never splits a group.

Validation data for early stopping and model selection is always carved from the training part.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from lgrin_edge.data.dataset import DatasetError, SequenceDataset

# What a k-fold run keeps as its held-out data (eval.npz): the final model's validation split, since the
# folds' test data belong to models it did not keep. The export reads the words to say so.
FINAL_VALIDATION = "validation split of the final model"


@dataclass(frozen=True)
class Fold:
    """Indices into the dataset; test is never used for training, stopping or selection."""

    index: int
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def protocol_name(ds: SequenceDataset, folds: int) -> str:
    if ds.is_test is not None:
        return "official-split"
    return f"{folds}-fold-{'group-' if ds.groups is not None else ''}stratified"


def _test_folds(y: np.ndarray, groups: np.ndarray | None, k: int, seed: int) -> Iterator[np.ndarray]:
    """Test indices of a shuffled stratified k-fold, group-aware when groups are given."""
    if groups is not None:
        splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
        return (test for _, test in splitter.split(np.zeros(len(y)), y, groups))
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return (test for _, test in splitter.split(np.zeros(len(y)), y))


def kfold_indices(y: np.ndarray, groups: np.ndarray | None, k: int, seed: int) -> list[np.ndarray]:
    """k disjoint test index sets, stratified by label; group-aware when groups are given."""
    if k < 2:
        raise DatasetError(f"need at least 2 folds, got {k}")
    if groups is not None and len(np.unique(groups)) < k:
        raise DatasetError(f"{k} folds need at least {k} groups; the data has {len(np.unique(groups))}")
    if groups is None and np.bincount(y).min() < k:
        raise DatasetError(f"{k}-fold stratification needs at least {k} samples in every class")
    return list(_test_folds(y, groups, k, seed))


def validation_split(
    idx: np.ndarray, y: np.ndarray, groups: np.ndarray | None, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split training indices idx into (train, val), about ``fraction`` for val, stratified, group-aware."""
    k = max(2, round(1 / fraction))
    sub_groups = None if groups is None else groups[idx]
    if sub_groups is not None and len(np.unique(sub_groups)) < k:
        sub_groups = None  # too few groups to hold any out: fall back to a sample-level split
    sub_y = y[idx]
    if sub_groups is None and np.bincount(sub_y).max() < k:
        rng = np.random.default_rng(seed)
        perm = rng.permutation(len(idx))
        n_val = max(1, int(len(idx) * fraction))
        return np.sort(idx[perm[n_val:]]), np.sort(idx[perm[:n_val]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # classes smaller than k: stratification is best effort here
        val_rel = next(_test_folds(sub_y, sub_groups, k, seed))
    mask = np.zeros(len(idx), dtype=bool)
    mask[val_rel] = True
    return idx[~mask], idx[mask]


def make_folds(ds: SequenceDataset, folds: int, seed: int, val_fraction: float = 0.15) -> list[Fold]:
    """The protocol's folds: one fold for an official split, else ``folds`` cross-validation folds."""
    all_idx = np.arange(len(ds.y))
    if ds.is_test is not None:
        tests = [all_idx[ds.is_test]]
        if len(tests[0]) == 0 or len(tests[0]) == len(all_idx):
            raise DatasetError(f"{ds.name}: the official split must have both train and test samples")
    else:
        tests = kfold_indices(ds.y, ds.groups, folds, seed)
    out = []
    for i, test in enumerate(tests):
        train_all = np.setdiff1d(all_idx, test)
        train, val = validation_split(train_all, ds.y, ds.groups, val_fraction, seed + i)
        out.append(Fold(i, train, val, np.sort(test)))
    return out
