"""The C live stream (lgrin_stream_*, through lgrin_edge.live.c_stream) against the stream definition:
decisions at n = W + kH, each the C runtime's probabilities on the graph the graph rule builds from the W
frames, the smoothing, chunking and interleaving that change nothing, the end-of-stream rule, and the
statuses of bad input and bad specs."""

from __future__ import annotations

import ctypes
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lgrin_edge.data.graph import sequence_to_graphs
from lgrin_edge.export import c_runtime as cr
from lgrin_edge.live.c_stream import CStream, CStreamError
from lgrin_edge.native import find_compiler

pytestmark = pytest.mark.skipif(find_compiler() is None, reason="no C compiler on PATH (cc, gcc or clang)")

DATA = Path(__file__).resolve().parents[2] / "export" / "tests" / "data"


@pytest.fixture(scope="module")
def exported(basicmotions_dist: Path) -> tuple[Path, np.ndarray]:
    """BasicMotions exported to the C runtime (M = 100, P = 6, 10 frames/s, resample) and a stream of
    frames: its samples' sequences one after another."""
    frames = np.load(basicmotions_dist / "samples.npz")["x"][:4].reshape(-1, 6)  # 400 frames
    return basicmotions_dist / "model_int8.lgrn", frames


def _times(decisions: list[dict]) -> list[float]:
    return [d["time_s"] for d in decisions]


def test_the_default_stream_is_read_from_the_spec(exported: tuple[Path, np.ndarray]) -> None:
    stream = CStream(exported[0])
    assert (stream.kind, stream.window, stream.hop, stream.smoothing) == ("motion", 100, 10, 3)
    assert stream.state_bytes > 4 * (100 * 6 * 2)  # the ring and the graph at least


@pytest.mark.parametrize(("window_s", "hop_s"), [(5.0, 2.0), (15.0, 3.0), (10.0, 1.0)])
def test_decisions_are_the_runtime_on_the_graph_rule(
    exported: tuple[Path, np.ndarray], window_s: float, hop_s: float
) -> None:
    """W < M (cyclic pad), W > M (resample), W = M: at n = W + kH only, each the model on those W frames."""
    path, frames = exported
    stream, model = CStream(path, window_s=window_s, hop_s=hop_s, smooth=2), cr.CModel(path)
    w, h = stream.window, stream.hop
    got, probs = [], []
    for n in range(1, len(frames) + 1):  # one frame at a time: each decision's vectors can be read
        made = stream.push_frames(frames[n - 1 : n])
        got += made
        if made:
            probs.append(stream.probabilities()[0])
    want_n = list(range(w, len(frames) + 1, h))
    assert _times(got) == pytest.approx([n / 10 for n in want_n])
    graphs = np.stack([sequence_to_graphs(frames[n - w : n], 100, "resample")[0] for n in want_n])
    want = model.probabilities(graphs)
    np.testing.assert_allclose(np.stack(probs), want, rtol=1e-5, atol=1e-6)
    assert [d["label"] for d in got] == list(want.argmax(1))
    np.testing.assert_allclose([d["probability"] for d in got], want.max(1), rtol=1e-5)
    # smoothing: the mean of the last S = 2 probability vectors (one at the start)
    mean = np.stack([want[max(0, i - 1) : i + 1].mean(0) for i in range(len(want))])
    assert [d["smoothed"] for d in got] == list(mean.argmax(1))
    np.testing.assert_allclose([d["smoothed_probability"] for d in got], mean.max(1), rtol=1e-5)


def test_chunking_and_interleaving_change_nothing(exported: tuple[Path, np.ndarray]) -> None:
    path, frames = exported
    alone = CStream(path, window_s=3.0, hop_s=0.7)
    whole = alone.push_frames(frames) + alone.flush()
    a, b = CStream(path, window_s=3.0, hop_s=0.7), CStream(path, window_s=3.0, hop_s=0.7)
    rng = np.random.default_rng(0)
    got_a: list[dict] = []
    got_b: list[dict] = []
    at = 0
    while at < len(frames):
        k = int(rng.integers(0, 60))
        got_a += a.push_frames(frames[at : at + k])
        got_b += b.push_frames(frames[::-1][at : at + k])  # another stream on the same model between pushes
        at += k
    assert got_a + a.flush() == whole
    other = CStream(path, window_s=3.0, hop_s=0.7)
    assert got_b + b.flush() == other.push_frames(frames[::-1]) + other.flush()


