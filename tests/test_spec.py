"""The feature spec: its JSON, its validation, its rules against graph.py, and its way through training."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest

from lgrin_edge.checkpoint import CONFIG, CONFIG_SHA256, CheckpointError, config_digest, load_checkpoint
from lgrin_edge.data.graph import sequence_to_graphs
from lgrin_edge.frontend.spec import SpeechSpec
from lgrin_edge.spec import (
    INSIDE_MODEL,
    LONGER_RULES,
    NPZ_KEY,
    UNKNOWN,
    FeatureSpec,
    Graph,
    Named,
    SpecError,
    StreamSpec,
    Vad,
    effective_stream,
    of_config,
    speech_frontend_spec,
    unknown_spec,
)


def _spec() -> FeatureSpec:
    return FeatureSpec(
        extractor_id="x",
        extractor_version="2",
        params={"window": "hann", "nested": {"a": [1, 2]}},
        features=(Named("f0", "Hz"), Named("rms")),
        input_kind="audio",
        sample_rate_hz=16000,
        channels=(Named("mono", "full scale"),),
        frame_rate_hz=100,
        classes=("a", "b"),
    )


def test_json_round_trip_keeps_every_field_in_the_document_order():
    spec = _spec().for_run(40, "chunk", ["a", "b"])
    d = json.loads(spec.to_json())
    assert list(d) == [
        "spec_version", "extractor", "features", "input", "graph", "normalisation", "normalisation_rule",
        "classes", "stream",
    ]  # fmt: skip
    assert d["spec_version"] == 1 and d["stream"] is None and d["normalisation"] == INSIDE_MODEL
    assert d["graph"] == {
        "num_nodes": 40,
        "shorter": "cyclic-pad",
        "shorter_rule": "T < M: node i = frame i mod T (frames repeated from the start)",
        "longer": "chunk",
        "longer_rule": LONGER_RULES["chunk"],
    }
    assert d["features"][1] == {"name": "rms", "unit": UNKNOWN}
    assert FeatureSpec.from_json(spec.to_json()) == spec
    assert FeatureSpec.from_json(spec.to_json().encode()) == spec
    # a dataset's spec: graph and normalisation not chosen yet
    d = _spec().to_dict()
    assert d["graph"] is None and d["normalisation"] is None and d["normalisation_rule"] is None


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(spec_version=2), "spec_version 2; this lgrin-edge reads version 1"),
        (lambda d: d["features"].append(d["features"][0]), "features names 'f0' more than once"),
        (lambda d: d.update(features=[]), "features is empty"),
        (lambda d: d["input"].update(kind="video"), "input.kind 'video' is not one of"),
        (lambda d: d["input"].update(channels="stereo"), "input.channels must be a list or 'unknown'"),
        (lambda d: d["input"].update(sample_rate_hz=-1), "input.sample_rate_hz must be a positive number"),
        (lambda d: d["input"].update(frame_rate_hz="fast"), "input.frame_rate_hz must be a positive number"),
        (lambda d: d.update(classes=["a", "a"]), "classes names a class more than once"),
        (lambda d: d.update(classes="ab"), "malformed"),
        (lambda d: d["graph"].update(num_nodes=0), "graph.num_nodes must be an integer >= 1"),
        (lambda d: d["graph"].update(longer="stretch"), "graph.longer 'stretch' is not one of"),
        (lambda d: d.update(normalisation="outside"), "normalisation 'outside' is not"),
        (lambda d: d["extractor"].update(version=3), "malformed"),
        (lambda d: d.pop("input"), "malformed"),
        (lambda d: d["features"][0].pop("unit"), "malformed"),
    ],
)
def test_an_impossible_spec_is_refused_naming_the_field(edit, message):
    d = _spec().for_run(8, "resample", ["a", "b"]).to_dict()
    edit(d)
    with pytest.raises(SpecError, match="feature spec: ") as info:
        FeatureSpec.from_json(json.dumps(d))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_text_that_is_no_spec_is_refused():
    for text, message in (("[1]", "expected a JSON object"), ("{", "not JSON"), ("x" * (2 << 20), "bytes")):
        with pytest.raises(SpecError, match=message):
            FeatureSpec.from_json(text)


def test_the_graph_rules_say_what_graph_py_does():
    """The rules the spec states in words, followed literally, give graph.py's nodes for every length."""
    for t in range(1, 60):
        seq = np.arange(t, dtype=np.float32)[:, None]
        for m in range(1, 40):
            if t < m:  # SHORTER_RULE
                want = [i % t for i in range(m)]
            elif t == m:
                want = list(range(m))
            else:
                s = (t - 1) / (m - 1) if m > 1 else 0.0
                want = [int(np.rint(i * s)) for i in range(m)]  # the resample rule
                want[-1] = t - 1 if m > 1 else 0
                assert sequence_to_graphs(seq, m, "truncate")[0, :, 0].tolist() == list(range(m))
                windows = sequence_to_graphs(seq, m, "chunk")[:, :, 0]
                assert windows[:, 0].tolist() == list(range(0, t, m))  # windows start at 0, M, 2M, ...
            assert sequence_to_graphs(seq, m, "resample")[0, :, 0].tolist() == want, (t, m)


