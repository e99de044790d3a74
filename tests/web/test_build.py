"""The WebAssembly builds of the C runtime: the toolchain check, both builds (no imports, the glue's exports,
the cache), the bundle, and lgrin.js in node against the native C runtime and stream, bit for bit."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from lgrin_edge.export import c_runtime as cr
from lgrin_edge.frontend.spec import SpeechSpec
from lgrin_edge.live.c_stream import CStream, CStreamError
from lgrin_edge.web import build as wb

_OK, _REASON = wb.wasm_status()
pytestmark = pytest.mark.skipif(not _OK, reason=_REASON)

GLUE = wb.WEB_DIR / "lgrin_web.c"
LGRIN_JS = wb.WEB_DIR / "lgrin.js"

# Runs lgrin.js in node on the job the test writes: every build, every kernel family it holds, the streams.
NODE_SCRIPT = r"""
import { readFileSync, writeFileSync } from 'node:fs';
const [moduleUrl, jobPath] = process.argv.slice(2);
const { loadRuntime, LGrinError } = await import(moduleUrl);
const job = JSON.parse(readFileSync(jobPath, 'utf8'));
const floats = (path, Type) => new Type(new Uint8Array(readFileSync(path)).buffer);
const result = {};
for (const [build, wasmPath] of Object.entries(job.wasm)) {
  const runtime = await loadRuntime({ wasm: readFileSync(wasmPath) });
  const model = runtime.loadModel(readFileSync(job.model));
  const x = floats(job.x, Float32Array);
  const batch = x.length / (model.numNodes * model.numFeatures);
  const res = { build: runtime.build, family: runtime.family, kernels: model.kernels,
                families: model.kernelFamilies(), streams: [] };
  for (const family of res.families) {
    model.useKernels(family);
    writeFileSync(`${job.out}/${build}_${family}.f32`, model.run(x, batch));
    writeFileSync(`${job.out}/${build}_${family}_one.f32`, model.run(x.subarray(0, x.length / batch), 1));
  }
  for (const s of job.streams) {
    const m = runtime.loadModel(readFileSync(s.model));
    let stream;
    try {
      stream = m.openStream(s.options);
    } catch (err) {
      if (!(err instanceof LGrinError)) throw err;
      res.streams.push({ error: { message: err.message, code: err.code, field: err.field } });
      continue;
    }
    const decisions = [];
    for (let i = 0; i < s.chunks.length; i++) {
      const chunk = floats(s.chunks[i], s.push === 'i16' ? Int16Array : Float32Array);
      if (s.push === 'motion') decisions.push(...stream.pushMotion(floats(s.times[i], Float64Array), chunk));
      else if (s.push === 'frames') decisions.push(...stream.pushFrames(chunk));
      else decisions.push(...stream.pushAudio(chunk));
    }
    decisions.push(...stream.flush());
    res.streams.push({ kind: stream.kind, window: stream.window, hop: stream.hop, decisions });
    m.free();
  }
  model.free();
  result[build] = res;
}
writeFileSync(`${job.out}/result.json`, JSON.stringify(result));
"""


def _glue_exports() -> set[str]:
    return set(re.findall(r"LGW_EXPORT\((lgw_\w+)\)", GLUE.read_text()))


@pytest.fixture(scope="module")
def wasm_files() -> dict[str, Path]:
    return {build: wb.build_wasm(build) for build in wb.BUILDS}


def test_a_missing_toolchain_is_one_line_naming_the_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LGRIN_WASM_CC", "/nonexistent/clang")
    ok, reason = wb.wasm_status()
    assert not ok and "\n" not in reason and wb.PACKAGES in reason
    with pytest.raises(RuntimeError, match=re.escape(reason)):
        wb.build_wasm("portable")
    with pytest.raises(ValueError, match="simd128, portable"):
        wb.build_wasm("sse")


def test_both_builds_import_nothing_and_export_the_glue(wasm_files: dict[str, Path]) -> None:
    expected = _glue_exports() | {"memory"}
    assert len(expected) > 20
    for build, path in wasm_files.items():
        imports, exports = wb.wasm_sections(path.read_bytes())
        assert imports == [], build
        assert set(exports) == expected, build
    used = set(re.findall(r"\bex\.(\w+)|exports\.(lgw_\w+)", LGRIN_JS.read_text()))
    assert {name for pair in used for name in pair if name} <= expected  # lgrin.js calls only exports


def test_the_section_parser_reads_imports() -> None:
    # (module (import "env" "f" (func)) (import "env" "m" (memory 1 2)) (export "g" (func 0)))
    module = bytes.fromhex("0061736d0100000001040160000002130203656e760166000003656e76016d02010102")
    module += bytes.fromhex("07050101670000")
    assert wb.wasm_sections(module) == (["env.f", "env.m"], ["g"])
    with pytest.raises(ValueError, match="not a WebAssembly"):
        wb.wasm_sections(b"\x7fELF")


def test_a_second_build_is_the_cached_file(wasm_files: dict[str, Path]) -> None:
    for build, path in wasm_files.items():
        before = path.stat()
        again = wb.build_wasm(build)
        assert again == path and (again.stat().st_ino, again.stat().st_mtime_ns) == (
            before.st_ino,
            before.st_mtime_ns,
        )
    before = wasm_files["portable"].stat().st_ino
    forced = wb.build_wasm("portable", force=True)  # what the check above would see after a build
    assert forced == wasm_files["portable"] and forced.stat().st_ino != before


def test_write_bundle_writes_its_files_and_nothing_else(tmp_path: Path, wasm_files: dict[str, Path]) -> None:
    (tmp_path / "model_int8.lgrn").write_bytes(b"mine")
    info = wb.write_bundle(tmp_path)
    assert set(wb.BUNDLE_FILES) <= set(info["files"])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*info["files"], "model_int8.lgrn"])
    assert (tmp_path / "model_int8.lgrn").read_bytes() == b"mine"
    for build in wb.BUILDS:
        data = (tmp_path / f"lgrin_{build}.wasm").read_bytes()
        assert info["wasm_bytes"][build] == len(data) and data == wb.build_wasm(build).read_bytes()
    assert (tmp_path / "lgrin.js").read_bytes() == LGRIN_JS.read_bytes()
    assert re.fullmatch(r"clang \d+\.\d+\.\d+ \+ wasi-libc \S+", info["toolchain"])
    with pytest.raises(RuntimeError, match="not a folder"):
        wb.write_bundle(tmp_path / "absent")


# (the spec's input kind, stream options, what is pushed): JapaneseVowels' own spec (no front-end for its
# extractor: a refusal naming the field), frames by the defaults, W < M (cyclic pad) and W > M (resample),
# motion samples, and PCM through the speech front-end: the utterance stream, and a sliding one at 44.1 kHz
STREAMS = [
    ("audio", {}, "frames"),
    ("frames", {}, "frames"),
    ("frames", {"windowS": 0.1, "hopS": 0.02, "smoothing": 2}, "frames"),
    ("frames", {"windowS": 0.3, "hopS": 0.05}, "frames"),
    ("motion", {}, "motion"),
    ("speech", {"inputRate": 16000}, "f32"),
    ("speech", {"inputRate": 44100, "windowS": 0.5, "hopS": 0.1}, "i16"),
]
SPEECH = ("rms", "zcr", "voicing", "f0", "mfcc1", "mfcc2")  # with their deltas, JapaneseVowels' P = 12


def _respec(path: Path, kind: str, out: Path) -> Path:
    """The model file with another spec input: frames, motion (one channel per feature) or speech (the
    lgrin-speech front-end's SPEECH descriptors); "audio" keeps the file's own spec."""
    data = path.read_bytes()
    spec = json.loads(cr.CModel(path).feature_spec or "")
    if kind in ("frames", "motion"):
        channels = [{"name": f"c{i}", "unit": "unknown"} for i in range(len(spec["features"]))]
        spec["input"] = {**spec["input"], "kind": kind, "channels": channels}
    elif kind == "speech":
        front = SpeechSpec(descriptors=SPEECH)
        spec["extractor"] = {"id": front.extractor, "version": str(front.version), "params": front.to_dict()}
        rates = {"sample_rate_hz": front.sample_rate, "frame_rate_hz": front.sample_rate / front.hop}
        spec["input"] = {**spec["input"], **rates}
    if kind != "audio":
        data = cr.with_feature_spec(cr.without_feature_spec(data), json.dumps(spec))
    out.write_bytes(data)
    return out


def _pcm(rate: int, seconds: float = 4.0) -> np.ndarray:
    """A tone switched on and off (utterances) over faint noise, full scale +-1."""
    t = np.arange(int(rate * seconds)) / rate
    noise = 0.0005 * np.random.default_rng(rate).standard_normal(len(t))
    return (0.3 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 0.6 * t) > 0.2) + noise).astype(
        np.float32
    )


def _inputs(push: str, frames: np.ndarray, rate: int) -> list[tuple[np.ndarray, ...]]:
    """The chunks pushed: (frames,), (values, times) or (pcm,)."""
    if push in ("f32", "i16"):
        pcm = _pcm(rate)
        if push == "i16":
            pcm = np.round(pcm * 32767).astype(np.int16)
        return [(pcm[i : i + 4000],) for i in range(0, len(pcm), 4000)]
    times = np.cumsum(np.random.default_rng(0).uniform(0.001, 0.012, len(frames)))  # irregular samples
    return [
        (frames[i : i + 50], times[i : i + 50])[: 2 if push == "motion" else 1]
        for i in range(0, len(frames), 50)
    ]


def _stream_jobs(model: Path, frames: np.ndarray, folder: Path) -> list[dict]:
    """Each stream of STREAMS: its model file, options and input chunks (files node reads)."""
    jobs = []
    for i, (kind, options, push) in enumerate(STREAMS):
        job = {"model": str(_respec(model, kind, folder / f"{kind}.lgrn")), "options": options, "push": push}
        job["chunks"], job["times"] = [], []
        for k, chunk in enumerate(_inputs(push, frames, options.get("inputRate", 0))):
            for name, array in zip(("chunks", "times"), chunk, strict=False):
                job[name].append(str(folder / f"s{i}_{k}.{name}"))
                array.tofile(job[name][-1])
        jobs.append(job)
    return jobs


def _native_stream(job: dict) -> dict:
    """The stream of one job run by the native C stream (lgrin_edge.live.c_stream)."""
    o = job["options"]
    try:
        stream = CStream(
            job["model"], o.get("inputRate"), o.get("windowS"), o.get("hopS"), o.get("smoothing")
        )
    except CStreamError as err:
        return {"error": {"message": err.meaning, "code": err.code, "field": err.field or None}}
    decisions = []
    dtype = {"i16": np.int16, "motion": np.float32, "frames": np.float32, "f32": np.float32}[job["push"]]
    for i, chunk in enumerate(job["chunks"]):
        x = np.fromfile(chunk, dtype)
        if job["push"] == "frames":
            decisions += stream.push_frames(x.reshape(-1, stream.config.num_features))
        elif job["push"] == "motion":
            t = np.fromfile(job["times"][i], np.float64)
            decisions += stream.push_motion(t, x.reshape(-1, stream.config.num_features))
        else:
            decisions += stream.push_pcm(x)
    decisions += stream.flush()
    names = {"time_s": "time", "smoothed_probability": "smoothedProbability"}
    return {
        "kind": stream.kind,
        "window": stream.window,
        "hop": stream.hop,
        "decisions": [{names.get(k, k): v for k, v in d.items()} for d in decisions],
    }


@pytest.fixture(scope="module")
def node_run(jv_dist: Path, wasm_files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """lgrin.js in node on the held-out graphs and the streams: (result, its folder, graphs, stream jobs)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node: apt install nodejs")
    folder = tmp_path_factory.mktemp("node")
    checkpoint = Path(json.loads((jv_dist / "manifest.json").read_text())["checkpoint"])
    with np.load(checkpoint / "eval.npz", allow_pickle=False) as f:
        graphs = f["x"].astype(np.float32)
    graphs.tofile(folder / "x.f32")
    model = jv_dist / "model_int8.lgrn"
    frames = np.ascontiguousarray(graphs[:10].reshape(-1, graphs.shape[2]))  # 290 frames
    job = {
        "wasm": {build: str(path) for build, path in wasm_files.items()},
        "model": str(model),
        "x": str(folder / "x.f32"),
        "out": str(folder),
        "streams": _stream_jobs(model, frames, folder),
    }
    (folder / "job.json").write_text(json.dumps(job))
    (folder / "run.mjs").write_text(NODE_SCRIPT)
    cmd = [node, str(folder / "run.mjs"), LGRIN_JS.as_uri(), str(folder / "job.json")]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr
    return json.loads((folder / "result.json").read_text()), folder, graphs, job["streams"]


def test_logits_equal_the_native_runtime_bit_for_bit(jv_dist: Path, node_run: tuple) -> None:
    """Both builds, every kernel family each holds, batch and single: the native runtime's float32 bits."""
    result, folder, graphs, _ = node_run
    native = cr.CModel(jv_dist / "model_int8.lgrn")(graphs)
    assert set(result) == set(wb.BUILDS)
    for build, res in result.items():
        assert res["build"] == build and res["family"] == res["families"][0] and "portable" in res["families"]
        for family in res["families"]:
            logits = np.fromfile(folder / f"{build}_{family}.f32", np.float32).reshape(native.shape)
            one = np.fromfile(folder / f"{build}_{family}_one.f32", np.float32)
            assert np.array_equal(logits.view(np.uint32), native.view(np.uint32)), (build, family)
            assert np.array_equal(one.view(np.uint32), native[0].view(np.uint32)), (build, family)


def test_streams_equal_the_native_stream(node_run: tuple) -> None:
    """Frames and motion streams give the native C stream's decisions exactly; a refused spec the same
    status, text and field."""
    result, _, _, jobs = node_run
    native = [_native_stream(job) for job in jobs]
    assert native[0]["error"]["field"] == "extractor.params.extractor"
    counts = [len(n.get("decisions", [])) for n in native]
    assert counts[0] == 0 and min(counts[1:5]) > 5 and counts[5] > 1 and counts[6] > 5, counts
    assert native[2]["window"] < 29 < native[3]["window"]  # cyclic pad and resample
    for build, res in result.items():
        assert res["streams"] == native, build
