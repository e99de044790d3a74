"""The stream engine against the stream definition: when decisions come, what graph each one sees, the
smoothing, the end-of-stream rule, the printed line, and the front-ends feeding it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lgrin_edge.cli import UserError
from lgrin_edge.data.graph import sequence_to_graphs
from lgrin_edge.frontend import SpeechSpec
from lgrin_edge.frontend import frames as speech_frames
from lgrin_edge.frontend.motion import MotionSpec, identity
from lgrin_edge.frontend.motion import frames as motion_frames
from lgrin_edge.live import Decision, Stream, softmax
from lgrin_edge.spec import UNKNOWN, FeatureSpec, Named, SpecError, StreamSpec, Vad, speech_frontend_spec

CLASSES = ("a", "b", "c")


def frames_spec(m: int, p: int, rate: float = 10.0, policy: str = "resample", kind: str = "frames"):
    spec = FeatureSpec(
        "test", "1", {}, tuple(Named(f"f{i}") for i in range(p)), input_kind=kind, frame_rate_hz=rate
    )
    return spec.for_run(m, policy, list(CLASSES))


def linear(m: int, p: int, seed: int = 0):
    """A classifier with real arithmetic: logits = flattened graph @ a fixed random matrix."""
    w = np.random.default_rng(seed).normal(0, 0.3, (m * p, len(CLASSES))).astype(np.float32)

    def classify(x: np.ndarray) -> np.ndarray:
        assert x.shape == (1, m, p) and x.dtype == np.float32
        return x.reshape(1, -1) @ w

    return classify


def as_tuples(decisions: list[Decision]) -> list[tuple]:
    return [(*dataclasses.astuple(d)[:-1], d.probabilities.tobytes()) for d in decisions]


def rows(n: int, p: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 1, (n, p)).astype(np.float32)


def test_a_decision_each_time_n_reaches_w_plus_k_h():
    spec = frames_spec(8, 2).with_stream(StreamSpec(0.5, 0.3, "windows"))  # W = 5, H = 3 frames
    s = Stream(spec, linear(8, 2))
    got = s.push_frames(rows(20, 2))
    assert [d.frames for d in got] == [5, 8, 11, 14, 17, 20]
    assert [d.time_s for d in got] == [n / 10.0 for n in (5, 8, 11, 14, 17, 20)]
    assert s.flush() == [] and s.decisions == 6


@pytest.mark.parametrize(
    ("m", "window_s", "policy"),
    [
        (8, 0.5, "resample"),
        (8, 0.8, "resample"),
        (8, 1.3, "resample"),
        (8, 1.3, "truncate"),
        (5, 1.2, "chunk"),
    ],
)
def test_each_decision_sees_the_graph_rule_of_its_last_w_frames(m, window_s, policy):
    """W < M: cyclic padding; W = M; W > M: the spec's longer rule, chunk's first graph."""
    spec = frames_spec(m, 3, policy=policy)
    classify = linear(m, 3)
    x = rows(40, 3)
    got = Stream(spec, classify, window_s=window_s, hop_s=0.4).push_frames(x)
    w = round(window_s * 10)
    assert got and all(d.frames >= w for d in got)
    for d in got:
        graph = sequence_to_graphs(x[d.frames - w : d.frames], m, policy)[:1]
        assert np.array_equal(d.probabilities, softmax(classify(graph)[0]))
        assert d.label == int(np.argmax(d.probabilities)) and d.probability == d.probabilities[d.label]


def test_chunking_never_changes_a_decision():
    spec = frames_spec(6, 4)
    x = rows(137, 4)
    whole = Stream(spec, linear(6, 4), hop_s=0.3)
    want = as_tuples(whole.push_frames(x) + whole.flush())
    rng = np.random.default_rng(5)
    for _ in range(5):
        s, got, at = Stream(spec, linear(6, 4), hop_s=0.3), [], 0
        while at < len(x):
            k = int(rng.integers(0, 9))
            got += s.push_frames(x[at : at + k])
            at += k
        assert as_tuples(got + s.flush()) == want


def test_smoothing_is_the_mean_of_the_last_s_decisions():
    spec = frames_spec(4, 2).with_stream(StreamSpec(0.4, 0.1, "sequences", decisions=3))
    got = Stream(spec, linear(4, 2, seed=3)).push_frames(rows(30, 2, seed=4))
    for i, d in enumerate(got):
        recent = [g.probabilities for g in got[max(0, i - 2) : i + 1]]
        mean = np.mean(recent, axis=0)
        assert np.allclose(mean[d.smoothed], d.smoothed_probability, rtol=1e-6, atol=0)
        assert d.smoothed == int(np.argmax(mean))
    assert got[0].smoothed == got[0].label and got[0].smoothed_probability == got[0].probability
    changed = [d for d in got if d.smoothed != d.label]
    assert changed, "the smoothing never differed from the decision: this data does not test it"


def test_the_end_rule_one_decision_over_fewer_than_w_frames_only_if_none_was_made():
    spec = frames_spec(8, 2)  # default stream: W = 8, H = 1
    classify = linear(8, 2)
    short = Stream(spec, classify)
    x = rows(3, 2)
    assert short.push_frames(x) == []
    (end,) = short.flush()
    assert end.frames == 3 and end.time_s == 0.3
    assert np.array_equal(end.probabilities, softmax(classify(sequence_to_graphs(x, 8)[:1])[0]))
    assert short.flush() == []
    empty = Stream(spec, classify)
    assert empty.flush() == []
    made = Stream(spec, classify)
    assert len(made.push_frames(rows(9, 2))) == 2 and made.flush() == []
    with pytest.raises(UserError, match="push after flush"):
        made.push_frames(rows(1, 2))


def test_softmax_and_the_printed_line():
    p = softmax(np.array([1.0, 3.0, 3.0, -1e30], np.float32))
    assert p.dtype == np.float32 and p[3] == 0 and p[1] == p[2] and abs(float(p.sum()) - 1) < 1e-6
    d = Decision(0.125, 1, 1, float(p[1]), 2, 0.5, p)
    assert d.line(["x", "y", "z", "w"]) == "0.12 y 0.468 z"  # printf rounds 0.125 to even, as C does
    spec = frames_spec(4, 2)
    got = Stream(spec, lambda g: np.zeros((1, 3), np.float32)).push_frames(rows(4, 2))
    assert got[0].label == 0 and got[0].line(list(CLASSES)) == "0.40 a 0.333 a"  # ties: the first


def test_pcm_through_the_speech_front_end_at_any_rate_and_cut():
    front = SpeechSpec()
    spec = speech_frontend_spec(front.to_dict(), list(CLASSES)).for_run(30, "resample", list(CLASSES))
    classify = linear(30, front.width)
    rng = np.random.default_rng(2)
    for rate in (16000, 8000):
        t = np.arange(int(1.37 * rate)) / rate
        pcm = (0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.normal(size=len(t))).astype(np.float32)
        ready = Stream(spec, classify, window_s=0.2, hop_s=0.1)
        want = as_tuples(ready.push_frames(speech_frames(pcm, rate, front)) + ready.flush())
        live = Stream(spec, classify, input_rate=rate, window_s=0.2, hop_s=0.1)
        got, at = [], 0
        for k in rng.integers(1, 3000, 200):
            got += live.push_pcm(pcm[at : at + k])
            at += int(k)
        assert len(want) == 12 and as_tuples(got + live.flush()) == want, rate


def test_motion_through_the_motion_rule():
    spec = frames_spec(10, 6, rate=10, kind="motion")
    classify = linear(10, 6)
    rng = np.random.default_rng(3)
    t = np.cumsum(rng.uniform(0.01, 0.03, 300))  # about 50 Hz, irregular
    v = rng.normal(0, 1, (300, 6))
    ready = Stream(spec, classify, hop_s=0.2)
    want = as_tuples(ready.push_frames(motion_frames(t, v, MotionSpec(10.0, 6, identity(6), 0.0))))
    live = Stream(spec, classify, hop_s=0.2)
    got = []
    for lo in range(0, 300, 7):
        got += live.push_motion(t[lo : lo + 7], v[lo : lo + 7])
    assert len(want) > 10 and as_tuples(got + live.flush()) == want


def test_what_a_stream_refuses_in_one_line():
    motion = frames_spec(8, 6, kind="motion")
    with pytest.raises(UserError, match="not from the lgrin-speech front-end"):
        Stream(motion, linear(8, 6)).push_pcm(np.zeros(100, np.int16))
    with pytest.raises(UserError, match="the model takes frames input"):
        Stream(frames_spec(8, 6), linear(8, 6)).push_motion(np.zeros(1), np.zeros((1, 6)))
    mixed = Stream(motion, linear(8, 6))
    mixed.push_frames(rows(2, 6))
    with pytest.raises(UserError, match="this stream takes frames, not motion"):
        mixed.push_motion(np.zeros(1), np.zeros((1, 6)))
    with pytest.raises(UserError, match=r"frames must be \(k, 6\)"):
        mixed.push_frames(rows(2, 5))
    with pytest.raises(SpecError, match=r"input\.frame_rate_hz is 'unknown'"):
        Stream(dataclasses.replace(motion, frame_rate_hz=UNKNOWN), linear(8, 6))
    with pytest.raises(SpecError, match=r"a hop of 0\.01 s is less than one frame at 10 frames per second"):
        Stream(motion, linear(8, 6), hop_s=0.01)
    unknown = frames_spec(8, 6, policy=UNKNOWN)
    Stream(unknown, linear(8, 6), window_s=0.8)  # W = M: the rule for longer inputs never applies
    with pytest.raises(SpecError, match=r"longer than the model's M = 8 and the spec's graph\.longer"):
        Stream(unknown, linear(8, 6), window_s=0.9)


def test_decisions_agree_with_the_c_runtime_on_the_same_frames(tiny_run, tmp_path):
    """A real runner: each decision is the runtime's logits on sequence_to_graphs of the W frames."""
    from lgrin_edge.export.c_runtime import CModel
    from lgrin_edge.export.pipeline import run_export
    from lgrin_edge.inspect import read_spec

    # the file, verified or not (a tiny model's int8 may miss the tolerance): the stream is under test
    run_export(
        tiny_run, ["c"], ["int8"], tmp_path, calibration_n=32, log=lambda *_: None, keep_unverified=True
    )
    (path,) = tmp_path.glob("**/model_int8.lgrn")
    model = CModel(path)
    spec, _ = read_spec(path)
    spec = dataclasses.replace(spec, frame_rate_hz=25.0)  # synthetic data: no rate, so one is given
    m, p = model.input_shape
    x = np.load(tmp_path / "samples.npz")["x"][:3].reshape(-1, p)  # graphs end to end, as one signal
    s = Stream(spec, model, window_s=0.6, hop_s=0.2)
    got = s.push_frames(x) + s.flush()
    assert len(got) == (len(x) - 15) // 5 + 1
    for d in got:
        graph = sequence_to_graphs(x[d.frames - 15 : d.frames], m, spec.graph.longer)[:1]
        assert np.array_equal(d.probabilities, softmax(model(graph)[0]))