def test_unknown_spec_marks_what_nobody_said():
    spec = unknown_spec(3, ["a", "b"])
    assert [f.to_dict() for f in spec.features] == [{"name": UNKNOWN, "unit": UNKNOWN}] * 3
    assert spec.extractor_id == UNKNOWN and spec.input_kind == UNKNOWN and spec.channels == UNKNOWN
    named = unknown_spec(2, ["a", "b"], ["u", "v"], extractor="npz")
    assert [f.name for f in named.features] == ["u", "v"] and named.extractor_id == "npz"
    assert [f.name for f in unknown_spec(2, ["a"], ["only one name"]).features] == [UNKNOWN] * 2


def test_the_speech_front_end_spec_comes_from_its_speechspec_json():
    front = SpeechSpec.preset("lld16+hnr", hop=320)
    spec = speech_frontend_spec(json.loads(front.to_json()), ["calm", "angry"])
    assert spec.extractor_id == "lgrin-speech" and spec.extractor_version == "1"
    assert spec.params == front.to_dict()  # every parameter, as the front-end's own JSON has it
    assert [f.name for f in spec.features] == list(front.names) and spec.num_features == 34
    assert spec.features[3].to_dict() == {"name": "f0", "unit": "Hz"}
    assert spec.features[17 + 3].to_dict() == {"name": "f0_de", "unit": "Hz/frame"}
    assert spec.sample_rate_hz == 16000 and spec.frame_rate_hz == 50 and spec.input_kind == "audio"
    with pytest.raises(Exception, match="speech spec"):
        speech_frontend_spec({**front.to_dict(), "hop": 0}, ["a", "b"])


def _config(spec: FeatureSpec | None, m: int = 8, classes=("a", "b"), p: int = 2) -> dict:
    cfg = {"config": {"in_features": p, "num_nodes": m}, "classes": list(classes), "num_nodes": m}
    cfg["long_policy"] = "truncate"
    if spec is not None:
        cfg[NPZ_KEY] = spec.to_dict()
    return cfg


def test_a_config_without_a_spec_gets_what_it_knows_and_unknown_for_the_rest():
    spec, recorded = of_config(_config(None))
    assert not recorded and spec.graph == Graph(8, "truncate") and spec.classes == ("a", "b")
    assert spec.num_features == 2 and spec.extractor_id == UNKNOWN and spec.normalisation == INSIDE_MODEL
    old = _config(None)
    del old["long_policy"]  # runs before long_policy was recorded
    assert of_config(old)[0].graph == Graph(8, UNKNOWN)
    known, _ = of_config(_config(None), dataset=_spec())
    assert known.extractor_id == "x" and known.graph == Graph(8, "truncate")
    other, _ = of_config(_config(None, p=5), dataset=_spec())  # not the dataset's P: not its spec
    assert other.extractor_id == UNKNOWN


def test_a_recorded_spec_must_agree_with_the_model():
    good = _spec().for_run(8, "truncate", ["a", "b"])
    assert of_config(_config(good)) == (good, True)
    for cfg, message in (
        (_config(good, p=3), "names 2 features, the model takes 3"),
        (_config(good, classes=("b", "a")), "classes differ"),
        (_config(good, m=9), "does not give the checkpoint's M = 9"),
    ):
        with pytest.raises(SpecError, match=message):
            of_config(cfg)


