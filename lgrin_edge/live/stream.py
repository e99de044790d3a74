"""A model on a live signal: frames in, a decision every hop (the stream definition, docs/live.md).

Frames come from the spec's front-end (PCM through lgrin-speech, motion samples through the motion
rule) or ready-made; a ring keeps the latest W of them. Frames count from 0 as they arrive: when their
number n reaches W + k H (k = 0, 1, ...) the W frames held become one graph by the graph rule
(sequence_to_graphs; the ``chunk`` policy takes its first graph), the model gives logits, and softmax
gives the decision's probabilities, smoothed by the mean over the last S decisions. At the end (flush)
a stream that made no decision at all makes one over the n < W frames it holds. An utterance stream
(audio) instead cuts the frames at voice activity (:mod:`lgrin_edge.live.vad`) and makes one decision
per utterance, over its frames. export/src's lgrin_stream computes the same, decision for decision.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from lgrin_edge.cli import UserError
from lgrin_edge.data.graph import sequence_to_graphs
from lgrin_edge.frontend.graph_rule import FrameRing
from lgrin_edge.live.vad import Cutter, Energies
from lgrin_edge.spec import UNKNOWN, FeatureSpec, SpecError, StreamSpec, default_sliding, effective_stream

Classify = Callable[[np.ndarray], np.ndarray]  # (1, M, P) float32 graph -> (1, C) logits
SOURCES = ("pcm", "motion", "frames")


@dataclass(frozen=True)
class Decision:
    """One decision: at ``time_s`` (= ``frames`` / frame rate, the end of its window), the class
    ``label`` with ``probability``, and the smoothed class with its mean probability."""

    time_s: float
    frames: int  # the window's end: n, frames counted so far (an utterance: n after its last speech frame)
    label: int
    probability: float
    smoothed: int
    smoothed_probability: float
    probabilities: np.ndarray  # (C,) float32, softmax of the logits

    def line(self, names: Sequence[str]) -> str:
        """The printed line, as C's ``printf("%.2f %s %.3f %s\\n", ...)`` writes it (no newline)."""
        # format's f is printf's: both round the exact binary value
        return f"{self.time_s:.2f} {names[self.label]} {self.probability:.3f} {names[self.smoothed]}"


def softmax(logits: np.ndarray) -> np.ndarray:
    """float32 exp(l - max) / sum, the sum taken in order (as lgrin_softmax does)."""
    z = np.exp(np.asarray(logits, np.float32) - np.max(logits)).astype(np.float32)
    total = np.float32(0)
    for v in z:
        total = np.float32(total + v)
    return (z / total).astype(np.float32)


def label_names(spec: FeatureSpec, num_classes: int) -> list[str]:
    """The spec's class names, or the class indices where it names none."""
    return list(spec.classes) if len(spec.classes) == num_classes else [str(c) for c in range(num_classes)]


@dataclass(frozen=True)
class Plan:
    """A stream in frames: what the engine runs (from the spec's effective stream and any overrides)."""

    stream: StreamSpec
    frame_rate_hz: float
    window: int  # W
    hop: int  # H
    num_nodes: int  # M
    policy: str  # the graph rule for W > M ("chunk": its first graph is the decision's)
    min_speech: int = 0  # an utterance stream (stream.vad; W: its longest utterance, H: 0), in frames
    hangover: int = 0
    threshold: float = 0.0  # the mean square above which a frame is speech


def plan(
    spec: FeatureSpec, window_s: float | None = None, hop_s: float | None = None, smooth: int | None = None
) -> Plan:
    """The spec's effective stream with the given overrides, in frames; one-line :class:`UserError` for a
    stream this spec cannot run. A window or hop override makes an utterance stream the default sliding
    one (with the overrides)."""
    stream = effective_stream(spec)
    if stream.vad is not None and (window_s is not None or hop_s is not None):
        stream = default_sliding(spec)
    changes = {"window_s": window_s, "hop_s": hop_s, "decisions": smooth}
    stream = replace(stream, **{k: v for k, v in changes.items() if v is not None})
    rate = float(spec.frame_rate_hz)
    w, h = stream.frames(rate)
    lengths = {"window": (w, "window_s"), "hop": (h, "hop_s")}
    if stream.vad is not None:
        _, g, w = stream.vad.frames(rate)
        lengths = {"hangover": (g, "hangover_s"), "longest utterance": (w, "max_utterance_s")}
    for name, (frames, field) in lengths.items():
        if frames < 1:
            seconds = getattr(stream.vad or stream, field)
            raise SpecError(f"a {name} of {seconds:g} s is less than one frame at {rate:g} frames per second")
    assert spec.graph is not None and isinstance(spec.graph.num_nodes, int)  # effective_stream checked
    m, policy = spec.graph.num_nodes, spec.graph.longer
    if w > m and policy == UNKNOWN:
        what = "an utterance of up to" if stream.vad is not None else "a window of"
        raise SpecError(
            f"{what} {w} frames is longer than the model's M = {m} and the spec's graph.longer is "
            f"{UNKNOWN!r}: use a window of at most {m / rate:g} s"
        )
    # with W <= M the rule for longer sequences never applies: any known one stands for "unknown"
    out = Plan(stream, rate, w, h, m, "resample" if policy == UNKNOWN else policy)
    if stream.vad is None:
        return out
    return replace(
        out,
        min_speech=stream.vad.frames(rate)[0],
        hangover=lengths["hangover"][0],
        threshold=stream.vad.threshold(),
    )


