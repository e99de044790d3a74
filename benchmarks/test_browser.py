"""The web export's wasm runtime beside onnxruntime-web and LiteRT.js, in the same headless Chromium.

The L-GrIN of each dataset of benchmarks/conftest.py's cached trainings (JapaneseVowels, BasicMotions),
exported once for onnx, tflite, c and web; each (runtime, file) runs in a fresh load of
benchmarks/web/bench.html (bench.js), in four passes over the pairs (25 rounds each a pass): the web
export's lgrin.js on web/model_int8.lgrn, onnxruntime-web 1.30.0 (wasm backend) on model_fp32.onnx and
model_int8.onnx, LiteRT.js 2.5.3 (wasm accelerator, XNNPACK) on model_fp32.tflite and model_int8.tflite,
each on one thread, every file served from this machine (benchmarks/web/node_modules: `npm ci` there).
Two benchmarks per pair, from round times the page measures itself (performance.now(); a WebDriver
round trip costs more than the model): "batch 1" (a (1, M, P) graph to its logits) and "hop" (H new
frames to a decision: lgrin.js's Stream, or the same window, graph rule, run, softmax and smoothing in
JS around the peer's run). extra_info (kind "browser"): the files the page fetched with their bytes, the
browser's version, the CPU. A file (or a stream) a runtime refuses is recorded with the runtime's error
instead of a time; lgrin.js may refuse only the streams the native C stream refuses (JapaneseVowels'
spec, ready-made LPC frames, names no front-end to open one with). lgrin_edge/measure/browser.py makes
the report's "In the browser" section.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

from lgrin_edge.export.targets import TARGETS
from lgrin_edge.measure.browser import HOP, KIND, ONE
from lgrin_edge.measure.threads import cpu_model
from lgrin_edge.measure.timing import percentile
from lgrin_edge.native import read_cpuinfo

WEB = Path(__file__).parent / "web"
NODE_MODULES = WEB / "node_modules"
TARGETS_USED = ["onnx", "tflite", "c", "web"]  # exported together: one export, every file
# (runtime, its name in the report, export target, precision)
PAIRS = [
    ("lgrin", "lgrin.js (wasm)", "web", "int8"),
    ("ort", "onnxruntime-web 1.30.0 (wasm)", "onnx", "fp32"),
    ("ort", "onnxruntime-web 1.30.0 (wasm)", "onnx", "int8"),
    ("litert", "LiteRT.js 2.5.3 (wasm)", "tflite", "fp32"),
    ("litert", "LiteRT.js 2.5.3 (wasm)", "tflite", "int8"),
]
# warm-up: 50 calls and 0.5 s at least (the wasm tier-up); calibration: 0.2 s (bench.js)
TIMING = {"warmup": 50, "warmupMs": 500, "calibrateMs": 200, "rounds": 25, "minRoundMs": 5}
# Passes over the pairs, each pair in a page of its own each pass (two LiteRT.js models in one page slowed
# one of them twofold): the machine's other work falls on every pair alike, TIMING rounds a pass.
PASSES = 4
# Largest |logit difference| from the same file in its own native runtime, over the largest |logit|:
# the wasm builds run other kernels (int8: other rounding of the dynamic activations' scales).
TOLERANCE = {"fp32": 1e-3, "int8": 5e-2}


def _needs() -> str | None:
    """Why the browser benchmarks cannot run here, or None."""
    from lgrin_edge.web.browser import chromium_status

    ok, why = chromium_status()
    if not ok:
        return why
    packages = ("onnxruntime-web", "@litertjs/core", "@litertjs/wasm-utils")
    missing = [p for p in packages if not (NODE_MODULES / p).is_dir()]
    if missing:
        return f"{', '.join(missing)} not in {NODE_MODULES}: run `npm ci` in {WEB}"
    return None


class _Exports(dict):
    """dataset -> (dist, manifest), trained and exported on first use."""

    def __init__(self, runs) -> None:
        super().__init__()
        self.runs = runs

    def __missing__(self, dataset: str) -> tuple[Path, dict]:
        run = self.runs.run(dataset, "lgrin")
        self[dataset] = (run / "dist", self.runs.export(run, TARGETS_USED))
        return self[dataset]


@pytest.fixture(scope="session")
def exports(runs) -> dict[str, tuple[Path, dict]]:
    """dataset -> (the dist folder, its manifest) of its L-GrIN, exported lazily, every target at once."""
    why = _needs()
    if why:
        pytest.skip(why)
    return _Exports(runs)


@pytest.fixture(scope="session")
def browser(exports):
    """One headless Chromium serving a folder that links benchmarks/web and the exports (no copies)."""
    from lgrin_edge.web.browser import Browser

    with tempfile.TemporaryDirectory(prefix="lgrin-bench-") as tmp:
        root = Path(tmp)
        (root / "bench").symlink_to(WEB.resolve(), target_is_directory=True)
        (root / "model").mkdir()
        with Browser(root) as b:
            yield b


def _served(browser, dist: Path, dataset: str) -> str:
    """The served path of ``dist`` (a link under the browser's root/model)."""
    link = browser.root / "model" / dataset
    if not link.exists():
        link.symlink_to(dist.resolve(), target_is_directory=True)
    return f"/model/{dataset}"


def _exported(export: tuple[Path, dict], target: str, precision: str) -> tuple[str | None, str]:
    """(the exported file of ``target``/``precision`` relative to dist, "") or (None, why there is none)."""
    dist, manifest = export
    if target not in TARGETS:
        return None, f"this lgrin-edge has no {target} target"
    rel = TARGETS[target].files[precision]
    if not any(a.get("path") == rel for a in manifest["artifacts"]):
        reasons = [str(s.get("reason")) for s in manifest["skipped"] if s["target"] == target]
        reasons += [str(f.get("error")) for f in manifest.get("failed", []) if f.get("target") == target]
        return None, f"{target} {precision}: {'; '.join(reasons) or 'not exported'}"
    assert (dist / rel).is_file(), f"{dist / rel} is in the manifest but not on disk"
    return rel, ""


@functools.cache
def _plan(lgrn: Path) -> dict:
    """The spec's default stream in frames (lgrin_edge.live.stream.plan), as bench.js takes it."""
    from lgrin_edge.inspect import read_spec
    from lgrin_edge.live.stream import plan

    spec, _ = read_spec(lgrn)
    p = plan(spec)
    return {
        "window": p.window, "hop": p.hop, "nodes": p.num_nodes, "features": spec.num_features,
        "policy": p.policy, "smoothing": p.stream.decisions, "frame_rate": p.frame_rate_hz,
    }  # fmt: skip


_RESULTS: dict[str, dict[str, dict]] = {}


def page_bench(browser, export: tuple[Path, dict], dataset: str) -> dict[str, dict]:
    """File (relative to dist) -> bench.js's result for its pair, once per dataset: every exported pair
    of PAIRS in a fresh load of bench.html, PASSES times over the pairs in turn."""
    from lgrin_edge.web.browser import to_base64

    if dataset not in _RESULTS:
        dist = export[0]
        base = _served(browser, dist, dataset)
        samples = np.load(dist / "samples.npz")
        plan = _plan(dist / TARGETS["c"].files["int8"])
        common = {
            "x": to_base64(samples["x"][:1]),
            "frames": to_base64(samples["x"].reshape(-1, plan["features"])),  # the held-out graphs' frames
            "plan": plan,
            "timing": TIMING,
        }
        found = [(r, rel) for r, _, t, p in PAIRS if (rel := _exported(export, t, p)[0])]
        pairs = [
            {
                "runtime": r,
                "model": f"{base}/{rel}",
                "lgrinJs": f"{base}/{Path(rel).parent.as_posix()}/lgrin.js",
            }
            for r, rel in found
        ]
        results: dict[str, dict] = {}
        for _ in range(PASSES):
            for (_, rel), pair in zip(found, pairs, strict=True):
                got = in_page(browser, {**common, "pairs": [pair]})
                results[rel] = _merged(results.get(rel), {**got["pairs"][0], "isolated": got["isolated"]})
        # other work on this machine shows in the times: the load while they were taken goes with them
        extra = {"plan": plan, "x": samples["x"][:1]}
        extra["load"] = {"load_1min": os.getloadavg()[0], "cpus": os.cpu_count()}
        _RESULTS[dataset] = {
            rel: {**results[rel], **extra, "options": {**common, "pairs": [pair]}}
            for (_, rel), pair in zip(found, pairs, strict=True)
        }
    return _RESULTS[dataset]


def _merged(before: dict | None, now: dict) -> dict:
    """One pair's results of two passes as one: the rounds of both, the calls per round of each pass; a
    refusal in either pass is the result."""
    if before is None:
        return {**now, **{k: {**now[k], "calls": [now[k]["calls"]]} for k in ("batch", "hop") if now.get(k)}}
    if before.get("error") or now.get("error"):
        return before if before.get("error") else now
    out = {**before, "hopError": before.get("hopError") or now.get("hopError")}
    for k in ("batch", "hop"):
        if before.get(k) and now.get(k):
            out[k] = {
                "times": before[k]["times"] + now[k]["times"],
                "calls": [*before[k]["calls"], now[k]["calls"]],
            }
    return out


def in_page(browser, options: dict) -> dict:
    """bench.js's bench(options) in a fresh load of bench.html: {pairs: [result per pair], isolated}."""
    browser.open("bench/bench.html")
    return browser.run("async (o) => (await import('./bench.js')).bench(o)", options, timeout_s=600)


def replay(benchmark, times_ms: list[float]) -> None:
    """Hand the page's round times to pytest-benchmark: its clock becomes one that the timed step moves
    on by the next round's time (pytest-benchmark 5 reads its clock through ``_timer``)."""
    if not hasattr(benchmark, "_timer"):
        raise RuntimeError("this pytest-benchmark has no _timer: the page's times cannot be recorded")
    ends = itertools.accumulate(t / 1e3 for t in times_ms)
    now = [0.0]

    def page_clock() -> float:
        return now[0]

    def round_of_page() -> None:
        now[0] = next(ends)

    benchmark._timer = page_clock
    benchmark.pedantic(round_of_page, rounds=len(times_ms), iterations=1)


def _check_logits(result: dict, dist: Path, target: str, rel: str, precision: str) -> None:
    """The page's first batch-1 logits against the same file in its native runtime (the C runtime for
    the web export's .lgrn)."""
    native_target = "c" if target == "web" else target
    native = np.asarray(TARGETS[native_target].load(dist / rel, 1)(result["x"]), np.float32).reshape(-1)
    got = np.asarray(result["logits"], np.float32)
    scale = max(1.0, float(np.abs(native).max()))
    worst = float(np.abs(got - native).max()) / scale
    assert worst <= TOLERANCE[precision], f"{rel} in the browser: logits off by {worst:.3g} of the largest"


def _c_stream_refusal(lgrn: Path) -> str | None:
    """The native C stream's error on this model's spec, or None where it opens a stream."""
    from lgrin_edge.live.c_stream import CStream

    try:
        CStream(lgrn)
    except Exception as e:  # the C stream's own error, whatever its class: it is compared, not handled
        return str(e)
    return None


def _facts(browser, result: dict, dataset: str, pair: tuple, rel: str) -> dict:
    files = [{"file": f["url"].split("/", 3)[-1], "bytes": f["bytes"]} for f in result.get("files", [])]
    return {
        "kind": KIND,
        "dataset": dataset,
        "runtime": pair[1],
        "file": Path(rel).name,
        "precision": pair[3],
        "threads": 1,
        "files": files,
        "download_bytes": sum(f["bytes"] for f in files),
        "browser": browser.version,
        "cpu": cpu_model(read_cpuinfo()),
        **{k: result["plan"][k] for k in ("window", "hop", "nodes", "features", "frame_rate")},
        **result["load"],
    }


def _refused(benchmark, browser, result: dict, error: str) -> None:
    """A row with the runtime's error instead of a time; its one round is the attempt again (page load
    included), which must fail the same way."""
    benchmark.extra_info["error"] = error
    page = benchmark.pedantic(in_page, (browser, result["options"]), rounds=1)
    again = page["pairs"][0]
    assert (again.get("error") or again.get("hopError") or "none") in error, f"a second attempt gave {again}"


def _bench(benchmark, browser, exports, dataset: str, pair: tuple, stage: str) -> None:
    runtime, _, target, precision = pair
    export = exports[dataset]
    rel, why = _exported(export, target, precision)
    if rel is None:
        pytest.skip(why)
    result = page_bench(browser, export, dataset)[rel]
    benchmark.group = f"browser {dataset}: {stage}"
    benchmark.extra_info.update(_facts(browser, result, dataset, pair, rel), stage=stage)
    if result.get("error"):
        # A peer runtime that refuses the file is a result: the row says so with its error.
        assert runtime != "lgrin", f"lgrin.js failed at {result['stage']}: {result['error']}"
        return _refused(benchmark, browser, result, f"{result['stage']}: {result['error']}")
    _check_logits(result, export[0], target, rel, precision)
    if stage == HOP and result.get("hopError"):
        if runtime == "lgrin":
            native = _c_stream_refusal(export[0] / TARGETS["c"].files["int8"])
            assert native, f"lgrin.js refused a stream the C stream opens: {result['hopError']}"
        return _refused(benchmark, browser, result, f"stream: {result['hopError']}")
    timed = result["batch" if stage == ONE else "hop"]
    times = timed["times"]
    assert len(times) == TIMING["rounds"] * PASSES and all(math.isfinite(t) and t > 0 for t in times)
    benchmark.extra_info.update(
        calls_per_round=timed["calls"], page_facts=result["facts"], isolated=result["isolated"],
        p10_s=percentile(times, 10) / 1e3,
    )  # fmt: skip
    replay(benchmark, times)
    return None


@pytest.mark.parametrize("pair", PAIRS, ids=[f"{p[0]}-{p[3]}" for p in PAIRS])
def test_browser_batch1(benchmark, browser, exports, dataset: str, pair: tuple) -> None:
    """One (1, M, P) graph to its logits: input tensor, run, logits read back; one thread."""
    _bench(benchmark, browser, exports, dataset, pair, ONE)


@pytest.mark.parametrize("pair", PAIRS, ids=[f"{p[0]}-{p[3]}" for p in PAIRS])
def test_browser_hop(benchmark, browser, exports, dataset: str, pair: tuple) -> None:
    """H new frames to a decision on the spec's default stream; one thread."""
    _bench(benchmark, browser, exports, dataset, pair, HOP)
