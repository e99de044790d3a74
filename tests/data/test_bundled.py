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


def test_basicmotions_spec_says_what_the_archive_publishes_and_no_more():
    spec = load_dataset("basicmotions").spec
    axes = [f"{s}_{a}" for s in ("accelerometer", "gyroscope") for a in "xyz"]
    assert [f.name for f in spec.features] == axes and {f.unit for f in spec.features} == {"unknown"}
    assert [c.name for c in spec.channels] == axes and {c.unit for c in spec.channels} == {"unknown"}
    assert spec.extractor_id == "uea-basicmotions" and spec.input_kind == "motion"
    assert spec.sample_rate_hz == spec.frame_rate_hz == 10 and spec.params["recording_s"] == 10
    assert list(spec.classes) == ["badminton", "running", "standing", "walking"]
    assert spec.graph is None and spec.normalisation is None  # training sets them


def test_japanesevowels_spec_gives_the_lpc_frames():
    ds = load_dataset("japanesevowels")
    spec = ds.spec
    assert [f.name for f in spec.features] == [f"lpcc{k}" for k in range(1, 13)]
    assert spec.num_features == ds.num_features and {f.unit for f in spec.features} == {"unknown"}
    assert spec.extractor_id == "uea-japanesevowels" and spec.input_kind == "audio"
    assert spec.sample_rate_hz == 10000 and spec.frame_rate_hz == 156.25  # a frame every 6.4 ms
    assert spec.params["frame_length_s"] == 0.0256 and spec.params["hop_s"] == 0.0064
    assert list(spec.classes) == ds.classes == [str(k) for k in range(1, 10)]