def test_the_end_of_stream_rule(exported: tuple[Path, np.ndarray]) -> None:
    """Fewer than W frames: one decision over the n held at the flush; otherwise none at the flush."""
    path, frames = exported
    short = CStream(path)
    assert short.push_frames(frames[:37]) == []
    (end,) = short.flush()
    want = cr.CModel(path).probabilities(sequence_to_graphs(frames[:37], 100, "resample"))[0]
    assert end["time_s"] == pytest.approx(3.7)
    np.testing.assert_allclose(short.probabilities()[0], want, rtol=1e-5, atol=1e-6)
    full = CStream(path)
    assert len(full.push_frames(frames[:150])) == 6
    assert full.flush() == []
    assert CStream(path).flush() == []
    with pytest.raises(CStreamError, match="already flushed"):
        full.push_frames(frames[:1])


def test_motion_samples_in_chunks(exported: tuple[Path, np.ndarray]) -> None:
    """Timestamped samples through the motion front-end: any chunking, the same decisions."""
    path, frames = exported
    rng = np.random.default_rng(1)
    t = np.cumsum(rng.uniform(0.01, 0.05, len(frames)))
    whole = CStream(path, window_s=4.0, hop_s=1.0)
    want = whole.push_motion(t, frames) + whole.flush()
    assert len(want) >= 3
    parts = CStream(path, window_s=4.0, hop_s=1.0)
    got: list[dict] = []
    for lo, hi in zip([0, 1, 2, 50, 51, 200], [1, 2, 50, 51, 200, len(t)], strict=True):
        got += parts.push_motion(t[lo:hi], frames[lo:hi])
    assert got + parts.flush() == want


def test_bad_input_is_refused_before_it_is_used(exported: tuple[Path, np.ndarray]) -> None:
    path, frames = exported
    stream, clean = CStream(path, hop_s=0.5), CStream(path, hop_s=0.5)
    bad = frames[:120].copy()
    bad[110, 3] = np.nan
    with pytest.raises(CStreamError, match="NaN or infinity"):
        stream.push_frames(bad)
    assert stream.push_frames(frames[:120]) == clean.push_frames(frames[:120])  # nothing of it was taken
    with pytest.raises(CStreamError, match=r"NaN or infinity|out of order"):
        stream.push_motion(np.array([1.0, 0.5]), frames[:2])
    with pytest.raises(CStreamError, match="another input kind"):
        stream.push_pcm(np.zeros(10, np.int16))


