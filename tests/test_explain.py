import csv
import json

import numpy as np
import pytest

from lgrin_edge.data import make_synthetic
from lgrin_edge.explain import main
from tests.reliability.conftest import one_line_error, snapshot


def test_explain_writes_the_report_of_every_held_out_graph(tiny_run, tmp_path):
    out = tmp_path / "ex"
    assert main(["--checkpoint", str(tiny_run), "--out", str(out), "--per-class", "2"]) == 0
    rows = list(csv.DictReader((out / "salient.csv").open()))
    summary = json.loads((out / "summary.json").read_text())
    assert len(rows) == summary["graphs"] > 0
    m = json.loads((tiny_run / "config.json").read_text())["config"]["num_nodes"]
    assert all(0 <= int(r["salient_node"]) < m and 0 < float(r["feature_share"]) <= 1 for r in rows)
    for name, c in summary["classes"].items():
        assert sum(c["positions"]) == c["graphs"] == sum(r["label"] == name for r in rows)
    assert (out / "positions.png").stat().st_size > 1000
    assert sorted(p.name for p in out.glob("class-*.png")) == [
        f"class-{k}.png" for k in range(len(summary["classes"]))
    ]


def test_explain_on_a_dataset_names_each_salient_frame(tiny_run, tmp_path):
    out = tmp_path / "ex"
    assert main(["--checkpoint", str(tiny_run), "--dataset", "synthetic", "--out", str(out)]) == 0
    rows = list(csv.DictReader((out / "salient.csv").open()))
    assert rows and all(0 <= int(r["salient_frame"]) < int(r["length"]) for r in rows)


def test_explain_refuses_before_any_work(tiny_run, tmp_path, capsys):
    foreign = tmp_path / "busy"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    assert main(["--checkpoint", str(tiny_run), "--out", str(foreign)]) != 0
    assert "not a salient-node report" in capsys.readouterr().err
    assert (foreign / "notes.txt").read_text() == "mine" and len(list(foreign.iterdir())) == 1
    assert (
        main(["--checkpoint", str(tiny_run), "--dataset", "basicmotions", "--out", str(tmp_path / "x")]) != 0
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "features per frame" in err[0] and not (tmp_path / "x").exists()
    assert main(["--checkpoint", str(tmp_path / "none"), "--out", str(tmp_path / "y")]) != 0
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize(
    "classes", [["class0", "class1"], ["class0", "class1", "class2", "class3", "class4"], ["b", "a", "c"]]
)
def test_a_dataset_of_other_classes_is_refused_naming_both_lists(tiny_run, tmp_path, capsys, classes):
    ds = make_synthetic(num_classes=len(classes))
    data = tmp_path / "other.npz"
    np.savez(data, x=ds.x, y=ds.y, lengths=ds.lengths, classes=np.array(classes))
    out = tmp_path / "ex"
    before = snapshot(tiny_run)
    assert main(["--checkpoint", str(tiny_run), "--dataset", str(data), "--out", str(out)]) == 2
    one_line_error(
        capsys.readouterr().err,
        f"has the classes [{', '.join(classes)}]",
        f"{tiny_run} was trained on [class0, class1, class2]",
    )
    assert not out.exists() and snapshot(tiny_run) == before
