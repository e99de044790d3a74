from __future__ import annotations

import importlib.util
import os
import shutil

import numpy as np
import pytest

from lgrin_edge.features import face
from lgrin_edge.features.__main__ import main
from lgrin_edge.features.common import FeatureError
from lgrin_edge.features.corpora import enterface_items, ravdess_items, rml_items

from .conftest import openface_csv

NAN = np.nan


def test_mapping_table_is_a_68_point_subset():
    m = face.MESH_TO_IBUG68
    assert m.shape == (68,) and len(set(m.tolist())) == 68 and m.max() < 468
    pts = np.random.default_rng(0).normal(size=(4, 478, 3))
    sub = face.mesh_to_ibug68(pts)
    assert sub.shape == (4, 68, 3) and np.array_equal(sub[:, 8], pts[:, 152])  # iBUG 9 = chin
    feats = face.points_to_features(sub[..., :2])
    assert feats.shape == (4, 136) and np.allclose(feats[:, 68], sub[:, 0, 1])
    with pytest.raises(ValueError, match=r"468 or 478"):
        face.mesh_to_ibug68(np.zeros((10, 3)))


def test_mapping_follows_mediapipe_regions():
    pytest.importorskip("mediapipe", reason="video extra (mediapipe) not installed")
    from mediapipe.tasks.python.vision.face_landmarker import FaceLandmarksConnections as C

    def region(name):
        return {i for c in getattr(C, "FACE_LANDMARKS_" + name) for i in (c.start, c.end)}

    m = face.MESH_TO_IBUG68.tolist()
    # subject's right = mediapipe's RIGHT_* (image left) = iBUG 18-22 and 37-42
    for sl, name in [
        ((0, 17), "FACE_OVAL"),
        ((17, 22), "RIGHT_EYEBROW"),
        ((22, 27), "LEFT_EYEBROW"),
        ((27, 36), "NOSE"),
        ((36, 42), "RIGHT_EYE"),
        ((42, 48), "LEFT_EYE"),
        ((48, 68), "LIPS"),
    ]:
        assert set(m[slice(*sl)]) <= region(name), name  # fmt: skip


def test_missing_face_policies():
    a = np.array([[NAN, NAN], [1, 1], [NAN, NAN], [NAN, NAN], [4, 7], [NAN, NAN]], np.float32)
    assert face.apply_missing_policy(a, "carry").tolist() == [[1, 1], [1, 1], [1, 1], [4, 7], [4, 7]]
    assert face.apply_missing_policy(a, "drop").tolist() == [[1, 1], [4, 7]]
    assert face.apply_missing_policy(a, "interpolate").tolist() == [[1, 1], [2, 3], [3, 5], [4, 7]]
    with pytest.raises(FeatureError, match=r"no face found in any of the 2 frames of clip.mp4"):
        face.apply_missing_policy(np.full((2, 4), NAN), "carry", "clip.mp4")
    with pytest.raises(ValueError, match=r"unknown no-face policy"):
        face.apply_missing_policy(a, "guess")


def test_openface_csv(tmp_path):
    p = openface_csv(str(tmp_path / "a.csv"), n=4, success=[1, 0, 1, 1])
    f = face.read_openface_csv(p)
    assert f.shape == (4, 136) and np.isnan(f[1]).all() and not np.isnan(f[[0, 2, 3]]).any()
    raw = np.genfromtxt(p, delimiter=",", names=True)
    assert np.isclose(f[0, 0], raw["x_0"][0]) and np.isclose(f[0, 68], raw["y_0"][0])