def make_frontend(spec: FeatureSpec, source: str, input_rate: int | None) -> object:
    """The front-end that turns ``source`` input into the spec's frames (None for ready frames): an
    object with ``push`` (and ``flush`` where the front-end holds frames back); one-line UserError where
    the spec's input cannot come from ``source``."""
    if source == "frames":
        return None
    if source == "motion":
        from lgrin_edge.frontend.motion import MotionSpec, identity
        from lgrin_edge.frontend.motion import Stream as MotionStream

        if spec.input_kind != "motion":
            raise UserError(f"the model takes {spec.input_kind} input (input.kind), not motion samples")
        p = spec.num_features
        # the channels in the spec's order, as they come; any gap bridged; frame 0 at the first sample
        return MotionStream(MotionSpec(float(spec.frame_rate_hz), p, identity(p), max_gap=0.0))
    from lgrin_edge.frontend.spec import EXTRACTOR, SpeechSpec
    from lgrin_edge.frontend.speech import Stream as SpeechStream

    if spec.input_kind != "audio" or spec.extractor_id != EXTRACTOR:
        raise UserError(
            f"the model's frames come from {spec.extractor_id!r} ({spec.input_kind} input), not from the "
            f"{EXTRACTOR} front-end: it cannot run on PCM (push ready frames instead)"
        )
    rate = input_rate if input_rate is not None else spec.sample_rate_hz
    if not isinstance(rate, int) or isinstance(rate, bool):
        raise UserError(f"a PCM stream needs its sample rate in whole Hz, got {rate!r}")
    front = SpeechSpec.from_dict(spec.params)
    if front.width != spec.num_features:
        raise UserError(
            f"the spec's front-end gives {front.width} values a frame, its features list P = "
            f"{spec.num_features}"
        )
    return SpeechStream(rate, front)


