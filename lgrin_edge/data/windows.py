"""Sliding windows: training on the pieces of a sequence that a live stream classifies.

A stream decides on the latest W frames every H frames (the spec's ``stream`` section). A model meant
for such a stream is trained on the same pieces: each sequence of T frames is cut into windows of W
frames starting at frames 0, H, 2H, ... while start + W <= T (a sequence shorter than W is one window,
itself); each window then becomes graphs by the graph rule (graph.py) and carries its sequence's label,
group and split. Folds are made over sequences (splits.py), so a sequence's windows stay in one part.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lgrin_edge.cli import UserError
from lgrin_edge.options_cli import cli
from lgrin_edge.spec import UNKNOWN, FeatureSpec, StreamSpec

# How a sequence's decision is made from its windows' outputs in the reported per-sequence accuracy: the
# mean of the windows' class probabilities, as the stream's "mean" smoothing combines decisions.
VOTE = "mean-probability"
_SECONDS = {"low": 0.0, "strict": True, "metavar": "SECONDS"}


@dataclass(frozen=True)
class WindowOptions:
    """The train command's window options (options_cli.py); both absent: whole sequences."""

    window: float | None = field(
        default=None,
        metadata=cli(
            "train on sliding windows of this many seconds cut from every sequence (for a live stream; "
            "needs the dataset's frame rate and --hop); M defaults to the window's frames",
            **_SECONDS,
        ),
    )
    hop: float | None = field(
        default=None, metadata=cli("with --window: seconds between the starts of windows", **_SECONDS)
    )


@dataclass(frozen=True)
class Windows:
    """Windows of ``stream.window_s`` seconds every ``stream.hop_s`` seconds of frames at ``rate_hz``:
    W and H frames as the stream counts them (:meth:`StreamSpec.frames`)."""

    stream: StreamSpec
    rate_hz: float

    def __post_init__(self) -> None:
        seconds = (self.stream.window_s, self.stream.hop_s)
        for name, s, n in zip(("window", "hop"), seconds, self.stream.frames(self.rate_hz), strict=True):
            if n < 1:
                raise UserError(
                    f"--{name} {s:g} s is 0 frames at {self.rate_hz:g} frames/s; it needs at least one "
                    f"frame (more than {0.5 / self.rate_hz:g} s)"
                )

    @property
    def size(self) -> int:
        """W, frames per window."""
        return self.stream.frames(self.rate_hz)[0]

    @property
    def step(self) -> int:
        """H, frames between window starts."""
        return self.stream.frames(self.rate_hz)[1]

    def starts(self, length: int) -> range:
        """The first frame of each window of a sequence of ``length`` frames (0 alone when shorter)."""
        return range(0, max(length - self.size, 0) + 1, self.step)

    def cut(self, seq: np.ndarray) -> list[np.ndarray]:
        """A sequence (T, P) as its windows (W, P) each, or (T, P) alone when T < W."""
        return [seq[s : s + self.size] for s in self.starts(len(seq))]

    def to_dict(self) -> dict[str, float | int]:
        """What config.json and metrics.json record."""
        return {
            "window_s": self.stream.window_s,
            "hop_s": self.stream.hop_s,
            "frame_rate_hz": self.rate_hz,
            "window_frames": self.size,
            "hop_frames": self.step,
        }

    def describe(self) -> str:
        return (
            f"windows of {self.size} frames ({self.stream.window_s:g} s) every {self.step} frames "
            f"({self.stream.hop_s:g} s) at {self.rate_hz:g} frames/s"
        )


def windows_for(window_s: float | None, hop_s: float | None, spec: FeatureSpec) -> Windows | None:
    """The windows --window/--hop ask for on data described by ``spec``, or None without --window."""
    check_window_options(window_s, hop_s)
    if window_s is None:
        return None
    if spec.frame_rate_hz == UNKNOWN:
        raise UserError(
            "--window needs the frames' rate, and the dataset's feature spec gives input.frame_rate_hz "
            f"{UNKNOWN!r} (docs/data-format.md: an npz's feature_spec)"
        )
    return Windows(StreamSpec(float(window_s), float(hop_s), "windows"), float(spec.frame_rate_hz))


def check_window_options(window_s: float | None, hop_s: float | None) -> None:
    """Refuse --hop without --window and --window without --hop (before any data is read)."""
    if window_s is None and hop_s is not None:
        raise UserError("--hop applies with --window only")
    if window_s is not None and hop_s is None:
        raise UserError("--window needs --hop SECONDS (the seconds between the starts of windows)")


def sequence_vote(logits: np.ndarray, sequence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each sequence's decision from its windows' logits (G, C): the class of the highest mean softmax
    probability (:data:`VOTE`; the first class on ties). Returns the sequences (sorted) and decisions."""
    z = logits.astype(np.float64)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    ids, which = np.unique(sequence, return_inverse=True)
    total = np.zeros((len(ids), p.shape[1]))
    np.add.at(total, which, p)
    return ids, (total / np.bincount(which)[:, None]).argmax(1)