def test_training_records_the_spec_in_the_checksummed_config(tiny_run, tmp_path):
    cfg = json.loads((tiny_run / CONFIG).read_text())
    spec = FeatureSpec.from_dict(cfg[NPZ_KEY])
    assert spec.graph == Graph(cfg["num_nodes"], cfg["long_policy"]) and list(spec.classes) == cfg["classes"]
    assert spec.num_features == cfg["config"]["in_features"] and spec.normalisation == INSIDE_MODEL
    # an edited spec is an edited config.json
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    cfg[NPZ_KEY]["features"][0]["unit"] = "furlong"
    (run / CONFIG).write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="was edited or damaged"):
        load_checkpoint(run)
    # a checkpoint written before runs recorded a spec still loads: its checksum never covered one
    del cfg[NPZ_KEY]
    cfg[CONFIG_SHA256] = config_digest(cfg)
    (run / CONFIG).write_text(json.dumps(cfg))
    load_checkpoint(run)


# -- the stream section ----------------------------------------------------------------------------------


def test_a_stream_section_round_trips_and_null_stays_null():
    spec = _spec().for_run(40, "resample", ["a", "b"])
    assert spec.stream is None and json.loads(spec.to_json())["stream"] is None
    windows = spec.with_stream(StreamSpec(window_s=2.0, hop_s=0.5, trained_on="windows"))
    assert json.loads(windows.to_json())["stream"] == {
        "mode": "sliding",
        "window_s": 2.0,
        "hop_s": 0.5,
        "smoothing": {"kind": "mean", "decisions": 3},
        "trained_on": "windows",
    }
    assert FeatureSpec.from_json(windows.to_json()) == windows and windows.stream.frames(100) == (200, 50)
    assert windows.with_stream(None) == spec


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.update(mode="burst"), "stream.mode 'burst' is not one of sliding, utterance"),
        (lambda s: s.update(vad={}), "stream.vad is not a field of the stream section"),
        (lambda s: s.update(window_s=0), "stream.window_s must be a positive number of seconds, got 0"),
        (lambda s: s.update(hop_s="1"), "stream.hop_s must be a positive number"),
        (lambda s: s.update(hop_s=float("inf")), "stream.hop_s must be a positive number"),
        (lambda s: s["smoothing"].update(kind="median"), "stream.smoothing.kind 'median' is not one of mean"),
        (lambda s: s["smoothing"].update(decisions=0), "stream.smoothing.decisions must be an integer >= 1"),
        (lambda s: s["smoothing"].update(decisions=2.0), "stream.smoothing.decisions must be an integer"),
        (lambda s: s.update(trained_on="frames"), "stream.trained_on 'frames' is not one of windows"),
        (lambda s: s.update(window_s=0.004), "stream.window_s 0.004 s is less than one frame at"),
        (lambda s: s.pop("trained_on"), "malformed"),
        (lambda s: s.update(overlap=0.5), "stream.overlap is not a field of the stream section"),
        (lambda s: s["smoothing"].update(alpha=1), "stream.smoothing.alpha is not a field"),
        (lambda s: s.update(smoothing=3), "malformed"),
    ],
)
def test_an_impossible_stream_is_refused_naming_the_field(edit, message):
    d = _spec().for_run(8, "resample", ["a", "b"]).with_stream(StreamSpec(1.0, 0.5, "windows")).to_dict()
    edit(d["stream"])
    with pytest.raises(SpecError, match="feature spec: ") as info:
        FeatureSpec.from_json(json.dumps(d))
    assert message in str(info.value) and "\n" not in str(info.value)


UTTERANCE = {
    "mode": "utterance",
    "vad": {"threshold_db": -40.0, "min_speech_s": 0.3, "hangover_s": 0.3, "max_utterance_s": 10.0},
    "smoothing": {"kind": "mean", "decisions": 1},
    "trained_on": "sequences",
}


