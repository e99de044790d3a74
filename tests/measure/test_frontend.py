"""The report's "On-device front-end" section (lgrin_edge/measure/frontend.py) on made-up JSON: time
per hop and real-time factor from the rounds, state and code bytes, the order of the rows, and the
line naming the command where the JSON has none of these benchmarks."""

from lgrin_edge.measure.frontend import COMMAND, real_time_factor
from tests.measure.made_up import bench, frontend, report

C16 = "speech, 16 kHz in"


def rows_of(text: str) -> list[list[str]]:
    section = text.split("## On-device front-end", 1)[1]
    lines = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[1:]]


def test_the_section_divides_the_rounds_by_their_hops(tmp_path):
    whole = frontend(C16, "C99 via ctypes, 10 s per call", 0.06, hops=1000, state_bytes=81072,
                     code_bytes_x86_64=12640, code_bytes_cortex_m4=11153)  # fmt: skip
    whole["stats"]["data"] = [0.05] * 8 + [0.07, 0.09]  # p90: the 9th of 10 rounds
    e2e = frontend("end to end, 0.5 s decision", "C99 front-end + C runtime", 3e-3, hop_s=0.5,
                   state_bytes=300, state_parts={"front-end": 100, "workspace": 200})  # fmt: skip
    data = {
        "benchmarks": [
            e2e,
            frontend(C16, "numpy, one hop per call", 2e-4),
            frontend(C16, "TensorFlow Lite Micro Signal ops, one hop per call", 8e-6, state_bytes=8160),
            whole,
            frontend(C16, "C99 via ctypes, one hop per call", 6e-5),
        ]
    }
    rows = rows_of(report(tmp_path, data))
    assert [r[1] for r in rows] == [
        "C99 via ctypes, one hop per call",
        "C99 via ctypes, 10 s per call",
        "numpy, one hop per call",
        "TensorFlow Lite Micro Signal ops, one hop per call",
        "C99 front-end + C runtime",
    ]
    # 0.06 s per 1000 hops of 10 ms; p90 from the round times
    assert rows[1][2:] == ["60 us / 70 us", "0.006", "81,072", "12,640 / 11,153"]
    assert rows[0][2:4] == ["60 us / n/a", "0.006"] and rows[0][5] == "n/a / n/a"
    assert rows[3][2:5] == ["8 us / n/a", "0.0008", "8,160"]
    assert rows[4][2:5] == ["3 ms / n/a", "0.006", "300 (front-end 100 + workspace 200)"]  # 3 ms per 0.5 s


def test_a_run_without_these_benchmarks_names_the_command(tmp_path):
    text = report(tmp_path, {"benchmarks": [bench("lgrin", "c", "int8", 1e-3)]})
    assert f"## On-device front-end\n\nNot in this run: `{COMMAND}` fills this section." in text
    assert COMMAND == "pytest --benchmark-only benchmarks/test_frontend.py"


def test_a_run_of_these_benchmarks_alone_is_a_report(tmp_path):
    text = report(tmp_path, {"benchmarks": [frontend(C16, "C99 via ctypes, one hop per call", 6e-5)]})
    assert "| speech, 16 kHz in | C99 via ctypes, one hop per call | 60 us / n/a | 0.006 |" in text
    assert "No TensorFlow Lite Micro row: its benchmark was skipped" in text
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["report.md"]


def test_real_time_factor_needs_the_input_duration():
    assert real_time_factor({"median_s": 0.5, "hops": 100, "hop_s": 0.01}) == 0.5
    assert real_time_factor({"median_s": 0.5}) is None
