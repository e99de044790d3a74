from lgrin_edge.data import load_dataset


def test_basicmotions_official_split():
    ds = load_dataset("basicmotions")
    assert ds.x.shape == (80, 100, 6) and ds.num_classes == 4
    assert int(ds.is_test.sum()) == 40 and ds.default_nodes == 100


def test_japanesevowels_variable_lengths():
    ds = load_dataset("japanesevowels")
    assert len(ds.y) == 640 and ds.num_features == 12 and ds.num_classes == 9
    assert int(ds.is_test.sum()) == 370
    assert ds.lengths.min() == 7 and ds.lengths.max() == 29
    # padding beyond each sequence's length is zero
    i = int(ds.lengths.argmin())
    assert not ds.x[i, ds.lengths[i] :].any()
