"""The feature spec: what a model's input is, from the raw signal to the (M, P) graph it is fed.

One small versioned JSON document travels with every model: written into the dataset file by
``lgrin_edge.features`` (or given by a bundled dataset), carried by training into config.json, and put by
the export into manifest.json, samples.npz and inside every artifact that has a place for it (key
:data:`KEY`). ``python -m lgrin_edge.inspect`` prints it from any one of them. Fields (docs/data-format.md):

- ``extractor``: ``id``, ``version`` and every parameter of what turned raw recordings into frames;
- ``features``: the P frame values in order, each with its unit;
- ``input``: what the device feeds the extractor (kind, sample rate, channels with units, and the frame
  rate of the model's nodes);
- ``graph``: M and how a sequence of T frames becomes M nodes (shorter: cyclic padding; longer: the
  run's ``long_policy``); null in a dataset file, where training has not chosen M yet;
- ``normalisation``: "inside-model" once a model exists (the device feeds raw features), with the rule;
- ``classes``: the names of the model's outputs, in order;
- ``stream``: how the model runs on a live signal (:class:`StreamSpec`: a window of frames every hop, or
  one decision per utterance cut by voice activity (:class:`Vad`); decisions smoothed); null: the default
  stream (:func:`effective_stream`, docs/live.md).

What nobody knows is the string "unknown", never a guess.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from typing import Any

from lgrin_edge.cli import UserError

SPEC_VERSION = 1
KEY = "lgrin_edge.feature_spec"  # its name inside ONNX, TFLite and ExecuTorch files
NPZ_KEY = "feature_spec"  # its key in npz files and in config.json / manifest.json
UNKNOWN = "unknown"
INPUT_KINDS = ("audio", "motion", "landmarks", "frames", UNKNOWN)
SHORTER = "cyclic-pad"
INSIDE_MODEL = "inside-model"
# How a sequence of T frames becomes M nodes (lgrin_edge/data/graph.py), in words a device programmer can
# implement; frames and nodes count from 0.
SHORTER_RULE = "T < M: node i = frame i mod T (frames repeated from the start)"
LONGER_RULES = {
    "resample": "T > M: the nearest frames at round(linspace(0, T - 1, M)): node i = frame rint(i * s) "
    "with s = (T - 1) / (M - 1) in float64 and rint rounding half to even, the last node frame T - 1 "
    "(M = 1: frame 0)",
    "truncate": "T > M: node i = frame i (the first M frames)",
    "chunk": "T > M: windows of M frames starting at frames 0, M, 2M, ...; the last one cyclically "
    "padded; each window is one input, classified on its own",
    UNKNOWN: UNKNOWN,
}
NORMALISATION_RULE = (
    "the model's first operation is x * scale + shift per feature, i.e. (x - mean) / std with the mean "
    "and population standard deviation of each feature over the training graphs (std below 1e-8 taken "
    "as 1); feed the features as the extractor gives them"
)
STREAM_MODES = ("sliding", "utterance")
SMOOTHING_KINDS = ("mean",)
TRAINED_ON = ("windows", "sequences")
_STREAM_KEYS = {
    "sliding": ("mode", "window_s", "hop_s", "smoothing", "trained_on"),
    "utterance": ("mode", "vad", "smoothing", "trained_on"),
}
_SMOOTHING_KEYS = ("kind", "decisions")
_VAD_KEYS = ("threshold_db", "min_speech_s", "hangover_s", "max_utterance_s")
DEFAULT_SMOOTHING = 3  # decisions averaged by the default (sliding) stream
_LIMIT = 1 << 20  # bytes of JSON: far above any real spec, low enough for a header field and a device


class SpecError(UserError):
    """A feature spec that is not one: the message names the field."""


@dataclass(frozen=True)
class Named:
    """A feature or an input channel: its name and its unit."""

    name: str
    unit: str = UNKNOWN

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "unit": self.unit}


@dataclass(frozen=True)
class Graph:
    """M and the rule for sequences of other lengths (``longer`` is a long_policy or "unknown")."""

    num_nodes: int | str
    longer: str = UNKNOWN

    def to_dict(self) -> dict[str, Any]:
        return {
            "num_nodes": self.num_nodes,
            "shorter": SHORTER,
            "shorter_rule": SHORTER_RULE,
            "longer": self.longer,
            "longer_rule": LONGER_RULES[self.longer],
        }


@dataclass(frozen=True)
class Vad:
    """Voice activity of an utterance stream: a frame is speech when the mean square of its PCM is above
    ``threshold_db`` (dB relative to a mean square of 1); ``hangover_s`` of non-speech ends an utterance,
    so does ``max_utterance_s``; one with less than ``min_speech_s`` of speech is dropped."""

    threshold_db: float = -40.0
    min_speech_s: float = 0.3
    hangover_s: float = 0.3
    max_utterance_s: float = 10.0

    def problem(self) -> str:
        """What makes this object impossible, or ''."""
        t = self.threshold_db
        if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t):
            return f"stream.vad.threshold_db must be a finite number, got {t!r}"
        m = self.min_speech_s
        if not (_positive(m) or (not isinstance(m, bool) and m in (0, 0.0))):
            return f"stream.vad.min_speech_s must be a number of seconds >= 0, got {m!r}"
        for name in ("hangover_s", "max_utterance_s"):
            value = getattr(self, name)
            if not _positive(value):
                return f"stream.vad.{name} must be a positive number of seconds, got {value!r}"
        return ""

    def threshold(self) -> float:
        """The mean square above which a frame is speech: 10^(threshold_db / 10) (libm pow, as C)."""
        return 10.0 ** (self.threshold_db / 10.0)

    def frames(self, frame_rate_hz: float) -> tuple[int, int, int]:
        """(min speech, hangover, max utterance) in frames, each rounded half to even."""
        return tuple(  # type: ignore[return-value]
            round(v * frame_rate_hz) for v in (self.min_speech_s, self.hangover_s, self.max_utterance_s)
        )

    def to_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in _VAD_KEYS}


@dataclass(frozen=True)
class StreamSpec:
    """The ``stream`` section. Mode "sliding": every ``hop_s`` seconds a decision on the latest
    ``window_s`` seconds of frames; mode "utterance": one decision per utterance that ``vad`` cuts (no
    window or hop: both None). Either way smoothed by the mean of the last ``decisions`` decisions'
    probabilities. ``trained_on`` says whether the model learnt from such windows ("windows") or from whole
    sequences ("sequences")."""

    window_s: float | None
    hop_s: float | None
    trained_on: str
    decisions: int = DEFAULT_SMOOTHING
    mode: str = "sliding"
    smoothing: str = "mean"
    vad: Vad | None = None

    def __post_init__(self) -> None:
        problem = self.problem()
        if problem:
            raise SpecError(f"feature spec: {problem}")

    @classmethod
    def utterance(
        cls, vad: Vad | None = None, trained_on: str = "sequences", decisions: int = 1
    ) -> StreamSpec:
        """An utterance stream (the default one: :class:`Vad`'s defaults, smoothing over 1 decision)."""
        return cls(None, None, trained_on, decisions, "utterance", vad=vad or Vad())

    def problem(self) -> str:
        """What makes this section impossible, or ''."""
        if self.mode not in STREAM_MODES:
            return f"stream.mode {self.mode!r} is not one of {', '.join(STREAM_MODES)}"
        problem = self._mode_problem()
        if problem:
            return problem
        if self.smoothing not in SMOOTHING_KINDS:
            return f"stream.smoothing.kind {self.smoothing!r} is not one of {', '.join(SMOOTHING_KINDS)}"
        d = self.decisions
        if isinstance(d, bool) or not isinstance(d, int) or d < 1:
            return f"stream.smoothing.decisions must be an integer >= 1, got {d!r}"
        if self.trained_on not in TRAINED_ON:
            return f"stream.trained_on {self.trained_on!r} is not one of {', '.join(TRAINED_ON)}"
        return ""

    def _mode_problem(self) -> str:
        if self.mode == "utterance":
            if self.window_s is not None or self.hop_s is not None:
                return "an utterance stream has no window_s or hop_s (its vad cuts the utterances)"
            if not isinstance(self.vad, Vad):
                return f"stream.vad must be an object for mode utterance, got {self.vad!r}"
            return self.vad.problem()
        if self.vad is not None:
            return "stream.vad is a field of mode utterance only"
        for name in ("window_s", "hop_s"):
            value = getattr(self, name)
            if not _positive(value):
                return f"stream.{name} must be a positive number of seconds, got {value!r}"
        return ""

    def frames(self, frame_rate_hz: float) -> tuple[int, int]:
        """(W, H): the window and the hop in frames, each seconds x frame rate rounded half to even; an
        utterance stream: (U, 0), U the longest utterance (:meth:`Vad.frames`)."""
        if self.vad is not None:
            return self.vad.frames(frame_rate_hz)[2], 0
        assert self.window_s is not None and self.hop_s is not None  # problem() checked
        return round(self.window_s * frame_rate_hz), round(self.hop_s * frame_rate_hz)

    def to_dict(self) -> dict[str, Any]:
        smoothing = {"kind": self.smoothing, "decisions": self.decisions}
        if self.vad is not None:
            return {
                "mode": self.mode,
                "vad": self.vad.to_dict(),
                "smoothing": smoothing,
                "trained_on": self.trained_on,
            }
        return {
            "mode": self.mode,
            "window_s": self.window_s,
            "hop_s": self.hop_s,
            "smoothing": smoothing,
            "trained_on": self.trained_on,
        }

    @classmethod
    def from_dict(cls, d: object) -> StreamSpec:
        """The section of a document (KeyError/TypeError on a wrong shape, SpecError on a bad value)."""
        if not isinstance(d, dict) or not isinstance(d["smoothing"], dict):
            raise TypeError("stream must be null or an object with an object 'smoothing'")
        mode, smoothing = d["mode"], d["smoothing"]
        vad = d["vad"] if mode == "utterance" else None
        if mode == "utterance" and not isinstance(vad, dict):
            raise TypeError("stream.vad must be an object")
        for where, fields, known in (
            ("stream.", d, _STREAM_KEYS.get(mode, _STREAM_KEYS["sliding"])),
            ("stream.smoothing.", smoothing, _SMOOTHING_KEYS),
            ("stream.vad.", vad or {}, _VAD_KEYS),
        ):
            extra = sorted(set(fields) - set(known))
            if extra:
                raise SpecError(f"feature spec: {where}{extra[0]} is not a field of the stream section")
        return cls(
            window_s=None if vad is not None else d["window_s"],
            hop_s=None if vad is not None else d["hop_s"],
            trained_on=d["trained_on"],
            decisions=smoothing["decisions"],
            mode=mode,
            smoothing=smoothing["kind"],
            vad=None if vad is None else Vad(**{k: vad[k] for k in _VAD_KEYS}),
        )

    def describe(self, frame_rate_hz: float | str) -> str:
        """One line for people (inspect, live)."""
        rate = float(frame_rate_hz) if _positive(frame_rate_hz) else None
        tail = f"{self.smoothing} of the last {self.decisions} decisions, model trained on {self.trained_on}"
        if self.vad is not None:
            v = self.vad
            u = f" ({self.frames(rate)[0]} frames)" if rate else ""
            return (
                f"utterance, speech above {v.threshold_db:g} dB, at least {v.min_speech_s:g} s of it, ended "
                f"by {v.hangover_s:g} s of silence or at {v.max_utterance_s:g} s{u}, {tail}"
            )
        w, h = ("", "")
        if rate:
            w, h = (f" ({n} frames)" for n in self.frames(rate))
        return f"{self.mode}, window {self.window_s:g} s{w}, hop {self.hop_s:g} s{h}, {tail}"


@dataclass(frozen=True)
class FeatureSpec:
    """The document (module docstring). Numbers that nobody published are :data:`UNKNOWN`."""

    extractor_id: str
    extractor_version: str
    params: dict[str, Any]
    features: tuple[Named, ...]
    input_kind: str = UNKNOWN
    sample_rate_hz: float | str = UNKNOWN
    channels: tuple[Named, ...] | str = UNKNOWN
    frame_rate_hz: float | str = UNKNOWN
    classes: tuple[str, ...] = ()
    graph: Graph | None = None
    normalisation: str | None = None
    stream: StreamSpec | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", tuple(self.features))
        object.__setattr__(self, "classes", tuple(self.classes))
        if not isinstance(self.channels, str):
            object.__setattr__(self, "channels", tuple(self.channels))
        problem = self.problem()
        if problem:
            raise SpecError(f"feature spec: {problem}")

    @property
    def num_features(self) -> int:
        return len(self.features)

    def problem(self) -> str:
        """What makes this spec impossible, or ''."""
        if not self.extractor_id or not isinstance(self.extractor_id, str):
            return "extractor.id must be a non-empty string"
        if not self.features:
            return "features is empty"
        names = [f.name for f in self.features if f.name != UNKNOWN]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            return f"features names {twice[0]!r} more than once"
        if isinstance(self.channels, str) and self.channels != UNKNOWN:
            return f"input.channels must be a list or {UNKNOWN!r}, got {self.channels!r}"
        if self.input_kind not in INPUT_KINDS:
            return f"input.kind {self.input_kind!r} is not one of {', '.join(INPUT_KINDS)}"
        for name in ("sample_rate_hz", "frame_rate_hz"):
            value = getattr(self, name)
            if value != UNKNOWN and not _positive(value):
                return f"input.{name} must be a positive number or {UNKNOWN!r}, got {value!r}"
        if len(set(self.classes)) != len(self.classes):
            return "classes names a class more than once"
        if self.graph is not None:
            m = self.graph.num_nodes
            if m != UNKNOWN and (isinstance(m, bool) or not isinstance(m, int) or m < 1):
                return f"graph.num_nodes must be an integer >= 1 or {UNKNOWN!r}, got {m!r}"
            if self.graph.longer not in LONGER_RULES:
                return f"graph.longer {self.graph.longer!r} is not one of {', '.join(LONGER_RULES)}"
        if self.normalisation not in (None, INSIDE_MODEL, UNKNOWN):
            return f"normalisation {self.normalisation!r} is not {INSIDE_MODEL!r} or {UNKNOWN!r}"
        return self._stream_problem()

    def _stream_problem(self) -> str:
        if self.stream is None:
            return ""
        if not isinstance(self.stream, StreamSpec):
            return f"stream must be a StreamSpec or None, got {type(self.stream).__name__}"
        if self.stream.vad is not None and self.input_kind not in ("audio", UNKNOWN):
            return f"an utterance stream measures voice activity on audio; input.kind is {self.input_kind!r}"
        if not _positive(self.frame_rate_hz):
            return ""  # checked where a stream runs (effective_stream): the rate is not known here
        if self.stream.vad is not None:
            v, frames = self.stream.vad, self.stream.vad.frames(self.frame_rate_hz)[1:]
            names, values = ("vad.hangover_s", "vad.max_utterance_s"), (v.hangover_s, v.max_utterance_s)
        else:
            names, values = ("window_s", "hop_s"), (self.stream.window_s, self.stream.hop_s)
            frames = self.stream.frames(self.frame_rate_hz)
        for name, value, n in zip(names, values, frames, strict=True):
            if n < 1:
                rate = self.frame_rate_hz
                return f"stream.{name} {value!r} s is less than one frame at input.frame_rate_hz {rate:g}"
        return ""

    # -- JSON ------------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        channels = self.channels if isinstance(self.channels, str) else [c.to_dict() for c in self.channels]
        return {
            "spec_version": SPEC_VERSION,
            "extractor": {"id": self.extractor_id, "version": self.extractor_version, "params": self.params},
            "features": [f.to_dict() for f in self.features],
            "input": {
                "kind": self.input_kind,
                "sample_rate_hz": self.sample_rate_hz,
                "channels": channels,
                "frame_rate_hz": self.frame_rate_hz,
            },
            "graph": None if self.graph is None else self.graph.to_dict(),
            "normalisation": self.normalisation,
            "normalisation_rule": NORMALISATION_RULE if self.normalisation == INSIDE_MODEL else None,
            "classes": list(self.classes),
            "stream": None if self.stream is None else self.stream.to_dict(),
        }

    def to_json(self) -> str:
        """Compact JSON, keys in the document's order: the bytes every artifact carries."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> FeatureSpec:
        """Parse and validate; :class:`SpecError` names what is wrong."""
        if len(text) > _LIMIT:
            raise SpecError(f"feature spec: {len(text)} bytes, more than any spec ({_LIMIT})")
        try:
            d = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SpecError(f"feature spec: not JSON ({exc})") from None
        return cls.from_dict(d)

    @classmethod
    def from_dict(cls, d: object) -> FeatureSpec:
        if not isinstance(d, dict):
            raise SpecError("feature spec: expected a JSON object")
        if d.get("spec_version") != SPEC_VERSION:
            raise SpecError(
                f"feature spec: spec_version {d.get('spec_version')!r}; this lgrin-edge reads version "
                f"{SPEC_VERSION} (a newer lgrin-edge may read it)"
            )
        try:
            return cls(**_fields(d))
        except (KeyError, TypeError, AttributeError) as exc:
            raise SpecError(f"feature spec: malformed ({type(exc).__name__}: {exc})") from None

    # -- the stages ------------------------------------------------------------------------------------

    def for_run(self, num_nodes: int | str, long_policy: str | None, classes: list[str]) -> FeatureSpec:
        """This dataset spec as a trained model's: its M, its rule for longer sequences, its classes, and
        normalisation inside the model (every model of the package holds it: models/common.py)."""
        graph = Graph(num_nodes, long_policy or UNKNOWN)
        return replace(self, graph=graph, classes=tuple(classes), normalisation=INSIDE_MODEL)

    def with_stream(self, stream: StreamSpec | None) -> FeatureSpec:
        """This spec with the ``stream`` section (None: the default stream); training on windows sets
        ``StreamSpec(window_s, hop_s, "windows")``."""
        return replace(self, stream=stream)


def _fields(d: dict) -> dict[str, Any]:
    """The constructor's arguments from a document (KeyError/TypeError on a wrong shape)."""
    ext, inp, graph, stream = d["extractor"], d["input"], d.get("graph"), d.get("stream")
    features = tuple(_named(f) for f in d["features"])
    channels = inp["channels"]
    if not isinstance(ext["params"], dict) or not isinstance(ext["version"], str):
        raise TypeError("extractor.params must be an object and extractor.version a string")
    if not isinstance(d["classes"], list) or not all(isinstance(c, str) for c in d["classes"]):
        raise TypeError("classes must be a list of strings")
    return {
        "extractor_id": ext["id"],
        "extractor_version": ext["version"],
        "params": ext["params"],
        "features": features,
        "input_kind": inp["kind"],
        "sample_rate_hz": inp["sample_rate_hz"],
        "channels": channels if isinstance(channels, str) else tuple(_named(c) for c in channels),
        "frame_rate_hz": inp["frame_rate_hz"],
        "classes": tuple(d["classes"]),
        "graph": None if graph is None else Graph(graph["num_nodes"], graph["longer"]),
        "normalisation": d.get("normalisation"),
        "stream": None if stream is None else StreamSpec.from_dict(stream),
    }


def effective_stream(spec: FeatureSpec) -> StreamSpec:
    """The stream ``spec``'s model runs: its section, or where it has none the default: for audio of the
    lgrin-speech front-end (the voice activity is measured on its PCM) the utterance stream
    (``StreamSpec.utterance()``: one decision per utterance, as the model was trained on whole ones),
    for other input :func:`default_sliding`. :class:`SpecError` (one line, naming the field) when the
    spec does not give the frame rate or M, without which no stream can run."""
    if not _positive(spec.frame_rate_hz):
        raise SpecError(
            f"feature spec: input.frame_rate_hz is {spec.frame_rate_hz!r}; a stream needs the frames per "
            "second of the model's input"
        )
    m = None if spec.graph is None else spec.graph.num_nodes
    if not isinstance(m, int):
        raise SpecError(
            f"feature spec: graph.num_nodes is {m if m is None else repr(m)}; a stream needs the model's "
            "M (the spec of a trained model gives it)"
        )
    if spec.stream is not None:
        return spec.stream
    from lgrin_edge.frontend.spec import EXTRACTOR

    if spec.input_kind == "audio" and spec.extractor_id == EXTRACTOR:
        return StreamSpec.utterance()
    return default_sliding(spec)


def default_sliding(spec: FeatureSpec) -> StreamSpec:
    """The default sliding stream of a spec whose frame rate and M are known: a window of M frames, a hop
    of max(1, round(M / 10)) frames, the mean of the last 3 decisions, trained on sequences."""
    assert spec.graph is not None and isinstance(spec.graph.num_nodes, int)
    m, rate = spec.graph.num_nodes, float(spec.frame_rate_hz)  # type: ignore[arg-type]
    return StreamSpec(m / rate, max(1, round(m / 10)) / rate, "sequences")


def _named(d: object) -> Named:
    if not isinstance(d, dict) or not isinstance(d.get("name"), str) or not isinstance(d.get("unit"), str):
        raise TypeError(f"expected {{'name': str, 'unit': str}}, got {d!r}")
    return Named(d["name"], d["unit"])


def _positive(value: object) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    )


