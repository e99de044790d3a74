import numpy as np
import pytest

from lgrin_edge.data import DatasetError, make_synthetic
from lgrin_edge.data.splits import make_folds


def test_folds_never_share_a_group_and_cover_everything():
    ds = make_synthetic(n=96, with_groups=True)
    folds = make_folds(ds, 4, seed=0)
    assert len(folds) == 4
    tested = np.concatenate([f.test for f in folds])
    assert sorted(tested.tolist()) == list(range(96))
    for f in folds:
        test_groups = set(ds.groups[f.test].tolist())
        assert not test_groups & set(ds.groups[f.train].tolist())
        assert not test_groups & set(ds.groups[f.val].tolist())
        assert not set(f.train) & set(f.val) and not set(f.test) & (set(f.train) | set(f.val))


def test_official_split_keeps_test_out_of_training_and_validation():
    ds = make_synthetic(n=40, with_test_split=True)
    (fold,) = make_folds(ds, 5, seed=0)
    assert set(fold.test.tolist()) == set(np.flatnonzero(ds.is_test).tolist())
    assert not set(fold.val.tolist()) & set(fold.test.tolist())
    assert len(fold.val) > 0


def test_too_few_groups_is_an_error():
    ds = make_synthetic(n=24, with_groups=True)
    ds.groups = np.arange(24) % 2
    with pytest.raises(DatasetError, match="groups"):
        make_folds(ds, 5, seed=0)
