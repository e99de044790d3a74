import importlib.util
from pathlib import Path

from lgrin_edge.measure.accuracy import MODEL_NAMES, seed_words
from lgrin_edge.measure.context import run_record
from tests.measure.made_up import bench, report, seeds

ROOT = Path(__file__).resolve().parents[2]
JV = {"classes": 9, "test_samples": 370, "epochs": 150}
BM = {"classes": 4, "test_samples": 40, "epochs": 150}


def _data(rows: list[dict]) -> dict:
    record = run_record("full", 150, 0) | {"cpu": "Test CPU 9000"}
    return {"machine_info": {"lgrin_edge": record}, "datetime": "2026-12-05T10:11:12", "benchmarks": rows}


def test_accuracy_is_the_readme_table_computed_from_the_run(tmp_path):
    rows = [
        seeds("lgrin", "japanesevowels", [0.9892, 0.9838, 0.9757, 0.9892, 0.9865], 94_771, **JV),
        seeds("gcn", "japanesevowels", [0.9811, 0.9838, 0.9757, 0.9838, 0.9838], 80_073, **JV),
        seeds("blstm", "japanesevowels", [0.9703, 0.9649, 0.9676, 0.9514, 0.9703], 759_009, **JV),
        seeds("lgrin", "basicmotions", [1.0] * 5, 95_680, **BM),
        seeds("blstm", "basicmotions", [0.725, 0.725, 0.55, 0.35, 0.8], 741_604, **BM),
        bench("lgrin", "onnx", "int8", 1e-3, target="onnx"),  # a latency row: not this table's
    ]
    text = report(tmp_path, _data(rows), "accuracy.md")
    assert text.splitlines()[:5] == [
        "| model | JapaneseVowels (9 speakers, 370 test) | params "
        "| BasicMotions (4 activities, 40 test) | params |",
        "|---|---|---|---|---|",
        # the README's rows (mean +- sample std, each seed where they differ, L-GrIN bold), in its order
        "| L-GrIN | **98.49 +- 0.56** (98.92 98.38 97.57 98.92 98.65) | 94,771 "
        "| **100.00 +- 0.00** | 95,680 |",
        "| BLSTM | 96.49 +- 0.79 (97.03 96.49 96.76 95.14 97.03) | 759,009 "
        "| 63.00 +- 18.15 (72.50 72.50 55.00 35.00 80.00) | 741,604 |",
        "| GCN (eq. 2, binary chain) | 98.16 +- 0.35 (98.11 98.38 97.57 98.38 98.38) | 80,073 | n/a | n/a |",
    ]
    run = '`pytest --benchmark-only benchmarks/test_accuracy.py -k "'
    notes = [line for line in text.splitlines() if line.startswith("- ")]
    assert notes == [
        f'- L-GrIN, `--recipe paper-start`: left out, not in this run; {run}lgrin-paper-start]"` fills it.',
        f'- L-GrIN, `--recipe graph`: left out, not in this run; {run}lgrin-graph]"` fills it.',
        f'- SENet (compact): left out, not in this run; {run}senet]"` fills it.',
        f'- GCN (eq. 2, binary chain): n/a where not in this run; {run}basicmotions-gcn]"` fills it.',
    ]
    sentence = text.splitlines()[-1]
    assert sentence.startswith("Test accuracy (%) on the official test splits, mean +- standard deviation ")
    for words in ("over seeds 0-4", "150 epochs (--bench-training=full)", "Test CPU 9000 on 2026-12-05"):
        assert words in sentence


def test_a_row_without_the_optional_fields_prints_na(tmp_path):
    """A seeds row of an older run: no class count, test size, parameters or standard deviation."""
    row = {"kind": "seeds", "model": "lgrin", "dataset": "japanesevowels", "accuracy_mean": 0.98}
    text = report(tmp_path, {"benchmarks": [{"extra_info": row, "stats": {"median": 1e-3}}]}, "accuracy.md")
    assert "| model | JapaneseVowels | params |" in text
    assert "| L-GrIN | **98.00 +- n/a** | n/a |" in text
    assert "over seeds n/a" in text and "n/a epochs" in text


def test_seed_words():
    assert seed_words([0, 1, 2, 3, 4]) == "seeds 0-4"
    assert seed_words([0, 2, 7]) == "seeds 0, 2, 7"
    assert seed_words([3]) == "seed 3" and seed_words([]) == "seeds n/a"


def test_the_table_names_every_model_the_benchmark_trains():
    """benchmarks/test_accuracy.py's models and the table's rows are the same set."""
    spec = importlib.util.spec_from_file_location("accuracy_bench", ROOT / "benchmarks" / "test_accuracy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert list(module.MODELS) and set(module.MODELS) == set(MODEL_NAMES)
