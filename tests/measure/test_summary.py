import re
import subprocess
import sys
from pathlib import Path

from lgrin_edge.measure.context import FULL_ONLY, run_record
from tests.measure.made_up import bench, floor, report

ROOT = Path(__file__).resolve().parents[2]
MACS = 10_000  # at the made-up rates: 10 us in int8 (1e9 MAC/s), 20 us in fp32 (0.5e9 MAC/s)
# (model, target, precision, JapaneseVowels median, BasicMotions median, extra_info): a full run at batch 1
RUNS = [
    ("lgrin", "c", "int8", 38e-6, 101e-6, {}),
    ("lgrin", "tflite", "int8", 52e-6, 130e-6, {}),
    ("lgrin", "onnx", "int8", 102e-6, 327e-6, {}),
    ("lgrin", "tensorrt", "int8", 228e-6, 507e-6, {}),
    ("lgrin", "executorch", "int8", 90e-6, 300e-6, {}),
    ("lgrin", "tflite", "fp32", 80e-6, 200e-6, {}),
    ("lgrin", "pytorch", "fp32", 500e-6, 900e-6, {}),
    ("lgrin", "c (dispatch-avx2)", "int8", 72e-6, 201e-6, {"kernel": "avx2"}),
    ("lgrin", "c (dispatch-portable)", "int8", 135e-6, 400e-6, {"kernel": "portable"}),
    # a pinned build faster than the library users get: not their fastest runtime
    ("lgrin", "c (native)", "int8", 30e-6, 90e-6, {"kernel": "vnni"}),
    ("blstm", "pytorch", "fp32", 1.63e-3, 5.12e-3, {}),
    ("senet-paper", "pytorch", "fp32", 34.7e-3, 29.1e-3, {}),
    ("senet-paper", "onnx", "fp32", 10.7e-3, 13.9e-3, {}),
    ("senet", "onnx", "int8", 58e-6, 85e-6, {}),
]
DATASETS = ("japanesevowels", "basicmotions")
ACCURACY = {  # (JapaneseVowels, BasicMotions)
    "lgrin": (0.973, 1.0), "blstm": (0.96, 0.8), "senet-paper": (0.97, 1.0), "senet": (0.981, 1.0),
}  # fmt: skip


def _rows(keep=lambda model, target, dataset: True) -> list[dict]:
    out = []
    for model, target, precision, jv, bm, extra in RUNS:
        for dataset, median, acc in zip(DATASETS, (jv, bm), ACCURACY[model], strict=True):
            if keep(model, target, dataset):
                info = {"dataset": dataset, "accuracy": acc, "threads": 1, **extra}
                info |= {"macs": MACS} if model == "lgrin" else {}
                info |= {} if target == "pytorch" else {"target": target}
                out.append(bench(model, target, precision, median, **info))
    # other batches and thread counts: not the table's
    out.append(bench("lgrin", "c", "int8", 1e-6, batch=64, target="c", dataset="japanesevowels", accuracy=1))
    out.append(bench("lgrin", "c", "int8", 1e-6, threads=2, target="c", dataset="japanesevowels", accuracy=1))
    return out


def _data(rows: list[dict], mode: str = "full", rates: bool = True) -> dict:
    record = run_record(mode, {"fast": 40, "full": 150}[mode], 0, "pytest --benchmark-only benchmarks")
    record["cpu"] = "Test CPU 9000"
    extra = [floor("int8", 1e9), floor("fp32", 0.5e9)] if rates else []
    return {
        "machine_info": {"lgrin_edge": record},
        "datetime": "2026-12-05T10:11:12",
        "benchmarks": rows + extra,
    }


