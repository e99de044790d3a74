"""The report's "Streaming" section (lgrin_edge/measure/stream.py) on made-up JSON: time per hop, real-time
factor and stream memory per row, the code size and CPU lines, the goal said met or not, stream.md
written beside report.md, and nothing of it without stream benchmarks."""

from lgrin_edge.measure.stream import real_time_factor
from tests.measure.made_up import bench, report

SPEECH, MOTION = "speech, 16 kHz", "motion, BasicMotions"
C = "C stream (lgrin_stream, ctypes)"
PLAN = {"window": 150, "hop": 50, "num_nodes": 150, "frame_rate": 100.0}


def stream(stage: str, runtime: str, precision: str, median: float, hop_s: float = 0.5, **extra) -> dict:
    """A stream benchmark (benchmarks/test_stream.py): one decision hop of ``hop_s`` seconds per round."""
    info = {"kind": "stream", "stage": stage, "runtime": runtime, "precision": precision, "hop_s": hop_s,
            **PLAN, **extra}  # fmt: skip
    return {"extra_info": info, "stats": {"median": median}}


def rows_of(text: str) -> list[list[str]]:
    section = text.split("## Streaming", 1)[1]
    lines = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[1:]]


def c_row(median: float) -> dict:
    sizes = {"stream_code_bytes_x86_64": 21573, "stream_code_bytes_cortex_m4": 13809,
             "code_bytes_x86_64": 72423, "code_bytes_cortex_m4": 38251}  # fmt: skip
    row = stream(SPEECH, C, "int8", median, state_bytes=91234, **sizes)
    row["stats"]["data"] = [median] * 9 + [2 * median]  # p90: the 9th of 10 rounds
    return row


def test_rows_are_ordered_and_timed_per_hop(tmp_path):
    data = {
        "machine_info": {"lgrin_edge": {"cpu": "Made-up CPU 9000"}},
        "benchmarks": [
            stream(MOTION, "Python engine + onnx", "fp32", 2e-3, hop_s=1.0, window=100, hop=10),
            stream(SPEECH, "Python engine + onnx", "int8", 4e-3, corpus="espeak-ng"),
            c_row(1e-3),
            stream(SPEECH, "Python engine + c", "int8", 3e-3),
        ],
    }
    text = report(tmp_path, data, "stream.md")
    rows = rows_of(text)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (SPEECH, C, "int8"),
        (SPEECH, "Python engine + c", "int8"),
        (SPEECH, "Python engine + onnx", "int8"),
        (MOTION, "Python engine + onnx", "fp32"),
    ]
    assert rows[0][3:] == ["W 150 / H 50 frames, M 150, hop 0.5 s", "1 ms (1 ms)", "0.002", "91,234"]
    assert rows[3][3:] == ["W 100 / H 10 frames, M 150, hop 1 s", "2 ms (n/a)", "0.002", "n/a"]
    assert "the stream API (lgrin_stream.c, lgrin_stream_spec.c, lgrin_json.c) 21,573 / 13,809" in text
    assert "it links 72,423 / 38,251" in text and "CPU: Made-up CPU 9000." in text
    assert "RTF < 0.01: met (C stream 0.002); no peer runtime is faster than the C stream." in text
    assert "The speech model's corpus: espeak-ng." in text
    assert "## Streaming" in report(tmp_path, data)  # in report.md too


def test_the_goal_says_what_misses_it(tmp_path):
    data = {"benchmarks": [c_row(0.01), stream(SPEECH, "Python engine + tflite", "int8", 4e-3)]}
    text = report(tmp_path, data, "stream.md")
    assert "RTF < 0.01: NOT met (C stream 0.02)" in text
    assert "faster than the C stream: Python engine + tflite int8 (4 ms)." in text
    assert "CPU: n/a." in text


def test_a_run_without_stream_benchmarks_has_no_section(tmp_path):
    text = report(tmp_path, {"benchmarks": [bench("lgrin", "c", "int8", 1e-3)]})
    assert "## Streaming" not in text
    assert not (tmp_path / "r" / "stream.md").exists()


def test_real_time_factor_is_time_over_the_hop():
    assert real_time_factor({"median_s": 0.005, "hop_s": 0.5}) == 0.01
    assert real_time_factor({"median_s": 0.005}) is None
