import json
import random
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.text import Text

from lgrin_edge.measure.context import run_record
from lgrin_edge.measure.macs import lgrin_macs
from lgrin_edge.measure.pareto import pareto_figure
from lgrin_edge.measure.report import main
from lgrin_edge.measure.timing import percentile, tails
from tests.measure.made_up import bench, report

ROOT = Path(__file__).resolve().parents[2]


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
            bench("lgrin", "lgrin-c", "int8", 40e-5, batch=64, target="c (dispatch)", threads=2, **c),
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
    start = text.index("## The C runtime and its peers")
    section = text[start : text.index("\n## ", start)]  # up to the next section (the front-end's)
    row = next(line for line in section.splitlines() if line.startswith("| c int8 |"))
    assert "| 20.0 us | 1.50x |" in row  # 30 us LiteRT / 20 us
    assert "| 0.2 |" in row  # 20 us against 1e5 MACs at 1e9 MAC/s (= 100 us)
    assert "Fastest peer: tflite int8 (30.0 us per sample)" in section
    assert "+5.3% against the -march=native build" in section
    assert "C runtime workspace 9,000 B, TensorFlow Lite Micro arena 49,312 B" in section
    assert "- jv batch 64: c (dispatch) int8, 2 threads 1.60x the throughput of one" in section
    # the ISA floor of the CPU writing the report, said to be so: this JSON records no peak
    assert "ISA floor (of the CPU writing this report: the JSON records no peak)" in section
    # c_runtime.md: the section alone, under the run's header
    alone = (tmp_path / "r" / "c_runtime.md").read_text()
    assert alone.endswith(section) and "\nRun: seed n/a" in alone


def test_the_isa_floor_is_the_recorded_cpus(tmp_path):
    record = {"peak": {"isa": "Test ISA", "clock_hz": 1e9, "int8_per_cycle": 10, "fp32_per_cycle": 5}}
    row = bench("lgrin", "lgrin-c", "int8", 1e-5, target="c", macs=100_000)
    text = report(tmp_path, {"machine_info": {"lgrin_edge": record}, "benchmarks": [row]}, "c_runtime.md")
    assert "ISA floor: Test ISA at 1.00 GHz: int8 10 and fp32 5 MAC/cycle, so 10 and 5 GMAC/s" in text
    assert "| c int8 | lgrin-c | 0.9000 | 2 KiB | 10.0 us | n/a | 1.0 |" in text  # 1e5 MACs at 1e10 MAC/s


def test_percentiles_are_nearest_rank_of_the_round_times():
    times = [t / 1000 for t in random.Random(0).sample(range(1, 101), 100)]  # 1..100 ms, shuffled
    assert percentile(times, 90) == 0.090 and percentile(times, 99) == 0.099
    assert percentile(times, 100) == 0.100 and percentile([0.005], 99) == 0.005
    ten = [0.003, 0.001, 0.010, 0.002, 0.009, 0.004, 0.008, 0.005, 0.007, 0.006]
    assert tails(ten) == {"p90_s": 0.009, "p99_s": 0.010}  # p99 of fewer than 100 rounds: the slowest
    with pytest.raises(ValueError, match="no times"):
        percentile([], 90)


def test_report_prints_median_tails_and_spread_from_the_round_times(tmp_path):
    times = [t / 1000 for t in random.Random(1).sample(range(1, 101), 100)]
    row = bench("lgrin", "onnxruntime", "int8", 0.0505, target="onnx")
    row["stats"].update(data=times, iqr=0.05, rounds=100)
    text = report(tmp_path, {"benchmarks": [row]})
    line = next(line for line in text.splitlines() if "| lgrin |" in line)
    assert "| 50.500 ms | 90.000 ms | 99.000 ms | 50.000 ms | 100 |" in line
    # a JSON saved without the round times: the p90/p99 the benchmark kept in extra_info
    row = bench("lgrin", "onnxruntime", "int8", 0.0505, target="onnx", p90_s=0.08, p99_s=0.12)
    text = report(tmp_path, {"benchmarks": [row]})
    assert "| 50.500 ms | 80.000 ms | 120.000 ms |" in text


def test_missing_optional_fields_print_as_na_and_a_missing_floor_is_said(tmp_path):
    """No bytes, no round times, no BLSTM row, no floor benchmark, a bare training row: no KeyError."""
    row = bench("lgrin", "onnxruntime", "int8", 1e-3, target="onnx", macs=100_000)
    del row["extra_info"]["bytes"]
    training = {"extra_info": {"kind": "training", "config": "jv"}, "stats": {"median": 0.01}}
    text = report(tmp_path, {"benchmarks": [row, training]})
    line = next(line for line in text.splitlines() if "| lgrin |" in line)
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[7] == "n/a" and cells[9:12] == ["n/a"] * 3 and cells[-1] == "n/a"  # size, p90, p99, IQR
    assert len(cells) == text.splitlines()[4].count("|") - 1  # no floor column in the header either
    assert "No x GEMM floor column: the GEMM-rate benchmarks (benchmarks/test_floor.py) did not run" in text
    assert "No floor graphs/s or x floor columns" in text
    assert "| jv (n/a, n/a) | n/a | n/a | 10.0 ms | n/a | n/a | n/a |" in text
    assert "Run: seed n/a, training mode n/a" in text and "CPU: n/a" in text