def test_summary_is_the_readme_table_computed_from_the_run(tmp_path):
    text = report(tmp_path, _data(_rows()), "summary.md")
    assert text.splitlines()[:11] == [
        "| batch 1, one thread | JapaneseVowels | BasicMotions |",
        "|---|---|---|",
        "| L-GrIN int8, fastest runtime (C99 runtime) | 0.038 ms, 97.3% | 0.101 ms, 100% |",
        "| L-GrIN int8, LiteRT / onnxruntime / TensorRT Q/DQ in onnxruntime | 0.052 / 0.102 / 0.228 ms "
        "| 0.130 / 0.327 / 0.507 ms |",
        "| L-GrIN int8, C99 runtime with its AVX2 / portable kernels | 0.072 / 0.135 ms | 0.201 / 0.400 ms |",
        "| BLSTM fp32 (PyTorch) | 1.63 ms, 96.0% | 5.12 ms, 80.0% |",
        "| SENet paper scale fp32 (PyTorch / onnxruntime) | 34.7 / 10.7 ms, 97.0% | 29.1 / 13.9 ms, 100% |",
        "| SENet compact int8 (onnxruntime) | 0.058 ms, 98.1% | 0.085 ms, 100% |",
        # 1.63 / 0.038 = 42.9, 5.12 / 0.101 = 50.7
        "| L-GrIN int8 speed-up vs BLSTM fp32 | 43x | 51x |",
        # 34.7 / 0.038 = 913.2, 10.7 / 0.038 = 281.6; 29.1 / 0.101 = 288.1, 13.9 / 0.101 = 137.6
        "| L-GrIN int8 speed-up vs paper-scale SENet fp32 (PyTorch / onnxruntime) | 913x / 282x "
        "| 288x / 138x |",
        # 80 us against 20 us, 38 us against 10 us; 200 against 20, 101 against 10
        "| best L-GrIN runtime vs compute floor | fp32: 4.0x (LiteRT); int8: 3.8x (C99 runtime) "
        "| fp32: 10.0x (LiteRT); int8: 10.1x (C99 runtime) |",
    ]
    # nothing left out; then the one sentence naming the run
    assert text.splitlines()[11:] == [
        "",
        "Medians of pytest-benchmark's rounds at batch 1 on one thread, test accuracy of the seed-0 models; "
        "measured on Test CPU 9000 on 2026-12-05, training mode --bench-training=full (150 epochs per "
        "model).",
    ]


def test_missing_benchmarks_leave_their_rows_out_with_the_benchmark_that_fills_them(tmp_path):
    """A fast run: no paper-scale SENet, no pinned C kernels, no GEMM rates, no TensorRT or BLSTM on
    BasicMotions. Rows none of whose benchmarks ran are left out; parts that did not run are n/a."""

    def keep(model, target, dataset):
        bm_gap = dataset == "basicmotions" and (target == "tensorrt" or model == "blstm")
        return model != "senet-paper" and not target.startswith("c (") and not bm_gap

    text = report(tmp_path, _data(_rows(keep), mode="fast", rates=False), "summary.md")
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert [line.split(" | ")[0] for line in table[1:]] == [
        "| L-GrIN int8, fastest runtime (C99 runtime)",
        "| L-GrIN int8, LiteRT / onnxruntime / TensorRT Q/DQ in onnxruntime",
        "| BLSTM fp32 (PyTorch)",
        "| SENet compact int8 (onnxruntime)",
        "| L-GrIN int8 speed-up vs BLSTM fp32",
    ]
    assert "| 0.052 / 0.102 / 0.228 ms | 0.130 / 0.327 / n/a ms |" in table[2]
    assert table[3].endswith("| 1.63 ms, 96.0% | n/a |") and table[5].endswith("| 43x | n/a |")
    notes = [line for line in text.splitlines() if line.startswith("- ")]
    run = "`pytest --benchmark-only"
    latency = f"{run} benchmarks/test_latency.py -k"
    kernels = f'{run} benchmarks/test_c_kernels.py -k "dispatch-avx2-b1-t1] or dispatch-portable-b1-t1]"`'
    paper = (
        f"{FULL_ONLY['senet-paper']}; {run} --bench-training=full benchmarks/test_latency.py -k "
        '"senet-paper-pytorch-fp32-1] or senet-paper-onnx-fp32-1]"` fills it.'
    )
    out = "left out, not in this run:"
    assert notes == [
        "- L-GrIN int8, fastest runtime: among the runtimes in this run; "
        f'{latency} "lgrin-tensorrt-int8-1]"` adds the others.',
        "- L-GrIN int8, LiteRT / onnxruntime / TensorRT Q/DQ in onnxruntime: n/a where not in this run; "
        f'{latency} "lgrin-tensorrt-int8-1]"` fills it.',
        f"- L-GrIN int8, C99 runtime with its AVX2 / portable kernels: {out} {kernels} fills it.",
        f'- BLSTM fp32 (PyTorch): n/a where not in this run; {latency} "blstm-pytorch-fp32-1]"` fills it.',
        f"- SENet paper scale fp32 (PyTorch / onnxruntime): {out} {paper}",
        "- L-GrIN int8 speed-up vs BLSTM fp32: n/a where not in this run; "
        f'{latency} "blstm-pytorch-fp32-1]"` fills it.',
        f"- L-GrIN int8 speed-up vs paper-scale SENet fp32 (PyTorch / onnxruntime): {out} {paper}",
        f"- best L-GrIN runtime vs compute floor: {out} {run} benchmarks/test_floor.py` fills it.",
    ]
    assert text.rstrip().endswith("training mode --bench-training=fast (40 epochs per model).")


