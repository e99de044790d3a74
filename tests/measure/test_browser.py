"""The report's "In the browser" section (lgrin_edge/measure/browser.py) on made-up JSON: one row per
(runtime, file) with its download bytes and both stages' times, a refusal's error in place of a time, a
table and a goal line per dataset, browser.md written beside report.md, and nothing without browser
benchmarks."""

from tests.measure.made_up import bench, report

OURS, ORT = "lgrin.js (wasm)", "onnxruntime-web 1.30.0 (wasm)"
PLAN = {"window": 100, "hop": 10, "nodes": 100, "features": 6, "frame_rate": 10.0}


def browser(
    runtime: str, file: str, stage: str, median: float | None, dataset: str = "basicmotions", **extra
):
    """A browser benchmark (benchmarks/test_browser.py) of a runtime that fetched a 1000-byte runtime file
    and a 300-byte model."""
    files = [
        {"file": "bench/node_modules/rt/runtime.wasm", "bytes": 1000},
        {"file": f"model/{dataset}/{file}", "bytes": 300},
    ]
    info = {"kind": "browser", "dataset": dataset, "runtime": runtime, "file": file, "precision": "int8",
            "stage": stage, "files": files, "download_bytes": 1300, "browser": "Chromium 1.2",
            "cpu": "Made-up CPU", "p10_s": median and median / 2, **PLAN, **extra}  # fmt: skip
    return {"extra_info": info, "stats": {"median": median or 0.5, "data": [median or 0.5] * 10}}


def rows_of(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in lines
        if not line.startswith("| runtime |")
    ]


def test_rows_pair_the_stages_and_the_goal_is_judged(tmp_path):
    data = {
        "benchmarks": [
            browser(ORT, "model_int8.onnx", "batch 1", 2e-3),
            browser(ORT, "model_int8.onnx", "hop", 3e-3),
            browser(OURS, "model_int8.lgrn", "batch 1", 1e-3, download_bytes=900, load_1min=0.5, cpus=2),
            browser(OURS, "model_int8.lgrn", "hop", 4e-3, load_1min=3.25, cpus=2),
        ]
    }
    text = report(tmp_path, data, "browser.md")
    rows = rows_of(text)
    assert [r[0] for r in rows] == [OURS, ORT]
    assert rows[0][3:8] == ["900 (runtime 600 + model 300)", "1 ms [500 us-1 ms]", "4 ms [2 ms-4 ms]",
                            "Chromium 1.2", "Made-up CPU"]  # fmt: skip
    assert "### BasicMotions (M 100, P 6; stream W 100 / H 10 frames at 10 frames/s)" in text
    assert "batch 1: fastest (1 ms); hop: NOT fastest (4 ms; at least as fast: " in text
    assert "download: smallest (900 bytes)" in text
    assert "lgrin.js (wasm): rt/runtime.wasm (1,000)" in text
    assert (
        "Machine load while timed (1-minute load average after each runtime's timing, 2 CPUs): 0.50 to 3"
        in text
    )
    assert "## In the browser" in report(tmp_path, data)  # in report.md too


def test_a_refusal_shows_its_error_in_place_of_a_time(tmp_path):
    data = {
        "benchmarks": [
            browser(OURS, "model_int8.lgrn", "batch 1", 1e-3, dataset="japanesevowels"),
            browser(OURS, "model_int8.lgrn", "hop", None, dataset="japanesevowels", error="stream: no spec"),
            browser(ORT, "model_int8.onnx", "batch 1", None, dataset="japanesevowels", error="load: bad op"),
        ]
    }
    text = report(tmp_path, data, "browser.md")
    rows = rows_of(text)
    assert rows[0][5] == "refused (stream: no spec)" and rows[1][4] == "refused (load: bad op)"
    assert "hop: no lgrin.js time (stream: no spec)" in text and "batch 1: fastest (1 ms)" in text
    assert "Machine load while timed: n/a." in text


def test_a_run_without_browser_benchmarks_has_no_section(tmp_path):
    text = report(tmp_path, {"benchmarks": [bench("lgrin", "c", "int8", 1e-3)]})
    assert "## In the browser" not in text
    assert not (tmp_path / "r" / "browser.md").exists()