# -- utterance mode (the default stream of lgrin-speech audio) -------------------------------------------


def speech_spec(m: int = 30, vad=None):
    front = SpeechSpec()
    spec = speech_frontend_spec(front.to_dict(), list(CLASSES)).for_run(m, "resample", list(CLASSES))
    return spec if vad is None else spec.with_stream(StreamSpec.utterance(vad)), front.width


def tones(parts: list[tuple[float, float]], rate: int = 16000) -> np.ndarray:
    """float PCM: (seconds, frequency) parts, frequency 0 silence."""
    t = [np.arange(round(s * rate)) / rate for s, _ in parts]
    return np.concatenate(
        [0.3 * np.sin(2 * np.pi * f * x) * (f > 0) for x, (_, f) in zip(t, parts, strict=True)]
    )


def test_two_utterances_each_one_graph_of_its_frames():
    """silence 0.5 s, tone 1 s, silence 1 s, tone 0.7 s: frames 48..149 and 248..319 are the utterances
    (a frame is speech when any of its 400 samples is tone), each decided on its own frames."""
    spec, p = speech_spec()
    classify = linear(30, p)
    pcm = tones([(0.5, 0), (1.0, 300), (1.0, 0), (0.7, 700), (0.2, 0)]).astype(np.float32)
    s = Stream(spec, classify)
    got = [d for lo in range(0, len(pcm), 1111) for d in s.push_pcm(pcm[lo : lo + 1111])]
    assert [d.frames for d in got] == [150]  # the second one is still open
    got += s.flush()
    assert [d.frames for d in got] == [150, 320] and [d.time_s for d in got] == [1.5, 3.2]
    x = speech_frames(pcm, 16000)
    for d, (lo, hi) in zip(got, [(48, 150), (248, 320)], strict=True):
        assert np.array_equal(d.probabilities, softmax(classify(sequence_to_graphs(x[lo:hi], 30)[:1])[0]))
        assert d.smoothed == d.label  # the default smoothing: 1 decision