def test_fastest_runtime_named_per_dataset_where_they_differ_and_unverified_files_marked(tmp_path):
    rows = _rows(lambda model, target, dataset: not (target == "c" and dataset == "basicmotions"))
    senet = next(r for r in rows if r["extra_info"]["model"] == "senet")
    senet["extra_info"] |= {"verified": False, "top1_agreement": 0.973}
    text = report(tmp_path, _data(rows), "summary.md")
    assert (
        "| L-GrIN int8, fastest runtime | 0.038 ms, 97.3% (C99 runtime) | 0.130 ms, 100% (LiteRT) |" in text
    )
    assert "| SENet compact int8 (onnxruntime) | 0.058 ms, 98.1% (unverified: 97.3% agreement) |" in text


def _matches(expression: str, name: str) -> bool:
    """pytest -k on one test name: each word a case-insensitive substring, with and / or / not."""
    words = re.findall(r"\(|\)|[^\s()]+", expression)
    code = [w if w in ("(", ")", "and", "or", "not") else repr(w.lower()) + " in name" for w in words]
    return eval(" ".join(code), {"name": name.lower()})  # the words are the report's, quoted by repr


def test_every_line_under_a_table_selects_benchmarks_that_exist(tmp_path):
    """Each command the lines name selects, in the benchmark suite as collected, the cases that fill the
    row: batch 1 and one thread for the summary, the model for accuracy.md."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "--benchmark-only", "-p", "no:cacheprovider",
         "benchmarks"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    ids = [line.split("::", 1) for line in done.stdout.splitlines() if "::" in line]
    other = bench("other", "onnx", "fp32", 1e-3, dataset="japanesevowels")
    lgrin = bench("lgrin", "onnx", "fp32", 1e-3, dataset="japanesevowels", target="onnx", macs=MACS)
    seeds = {"kind": "seeds", "model": "lgrin", "dataset": "japanesevowels", "accuracy_mean": 1}
    lines = []
    for rows in ([other, {"extra_info": seeds, "stats": {"median": 1e-3}}], [lgrin]):
        for name in ("summary.md", "accuracy.md") if len(rows) > 1 else ("summary.md",):
            lines += report(tmp_path, _data(rows, mode="fast", rates=False), name).splitlines()
    commands = [c for line in lines if line.startswith("- ") for c in re.findall(r"`(pytest [^`]+)`", line)]
    assert len(commands) >= 15 and any("test_floor.py" in c for c in commands)
    form = r'pytest --benchmark-only(?: --bench-training=full)? (\S+)(?: -k "(.+)")?'
    for command in commands:
        file, expression = re.fullmatch(form, command).groups()
        chosen = [n for path, n in ids if path == file and (expression is None or _matches(expression, n))]
        assert chosen, command
        if "test_latency" in file or "test_c_kernels" in file:
            assert all(re.search(r"-(b1-t)?1\]$", name) for name in chosen), (command, chosen)


def test_a_fast_run_skips_paper_scale_senet_and_says_why(tmp_path):
    """benchmarks/test_latency.py, run for real: the case is skipped before any training."""
    args = [
        "benchmarks/test_latency.py",
        "--benchmark-only",
        "-k",
        "senet-paper-pytorch-fp32-1]",
        "-rs",
        "-q",
    ]
    args += ["--bench-datasets=japanesevowels", f"--bench-cache={tmp_path}", "-p", "no:cacheprovider"]
    done = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "1 skipped" in done.stdout and FULL_ONLY["senet-paper"] in done.stdout
    assert not any(tmp_path.iterdir())  # nothing trained
