from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from lgrin_edge.features.common import FeatureError

from .conftest import write_wav

pytest.importorskip("opensmile", reason="speech extra (opensmile) not installed")
pytest.importorskip("soundfile", reason="speech extra (soundfile) not installed")

from lgrin_edge.features import speech


def test_is09_frames_shape_and_alignment(tmp_path):
    wav = write_wav(str(tmp_path / "a.wav"), seconds=1.0)
    f = speech.is09_frames(wav)
    assert f.dtype == np.float32 and f.shape[1] == 32
    # 25 ms frames every 10 ms over 1.0 s: about 98 full frames
    assert 96 <= f.shape[0] <= 101
    names = speech.feature_names()
    assert len(names) == 32 and names[16:] == [n.replace("_sma", "_sma_de") for n in names[:16]]
    # delta stream aligned with the LLD stream: opensmile's regression (window 2) of frame t's neighbours
    lld, de = f[:, :16], f[:, 16:]
    t = f.shape[0] // 2
    ref = (lld[t + 1] - lld[t - 1] + 2 * (lld[t + 2] - lld[t - 2])) / 10
    np.testing.assert_allclose(de[t], ref, rtol=1e-3, atol=1e-5)
    assert np.isfinite(f).all()


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_is09_on_synthesised_speech(tmp_path):
    wav = str(tmp_path / "s.wav")
    subprocess.run(["espeak-ng", "-w", wav, "the quick brown fox"], check=True, capture_output=True)
    f = speech.is09_frames(wav)
    assert f.shape[1] == 32 and f.shape[0] > 50
    f0 = f[:, 15]
    assert (f0 > 50).any() and (f0 == 0).any()  # voiced and unvoiced frames


def test_speech_bad_inputs(tmp_path):
    with pytest.raises(FeatureError, match=r"missing input: .*gone.wav"):
        speech.is09_frames(str(tmp_path / "gone.wav"))
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(FeatureError, match=r"empty input .*empty.wav"):
        speech.is09_frames(str(tmp_path / "empty.wav"))
    (tmp_path / "junk.wav").write_bytes(b"this is not audio at all" * 10)
    with pytest.raises(FeatureError, match=r"unreadable audio file .*junk.wav"):
        speech.is09_frames(str(tmp_path / "junk.wav"))
    short = write_wav(str(tmp_path / "short.wav"), seconds=0.01)
    with pytest.raises(FeatureError, match=r"shorter than one 25 ms frame.*short.wav"):
        speech.is09_frames(short)
    nil = write_wav(str(tmp_path / "nil.wav"), seconds=0.2)
    with open(nil, "r+b") as fh:  # keep the 44-byte header only: a valid wav with 0 samples
        fh.truncate(44)
    with pytest.raises(FeatureError, match=r"empty audio \(0 samples\).*nil.wav"):
        speech.is09_frames(nil)


def test_wav_dir_cli(tmp_path, cache_dir):
    for cls in ("calm", "loud"):
        for i in range(2):
            write_wav(str(tmp_path / "root" / cls / f"spk{i}_{cls}.wav"), seconds=0.3 + 0.1 * i, seed=i)
    out = tmp_path / "w.npz"
    cmd = [sys.executable, "-m", "lgrin_edge.features", "wav-dir", str(tmp_path / "root"), "--out", str(out),
           "--cache-dir", cache_dir, "--group-regex", r"spk(\d+)", "--no-progress"]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=os.getcwd())
    assert r.returncode == 0, r.stderr
    with np.load(out, allow_pickle=False) as f:
        assert f["x"].shape[0] == 4 and f["x"].shape[2] == 32
        assert f["classes"].tolist() == ["calm", "loud"] and f["y"].tolist() == [0, 0, 1, 1]
        assert f["groups"].tolist() == [0, 1, 0, 1]
