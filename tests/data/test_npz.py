import numpy as np
import pytest

from lgrin_edge.data import DatasetError, load_dataset
from lgrin_edge.data.npz import load_npz


def write(path, **arrays):
    np.savez(path, **arrays)
    return path


def good(n=6, t=5, p=3):
    rng = np.random.default_rng(0)
    return {
        "x": rng.standard_normal((n, t, p)).astype(np.float32),
        "y": np.arange(n) % 2,
        "lengths": np.full(n, t),
        "groups": np.arange(n) // 2,
        "classes": np.array(["calm", "angry"]),
    }


def test_roundtrip(tmp_path):
    ds = load_dataset(str(write(tmp_path / "d.npz", **good())))
    assert (
        ds.x.shape == (6, 5, 3)
        and ds.classes == ["calm", "angry"]
        and ds.groups.tolist() == [0, 0, 1, 1, 2, 2]
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"x": np.full((6, 5, 3), np.nan, np.float32)}, "NaN/Inf"),
        ({"x": np.zeros((6, 5, 3), np.float64)}, "float32"),
        ({"y": np.array([0, 1, 2, 0, 1, 5])}, r"labels must lie in 0\.\.1"),
        ({"lengths": np.array([5, 5, 5, 5, 5, 9])}, "lengths must lie"),
        (
            {
                "x": np.zeros((0, 5, 3), np.float32),
                "y": np.zeros(0, np.int64),
                "lengths": np.zeros(0, np.int64),
                "groups": np.zeros(0, np.int64),
            },
            "empty",
        ),
        ({"x": np.zeros((6, 5), np.float32)}, r"\(N, T, P\)"),
    ],
)
def test_bad_contents_are_named(tmp_path, change, message):
    with pytest.raises(DatasetError, match=message):
        load_npz(write(tmp_path / "d.npz", **{**good(), **change}))


def test_a_class_name_twice_is_refused(tmp_path):
    arrays = {**good(), "classes": np.array(["calm", "calm"])}
    with pytest.raises(DatasetError, match="classes names 'calm' more than once"):
        load_npz(write(tmp_path / "d.npz", **arrays))


def test_pickled_objects_are_refused(tmp_path):
    arrays = good()
    arrays["classes"] = np.array([{"evil": 1}, "b"], dtype=object)
    with pytest.raises(DatasetError, match="pickled"):
        load_npz(write(tmp_path / "d.npz", **arrays))


def test_missing_empty_and_truncated_files(tmp_path):
    with pytest.raises(DatasetError, match="not found"):
        load_npz(tmp_path / "nope.npz")
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(DatasetError, match="empty"):
        load_npz(tmp_path / "empty.npz")
    full = write(tmp_path / "d.npz", **good()).read_bytes()
    (tmp_path / "cut.npz").write_bytes(full[: len(full) // 2])
    with pytest.raises(DatasetError, match=r"truncated|unreadable"):
        load_npz(tmp_path / "cut.npz")
    with pytest.raises(DatasetError, match="missing required array 'y'"):
        load_npz(write(tmp_path / "noy.npz", x=good()["x"]))


def test_unknown_dataset_name():
    with pytest.raises(DatasetError, match="unknown dataset"):
        load_dataset("imagenet")


def test_the_feature_spec_is_read_back(tmp_path):
    from lgrin_edge.spec import FeatureSpec, Named

    spec = FeatureSpec(
        "mine", "3", {"k": 1}, (Named("a", "V"), Named("b"), Named("c")), classes=("calm", "angry")
    )
    ds = load_npz(write(tmp_path / "d.npz", **good(), feature_spec=np.array([spec.to_json()])))
    assert ds.feature_spec == ds.spec == spec
    # a spec that names no classes gets the file's
    anon = FeatureSpec("mine", "3", {}, spec.features)
    ds = load_npz(write(tmp_path / "a.npz", **good(), feature_spec=np.array([anon.to_json()])))
    assert ds.spec.classes == ("calm", "angry")


def test_a_file_without_a_spec_gets_its_feature_names_and_unknown_for_the_rest(tmp_path):
    spec = load_npz(write(tmp_path / "d.npz", **good(), feature_names=np.array(["u", "v", "w"]))).spec
    assert spec.extractor_id == "npz" and [f.name for f in spec.features] == ["u", "v", "w"]
    assert {f.unit for f in spec.features} == {"unknown"} and spec.sample_rate_hz == "unknown"
    assert spec.classes == ("calm", "angry")
    assert [f.name for f in load_npz(write(tmp_path / "e.npz", **good())).spec.features] == ["unknown"] * 3


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.array(["{"]), "feature spec: not JSON"),
        (np.array([1.0]), "feature_spec must be one unicode string"),
        (np.array(['{"spec_version": 7}']), "spec_version 7"),
    ],
)
def test_a_damaged_spec_is_named(tmp_path, value, message):
    with pytest.raises(DatasetError, match=message):
        load_npz(write(tmp_path / "d.npz", **good(), feature_spec=value))


def test_a_spec_of_other_data_is_refused(tmp_path):
    from lgrin_edge.spec import FeatureSpec, Named

    two = FeatureSpec("mine", "1", {}, (Named("a"), Named("b")), classes=("calm", "angry"))
    with pytest.raises(DatasetError, match="the feature spec names 2 features, x has 3"):
        load_npz(write(tmp_path / "d.npz", **good(), feature_spec=np.array([two.to_json()])))
    other = FeatureSpec("mine", "1", {}, (Named("a"), Named("b"), Named("c")), classes=("x", "y"))
    with pytest.raises(DatasetError, match="classes"):
        load_npz(write(tmp_path / "e.npz", **good(), feature_spec=np.array([other.to_json()])))
