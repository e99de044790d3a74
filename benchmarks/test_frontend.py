"""The on-device front-end (docs/frontend.md): what computing a model's input costs per 10 ms hop.

- speech (lgrin-speech): the C front-end through its ctypes bridge (lgrin_edge.frontend.native) and the
  numpy one, fed one 10 ms hop per call (a stream) and a whole 10 s signal per call, at 16 kHz and from
  48 kHz; the C front-end with the ``logmel`` descriptors, and TensorFlow Lite Micro's audio front-end
  (its Signal library operators: lgrin_edge/measure/tflm_frontend.py) on the same 16 kHz audio;
- motion: accelerometer + gyroscope at 100 Hz to 10 Hz frames, C (lgrin_input.c) and numpy, one sample
  (10 ms) per call and 10 s per call;
- end to end, per 0.5 s decision: the C front-end on 0.5 s of audio, its frames into a 2 s ring,
  lgrin_graph_gather to M nodes and the C runtime on a small int8 L-GrIN (.lgrn).

Each benchmark's extra_info (kind "frontend") holds the stage, what ran it, the hops of input per call
(``hops`` of ``hop_s`` seconds), the state bytes and the code bytes on x86-64 and Cortex-M4
(lgrin_edge/measure/codesize.py); the report's "On-device front-end" section reads them.
"""

from __future__ import annotations

import functools
import itertools
from pathlib import Path

import numpy as np
import pytest

from lgrin_edge.data.graph import sequence_to_graphs
from lgrin_edge.frontend import SpeechSpec, Stream, frames
from lgrin_edge.frontend import motion as numpy_motion
from lgrin_edge.measure import codesize
from lgrin_edge.measure.frontend import KIND, STAGES
from lgrin_edge.measure.macs import lgrin_macs
from lgrin_edge.measure.threads import one_thread
from lgrin_edge.native import find_compiler

needs_cc = pytest.mark.skipif(find_compiler() is None, reason="no C compiler on PATH (cc, gcc or clang)")
SECONDS = 10
HOP_S = 0.01
SPEECH_STAGE = {16000: STAGES[0], 48000: STAGES[1]}
MOTION_STAGE, E2E_STAGE = STAGES[2], STAGES[3]
MOTION_RATE = 100
# End to end: a decision every 0.5 s on the last 2 s of frames, M nodes, a small L-GrIN
DECISION_S, WINDOW_FRAMES = 0.5, 200
E2E_MODEL = {"num_nodes": 100, "num_classes": 4, "eta": (32, 16), "num_layers": 2}


@functools.cache
def speech_like(rate: int, seconds: float = SECONDS) -> np.ndarray:
    """float32 audio that exercises every path of the front-end at any input rate: a voiced source (29
    harmonics, F0 gliding over 70-250 Hz) in syllables of 250 ms with a pause after every third, with
    breath noise and a low noise floor."""
    rng = np.random.default_rng(0)
    t = np.arange(int(rate * seconds)) / rate
    f0 = 160 + 60 * np.sin(2 * np.pi * 0.3 * t) + 30 * np.sin(2 * np.pi * 2.1 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 30))
    syllable = np.sin(np.pi * (4 * t % 1)) ** 2 * ((4 * t).astype(int) % 4 != 3)
    x = syllable * (0.25 * voiced + 0.05 * rng.standard_normal(len(t))) + 1e-3 * rng.standard_normal(len(t))
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def pcm16(x: np.ndarray) -> np.ndarray:
    return np.round(x * 32767).astype(np.int16)


def record(benchmark, stage: str, runtime: str, hops: int, hop_s: float = HOP_S, **extra) -> None:
    benchmark.extra_info.update(kind=KIND, stage=stage, runtime=runtime, hops=hops, hop_s=hop_s, **extra)
    benchmark.group = f"front-end: {stage}"


def cycle(chunks: np.ndarray):
    """The next chunk on each call, from the start again after the last one."""
    order = itertools.cycle(range(len(chunks)))
    return lambda: chunks[next(order)]


def primed(stream, chunks: np.ndarray, hops: int = 100) -> None:
    """Fill the stream's pipeline (pitch window, deltas, resampler) before timing."""
    for chunk in chunks[:hops]:
        stream.push(chunk)


# ------------------------------------------------------------------------------ speech