def test_a_state_too_small_is_refused(exported: tuple[Path, np.ndarray]) -> None:
    stream = CStream(exported[0])
    lib = stream._lib
    state = np.zeros(stream.state_bytes // 8, np.float64)
    model = stream._model.ctypes.data
    assert lib.lgrin_stream_init(state.ctypes.data, stream.state_bytes - 8, model, stream.config) < 0
    code = lib.lgrin_stream_init(state.ctypes.data, stream.state_bytes - 8, model, stream.config)
    assert lib.lgrin_stream_strerror(code).decode().startswith("state smaller than")
    odd = state.ctypes.data + 4
    code = lib.lgrin_stream_init(ctypes.c_void_p(odd), stream.state_bytes, model, stream.config)
    assert lib.lgrin_stream_strerror(code).decode() == "state not 8-byte aligned"


def _kat_with(tmp_path: Path, edit: dict) -> Path:
    """The known-answer motion model (M = 6, P = 3, 50 frames/s) with its spec changed by ``edit``
    (top-level keys; "input" merged)."""
    spec = json.loads((DATA / "kat_spec.json").read_text())
    spec["input"] = {**spec["input"], **edit.pop("input", {})}
    spec.update(edit)
    path = tmp_path / "kat.lgrn"
    path.write_bytes(cr.with_feature_spec((DATA / "kat_int8.lgrn").read_bytes(), json.dumps(spec)))
    return path


STREAM = {
    "mode": "sliding",
    "window_s": 0.2,
    "hop_s": 0.05,
    "smoothing": {"kind": "mean", "decisions": 4},
    "trained_on": "windows",
}


def test_the_spec_stream_section(tmp_path: Path) -> None:
    stream = CStream(_kat_with(tmp_path, {"stream": STREAM}))
    assert (stream.window, stream.hop, stream.smoothing) == (10, 2, 4)  # 0.2 s and 0.05 s at 50 frames/s
    assert _times(stream.push_frames(np.ones((14, 3), np.float32))) == pytest.approx([0.2, 0.24, 0.28])


UTTERANCE = {
    "mode": "utterance",
    "vad": {"threshold_db": -40.0, "min_speech_s": 0.3, "hangover_s": 0.3, "max_utterance_s": 10.0},
    "smoothing": {"kind": "mean", "decisions": 1},
    "trained_on": "sequences",
}


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        ({"stream": {**STREAM, "extra": 1}}, r"does not know \(stream\.extra\)"),
        ({"stream": {**STREAM, "smoothing": {"kind": "mean", "decisions": 3, "x": 0}}}, r"\.smoothing\.x"),
        ({"stream": {**STREAM, "mode": "burst"}}, r"unsupported .*\(stream\.mode\)"),
        ({"stream": {**STREAM, "mode": "utterance"}}, r"does not know \(stream\.window_s\)"),
        ({"stream": UTTERANCE}, r"unsupported .*\(stream\.mode\)"),  # a motion model: no PCM to measure
        ({"stream": {**UTTERANCE, "vad": {"threshold_db": -40}}}, r"lacks .*\(stream\.vad\.min_speech_s\)"),
        ({"stream": {k: v for k, v in STREAM.items() if k != "hop_s"}}, r"lacks .*\(stream\.hop_s\)"),
        ({"stream": {k: v for k, v in STREAM.items() if k != "trained_on"}}, r"lacks .*trained_on"),
        ({"stream": {**STREAM, "window_s": "2"}}, r"wrong type \(stream\.window_s\)"),
        ({"input": {"frame_rate_hz": "unknown"}}, r"lacks .*\(input\.frame_rate_hz\)"),
        ({"graph": None}, r"lacks .*\(graph\.num_nodes\)"),
        ({"spec_version": 2}, r"\(spec_version\)"),
    ],
)  # fmt: skip
def test_a_bad_spec_names_its_field(tmp_path: Path, edit: dict, words: str) -> None:
    with pytest.raises(CStreamError, match=words):
        CStream(_kat_with(tmp_path, edit))


def test_a_model_without_a_spec_is_refused() -> None:
    with pytest.raises(CStreamError, match="carries no feature spec"):
        CStream(DATA / "kat_int8.lgrn")


# -- utterance mode --------------------------------------------------------------------------------------

SPEECH = {"descriptors": ["rms", "zcr", "mfcc1", "mfcc2", "mfcc3", "mfcc4"]}  # P = 12, as JapaneseVowels


@pytest.fixture(scope="module")
def speech_model(tmp_path_factory: pytest.TempPathFactory, japanesevowels_run: Path) -> Path:
    """A real model of P = 12, M = 29 (JapaneseVowels, exported to C) carrying an lgrin-speech spec
    with "stream": null: the default stream of audio, the utterance stream."""
    from lgrin_edge.frontend import SpeechSpec
    from lgrin_edge.spec import speech_frontend_spec

    tmp = tmp_path_factory.mktemp("jv")
    shutil.copytree(japanesevowels_run, tmp / "run")
    cmd = [sys.executable, "-m", "lgrin_edge.export", "--checkpoint", str(tmp / "run"), "--target", "c"]
    subprocess.run([*cmd, "--out", str(tmp / "out")], check=True, capture_output=True)
    classes = [f"v{i}" for i in range(9)]
    front = SpeechSpec.from_dict({**SpeechSpec().to_dict(), **SPEECH})
    spec = speech_frontend_spec(front.to_dict(), classes).for_run(29, "resample", classes)
    path = tmp / "speech.lgrn"
    path.write_bytes(
        cr.with_feature_spec(
            cr.without_feature_spec((tmp / "out" / "model_int8.lgrn").read_bytes()), spec.to_json()
        )
    )
    return path


def tones(rate: int, parts: list[tuple[float, float]]) -> np.ndarray:
    """int16 PCM: (seconds, frequency) parts, frequency 0 silence, tones at 0.3 full scale."""
    out = []
    for seconds, freq in parts:
        t = np.arange(round(seconds * rate)) / rate
        out.append(0.3 * np.sin(2 * np.pi * freq * t) if freq else np.zeros(len(t)))
    return np.round(np.concatenate(out) * 32767).astype(np.int16)


def _lines(decisions: list[dict], names: list[str]) -> list[str]:
    return [
        f"{d['time_s']:.2f} {names[d['label']]} {d['probability']:.3f} {names[d['smoothed']]}"
        for d in decisions
    ]


