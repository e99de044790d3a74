import json

from lgrin_edge.measure.outputs import MARKER, comment_line
from lgrin_edge.measure.report import main
from tests.measure.made_up import bench, report, seeds


def _json(tmp_path) -> str:
    rows = [bench("lgrin", "onnx", "int8", 1e-3, target="onnx"), seeds("lgrin", "jv", [0.9, 0.8], 1000)]
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"benchmarks": rows}))
    return str(path)


def test_a_hand_written_table_is_kept_unless_overwrite(tmp_path, capsys):
    out = tmp_path / "r"
    out.mkdir()
    (out / "accuracy.md").write_text("# Accuracy over seeds\n\nmeasured by hand\n")
    assert main([_json(tmp_path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "accuracy.md was not written by this report" in err
    assert "--overwrite" in err
    # checked before anything is written
    assert sorted(p.name for p in out.iterdir()) == ["accuracy.md"]
    assert (out / "accuracy.md").read_text().endswith("measured by hand\n")
    assert main([_json(tmp_path), "--out", str(out), "--overwrite"]) == 0
    assert (out / "accuracy.md").read_text().startswith(MARKER)
    # a file the report wrote is replaced without --overwrite
    assert main([_json(tmp_path), "--out", str(out)]) == 0


def test_each_file_names_the_commands_that_wrote_it(tmp_path):
    data = {"machine_info": {"lgrin_edge": {"command": "pytest --benchmark-only benchmarks -k 'x'"}}}
    data["benchmarks"] = [bench("lgrin", "onnx", "int8", 1e-3, target="onnx")]
    report(tmp_path, data, "summary.md")
    for name in ("report.md", "summary.md"):
        first = (tmp_path / "r" / name).read_text().splitlines()[0]
        args = f"{tmp_path / 'b.json'} --out {tmp_path / 'r'}"
        assert first == (
            f"<!-- written by python -m lgrin_edge.measure.report {args}; "
            "the JSON from: pytest --benchmark-only benchmarks -k 'x' -->"
        )
    # a comment ends at its first "-->": none inside
    line = comment_line(["a-->b", "--out", "c\nd"], None)
    assert line.count("-->") == 1 and line.endswith(" -->") and "\n" not in line