def test_an_utterance_section_round_trips():
    spec = _spec().for_run(40, "resample", ["a", "b"]).with_stream(StreamSpec.utterance())
    assert json.loads(spec.to_json())["stream"] == UTTERANCE
    assert FeatureSpec.from_json(spec.to_json()) == spec
    assert spec.stream.frames(100) == (1000, 0) and spec.stream.vad.frames(100) == (30, 30, 1000)
    assert spec.stream.vad.threshold() == 10.0**-4
    assert spec.stream.describe(100) == (
        "utterance, speech above -40 dB, at least 0.3 s of it, ended by 0.3 s of silence or at 10 s "
        "(1000 frames), mean of the last 1 decisions, model trained on sequences"
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.update(window_s=1.0), "stream.window_s is not a field of the stream section"),
        (lambda s: s.pop("vad"), "malformed"),
        (lambda s: s.update(vad=3), "malformed"),
        (lambda s: s["vad"].pop("hangover_s"), "malformed"),
        (lambda s: s["vad"].update(level=1), "stream.vad.level is not a field of the stream section"),
        (lambda s: s["vad"].update(threshold_db=float("nan")), "stream.vad.threshold_db must be a finite"),
        (lambda s: s["vad"].update(threshold_db=True), "stream.vad.threshold_db must be a finite"),
        (
            lambda s: s["vad"].update(min_speech_s=-1),
            "stream.vad.min_speech_s must be a number of seconds >= 0",
        ),
        (lambda s: s["vad"].update(hangover_s=0), "stream.vad.hangover_s must be a positive number"),
        (lambda s: s["vad"].update(max_utterance_s="9"), "stream.vad.max_utterance_s must be a positive"),
        (lambda s: s["vad"].update(hangover_s=0.004), "stream.vad.hangover_s 0.004 s is less than one frame"),
    ],
)
def test_an_impossible_utterance_section_is_refused_naming_the_field(edit, message):
    d = _spec().for_run(8, "resample", ["a", "b"]).to_dict()
    d["stream"] = json.loads(json.dumps(UTTERANCE))
    edit(d["stream"])
    with pytest.raises(SpecError, match="feature spec: ") as info:
        FeatureSpec.from_json(json.dumps(d))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_an_utterance_stream_needs_audio():
    motion = dataclasses.replace(_spec(), input_kind="motion").for_run(8, "resample", ["a", "b"])
    with pytest.raises(SpecError, match="an utterance stream measures voice activity on audio"):
        motion.with_stream(StreamSpec.utterance())
    assert StreamSpec.utterance(decisions=1).vad is not None  # min_speech_s 0 is allowed:
    StreamSpec.utterance(Vad(min_speech_s=0))


def test_the_default_stream_of_lgrin_speech_audio_is_the_utterance_stream():
    spec = speech_frontend_spec(SpeechSpec().to_dict(), ["a", "b"]).for_run(48, "resample", ["a", "b"])
    assert spec.stream is None and effective_stream(spec) == StreamSpec.utterance()
    assert effective_stream(spec).to_dict() == UTTERANCE


def test_the_default_stream_is_a_whole_sequence_every_tenth_of_one():
    """stream: null runs W = M frames, H = max(1, round(M / 10)) frames (half to even), mean of 3."""
    for m, rate, hop in ((100, 10, 10), (25, 100, 2), (35, 100, 4), (4, 50, 1), (29, 156.25, 3)):
        spec = dataclasses.replace(_spec(), frame_rate_hz=rate).for_run(m, "resample", ["a", "b"])
        stream = effective_stream(spec)
        assert stream.frames(rate) == (m, hop), (m, rate)
        assert (stream.trained_on, stream.decisions, stream.mode) == ("sequences", 3, "sliding")
    given = StreamSpec(2.0, 0.25, "windows", decisions=5)
    assert effective_stream(_spec().for_run(8, "resample", ["a", "b"]).with_stream(given)) == given


def test_a_stream_needs_the_frame_rate_and_m():
    dataset = _spec()  # no graph yet
    with pytest.raises(SpecError, match=r"graph\.num_nodes is None; a stream needs the model's M"):
        effective_stream(dataset)
    unknown_rate = unknown_spec(2, ["a", "b"]).for_run(8, "resample", ["a", "b"])
    with pytest.raises(SpecError, match=r"input\.frame_rate_hz is 'unknown'; a stream needs"):
        effective_stream(unknown_rate)
    with pytest.raises(SpecError, match=r"graph\.num_nodes is 'unknown'"):
        effective_stream(_spec().for_run(UNKNOWN, "resample", ["a", "b"]))


def test_inspect_prints_the_stream_section():
    from lgrin_edge.inspect import summary

    spec = _spec().for_run(8, "resample", ["a", "b"])
    assert summary(spec).splitlines()[-1] == "stream         none"
    with_stream = spec.with_stream(StreamSpec(2.0, 0.5, "windows"))
    assert summary(with_stream).splitlines()[-1] == (
        "stream         sliding, window 2 s (200 frames), hop 0.5 s (50 frames), mean of the last 3 "
        "decisions, model trained on windows"
    )
