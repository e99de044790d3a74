"""The feature spec each feature pipeline writes into its dataset file, read back by the dataset loader."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from lgrin_edge.data.npz import load_npz
from lgrin_edge.features import face
from lgrin_edge.features.__main__ import main
from lgrin_edge.optional import first_missing
from lgrin_edge.spec import UNKNOWN

from .conftest import openface_csv, write_bvh, write_wav
from .test_feat_face import face_video, needs_mediapipe  # noqa: F401 (a fixture)


def _command(tmp_path, corpus: str, *extra: str):
    out = tmp_path / "d.npz"
    assert (
        main([corpus, str(tmp_path / "root"), "--out", str(out), "--no-cache", "--no-progress", *extra]) == 0
    )
    with np.load(out, allow_pickle=False) as f:  # one unicode string, no pickle
        assert f["feature_spec"].dtype.kind == "U" and f["feature_spec"].shape == (1,)
    return load_npz(out)


def test_openface_landmarks_spec(tmp_path):
    for label in ("calm", "happy"):
        for k in range(2):
            openface_csv(str(tmp_path / "root" / label / f"{k}.csv"), n=4, seed=k)
    ds = _command(tmp_path, "openface-dir", "--min-confidence", "0.5", "--max-frames", "3")
    spec = ds.spec
    assert spec.extractor_id == "landmarks-ibug68" and spec.input_kind == "landmarks"
    assert [f.name for f in spec.features[:2]] == ["x_0", "x_1"] and spec.features[68].name == "y_0"
    assert {f.unit for f in spec.features} == {"pixel"} and spec.num_features == ds.num_features == 136
    assert spec.params["min_confidence"] == 0.5 and spec.params["no_face"] == "carry"
    assert spec.params["max_frames"] == 3 and spec.frame_rate_hz == UNKNOWN
    assert list(spec.classes) == ds.classes == ["calm", "happy"]


def test_bvh_mocap_spec(tmp_path):
    for label in ("joy", "fear"):
        for k in range(2):
            write_bvh(str(tmp_path / "root" / label / f"{k}.bvh"), seed=k)
    spec = _command(tmp_path, "bvh-dir").spec
    assert spec.extractor_id == "bvh-mocap" and spec.input_kind == "motion"
    assert spec.features[0].to_dict() == {"name": "Hips.Xposition", "unit": UNKNOWN}  # BVH declares none
    assert spec.features[3].to_dict() == {"name": "Hips.Zrotation", "unit": "degree"}
    assert spec.num_features == 72 and spec.channels == spec.features
    assert spec.frame_rate_hz == pytest.approx(1 / 0.008333) == spec.sample_rate_hz
    assert spec.params["joints"][0] == "Hips" and spec.params["frame_time_s"] == 0.008333


def test_opensmile_speech_spec(tmp_path):
    missing = first_missing("opensmile", "soundfile")
    if missing:
        pytest.skip(f"the speech pipeline needs opensmile and soundfile: {missing}")
    for label in ("calm", "angry"):
        for k in range(2):
            write_wav(str(tmp_path / "root" / label / f"{k}.wav"), seconds=0.3, sr=16000, seed=k)
    ds = _command(tmp_path, "wav-dir", "--extractor", "opensmile-is09")
    spec = ds.spec
    assert spec.extractor_id == "opensmile-is09" and spec.extractor_version.startswith("opensmile ")
    assert spec.num_features == ds.num_features == 32 and spec.features[15].to_dict() == {
        "name": "F0_sma",
        "unit": "Hz",
    }
    assert spec.features[31].to_dict() == {"name": "F0_sma_de", "unit": "Hz/frame"}
    assert spec.features[0].unit == UNKNOWN  # openSMILE does not publish the RMS energy's scale
    assert spec.sample_rate_hz == 16000 and spec.frame_rate_hz == 100 and spec.input_kind == "audio"
    frames = spec.params["components"]["is09_fr1 (cFramer)"]
    assert frames["frameSize"] == "0.0250" and frames["frameStep"] == "0.010"
    assert spec.params["components"]["is09_pitchACF (cPitchACF)"]["maxPitch"] == "500"
    assert spec.params["input_sample_rates_hz"] == [16000]


def test_lgrin_speech_spec_is_the_default(tmp_path):
    """wav-dir without --extractor: the lgrin-speech front-end, every rate resampled to the spec's."""
    for label, rate in (("calm", 16000), ("angry", 8000)):
        for k in range(2):
            write_wav(str(tmp_path / "root" / label / f"{k}.wav"), seconds=0.3, sr=rate, seed=k)
    ds = _command(tmp_path, "wav-dir")
    spec = ds.spec
    assert spec.extractor_id == "lgrin-speech" and spec.num_features == ds.num_features == 32
    assert spec.sample_rate_hz == 16000 and spec.frame_rate_hz == 100
    assert [f.name for f in spec.features[:4]] == ["rms", "zcr", "voicing", "f0"]


def test_files_of_several_sample_rates_leave_the_rate_unknown(tmp_path):
    missing = first_missing("opensmile", "soundfile")
    if missing:
        pytest.skip(f"the speech pipeline needs opensmile and soundfile: {missing}")
    for label, rate in (("calm", 16000), ("angry", 8000)):
        for k in range(2):
            write_wav(str(tmp_path / "root" / label / f"{k}.wav"), seconds=0.3, sr=rate, seed=k)
    spec = _command(tmp_path, "wav-dir", "--extractor", "opensmile-is09").spec
    assert spec.sample_rate_hz == UNKNOWN and spec.params["input_sample_rates_hz"] == [8000, 16000]
    assert os.path.basename(spec.params["config"]) == "IS09_emotion.conf"


@needs_mediapipe
def test_video_landmarks_spec(face_video, tmp_path):  # noqa: F811 (the fixture imported above)
    for name in ("01-01-03-01-01-01-05.avi", "01-01-05-01-01-01-06.avi"):
        (tmp_path / "root").mkdir(exist_ok=True)
        shutil.copy(face_video, tmp_path / "root" / name)
    ds = _command(tmp_path, "ravdess", "--no-face", "drop")
    spec = ds.spec
    assert spec.extractor_id == "landmarks-ibug68" and spec.input_kind == "frames"
    assert spec.extractor_version == face.video_config()["mediapipe"] and spec.params["no_face"] == "drop"
    assert spec.frame_rate_hz == spec.sample_rate_hz == 25  # the container's rate, every video the same
    assert spec.num_features == 136 and {f.unit for f in spec.features} == {"pixel"}