def unknown_spec(
    num_features: int, classes: list[str], names: list[str] | None = None, extractor: str = UNKNOWN
) -> FeatureSpec:
    """The spec of data nobody described: ``names`` where the file has them, everything else unknown."""
    names = names if names and len(names) == num_features else [UNKNOWN] * num_features
    return FeatureSpec(
        extractor_id=extractor,
        extractor_version=UNKNOWN,
        params={},
        features=tuple(Named(n) for n in names),
        classes=tuple(classes),
    )


def speech_frontend_spec(speech: dict[str, Any], classes: list[str]) -> FeatureSpec:
    """The spec of frames of the lgrin-speech front-end whose SpeechSpec JSON object is ``speech``
    (lgrin_edge/frontend/spec.py): every parameter, the descriptors and their deltas with units."""
    from lgrin_edge.frontend.spec import SpeechSpec

    front = SpeechSpec.from_dict(speech)
    rate = front.sample_rate
    return FeatureSpec(
        extractor_id=front.extractor,
        extractor_version=str(front.version),
        params=front.to_dict(),
        features=tuple(Named(n, u) for n, u in zip(front.names, front.units, strict=True)),
        input_kind="audio",
        sample_rate_hz=rate,  # other rates are resampled to it first
        channels=(Named("mono", "full scale"),),  # samples in [-1, 1]; the first channel of a file
        frame_rate_hz=rate / front.hop,
        classes=tuple(classes),
    )


