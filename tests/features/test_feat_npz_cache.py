from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from lgrin_edge.cli import UserError
from lgrin_edge.features import FeatureCache, write_dataset_npz
from lgrin_edge.features.common import FeatureError, check_input_file


def test_write_dataset_npz_roundtrip_without_pickle(tmp_path):
    seqs = [np.ones((3, 2), np.float32), 2 * np.ones((5, 2), np.float32)]
    out = write_dataset_npz(tmp_path / "d.npz", seqs, [1, 0], groups=[7, 8], classes=["a", "b"],
                    extra={"files": ["x/1.wav", "x/2.wav"]})  # fmt: skip
    with np.load(out, allow_pickle=False) as f:
        assert f["x"].dtype == np.float32 and f["x"].shape == (2, 5, 2)
        assert f["lengths"].tolist() == [3, 5] and f["lengths"].dtype == np.int64
        assert f["y"].dtype == np.int64 and f["groups"].tolist() == [7, 8]
        assert f["classes"].dtype.kind == "U" and f["files"].dtype.kind == "U"
        assert (f["x"][0, 3:] == 0).all()
    assert os.listdir(tmp_path) == ["d.npz"]  # no temp file left behind


def test_write_dataset_npz_rejects_bad_labels(tmp_path):
    with pytest.raises(ValueError, match=r"outside"):
        write_dataset_npz(tmp_path / "d.npz", [np.ones((2, 2), np.float32)], [3], classes=["a"])
    with pytest.raises(ValueError, match=r"feature sizes"):
        write_dataset_npz(tmp_path / "d.npz", [np.ones((2, 2)), np.ones((2, 3))], [0, 0])
    assert not os.listdir(tmp_path)


def test_cache_hit_and_invalidation(tmp_path):
    src = tmp_path / "a.txt"
    src.write_text("abc")
    cache = FeatureCache(tmp_path / "cache")
    calls = []

    def compute(p):
        calls.append(p)
        return np.arange(len(open(p).read()), dtype=np.float32)

    a = cache.get_or_compute(str(src), {"k": 1}, compute)
    b = cache.get_or_compute(str(src), {"k": 1}, compute)
    assert np.array_equal(a, b) and len(calls) == 1 and cache.hits == 1
    cache.get_or_compute(str(src), {"k": 2}, compute)  # other config -> miss
    assert len(calls) == 2
    src.write_text("abcdef")  # new size and mtime -> miss
    c = cache.get_or_compute(str(src), {"k": 1}, compute)
    assert len(calls) == 3 and c.shape == (6,)


def test_check_input_file_errors(tmp_path):
    with pytest.raises(FeatureError, match=r"missing input: .*nope.wav"):
        check_input_file(tmp_path / "nope.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(FeatureError, match=r"empty input .*empty.wav"):
        check_input_file(tmp_path / "empty.wav")
    with pytest.raises(FeatureError, match=r"not a file"):
        check_input_file(tmp_path)


def test_heavy_dependencies_load_lazily():
    import subprocess
    import sys

    code = (
        "import sys, lgrin_edge.features, lgrin_edge.features.__main__ as m; m._parser(); "
        "print(sorted(k for k in ('opensmile', 'mediapipe', 'cv2', 'soundfile') if k in sys.modules))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"


def test_write_dataset_npz_refuses_a_class_name_twice(tmp_path):
    seqs = [np.ones((3, 2), np.float32)] * 2
    with pytest.raises(ValueError, match="'a' appear more than once"):
        write_dataset_npz(tmp_path / "d.npz", seqs, [0, 1], classes=["a", "a"])
    assert not (tmp_path / "d.npz").exists()


def test_require_names_the_extra(monkeypatch):
    from lgrin_edge.features.common import MissingPackage, require

    monkeypatch.setitem(sys.modules, "cv2", None)  # how Python hides a module: it is then not found
    with pytest.raises(MissingPackage) as e:
        require("cv2")
    assert str(e.value) == "opencv-contrib-python is not installed (pip install 'lgrin-edge[video]')"
    assert isinstance(e.value, ImportError) and isinstance(e.value, UserError)
