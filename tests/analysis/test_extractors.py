"""The lgrin-speech / IS09 study: its pieces, a tiny run end to end, and its refusals before any work."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from lgrin_edge.analysis import extractors
from lgrin_edge.optional import first_missing

_ABSENT = first_missing("opensmile", "soundfile") or (
    None if shutil.which("espeak-ng") else "espeak-ng is not installed (apt-get install espeak-ng)"
)
needs_tools = pytest.mark.skipif(_ABSENT is not None, reason=f"the study speaks and extracts: {_ABSENT}")

TINY = ["--speakers", "2", "--utterances", "16", "--epochs", "1", "--seeds", "0", "--folds", "2"]


def test_smooth_is_a_centred_three_frame_mean() -> None:
    x = np.array([[3.0], [6.0], [0.0], [9.0]])
    # the ends average the two frames they have
    np.testing.assert_allclose(extractors.smooth(x)[:, 0], [4.5, 3.0, 5.0, 4.5])


def test_agreement_reads_scale_and_error() -> None:
    ref = np.linspace(-1.0, 1.0, 101)
    a = extractors.agreement(2.0 * ref + 0.5, ref)
    assert a["r"] == pytest.approx(1.0)
    assert a["scale"] == pytest.approx(2.0)
    assert a["rel_rmse"] > 1.0  # twice the scale is far from equal
    assert extractors.agreement(np.zeros(5), np.ones(5))["r"] is None  # a constant has no correlation


def test_plan_gives_every_speaker_every_style_with_its_own_sentence() -> None:
    corpus = extractors.plan(3, 24)
    cells = {(u.speaker, u.style) for u in corpus}
    assert len(cells) == 3 * len(extractors.STYLES)
    assert len({u.text for u in corpus}) == len(corpus)
    assert all(len(u.text.split()) >= 3 for u in corpus)
    assert {u.rate for u in corpus} <= {r for r, _ in extractors.RATES}
    assert extractors.plan(3, 24) == corpus  # the corpus does not depend on anything but its size


@needs_tools
def test_tiny_study_writes_datasets_runs_and_tables(tmp_path) -> None:
    out = tmp_path / "study"
    assert extractors.main(["--out", str(out), *TINY]) == 0
    assert {p.name for p in out.iterdir()} == extractors.OWN_FILES
    labels = []
    for name in extractors.EXTRACTORS:
        with np.load(out / f"{name}.npz", allow_pickle=False) as d:
            assert d["x"].shape[0] == 16 and d["x"].shape[2] == 32
            assert sorted(set(d["groups"].tolist())) == [0, 1]
            assert list(d["classes"]) == list(extractors.STYLES)
            labels.append(d["y"].tolist())
        assert (out / "runs" / f"{name}-seed0" / "metrics.json").is_file()
    assert labels[0] == labels[1]
    assert len(list((out / "corpus").glob("*.wav"))) == 16

    summary = json.loads((out / "extractors.json").read_text())
    cmp = summary["comparison"]
    # ZCR has one definition in both: the frames line up at lag 0 and agree
    assert max(cmp["zcr_lag_scan"], key=cmp["zcr_lag_scan"].get) == "0"
    assert cmp["16k"]["rows"]["zcr"]["smoothed"]["r"] > 0.99
    assert summary["accuracy"]["same_folds"]

    md = (out / "extractors.md").read_text()
    rows = [ln for ln in md.splitlines() if ln.startswith("| ") and "| `" in ln]
    assert [r.split(" | ")[0][2:] for r in rows] == list(cmp["descriptors"])
    assert all(r.count("|") == 9 for r in rows)  # 8 columns
    for head in ("openSMILE IS09", "lgrin-speech", "difference (lgrin-speech - IS09)"):
        line = next(ln for ln in md.splitlines() if ln.startswith(f"| {head} |"))
        assert line.count("|") == 4  # features, mean +- std, seed 0
    assert "synthetic stand-in" in md


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--speakers", "17"], "16 voices at most"),
        (["--speakers", "3", "--folds", "5"], "--folds 5 needs as many speakers"),
        (["--speakers", "2", "--utterances", "7", "--folds", "2"], "8 at least"),
        (["--seeds", "1", "1"], "each seed once"),
    ],
)
def test_impossible_options_are_one_line_before_any_work(tmp_path, capsys, options, words) -> None:
    out = tmp_path / "study"
    assert extractors.main(["--out", str(out), *options]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1
    assert not out.exists()


@needs_tools
def test_a_folder_of_other_files_is_refused_and_kept(tmp_path, capsys) -> None:
    out = tmp_path / "study"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert extractors.main(["--out", str(out), *TINY]) == 2
    assert "notes.txt" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
