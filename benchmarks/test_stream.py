"""A model on a live stream (docs/live.md): what one decision hop costs, front-end + graph + model.

- speech: a small L-GrIN trained on windows of 1.5 s cut every 0.5 s (train --window 1.5 --hop 0.5) of a
  small espeak-ng corpus (three speaking styles), or of synthetic voiced audio where espeak-ng is missing
  (extra_info ``corpus`` says which); each call pushes 0.5 s of 16 kHz int16 PCM (50 frames at the 10 ms
  frame hop: one decision);
- motion: the BasicMotions L-GrIN of benchmarks/conftest.py's cached trainings on its default stream
  (10 Hz frames, W = M = 100 frames, H = 10 frames): each call pushes H frames' worth of samples.

Each is run by the C stream (export/include/lgrin_stream.h through ctypes: lgrin_edge.live.c_stream) and
by the Python engine (lgrin_edge.live.Stream, numpy front-end) with each exported runtime as classifier,
one thread. extra_info (kind "stream"): hop seconds, input seconds per call, W/H/M, the stream's memory
(the C stream's lgrin_stream_state_size) and code bytes; lgrin_edge/measure/stream.py makes the report's
"Streaming" section of them.
"""

from __future__ import annotations

import functools
import itertools
import shutil
from pathlib import Path

import numpy as np
import pytest

from lgrin_edge.export.targets import TARGETS
from lgrin_edge.measure import codesize
from lgrin_edge.measure.stream import KIND
from lgrin_edge.measure.threads import one_thread
from lgrin_edge.native import find_compiler

RATE = 16000
WINDOW_S, HOP_S = 1.5, 0.5  # the speech model's training windows, hence its stream
STYLES = ("high-fast", "low-slow", "neutral")
PER_CLASS = 4
# (target, precision) of every exported runtime the Python engine is timed with
PEERS = [(t.name, p) for t in TARGETS.values() if t.name != "tensorrt" for p in t.precisions]
C_PARTS = ("runtime", "speech", "input", "stream")  # what a device links for the C stream


# ------------------------------------------------------------------------------ models


def _corpus(root: Path) -> str:
    """A labelled WAV corpus ROOT/<style>/*.wav: espeak-ng speech, else synthetic voiced audio; which."""
    rng = np.random.default_rng(7)
    if shutil.which("espeak-ng"):
        from lgrin_edge.analysis.extractors import STYLES as PROSODY
        from lgrin_edge.analysis.extractors import Utterance, render, sentence

        for style in STYLES:
            (root / style).mkdir(parents=True)
            pitch, speed, amplitude = PROSODY[style]
            for i in range(PER_CLASS):
                u = Utterance(f"{i}.wav", style, 0, "en+m1", sentence(rng, 8), pitch, speed, amplitude, RATE)
                render(u, root / style, rng)
        return "espeak-ng"
    from lgrin_edge.frontend import wav

    for k, style in enumerate(STYLES):
        (root / style).mkdir(parents=True)
        for i in range(PER_CLASS):
            x = voiced(3.0, 110 + 60 * k, seed=10 * k + i)
            wav.write(root / style / f"{i}.wav", np.round(x * 32767).astype(np.int16), RATE)
    return "synthetic (espeak-ng not installed)"


