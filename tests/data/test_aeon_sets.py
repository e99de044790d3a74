"""aeon's bundled classification problems in the project's dataset format, read from the installed aeon."""

from pathlib import Path

import numpy as np
import pytest

from lgrin_edge.data import DatasetError, load_dataset
from lgrin_edge.data.aeon_sets import aeon_classification_names, load_aeon, write_aeon_npz


def test_every_bundled_classification_problem_is_found_and_nothing_else() -> None:
    names = aeon_classification_names()
    expected = {"ACSF1", "ArrowHead", "BasicMotions", "GunPoint", "ItalyPowerDemand", "JapaneseVowels"}
    assert expected | {"OSULeaf", "PickupGestureWiimoteZ"} <= set(names)
    # Regression problems, the _eq copies and aeon's own test fixture are not classification datasets here.
    assert not {"Covid3Month", "CardanoSentiment", "UnitTest", "JapaneseVowels_eq"} & set(names)


def test_variable_length_data_keeps_true_lengths_split_and_class_order(tmp_path: Path) -> None:
    path = tmp_path / "pickup.npz"
    written = write_aeon_npz("PickupGestureWiimoteZ", path)
    ds = load_dataset(str(path))
    assert ds.x.shape == (100, 361, 1) and (ds.lengths.min(), ds.lengths.max()) == (29, 361)
    assert int(ds.is_test.sum()) == 50 and not ds.is_test[:50].any()
    assert ds.classes == [str(c) for c in range(1, 11)]  # numeric order: "2" before "10"
    np.testing.assert_array_equal(ds.x, written.x)
    short = int(np.argmin(ds.lengths))
    assert not ds.x[short, ds.lengths[short] :].any()  # zero padding after the true end


def test_multichannel_data_is_time_by_channel() -> None:
    ds = load_aeon("BasicMotions")
    bundled = load_dataset("basicmotions")
    assert ds.x.shape == (80, 100, 6)
    np.testing.assert_array_equal(ds.x, bundled.x)  # the project's own loader reads the same series


def test_an_unknown_name_is_refused_naming_what_exists() -> None:
    with pytest.raises(DatasetError, match=r"aeon bundles no classification dataset 'Covid3Month'.*GunPoint"):
        load_aeon("Covid3Month")