def test_header_names_seed_mode_cpu_and_libraries(tmp_path):
    record = run_record("full", 150, 3)
    assert record["versions"]["torch"] == torch.__version__ and "executorch" in record["versions"]
    record.update(cpu="Test CPU 9000", cpu_flags={"avx2": True, "avx512f": False, "avx512_vnni": False})
    record["versions"]["executorch"] = None
    data = {"machine_info": {"lgrin_edge": record}, "benchmarks": [bench("blstm", "pytorch", "fp32", 4e-3)]}
    head = report(tmp_path, data).splitlines()[:3]
    assert head[0].startswith("Run: seed 3, training mode --bench-training=full (150 epochs per model)")
    assert head[1] == "CPU: Test CPU 9000; avx2 yes, avx512f no, avx512_vnni no."
    assert f"torch {torch.__version__}" in head[2] and "executorch not installed" in head[2]
    assert "onnxruntime " in head[2] and "ai-edge-litert " in head[2]


def test_benchmark_json_records_the_run_and_the_tails(tmp_path):
    """benchmarks/conftest.py, run for real on the smallest benchmark: the JSON names the run and every
    benchmark keeps p90 <= p99 in extra_info, beside pytest-benchmark's round times."""
    out = tmp_path / "floor.json"
    args = ["benchmarks/test_floor.py", "--benchmark-only", "-k", "fp32", f"--benchmark-json={out}"]
    args += ["--benchmark-max-time=0.05", "-p", "no:cacheprovider", "-q"]
    done = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    data = json.loads(out.read_text())
    record = data["machine_info"]["lgrin_edge"]
    assert record["bench_training"] == "fast" and record["epochs"] == 40 and record["seed"] == 0
    assert record["cpu"] and {"avx2", "asimd"} & set(record["cpu_flags"]) and record["peak"]["clock_hz"] >= 0
    assert record["command"].startswith("pytest benchmarks/test_floor.py --benchmark-only -k fp32")
    (b,) = data["benchmarks"]
    assert b["extra_info"]["p90_s"] <= b["extra_info"]["p99_s"] <= b["stats"]["max"]
    assert b["extra_info"]["p99_s"] == percentile(b["stats"]["data"], 99)
    text = report(tmp_path, data | {"benchmarks": [*data["benchmarks"], bench("lgrin", "x", "fp32", 1e-3)]})
    assert "Run: seed 0, training mode --bench-training=fast (40 epochs per model)" in text
    assert "x GEMM floor: the median over the time" in text and "(torch.mm)" in text


def test_pareto_labels_do_not_overlap():
    """Ten L-GrIN runtimes at one accuracy within 20% of one latency, baselines decades away (the
    fixed offsets of before put 8 of these labels over others)."""
    rows = [
        {"dataset": "jv", "model": "lgrin", "runtime": f"rt{k}", "precision": ("fp32", "int8")[k % 2],
         "batch": 1, "accuracy": 0.97, "params": 95_000, "median_s": 1e-4 * (1 + k / 50)}
        for k in range(10)
    ] + [
        {"dataset": "jv", "model": m, "runtime": "pytorch", "precision": "fp32", "batch": 1,
         "accuracy": a, "params": p, "median_s": t}
        for m, p, a, t in (("senet", 117_000, 0.97, 1.2e-4), ("blstm", 760_000, 0.96, 1.6e-3),
                           ("senet-paper", 26_000_000, 0.97, 3.5e-2))
    ]  # fmt: skip
    fig = pareto_figure(rows)
    fig.canvas.draw()  # places the annotations' texts
    renderer = fig.canvas.get_renderer()
    (ax,) = fig.axes
    boxes = [Text.get_window_extent(t, renderer) for t in ax.texts]  # the text, not its leader line
    assert len(boxes) == 10 and {t.get_text() for t in ax.texts} == {
        f"rt{k} {r['precision']}" for k, r in enumerate(rows[:10])
    }
    frame = ax.get_window_extent(renderer)
    for i, a in enumerate(boxes):
        assert frame.x0 <= a.x0 and a.x1 <= frame.x1 and frame.y0 <= a.y0 and a.y1 <= frame.y1
        assert not any(a.overlaps(b) for b in boxes[i + 1 :]), ax.texts[i].get_text()
    plt.close(fig)