def voiced(seconds: float, f0: float, seed: int = 0) -> np.ndarray:
    """float32 voiced audio at RATE: 29 harmonics of a gliding F0 in syllables of 250 ms, breath noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(RATE * seconds)) / RATE
    phase = 2 * np.pi * np.cumsum(f0 + 0.3 * f0 * np.sin(2 * np.pi * 0.3 * t)) / RATE
    x = sum(np.sin(k * phase) / k for k in range(1, 30)) * np.sin(np.pi * (4 * t % 1)) ** 2
    x = x + 0.05 * rng.standard_normal(len(t))
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


@pytest.fixture(scope="session")
def speech(runs) -> tuple[Path, str, np.ndarray]:
    """(run folder, corpus kind, the corpus's audio end to end as int16 at RATE), trained once and cached
    beside benchmarks/conftest.py's runs."""
    from lgrin_edge.features.__main__ import main as features_main
    from lgrin_edge.frontend import wav
    from lgrin_edge.train import main as train_main

    # beside the cached runs of this version and training mode (a BasicMotions run names the folder)
    base = runs.run("basicmotions", "lgrin").parent
    folder = base / f"speech-lgrin-window{WINDOW_S}-hop{HOP_S}"
    run, root = folder / "run", folder / "corpus"
    if not (run / "metrics.json").exists():
        shutil.rmtree(folder, ignore_errors=True)  # an interrupted earlier try of this cache entry
        folder.mkdir(parents=True)
        (folder / "corpus.txt").write_text(_corpus(root))
        npz = folder / "features.npz"
        assert features_main(["wav-dir", str(root), "--out", str(npz), "--no-cache", "--no-progress"]) == 0
        argv = ["--dataset", str(npz), "--window", str(WINDOW_S), "--hop", str(HOP_S), "--folds", "2"]
        with one_thread():
            code = train_main([*argv, "--epochs", "40", "--out", str(run), "--device", "cpu"])
        assert code == 0, "training the speech model failed"
    runs.export(run, sorted({t for t, _ in PEERS}))  # every file at once, not one export per target
    pcm = np.concatenate([wav.read(p)[0] for p in sorted(root.glob("*/*.wav"))])  # all 16-bit files
    assert pcm.dtype == np.int16
    return run, (folder / "corpus.txt").read_text(), pcm


@pytest.fixture(scope="session")
def motion(runs) -> Path:
    return runs.run("basicmotions", "lgrin")


def artifact(runs, run: Path, target: str, precision: str) -> Path:
    """The verified exported file of ``target``/``precision``; skips, with the reason, where none is."""
    t = TARGETS[target]
    ok, why = t.status()
    if not ok:
        pytest.skip(f"{target}: {why}")
    manifest = runs.export(run, [target])
    entry = next((a for a in manifest["artifacts"] if a.get("path") == t.files[precision]), None)
    if entry is None:
        reasons = [str(s.get("reason")) for s in manifest["skipped"] if s["target"] == target]
        failed = [str(f.get("error")) for f in manifest.get("failed", []) if f.get("target") == target]
        pytest.skip(f"{target} {precision}: {'; '.join(reasons + failed) or 'not exported'}")
    return run / "dist" / entry["path"]


# ------------------------------------------------------------------------------ timing


def cycle(chunks: list):
    """The next chunk on each call, from the start again after the last one."""
    order = itertools.cycle(chunks)
    return lambda: next(order)


def record(benchmark, stage: str, runtime: str, precision: str, plan: dict, **extra) -> None:
    """extra_info of one stream benchmark: ``plan`` holds frame_rate, W, H, M (frames)."""
    hop_s = plan["hop"] / plan["frame_rate"]
    benchmark.extra_info.update(
        kind=KIND,
        stage=stage,
        runtime=runtime,
        precision=precision,
        hop_s=hop_s,
        input_s_per_call=hop_s,
        window_s=plan["window"] / plan["frame_rate"],
        **plan,
        **extra,
    )
    benchmark.group = f"stream: {stage}"


def timed(benchmark, push, plan: dict) -> None:
    """Time ``push`` (one hop of input per call), which must make exactly one decision each call."""
    for _ in range(-(-plan["window"] // plan["hop"]) + 1):  # a full window, the front-end's delay
        push()
    with one_thread():
        out = benchmark(push)
    assert len(out) == 1, f"one hop of input made {len(out)} decisions"


def c_stream(path: Path):
    if find_compiler() is None:
        pytest.skip("no C compiler on PATH (cc, gcc or clang)")
    from lgrin_edge.live.c_stream import CStream

    return CStream(path)


def c_facts(stream) -> tuple[dict, dict]:
    """The C stream's plan and its memory and code bytes."""
    plan = {"frame_rate": float(stream.config.frame_rate), "window": stream.window, "hop": stream.hop}
    plan["num_nodes"] = int(stream.config.num_nodes)
    code = {f"stream_{k}": v for k, v in codesize.sizes("stream").items()}
    return plan, {"state_bytes": stream.state_bytes, **code, **codesize.sizes(*C_PARTS)}


def python_stream(runs, run: Path, target: str, precision: str):
    """The Python engine over the exported runtime's runner, and its plan."""
    from lgrin_edge.inspect import read_spec
    from lgrin_edge.live import Stream

    path = artifact(runs, run, target, precision)
    spec, _ = read_spec(path)
    stream = Stream(spec, TARGETS[target].load(path, 1), RATE if spec.input_kind == "audio" else None)
    p = stream.plan
    plan = {"frame_rate": p.frame_rate_hz, "window": p.window, "hop": p.hop, "num_nodes": p.num_nodes}
    return stream, plan, {"runtime_file": path.name, "model_bytes": path.stat().st_size}


# ------------------------------------------------------------------------------ speech


def speech_pushes(stream, pcm: np.ndarray, hop: int):
    """Push the next 0.5 s (``hop`` frames at 10 ms) of the corpus per call."""
    n = hop * RATE // 100
    return cycle([pcm[i : i + n] for i in range(0, len(pcm) - n + 1, n)])


def test_speech_c_stream(benchmark, runs, speech) -> None:
    """The C stream on the int8 .lgrn: 0.5 s of int16 PCM per call through lgrin_stream_push_i16."""
    run, corpus, pcm = speech
    path = artifact(runs, run, "c", "int8")
    stream = c_stream(path)
    plan, extra = c_facts(stream)
    assert (plan["window"], plan["hop"]) == (round(WINDOW_S * 100), round(HOP_S * 100))
    nxt = speech_pushes(stream, pcm, plan["hop"])
    record(benchmark, "speech, 16 kHz", "C stream (lgrin_stream, ctypes)", "int8", plan, corpus=corpus,
           model_bytes=path.stat().st_size, **extra)  # fmt: skip
    timed(benchmark, lambda: stream.push_pcm(nxt()), plan)


@pytest.mark.parametrize(("target", "precision"), PEERS)
def test_speech_python_stream(benchmark, runs, speech, target: str, precision: str) -> None:
    """The Python engine (numpy front-end) with ``target``'s runner: 0.5 s of int16 PCM per call."""
    run, corpus, pcm = speech
    stream, plan, extra = python_stream(runs, run, target, precision)
    nxt = speech_pushes(stream, pcm, plan["hop"])
    record(benchmark, "speech, 16 kHz", f"Python engine + {target}", precision, plan, corpus=corpus, **extra)
    timed(benchmark, lambda: stream.push_pcm(nxt()), plan)


# ------------------------------------------------------------------------------ motion


@functools.cache
def motion_samples(channels: int, rate: float, seconds: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """(time, values): slow sinusoids and noise, one sample per frame period."""
    rng = np.random.default_rng(1)
    t = np.arange(int(seconds * rate)) / rate
    f, ph = rng.uniform(0.1, 2.0, channels), rng.uniform(0, 2 * np.pi, channels)
    x = np.sin(2 * np.pi * f * t[:, None] + ph) + 0.05 * rng.standard_normal((len(t), channels))
    return t, x.astype(np.float32)


def motion_pushes(push, channels: int, plan: dict):
    """Push the next ``hop`` frames' worth of samples per call (time runs on: no gaps)."""
    t, x = motion_samples(channels, plan["frame_rate"])
    step, span = itertools.count(), len(t) / plan["frame_rate"]
    h = plan["hop"]

    def call():
        k = next(step)
        lo = (k * h) % len(t)
        return push(t[lo : lo + h] + span * ((k * h) // len(t)), x[lo : lo + h])

    return call


def test_motion_c_stream(benchmark, runs, motion) -> None:
    """The C stream on BasicMotions' int8 .lgrn: one hop of samples per call (lgrin_stream_push_motion)."""
    path = artifact(runs, motion, "c", "int8")
    stream = c_stream(path)
    plan, extra = c_facts(stream)
    record(benchmark, "motion, BasicMotions", "C stream (lgrin_stream, ctypes)", "int8", plan,
           model_bytes=path.stat().st_size, **extra)  # fmt: skip
    timed(benchmark, motion_pushes(stream.push_motion, int(stream.config.num_features), plan), plan)


@pytest.mark.parametrize(("target", "precision"), PEERS)
def test_motion_python_stream(benchmark, runs, motion, target: str, precision: str) -> None:
    """The Python engine (numpy motion rule) with ``target``'s runner: one hop of samples per call."""
    stream, plan, extra = python_stream(runs, motion, target, precision)
    record(benchmark, "motion, BasicMotions", f"Python engine + {target}", precision, plan, **extra)
    timed(benchmark, motion_pushes(stream.push_motion, stream.spec.num_features, plan), plan)