def test_openface_csv_errors(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(FeatureError, match=r"empty input .*empty.csv"):
        face.read_openface_csv(str(tmp_path / "empty.csv"))
    (tmp_path / "hdr.csv").write_text("frame, success, " + ", ".join(face.feature_names()) + "\n")
    with pytest.raises(FeatureError, match=r"header but no frames: .*hdr.csv"):
        face.read_openface_csv(str(tmp_path / "hdr.csv"))
    (tmp_path / "cols.csv").write_text("frame, x_0, y_0\n1, 2, 3\n")
    with pytest.raises(FeatureError, match=r"cols.csv lacks landmark columns"):
        face.read_openface_csv(str(tmp_path / "cols.csv"))
    p = openface_csv(str(tmp_path / "bad.csv"), n=2)
    with open(p, "a") as fh:
        fh.write("3, 0, 0.1, 0.9, 1, oops\n")
    with pytest.raises(FeatureError, match=r"malformed row .*bad.csv"):
        face.read_openface_csv(p)


def _ravdess_tree(root: str) -> None:
    # modality 01 (AV) and 02 (video-only); 03 (audio-only) is ignored; vocal 01 speech / 02 song
    names = ["01-01-01-01-01-01-01", "02-01-05-02-01-02-01", "01-02-08-01-02-01-12", "03-01-03-01-01-01-12",
             "02-01-03-01-02-02-12"]  # fmt: skip
    for i, n in enumerate(names):
        actor = int(n[-2:])
        openface_csv(
            os.path.join(root, f"Actor_{actor:02d}", n + ".csv"), n=3 + i, success=[0] + [1] * (2 + i)
        )
    with open(os.path.join(root, "README.txt"), "w") as fh:
        fh.write("not a clip\n")


def test_ravdess_labels_and_groups(tmp_path):
    _ravdess_tree(str(tmp_path))
    items, classes = ravdess_items(str(tmp_path), suffixes=(".csv",))
    assert len(classes) == 8 and classes[0] == "neutral" and classes[7] == "surprised"
    assert [(it.label, it.group) for it in items] == [
        ("neutral", 1), ("angry", 1), ("surprised", 12), ("happy", 12)]  # fmt: skip
    items, _ = ravdess_items(str(tmp_path), suffixes=(".csv",), modality="av", vocal="speech")
    assert [it.label for it in items] == ["neutral"]


def test_ravdess_openface_cli(tmp_path, cache_dir, capsys):
    _ravdess_tree(str(tmp_path / "r"))
    out = str(tmp_path / "rav.npz")
    args = ["ravdess", str(tmp_path / "r"), "--input", "openface", "--out", out, "--cache-dir", cache_dir,
            "--no-progress"]  # fmt: skip
    assert main(args) == 0
    with np.load(out, allow_pickle=False) as f:
        assert f["x"].shape == (4, 6, 136) and f["classes"].shape == (8,)
        assert f["y"].tolist() == [0, 4, 7, 2] and f["groups"].tolist() == [1, 1, 12, 12]
        # leading no-face frame dropped by the default "carry" policy
        assert f["lengths"].tolist() == [2, 3, 4, 6]
        assert f["feature_names"][0] == "x_0" and f["feature_names"][68] == "y_0"
    capsys.readouterr()
    assert main([*args, "--no-face", "interpolate"]) == 0
    assert "4 hits" in capsys.readouterr().out  # the policy runs after the cache


def test_rml_and_enterface_layouts(tmp_path):
    rml = tmp_path / "rml"
    for subj in ("s1", "s2"):
        for code in ("an", "di", "fe", "ha", "sa", "su"):
            openface_csv(str(rml / subj / f"{code}1.csv"), n=2)
    items, classes = rml_items(str(rml), suffixes=(".csv",))
    assert len(items) == 12 and set(it.label for it in items) == set(classes)
    assert sorted({it.group for it in items}) == [1, 2]
    assert [it.label for it in items[:2]] == ["anger", "disgust"]

    ent = tmp_path / "ent"
    for subj in (1, 3):
        for emo, code in (("anger", "an"), ("happiness", "ha")):
            openface_csv(str(ent / f"subject {subj}" / emo / "sentence 2" / f"s{subj}_{code}_2.csv"), n=2)
    items, _ = enterface_items(str(ent), suffixes=(".csv",))
    assert [(it.label, it.group) for it in items] == [
        ("anger", 1), ("happiness", 1), ("anger", 3), ("happiness", 3)]  # fmt: skip

    openface_csv(str(rml / "s3" / "clip7.csv"), n=2)
    with pytest.raises(FeatureError, match=r"no emotion recognised in the path of s3/clip7.csv"):
        rml_items(str(rml), suffixes=(".csv",))


# ---------------------------------------------------------------- MediaPipe on a real video


def _face_model_available() -> bool:
    try:
        face.resolve_face_model()
    except FeatureError:
        return False
    return True


needs_mediapipe = pytest.mark.skipif(
    importlib.util.find_spec("mediapipe") is None or importlib.util.find_spec("cv2") is None,
    reason="video extra (mediapipe, opencv) not installed",
)


@pytest.fixture(scope="module")
def face_video(tmp_path_factory):
    """A 6-frame MJPG video: the astronaut photo bundled with scikit-image, with two blank frames."""
    cv2 = pytest.importorskip("cv2")
    data = pytest.importorskip("skimage.data", reason="scikit-image (test image) not installed")
    if not _face_model_available():
        pytest.skip("no MediaPipe face_landmarker.task model available")
    img = np.ascontiguousarray(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)[:320, 80:400])
    path = str(tmp_path_factory.mktemp("vid") / "01-01-03-01-01-01-05.avi")
    vw = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 25, (img.shape[1], img.shape[0]))
    for frame in (np.zeros_like(img), img, np.roll(img, 3, axis=1), np.zeros_like(img), img, img):
        vw.write(frame)
    vw.release()
    return path


