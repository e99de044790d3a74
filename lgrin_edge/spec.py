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
- ``stream``: reserved (null).

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
            "stream": None,
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


def _fields(d: dict) -> dict[str, Any]:
    """The constructor's arguments from a document (KeyError/TypeError on a wrong shape)."""
    ext, inp, graph = d["extractor"], d["input"], d.get("graph")
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
    }


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
