"""The practitioners' table command: real trainings by the train command on a tiny case, resuming, the
table's missing cells and ranks, the data variants, and refusals before any work."""

import json
from pathlib import Path

import numpy as np
import pytest

from lgrin_edge.analysis.practitioners import main
from lgrin_edge.analysis.practitioners_data import stack_frames, training_part
from lgrin_edge.analysis.practitioners_report import Entry, mean_ranks
from lgrin_edge.data import make_synthetic

TINY = ["--datasets", "synthetic", "--models", "lgrin", "gcn", "--seeds", "0", "--epochs", "1"]


def test_trains_each_cell_once_and_a_rerun_resumes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out, docs = tmp_path / "out", tmp_path / "docs"
    assert main([*TINY, "--out", str(out), "--publish", str(docs)]) == 0
    cells = sorted((out / "cells").glob("*.json"))
    assert [c.name.split("-")[1] for c in cells] == ["gcn", "lgrin"]
    record = json.loads(cells[1].read_text())
    # The train command's own result and the command that made it.
    assert record["protocol"] == "official-split" and 0 <= record["accuracy"] <= 1
    assert record["command"][:5] == ["python", "-m", "lgrin_edge.train", "--dataset", "synthetic"]
    assert "--epochs" in record["command"] and (out / "logs" / f"{cells[1].stem}.log").is_file()
    table = (docs / "practitioners.md").read_text()
    assert (
        "| synthetic (72/24, 3 cl., 8 ch., 10-24 steps) |" in table
        and "mean rank** (over 1 datasets)" in table
    )
    assert "Cells not in the table" not in table  # nothing missing
    report = json.loads((docs / "practitioners.json").read_text())
    assert len(report["cells"]) == 2 and sorted(report["mean_rank"].values()) in ([1.0, 2.0], [1.5, 1.5])
    assert "[2/2] gcn on synthetic seed 0" in (out / "practitioners.log").read_text()
    before = {c.name: c.stat().st_mtime_ns for c in cells}
    capsys.readouterr()

    # A second run trains nothing; with a seed more, the table names the cells not run and fills in none.
    assert main([*TINY, "--out", str(out)]) == 0
    assert "2 finished, 0 not" in capsys.readouterr().out
    assert {c.name: c.stat().st_mtime_ns for c in (out / "cells").glob("*.json")} == before
    assert main([*TINY, "--seeds", "0", "1", "--out", str(out), "--report-only"]) == 0
    table = (out / "practitioners.md").read_text()
    assert "- lgrin on synthetic: seed(s) 1 (not run yet)" in table and "(1/2)" in table


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--models", "lgrin", "xgboost"], "the train command has no model xgboost"),
        (["--datasets", "nosuchset"], "unknown dataset 'nosuchset'"),
        (["--datasets", "missing.npz"], "no such file missing.npz"),
        (["--seeds", "0", "0"], "--seeds names 0 more than once"),
        (["--minutes", "0"], "--minutes"),
        (["--notes", "nofile.md"], "--notes: no such file nofile.md"),
    ],
)
def test_bad_options_are_one_line_before_any_work(
    extra: list[str], says: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "out"
    try:
        code = main(["--out", str(out), "--datasets", "synthetic", *extra])
    except SystemExit as e:  # argparse's own refusals
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_never_writes_over_files_it_did_not_write(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["--out", str(out), "--datasets", "synthetic", "--report-only"]) == 2
    assert "did not write (notes.txt)" in capsys.readouterr().err
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "practitioners.md").write_text("# someone's table\n")
    assert main(["--out", str(tmp_path / "o2"), "--datasets", "synthetic", "--publish", str(docs)]) == 2
    assert "was not written by this command" in capsys.readouterr().err
    assert (docs / "practitioners.md").read_text() == "# someone's table\n"


def test_report_only_converts_aeon_data_and_lists_every_missing_cell(tmp_path: Path) -> None:
    out, notes = tmp_path / "out", tmp_path / "notes.md"
    notes.write_text("## Why\n\nmeasured findings\n")
    args = ["--out", str(out), "--datasets", "italypowerdemand", "--models", "lgrin", "gcn", "--report-only"]
    assert main([*args, "--notes", str(notes)]) == 0
    assert (out / "data" / "italypowerdemand.npz").is_file()
    table = (out / "practitioners.md").read_text()
    assert "| italypowerdemand (67/1029, 2 cl., 1 ch., 24 steps) | missing | missing |" in table
    assert "- gcn on italypowerdemand: seed(s) 0, 1, 2, 3, 4 (not run yet)" in table
    assert table.endswith("## Why\n\nmeasured findings\n")


def test_mean_rank_shares_ties_and_skips_datasets_with_a_missing_model() -> None:
    def entry(data: str, model: str, *acc: float) -> Entry:
        return Entry(data, model, tuple(range(len(acc))), acc, (0, 1), (1.0,) * len(acc))

    table = [
        entry("a", "x", 0.9, 0.8), entry("a", "y", 0.85, 0.85), entry("a", "z", 0.5),
        entry("b", "x", 0.7), entry("b", "y", 0.9), entry("b", "z", 0.8),
        entry("c", "x", 0.7), entry("c", "y"), entry("c", "z", 0.8),
    ]  # fmt: skip
    ranks, ranked = mean_ranks(table, ["x", "y", "z"])
    assert ranked == ["a", "b"]  # c lacks y
    assert ranks == {"x": 2.25, "y": 1.25, "z": 2.5}
    assert table[0].text() == "85.00 +- 7.07" and table[2].text() == "50.00 (1/2)"


def test_frames_hold_consecutive_steps_and_train_cv_drops_the_test_split() -> None:
    ds = make_synthetic(n=12, num_features=2, min_len=5, max_len=7, with_test_split=True)
    stacked = stack_frames(ds, 3)
    assert stacked.num_features == 6
    assert list(stacked.lengths) == [-(-int(n) // 3) for n in ds.lengths]
    first = ds.x[0, : ds.lengths[0]]
    np.testing.assert_array_equal(stacked.x[0, 0], first[:3].reshape(-1))  # steps 0-2, channels interleaved
    np.testing.assert_array_equal(stacked.x[0, stacked.lengths[0] - 1][-2:], first[-1])  # end: last step
    train = training_part(ds)
    assert train.is_test is None and len(train.y) == int((~ds.is_test).sum())


def test_the_published_page_ends_with_its_notes_file() -> None:
    """docs/results/practitioners.md is the table plus practitioners-notes.md (the --notes file), so a
    --report-only re-run with that file keeps the committed findings."""
    results = Path(__file__).resolve().parents[2] / "docs" / "results"
    page = (results / "practitioners.md").read_text()
    notes = (results / "practitioners-notes.md").read_text()
    assert page.endswith(notes.rstrip() + "\n") and "| **mean rank** (over 9 datasets) |" in page
