import json

from lgrin_edge.benchmark.macs import lgrin_macs
from lgrin_edge.benchmark.report import main


def bench(model, runtime, precision, median, batch=1, **extra):
    info = {
        "model": model,
        "runtime": runtime,
        "precision": precision,
        "batch": batch,
        "dataset": "jv",
        "params": 1000,
        "bytes": 2048,
        "accuracy": 0.9,
        **extra,
    }
    return {"extra_info": info, "stats": {"median": median}}


def test_report_table_speedup_and_floor(tmp_path):
    data = {
        "machine_info": {"cpu": {"brand_raw": "Test CPU"}},
        "benchmarks": [
            {
                "extra_info": {"kind": "floor", "precision": "fp32", "macs": 1_000_000},
                "stats": {"median": 1e-3},
            },
            bench("blstm", "pytorch", "fp32", 4e-3),
            bench("lgrin", "onnxruntime", "fp32", 1e-3, macs=100_000, target="onnx"),
        ],
    }
    path = tmp_path / "b.json"
    path.write_text(json.dumps(data))
    assert main([str(path), "--out", str(tmp_path / "r")]) == 0
    text = (tmp_path / "r" / "report.md").read_text()
    row = next(line for line in text.splitlines() if "| lgrin |" in line)
    assert "4.0x" in row  # 4 ms BLSTM / 1 ms
    assert "| 10.0 |" in row  # floor: 1e5 MACs at 1e9 MAC/s = 0.1 ms; 1 ms is 10x that
    assert (tmp_path / "r" / "pareto.png").stat().st_size > 1000


def test_report_accuracy_over_seeds_table(tmp_path):
    seeds = {
        "kind": "seeds", "model": "lgrin", "dataset": "jv", "seeds": [0, 1, 2], "params": 1000,
        "accuracies": [0.98, 0.99, 0.97], "accuracy_mean": 0.98, "accuracy_std": 0.01, "epochs": 150,
    }  # fmt: skip
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"benchmarks": [{"extra_info": seeds, "stats": {"median": 2e-3}}]}))
    assert main([str(path), "--out", str(tmp_path / "r")]) == 0
    text = (tmp_path / "r" / "report.md").read_text()
    assert "## Accuracy over seeds" in text and "150 epochs" in text
    row = next(line for line in text.splitlines() if "| lgrin |" in line)
    assert "98.00 +- 1.00" in row and "| 97.00 |" in row and "98.00 99.00 97.00" in row and "2.0 ms" in row


def test_report_rejects_bad_json(tmp_path, capsys):
    path = tmp_path / "b.json"
    path.write_text("{not json")
    assert main([str(path)]) == 2
    assert "is not JSON" in capsys.readouterr().err
    path.write_text(
        '{"benchmarks": [{"name": "x", "stats": {"median": 1.0}, "extra_info": {"model": "lgrin"}}]}'
    )
    assert main([str(path)]) == 2
    assert "lacks dataset, runtime" in capsys.readouterr().err


def test_macs_count_by_hand():
    cfg = {"num_nodes": 4, "in_features": 3, "num_classes": 2, "eta": (5, 2), "num_layers": 1}
    # A H: 4*4*3; G1: 4*3*5 + 4*5*5; G2: 4*3*2 + 4*2*2; p^T H: 4*(5+2+3); classifier 3*10*2
    assert lgrin_macs(cfg) == 48 + 60 + 100 + 24 + 16 + 40 + 60


def test_report_sets_the_c_runtime_against_its_peers(tmp_path):
    """The peers section: per-sample latency, the ratio to the fastest peer, the dispatching library
    against -march=native, and the microcontroller memory."""
    c = {"macs": 100_000}
    data = {
        "benchmarks": [
            {
                "extra_info": {"kind": "floor", "precision": "int8", "macs": 1_000_000},
                "stats": {"median": 1e-3},
            },
            bench("lgrin", "litert", "int8", 3e-5, target="tflite", macs=100_000),
            bench("lgrin", "onnxruntime", "int8", 6e-5, target="onnx", macs=100_000),
            bench("lgrin", "lgrin-c", "int8", 2e-5, target="c", kernel="vnni", **c),
            bench("lgrin", "lgrin-c", "int8", 1.9e-5, target="c (native)", **c),
            bench("lgrin", "lgrin-c", "int8", 64e-5, batch=64, target="c (dispatch)", **c),
            bench(
                "lgrin",
                "tflm",
                "int8",
                1e-3,
                target="tflite-micro",
                arena_bytes=49312,
                c_workspace_bytes=9000,
            ),
        ]
    }
    path = tmp_path / "b.json"
    path.write_text(json.dumps(data))
    assert main([str(path), "--out", str(tmp_path / "r")]) == 0
    text = (tmp_path / "r" / "report.md").read_text()
    section = text[text.index("## The C runtime and its peers") :]
    row = next(line for line in section.splitlines() if line.startswith("| c int8 |"))
    assert "| 20.0 us | 1.50x |" in row  # 30 us LiteRT / 20 us
    assert "| 0.2 |" in row  # 20 us against 1e5 MACs at 1e9 MAC/s (= 100 us)
    assert "Fastest peer: tflite int8 (30.0 us per sample)" in section
    assert "+5.3% against the -march=native build" in section
    assert "C runtime workspace 9,000 B, TensorFlow Lite Micro arena 49,312 B" in section