@needs_mediapipe
def test_video_landmarks_and_no_face_frames(face_video):
    lm = face.video_landmarks(face_video)
    assert lm.shape == (6, 136)
    assert np.isnan(lm).any(axis=1).tolist() == [True, False, False, True, False, False]
    pts = lm[1].reshape(2, 68).T  # (68, 2) pixels
    # anatomical sanity in image coordinates: brows above eyes above nose tip above mouth above chin
    brow, eye, mouth = pts[17:27, 1].mean(), pts[36:48, 1].mean(), pts[48:68, 1].mean()
    assert brow < eye < pts[30, 1] < mouth < pts[8, 1]  # nose tip (iBUG 31), chin (iBUG 9)
    assert pts[36, 0] < pts[45, 0]  # subject's right eye (iBUG 37) is on the image left
    assert np.abs(lm[2, :68] - lm[1, :68]).mean() == pytest.approx(3, abs=1.5)  # follows the 3 px shift
    carried = face.apply_missing_policy(lm, "carry")  # leading miss dropped, frame 3 repeats frame 2
    assert carried.shape == (5, 136) and np.array_equal(carried[2], lm[2])


@needs_mediapipe
def test_video_cli_and_errors(face_video, tmp_path, cache_dir, capsys):
    root = tmp_path / "corpus"  # the clip as happy (actor 5) and as angry (actor 6): a dataset has 2 classes
    root.mkdir()
    shutil.copy(face_video, root / os.path.basename(face_video))
    shutil.copy(face_video, root / "01-01-05-01-01-01-06.avi")
    out = str(tmp_path / "v.npz")
    assert main(["ravdess", str(root), "--out", out, "--cache-dir", cache_dir, "--no-progress"]) == 0
    with np.load(out, allow_pickle=False) as f:
        assert f["x"].shape == (2, 5, 136) and f["y"].tolist() == [2, 4] and f["groups"].tolist() == [5, 6]
    (tmp_path / "junk.avi").write_bytes(b"\x00garbage" * 64)
    with pytest.raises(FeatureError, match=r"unreadable video file .*junk.avi"):
        face.video_landmarks(str(tmp_path / "junk.avi"))
    with pytest.raises(FeatureError, match=r"missing input"):
        face.video_landmarks(str(tmp_path / "none.mp4"))
    with pytest.raises(FeatureError, match=r"missing input: .*none.task"):
        face.resolve_face_model(str(tmp_path / "none.task"))