@pytest.mark.parametrize("rate", [16000, 48000])
@pytest.mark.parametrize("runtime", ["c", "numpy"])
def test_speech_hop(benchmark, runtime: str, rate: int) -> None:
    """One 10 ms hop per call into a running stream."""
    chunks = speech_like(rate).reshape(-1, rate // 100)
    if runtime == "c":
        if find_compiler() is None:
            pytest.skip("no C compiler on PATH (cc, gcc or clang)")
        from lgrin_edge.frontend.native import CStream

        stream = CStream(rate)
        extra = {"state_bytes": stream.state_size, **codesize.sizes("speech")}
        name = "C99 via ctypes, one hop per call"
    else:
        stream, extra, name = Stream(rate), {}, "numpy, one hop per call"
    primed(stream, chunks)
    record(benchmark, SPEECH_STAGE[rate], name, 1, rate=rate, descriptors="lld16", **extra)
    nxt = cycle(chunks)
    with one_thread():
        benchmark(lambda: stream.push(nxt()))


@pytest.mark.parametrize("rate", [16000, 48000])
@pytest.mark.parametrize("runtime", ["c", "numpy"])
def test_speech_signal(benchmark, runtime: str, rate: int) -> None:
    """A whole 10 s signal per call (a new stream, pushed at once, flushed)."""
    x = speech_like(rate)
    if runtime == "c":
        if find_compiler() is None:
            pytest.skip("no C compiler on PATH (cc, gcc or clang)")
        from lgrin_edge.frontend.native import CStream, c_frames

        extra = {"state_bytes": CStream(rate).state_size, **codesize.sizes("speech")}
        run, name = functools.partial(c_frames, x, rate), f"C99 via ctypes, {SECONDS} s per call"
    else:
        extra, run, name = {}, functools.partial(frames, x, rate), f"numpy, {SECONDS} s per call"
    record(benchmark, SPEECH_STAGE[rate], name, int(SECONDS / HOP_S), rate=rate, descriptors="lld16", **extra)
    with one_thread():
        out = benchmark.pedantic(run, rounds=15, warmup_rounds=1)
    assert out.shape == (SECONDS * 100 - 2, 32)  # every whole 25 ms frame of 10 s


@needs_cc
def test_speech_hop_logmel(benchmark) -> None:
    """The C front-end with the 26 log mel energies only (no pitch path): the work TFLite Micro's
    log-mel front-end does."""
    from lgrin_edge.frontend.native import CStream

    rate = 16000
    stream = CStream(rate, SpeechSpec.preset("logmel"))
    chunks = speech_like(rate).reshape(-1, rate // 100)
    primed(stream, chunks)
    name = "C99 via ctypes, logmel descriptors, one hop per call"
    extra = {"state_bytes": stream.state_size, **codesize.sizes("speech")}
    record(benchmark, SPEECH_STAGE[rate], name, 1, rate=rate, descriptors="logmel", **extra)
    nxt = cycle(chunks)
    with one_thread():
        benchmark(lambda: stream.push(nxt()))


def test_speech_hop_tflite_micro(benchmark, tmp_path: Path) -> None:
    """TensorFlow Lite Micro's audio front-end (Signal library operators, micro_speech's pipeline) on the
    same 16 kHz audio, one 25 ms window (one 10 ms hop) per call."""
    from lgrin_edge.measure import tflm_frontend as tflm

    ok, why = tflm.status()
    if not ok:
        pytest.skip(f"TensorFlow Lite Micro's front-end cannot run here: {why}")
    from lgrin_edge.export.tflite_micro import smallest_arena

    model = tflm.signal_model()
    path = tmp_path / "signal_frontend.tflite"
    path.write_bytes(model)
    arena = smallest_arena(path)
    fe = tflm.SignalFrontend(model, arena)
    x = pcm16(speech_like(tflm.RATE))
    windows = np.lib.stride_tricks.sliding_window_view(x, tflm.WINDOW)[:: tflm.HOP].copy()
    out = fe.frames(x)
    assert out.shape == (len(windows), tflm.CHANNELS) and out.std() > 0  # it computed features
    name = f"TensorFlow Lite Micro Signal ops ({tflm.CHANNELS} log-mel), one hop per call"
    record(
        benchmark, SPEECH_STAGE[tflm.RATE], name, 1, rate=tflm.RATE, runtime_version=why, state_bytes=arena
    )
    nxt = cycle(windows)
    with one_thread():
        benchmark(lambda: fe.window(nxt()))


# ------------------------------------------------------------------------------ motion


def motion_samples(seconds: float = SECONDS) -> tuple[np.ndarray, np.ndarray]:
    """(time, values): 6 channels of slow sinusoids and noise at MOTION_RATE Hz."""
    rng = np.random.default_rng(1)
    t = np.arange(int(seconds * MOTION_RATE)) / MOTION_RATE
    f, ph = rng.uniform(0.3, 3.0, 6), rng.uniform(0, 2 * np.pi, 6)
    x = np.sin(2 * np.pi * f * t[:, None] + ph) + 0.05 * rng.standard_normal((len(t), 6))
    return t, x.astype(np.float32)


def motion_stream(runtime: str):
    """A motion stream of the default spec (10 Hz frames of 6 channels)."""
    if runtime == "numpy":
        return numpy_motion.Stream()
    if find_compiler() is None:
        pytest.skip("no C compiler on PATH (cc, gcc or clang)")
    from lgrin_edge.frontend.native_input import CMotionStream

    return CMotionStream()


def motion_facts(runtime: str, stream) -> tuple[str, dict]:
    """What runs ``stream``, and its state and code bytes (the C stream's)."""
    if runtime == "numpy":
        return "numpy", {}
    return "C99 via ctypes", {"state_bytes": stream.state_size, **codesize.sizes("input")}


@pytest.mark.parametrize("runtime", ["c", "numpy"])
def test_motion_hop(benchmark, runtime: str) -> None:
    """One 100 Hz sample (10 ms) per call into a running stream."""
    stream = motion_stream(runtime)
    name, extra = motion_facts(runtime, stream)
    _, x = motion_samples()
    step = itertools.count()

    def push() -> np.ndarray:
        k = next(step)
        return stream.push(np.array([k / MOTION_RATE]), x[k % len(x)][None])

    for _ in range(MOTION_RATE):
        push()
    record(benchmark, MOTION_STAGE, f"{name}, one sample per call", 1, **extra)
    with one_thread():
        benchmark(push)


@pytest.mark.parametrize("runtime", ["c", "numpy"])
def test_motion_signal(benchmark, runtime: str) -> None:
    """10 s of samples per call (a new stream, pushed at once)."""
    name, extra = motion_facts(runtime, motion_stream(runtime))
    t, x = motion_samples()
    record(benchmark, MOTION_STAGE, f"{name}, {SECONDS} s per call", int(SECONDS / HOP_S), **extra)
    with one_thread():
        out = benchmark(lambda: motion_stream(runtime).push(t, x))
    assert out.shape == (SECONDS * 10 - 1, 6)  # the last frame waits for a sample at or after its end


# ------------------------------------------------------------------------------ end to end


@pytest.fixture(scope="module")
def e2e_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A small L-GrIN (E2E_MODEL) as an int8 .lgrn: weights drawn with the paper's initialisation (the
    time of a run does not depend on their values), normalised by the front-end's own feature means and
    spreads, its activations calibrated on graphs of the benchmark audio."""
    if find_compiler() is None:
        pytest.skip("no C compiler on PATH (cc, gcc or clang)")
    import dataclasses

    from lgrin_edge.deploy.folded import FoldedLGrIN
    from lgrin_edge.export.c_runtime import write_c_model
    from lgrin_edge.frontend.native import c_frames

    fr = c_frames(speech_like(16000), 16000)
    cfg = {**E2E_MODEL, "in_features": fr.shape[1]}
    model, _, _ = FoldedLGrIN.random(
        cfg["num_nodes"], cfg["in_features"], cfg["num_classes"], cfg["eta"], cfg["num_layers"]
    )
    mean, std = fr.mean(axis=0), np.maximum(fr.std(axis=0), 1e-6)
    model = dataclasses.replace(model, in_scale=1 / std, in_shift=-mean / std)
    starts = range(0, len(fr) - WINDOW_FRAMES + 1, int(DECISION_S * 100))
    calibration = np.concatenate(
        [sequence_to_graphs(fr[s : s + WINDOW_FRAMES], cfg["num_nodes"]) for s in starts]
    )
    path = tmp_path_factory.mktemp("e2e") / "model_int8.lgrn"
    write_c_model(model, calibration, path)
    return path, cfg


def test_end_to_end_decision(benchmark, e2e_model: tuple[Path, dict]) -> None:
    """Per 0.5 s: the C front-end on 0.5 s of 16 kHz audio, the new frames into the ring of the last 2 s,
    lgrin_graph_gather to M nodes (resample), the C runtime's logits."""
    from lgrin_edge.export.c_runtime import CModel
    from lgrin_edge.frontend.native import CStream
    from lgrin_edge.frontend.native_input import gather

    path, cfg = e2e_model
    model = CModel(path)
    rate, m = 16000, cfg["num_nodes"]
    stream = CStream(rate)
    ring = np.zeros((WINDOW_FRAMES, stream.width), np.float32)
    graph = np.zeros((1, m, stream.width), np.float32)
    at = {"write": 0, "held": 0}

    def decide() -> np.ndarray:
        new = stream.push(nxt())
        slots = (at["write"] + np.arange(len(new))) % WINDOW_FRAMES
        ring[slots] = new
        at["write"] = (at["write"] + len(new)) % WINDOW_FRAMES
        at["held"] = min(at["held"] + len(new), WINDOW_FRAMES)
        gather(ring, (at["write"] - at["held"]) % WINDOW_FRAMES, at["held"], m, graph[0])
        return model(graph)

    nxt = cycle(speech_like(rate).reshape(-1, int(DECISION_S * rate)))
    for _ in range(int(2 / DECISION_S)):  # a full 2 s ring before timing
        decide()
    parts = {
        "front-end": stream.state_size,
        "frame ring": ring.nbytes,
        "graph": graph.nbytes,
        "workspace": model.workspace_bytes,
    }
    record(
        benchmark,
        E2E_STAGE,
        f"C99 front-end + lgrin_graph_gather + C runtime ({model.kernels} kernels), via ctypes",
        1,
        hop_s=DECISION_S,
        state_bytes=sum(parts.values()),
        state_parts=parts,
        workspace_bytes=model.workspace_bytes,
        model_bytes=path.stat().st_size,
        macs=lgrin_macs(cfg),
        model=f"L-GrIN int8, M {m}, P {cfg['in_features']}, eta {cfg['eta']}, {cfg['num_layers']} layers",
        **codesize.sizes("runtime", "speech", "input"),
    )
    with one_thread():
        out = benchmark(decide)
    assert out.shape == (1, cfg["num_classes"]) and np.isfinite(out).all()
