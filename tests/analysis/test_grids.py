import json

import pytest

from lgrin_edge.analysis.grids import GRID_NAMES, load_grid
from lgrin_edge.cli import UserError


def test_components_is_table_vi_ten_distinct_rows_from_gcn_to_lgrin():
    grid = load_grid("components")
    assert len(grid.rows) == 10
    first, last = grid.rows[0].settings, grid.rows[-1].settings
    assert first == {"conv": "linear", "inception": False, "adjacency": "binary", "pooling": "max"}
    assert last == {"conv": "gstar", "inception": True, "adjacency": "learned", "pooling": "learned"}
    marks = {r.columns for r in grid.rows}
    assert len(marks) == 10  # the paper's ten combinations, each once
    assert ("-", "-", "yes", "yes") in marks and ("yes", "yes", "-", "yes") in marks


def test_every_builtin_grid_has_distinct_rows():
    for name in GRID_NAMES:
        grid = load_grid(name, init_from="runs/src")
        assert len({r.name for r in grid.rows}) == len(grid.rows) > 1, name


def test_lambdas_vary_one_weight_at_a_time_around_the_papers_values():
    rows = load_grid("lambdas").rows
    lams = [r.settings["lambdas"] for r in rows]
    assert all(sum(a != b for a, b in zip(lam, (0.1, 0.1, 1e-4), strict=True)) <= 1 for lam in lams)
    assert {r.section for r in rows} == {"lambda1", "lambda2"}


def test_transfer_grid_needs_a_source_run():
    with pytest.raises(UserError, match="--init-from"):
        load_grid("transfer")


def test_a_json_and_a_yaml_grid_file(tmp_path):
    (tmp_path / "g.json").write_text(json.dumps({"rows": [{"name": "a", "eta": [8, 4]}, {"name": "b"}]}))
    grid = load_grid(str(tmp_path / "g.json"))
    assert grid.name == "g" and [r.settings for r in grid.rows] == [{"eta": [8, 4]}, {}]
    pytest.importorskip("yaml", reason="YAML grids need PyYAML")
    (tmp_path / "h.yaml").write_text("name: mine\nrows:\n  - name: x\n    pooling: mean\n    epochs: 3\n")
    grid = load_grid(str(tmp_path / "h.yaml"))
    assert grid.name == "mine" and grid.rows[0].settings == {"pooling": "mean", "epochs": 3}


@pytest.mark.parametrize(
    "rows, words",
    [
        ([{"name": "a", "lambda1": 0.5}], "use lambdas"),
        ([{"name": "a", "poolng": "max"}], "unknown setting 'poolng'"),
        ([{"name": "a", "pooling": "median"}], "pooling must be one of"),
        ([{"name": "a"}, {"name": "a"}], "two rows are named"),
        ([{"name": "a", "finetune": "classifier"}], "need init_from"),
        ([], "non-empty list"),
        ([{"name": "neg", "lr": -0.5}], "row 'neg': lr must be a finite number > 0, got -0.5"),
        ([{"name": "a", "epochs": 0}], "epochs must be an integer >= 1, got 0"),
        ([{"name": "a", "epochs": 2.5}], "epochs must be an integer >= 1, got 2.5"),
        ([{"name": "a", "lr": "fast"}], 'lr must be a finite number > 0, got "fast"'),
        ([{"name": "a", "lambdas": [0.1, 0.1]}], r"lambdas must be three finite numbers >= 0"),
        ([{"name": "a", "label_smoothing": 1.0}], r"label_smoothing must be a number in \[0, 1\)"),
        ([{"name": "a", "augment": "shift"}], "augment must be a list of names"),
    ],
)
def test_a_bad_grid_file_is_one_line_naming_the_problem(tmp_path, rows, words):
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"rows": rows}))
    with pytest.raises(UserError, match=words) as e:
        load_grid(str(path))
    assert "\n" not in str(e.value)