@pytest.mark.parametrize("rate", [16000, 8000, 11025])
def test_utterances_in_c_and_python_are_the_same_lines(speech_model: Path, rate: int) -> None:
    """silence / tone / silence / tone: two utterances, in C and in Python, decision for decision."""
    from lgrin_edge.inspect import read_spec
    from lgrin_edge.live import Stream

    pcm = tones(rate, [(0.5, 0), (1.0, 300), (1.0, 0), (0.7, 700), (0.2, 0)])
    c = CStream(speech_model, input_rate=rate)
    assert (c.config.mode, c.window, c.config.hangover, c.config.min_speech, c.smoothing) == (
        1,
        1000,
        30,
        30,
        1,
    )
    got = [d for lo in range(0, len(pcm), 777) for d in c.push_pcm(pcm[lo : lo + 777])] + c.flush()
    spec, _ = read_spec(speech_model)
    py = Stream(spec, cr.CModel(speech_model), input_rate=rate)
    want = [d for lo in range(0, len(pcm), 5000) for d in py.push_pcm(pcm[lo : lo + 5000])] + py.flush()
    names = [f"v{i}" for i in range(9)]
    assert _lines(got, names) == [d.line(names) for d in want]
    assert [d.frames for d in want] == [150, 320] if rate == 16000 else len(want) == 2
    assert [d["time_s"] for d in got] == pytest.approx([d.time_s for d in want], abs=0)


def test_utterance_drops_splits_and_flush_in_c(speech_model: Path) -> None:
    short = CStream(speech_model)  # 0.2 s of tone: under min_speech_s 0.3 s, dropped
    assert short.push_pcm(tones(16000, [(0.3, 0), (0.2, 300), (1.0, 0)])) + short.flush() == []
    open_end = CStream(speech_model)  # speech to the end: the flush ends it
    assert open_end.push_pcm(tones(16000, [(0.3, 0), (0.8, 300)])) == []
    (end,) = open_end.flush()
    assert end["time_s"] == pytest.approx(1.08)  # whole frames of 17600 samples: (17600 - 400) // 160 + 1
    long = CStream(speech_model)  # 25 s of tone: cut at 10 s twice, the rest at the flush
    got = long.push_pcm(tones(16000, [(25.0, 300)])) + long.flush()
    assert [d["time_s"] for d in got] == pytest.approx([10.0, 20.0, 24.98])
    with pytest.raises(CStreamError, match="another input kind"):
        CStream(speech_model).push_frames(np.zeros((3, 12), np.float32))
    sliding = CStream(speech_model, hop_s=0.1)  # a hop makes it the default sliding stream
    assert (sliding.config.mode, sliding.window, sliding.hop, sliding.smoothing) == (0, 29, 10, 3)


def _first_effect(model: Path, pcm: np.ndarray, click: int, hop_s: float) -> int:
    """Samples from a click at sample ``click`` to the first decision it changes (16-sample pushes)."""

    def decisions(signal: np.ndarray) -> list[tuple[int, np.ndarray]]:
        stream, out = CStream(model, window_s=0.5, hop_s=hop_s), []
        for lo in range(0, len(signal), 16):  # at most one decision a push: its vectors are the latest
            made = stream.push_pcm(signal[lo : lo + 16])
            out += [(lo + 16, stream.probabilities()[0].copy()) for _ in made]
        return out

    clicked = pcm.copy()
    clicked[click] = 32767
    pairs = zip(decisions(pcm), decisions(clicked), strict=True)
    return next(b[0] for a, b in pairs if not np.array_equal(a[1], b[1])) - click


def test_the_delay_from_a_sample_to_a_decision_is_within_the_documented_bound(speech_model: Path) -> None:
    """lgrin_stream.h: the front-end's delay (37.5 ms after the frame's end, a frame being 25 ms), then at
    most H frames to the next decision. Measured: a click at positions across one hop."""
    pcm = (np.random.default_rng(0).normal(0, 0.05, 2 * 16000) * 32767).astype(np.int16)
    hop_s = 0.1
    delays = [_first_effect(speech_model, pcm, click, hop_s) for click in range(16000, 16000 + 1600, 397)]
    bound = round((hop_s + 0.0375 + 0.025) * 16000)
    assert 0 < max(delays) <= bound, delays
    assert max(delays) > hop_s * 16000 * 0.5  # the hop dominates: a decision comes only every H frames
