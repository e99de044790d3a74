from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from lgrin_edge.features import FeatureError, mpi_items
from lgrin_edge.features.__main__ import main
from lgrin_edge.features.mocap import bvh_features, parse_bvh

from .conftest import MVN_JOINTS, write_bvh


def test_parse_mvn_like_bvh(tmp_path):
    p = write_bvh(str(tmp_path / "a.bvh"), n_frames=5)
    bvh = parse_bvh(p)
    assert len(bvh.joints) == 23 and bvh.joints[0] == "Hips"
    assert bvh.frames.shape == (5, 72) and bvh.frames.dtype == np.float32
    assert bvh.channels[:4] == ["Hips.Xposition", "Hips.Yposition", "Hips.Zposition", "Hips.Zrotation"]
    assert bvh.frame_time == pytest.approx(1 / 120, rel=1e-3)
    raw = np.loadtxt(p, skiprows=len(Path(p).read_text().splitlines()) - 5)
    np.testing.assert_allclose(bvh.frames, raw, rtol=1e-6)  # values unchanged, file order
    assert bvh_features(p).shape == (5, 72)


def test_bvh_errors(tmp_path):
    short = write_bvh(str(tmp_path / "short.bvh"), joints=MVN_JOINTS[:5])
    with pytest.raises(FeatureError, match=r"short.bvh has 21 channels .*expected 72"):
        bvh_features(short)
    assert bvh_features(short, expect_channels=None).shape == (6, 21)
    p = write_bvh(str(tmp_path / "trunc.bvh"), n_frames=4)
    lines = Path(p).read_text().splitlines()
    Path(p).write_text("\n".join(lines[:-2]) + "\n")
    with pytest.raises(FeatureError, match=r"trunc.bvh.*announces 4 frames, file holds 2"):
        parse_bvh(p)
    Path(p).write_text("\n".join([*lines[:-4], lines[-4] + " 1.0", *lines[-3:]]) + "\n")
    with pytest.raises(FeatureError, match=r"rows have \[72, 73\] values"):
        parse_bvh(p)
    (tmp_path / "x.bvh").write_text("hello\n")
    with pytest.raises(FeatureError, match=r"x.bvh: does not start with HIERARCHY"):
        parse_bvh(str(tmp_path / "x.bvh"))
    zero = write_bvh(str(tmp_path / "zero.bvh"), n_frames=0)
    with pytest.raises(FeatureError, match=r"empty BVH motion \(0 frames\): .*zero.bvh"):
        parse_bvh(zero)
    (tmp_path / "e.bvh").write_bytes(b"")
    with pytest.raises(FeatureError, match=r"empty input"):
        parse_bvh(str(tmp_path / "e.bvh"))


def test_mpi_layout_and_cli(tmp_path, cache_dir, capsys):
    root = tmp_path / "mpi"
    for a, actor in enumerate(("AnBh", "MaMa")):
        for e, emo in enumerate(("Amusement", "Pride", "shame")):
            write_bvh(str(root / actor / emo / f"{actor}_{emo}_take1.bvh"), n_frames=4 + e, seed=a * 10 + e)
    write_bvh(str(root / "XyZz_relieved_2.bvh"), n_frames=3)  # flat file: actor from the name prefix
    items, classes = mpi_items(str(root))
    assert len(classes) == 11
    assert [(it.label, it.meta["subject"]) for it in items][:3] == [
        ("amusement", "AnBh"), ("pride", "AnBh"), ("shame", "AnBh")]  # fmt: skip
    assert items[-1].label == "relief" and items[-1].meta["subject"] == "XyZz"
    assert [it.group for it in items] == [0, 0, 0, 1, 1, 1, 2]
    out = str(tmp_path / "mpi.npz")
    args = ["mpi", str(root), "--out", out, "--cache-dir", cache_dir, "--no-progress"]
    assert main(args) == 0
    with np.load(out, allow_pickle=False) as f:
        assert f["x"].shape == (7, 6, 72) and f["lengths"].tolist() == [4, 5, 6, 4, 5, 6, 3]
        assert f["y"].tolist() == [0, 6, 9, 0, 6, 9, 7] and f["groups"].tolist() == [0, 0, 0, 1, 1, 1, 2]
        assert f["feature_names"][0] == "Hips.Xposition"
    os.remove(root / "XyZz_relieved_2.bvh")
    write_bvh(str(root / "odd" / "odd_joy.bvh"), joints=MVN_JOINTS[:3])
    capsys.readouterr()
    assert main(args) == 2
    assert "odd_joy.bvh has 15 channels" in capsys.readouterr().err
