from __future__ import annotations

import os

import numpy as np
import pytest

from lgrin_edge.features import FeatureError, iemocap_items
from lgrin_edge.features.__main__ import main

from .conftest import write_wav

# (utterance, code): Ses01 improvised + scripted, Ses02 with a male speaker in a female-led dialog
_LABELS = {
    1: [("Ses01F_impro01_F000", "neu"), ("Ses01F_impro01_M001", "ang"), ("Ses01F_impro01_F002", "fru"),
        ("Ses01M_script01_1_F000", "exc"), ("Ses01M_script01_1_M001", "sad")],
    2: [("Ses02F_impro02_M000", "hap"), ("Ses02F_impro02_F001", "xxx"), ("Ses02M_script03_2_F000", "neu")],
}  # fmt: skip


def make_iemocap(root: str, wavs: bool = True) -> None:
    for sess, rows in _LABELS.items():
        base = os.path.join(root, f"Session{sess}")
        ev = os.path.join(base, "dialog", "EmoEvaluation")
        os.makedirs(os.path.join(ev, "Categorical"), exist_ok=True)
        by_dialog: dict[str, list[str]] = {}
        for i, (utt, code) in enumerate(rows):
            dialog = utt.rsplit("_", 1)[0]
            line = f"[{i * 3.1:.4f} - {i * 3.1 + 2.0:.4f}]\t{utt}\t{code}\t[2.5000, 3.0000, 2.5000]"
            by_dialog.setdefault(dialog, []).extend(
                ["", line, "C-E1:\tNeutral;\t()", "A-E2:\tval 3; act 2; dom  2;\t()"]
            )
            if wavs:
                write_wav(
                    os.path.join(base, "sentences", "wav", dialog, utt + ".wav"), 0.3 + 0.05 * i, seed=i
                )
        for dialog, lines in by_dialog.items():
            with open(os.path.join(ev, dialog + ".txt"), "w") as fh:
                fh.write("% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n" + "\n".join(lines) + "\n")
        # individual ratings in a sub-folder look like label lines but must be ignored
        with open(os.path.join(ev, "Categorical", "ignored_cat.txt"), "w") as fh:
            fh.write("[0.0000 - 1.0000]\tSes01F_impro01_F002\tang\t[1, 1, 1]\n")


def test_iemocap_items_mapping(tmp_path):
    make_iemocap(str(tmp_path))
    items, classes = iemocap_items(str(tmp_path))
    assert classes == ("neutral", "angry", "sad", "happy")
    got = {it.meta["utterance"]: (it.label, it.group, it.static) for it in items}
    assert got == {
        "Ses01F_impro01_F000": ("neutral", 1, (1.0,)),
        "Ses01F_impro01_M001": ("angry", 1, (1.0,)),
        "Ses01M_script01_1_F000": ("happy", 1, (0.0,)),  # exc merged into happy
        "Ses01M_script01_1_M001": ("sad", 1, (0.0,)),
        "Ses02F_impro02_M000": ("happy", 2, (1.0,)),
        "Ses02M_script03_2_F000": ("neutral", 2, (0.0,)),
    }
    assert items[0].path.endswith(os.path.join("Session1", "sentences", "wav", "Ses01F_impro01",
                                               "Ses01F_impro01_F000.wav"))  # fmt: skip
    items, _ = iemocap_items(str(tmp_path), merge_excited=False, group_by="speaker", spontaneity=False)
    got = {it.meta["utterance"]: (it.label, it.group, it.static) for it in items}
    assert "Ses01M_script01_1_F000" not in got
    # the speaker is the utterance's letter: Ses02F_impro02_M000 is the male speaker of session 2
    assert got["Ses02F_impro02_M000"] == ("happy", 3, ())
    assert got["Ses01F_impro01_F000"] == ("neutral", 0, ())


def test_iemocap_layout_errors(tmp_path):
    with pytest.raises(FeatureError, match=r"not a directory"):
        iemocap_items(str(tmp_path / "missing"))
    with pytest.raises(FeatureError, match=r"no Session1..Session5"):
        iemocap_items(str(tmp_path))
    os.makedirs(tmp_path / "Session1")
    with pytest.raises(FeatureError, match=r"missing label folder"):
        iemocap_items(str(tmp_path))


def test_iemocap_cli_end_to_end(tmp_path, cache_dir, capsys):
    pytest.importorskip("opensmile", reason="speech extra (opensmile) not installed")
    root = str(tmp_path / "IEMOCAP_full_release")
    make_iemocap(root)
    out = str(tmp_path / "iemocap.npz")
    args = ["iemocap", root, "--out", out, "--cache-dir", cache_dir, "--no-progress"]
    assert main(args) == 0
    assert "6 misses" in capsys.readouterr().out
    with np.load(out, allow_pickle=False) as f:
        x, lengths, y, groups = f["x"], f["lengths"], f["y"], f["groups"]
        assert x.dtype == np.float32 and x.shape[0] == 6 and x.shape[2] == 33
        assert x.shape[1] == lengths.max()
        assert f["classes"].tolist() == ["neutral", "angry", "sad", "happy"]
        files = f["files"].tolist()
        assert files[0] == os.path.join("Session1", "sentences", "wav", "Ses01F_impro01",
                                        "Ses01F_impro01_F000.wav")  # fmt: skip
        assert y.tolist() == [0, 1, 3, 2, 3, 0]
        assert groups.tolist() == [1, 1, 1, 1, 2, 2]
        assert f["feature_names"].tolist()[-1] == "spontaneity"
        spont = [x[i, : lengths[i], 32] for i in range(6)]
        assert [float(s.mean()) for s in spont] == [1.0, 1.0, 0.0, 0.0, 1.0, 0.0]
        assert all((x[i, lengths[i] :] == 0).all() for i in range(6))
    assert main(args) == 0  # second run: every file from the cache
    assert "6 hits, 0 misses" in capsys.readouterr().out
    try:
        from lgrin_edge.data.npz import load_npz
    except ImportError:
        return
    ds = load_npz(out)
    assert ds.x.shape == x.shape and list(ds.classes) == ["neutral", "angry", "sad", "happy"]


def test_iemocap_cli_missing_wav(tmp_path, cache_dir, capsys):
    pytest.importorskip("opensmile", reason="speech extra (opensmile) not installed")
    make_iemocap(str(tmp_path))
    gone = tmp_path / "Session2" / "sentences" / "wav" / "Ses02F_impro02" / "Ses02F_impro02_M000.wav"
    os.remove(gone)
    out = str(tmp_path / "d.npz")
    assert main(["iemocap", str(tmp_path), "--out", out, "--cache-dir", cache_dir, "--no-progress"]) == 2
    assert f"missing input: {gone}" in capsys.readouterr().err
    assert not os.path.exists(out)
    args = ["iemocap", str(tmp_path), "--out", out, "--cache-dir", cache_dir, "--no-progress", "--skip-bad"]
    assert main(args) == 0
    assert "skipped: 1" in capsys.readouterr().out
    with np.load(out, allow_pickle=False) as f:
        assert f["x"].shape[0] == 5