class Stream:
    """Push PCM, motion samples or frames in chunks of any size; each push returns the decisions it
    completed, :meth:`flush` those of the end. The decisions never depend on how the input is cut."""

    def __init__(
        self,
        spec: FeatureSpec,
        classify: Classify,
        input_rate: int | None = None,
        window_s: float | None = None,
        hop_s: float | None = None,
        smooth: int | None = None,
    ) -> None:
        self.spec = spec
        self.plan = plan(spec, window_s, hop_s, smooth)
        self.classify = classify
        self.input_rate = input_rate
        self.ring = FrameRing(self.plan.window, spec.num_features)
        self.frames = 0  # n
        self.decisions = 0
        self._recent: deque[np.ndarray] = deque(maxlen=self.plan.stream.decisions)
        self._source: str | None = None
        self._frontend: object = None
        self._flushed = False
        self._energies: Energies | None = None  # an utterance stream's, made with its front-end
        self._cutter = None
        if self.plan.stream.vad is not None:
            pl = self.plan
            self._cutter = Cutter(pl.min_speech, pl.hangover, pl.window, spec.num_features)

    # -- input ---------------------------------------------------------------------------------------

    def open(self, source: str) -> None:
        """Fix the input (``pcm``, ``motion`` or ``frames``) and make its front-end: a one-line
        :class:`UserError` where the spec's model cannot take it. The pushes call it."""
        if self._flushed:
            raise UserError("push after flush: start a new stream")
        if self._source == source:
            return
        if self._source is not None:
            raise UserError(f"this stream takes {self._source}, not {source}: start a new stream")
        if source not in SOURCES:
            raise UserError(f"unknown input {source!r}; one of {', '.join(SOURCES)}")
        if self._cutter is not None and source != "pcm":
            raise UserError(
                f"an utterance stream measures voice activity on PCM: it takes pcm, not {source} (a window "
                "or hop makes it a sliding stream)"
            )
        self._frontend = make_frontend(self.spec, source, self.input_rate)
        self._source = source
        if self._cutter is not None:
            front = self._frontend.spec  # type: ignore[attr-defined]
            rate = self._frontend.rate  # type: ignore[attr-defined]
            self._energies = Energies(rate, front.sample_rate, front.hop, front.frame_length)

    def push_pcm(self, pcm: np.ndarray) -> list[Decision]:
        """Mono samples (int16, or float in [-1, 1]) at ``input_rate`` (default: the spec's rate)."""
        self.open("pcm")
        if self._energies is not None:
            from lgrin_edge.frontend.speech import samples

            self._energies.push(samples(pcm))
        return self._take(self._frontend.push(pcm))  # type: ignore[attr-defined]

    def push_motion(self, time: np.ndarray, values: np.ndarray) -> list[Decision]:
        """Timestamps (n,) in seconds and (n, P) values in the spec's channel order."""
        self.open("motion")
        return self._take(self._frontend.push(time, values))  # type: ignore[attr-defined]

    def push_frames(self, frames: np.ndarray) -> list[Decision]:
        """(k, P) frames, as the spec's extractor gives them."""
        self.open("frames")
        return self._take(frames)

    def _take(self, frames: np.ndarray) -> list[Decision]:
        """Count the frames in, deciding at every n = W + k H."""
        f = np.asarray(frames, np.float32)
        p = self.spec.num_features
        if f.ndim != 2 or f.shape[1] != p:
            raise UserError(f"frames must be (k, {p}), got shape {f.shape}")
        if self._cutter is not None:
            return self._cut(f)
        out: list[Decision] = []
        w, h = self.plan.window, self.plan.hop
        at = 0
        while at < len(f):
            due = w if self.frames < w else w + ((self.frames - w) // h + 1) * h  # the next n to decide at
            take = min(len(f) - at, due - self.frames)
            self.ring.push(f[at : at + take])
            self.frames += take
            at += take
            if self.frames == due:
                out.append(self._decide())
        return out

    def flush(self) -> list[Decision]:
        """The end: the front-end's last frames, then one decision over the frames held if the stream
        made none at all."""
        out: list[Decision] = []
        if self._flushed:
            return out
        flush = getattr(self._frontend, "flush", None)
        if flush is not None:
            out += self._take(flush())
        self._flushed = True
        if self._cutter is not None:
            return out + self._utterance(self._cutter.end())
        if self.decisions == 0 and self.frames >= 1:
            out.append(self._decide())
        return out

    def _cut(self, frames: np.ndarray) -> list[Decision]:
        """An utterance stream: each frame through the voice-activity rule, a decision per utterance."""
        assert self._cutter is not None and self._energies is not None  # open("pcm") made them
        out: list[Decision] = []
        for frame, energy in zip(frames, self._energies.take(len(frames)), strict=True):
            self.frames += 1
            out += self._utterance(self._cutter.push(frame, energy > self.plan.threshold))
        return out

    def _utterance(self, ended: tuple[np.ndarray, int] | None) -> list[Decision]:
        """The decision of an ended utterance: none where none ended or it was dropped."""
        if ended is None or len(ended[0]) == 0:
            return []
        kept, silence = ended
        return [self._decide(sequence_to_graphs(kept, self.plan.num_nodes, self.plan.policy)[0], silence)]

    # -- decisions -----------------------------------------------------------------------------------

    def _decide(self, graph: np.ndarray | None = None, before: int = 0) -> Decision:
        """The decision on ``graph`` (default: the ring's), ``before`` frames before n."""
        if graph is None:
            graph = self.ring.graph(self.plan.num_nodes, self.plan.policy)
        logits = np.asarray(self.classify(graph[None]), np.float32).reshape(-1)
        probs = softmax(logits)
        self._recent.append(probs)
        total = np.zeros_like(probs)
        for p in self._recent:  # oldest first, in float32, as the C stream adds them
            total = (total + p).astype(np.float32)
        mean = (total / np.float32(len(self._recent))).astype(np.float32)
        label, smoothed = int(np.argmax(probs)), int(np.argmax(mean))
        self.decisions += 1
        return Decision(
            time_s=(self.frames - before) / self.plan.frame_rate_hz,
            frames=self.frames - before,
            label=label,
            probability=float(probs[label]),
            smoothed=smoothed,
            smoothed_probability=float(mean[smoothed]),
            probabilities=probs,
        )