def test_short_utterances_are_dropped_long_ones_split():
    spec, p = speech_spec()
    short = Stream(spec, linear(30, p))
    assert short.push_pcm(tones([(0.3, 0), (0.2, 300), (1.0, 0)])) + short.flush() == []
    keep = Stream(speech_spec(vad=Vad(min_speech_s=0.1))[0], linear(30, p))
    assert [d.frames for d in keep.push_pcm(tones([(0.3, 0), (0.2, 300), (1.0, 0)]))] == [50]
    split = Stream(speech_spec(vad=Vad(max_utterance_s=1.0))[0], linear(30, p))
    got = split.push_pcm(tones([(2.5, 300)])) + split.flush()
    assert [d.frames for d in got] == [100, 200, 248]  # 1 s, 1 s, and the rest at the flush


def test_an_utterance_stream_takes_pcm_only_and_a_window_makes_it_sliding():
    spec, p = speech_spec()
    with pytest.raises(UserError, match="an utterance stream measures voice activity on PCM"):
        Stream(spec, linear(30, p)).push_frames(rows(3, p))
    sliding = Stream(spec, linear(30, p), hop_s=0.1)
    assert (sliding.plan.window, sliding.plan.hop, sliding.plan.stream.decisions) == (30, 10, 3)
    assert len(sliding.push_frames(rows(40, p))) == 2
    unknown = dataclasses.replace(spec, graph=dataclasses.replace(spec.graph, longer=UNKNOWN))
    with pytest.raises(
        SpecError, match="an utterance of up to 1000 frames is longer than the model's M = 30"
    ):
        Stream(unknown, linear(30, p))