def of_config(cfg: dict, dataset: FeatureSpec | None = None) -> tuple[FeatureSpec, bool]:
    """A checkpoint's spec and whether config.json held it. A checkpoint made before runs recorded one
    gets ``dataset`` (the spec of the dataset config.json names, where that is known without the data:
    a bundled one) or "unknown" features, with what config.json does know (classes, M, long_policy)."""
    model = cfg.get("config", {})
    p = model.get("in_features")
    classes = list(cfg.get("classes") or [])
    nodes = cfg.get("num_nodes") or model.get("num_nodes") or UNKNOWN
    if NPZ_KEY in cfg:
        spec = FeatureSpec.from_dict(cfg[NPZ_KEY])
        if p is not None and spec.num_features != p:
            raise SpecError(f"feature spec: names {spec.num_features} features, the model takes {p}")
        if classes and list(spec.classes) != classes:
            raise SpecError("feature spec: its classes differ from the checkpoint's")
        if spec.graph is None or spec.graph.num_nodes != nodes:
            raise SpecError(f"feature spec: its graph does not give the checkpoint's M = {nodes}")
        return spec, True
    if not isinstance(p, int):
        raise SpecError("config.json gives no number of input features (config.in_features)")
    known = dataset is not None and dataset.num_features == p and list(dataset.classes) == classes
    base = dataset if known else unknown_spec(p, classes)
    return base.for_run(nodes, cfg.get("long_policy"), classes), False
