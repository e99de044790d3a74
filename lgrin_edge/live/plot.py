"""The timeline of a live run as a PNG: each class's probability at every decision, the smoothed label,
and below them the input (the waveform, or every sensor channel) on the same time axis."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from lgrin_edge.atomic import atomic_path
from lgrin_edge.live.stream import Decision

_POINTS = 20000  # samples of the input drawn at most (a long recording is thinned evenly)


def timeline(
    path: Path,
    decisions: Sequence[Decision],
    names: Sequence[str],
    time: np.ndarray,
    values: np.ndarray,
    channels: Sequence[str],
    title: str,
) -> None:
    """Write the plot to ``path`` (staged, then renamed). ``time`` (n,) seconds of the input's samples,
    ``values`` (n, k) its ``channels``."""
    fig, (top, bottom) = plt.subplots(
        2, 1, sharex=True, figsize=(10, 5.5), gridspec_kw={"height_ratios": [3, 2]}
    )
    colours = [f"C{c % 10}" for c in range(len(names))]
    if decisions:
        t = np.array([d.time_s for d in decisions])
        probs = np.stack([d.probabilities for d in decisions])
        for c, name in enumerate(names):
            top.plot(t, probs[:, c], marker=".", linewidth=1, color=colours[c], label=name)
        # the smoothed label as a band above, each decision's colour until the next decision
        ends = np.r_[t[1:], t[-1] + (t[-1] - t[-2] if len(t) > 1 else 1.0)]
        for d, end in zip(decisions, ends, strict=True):
            top.axvspan(d.time_s, end, ymin=1.04 / 1.12, ymax=1.0, color=colours[d.smoothed], linewidth=0)
    top.set_ylim(0, 1.12)
    top.set_yticks([0, 0.25, 0.5, 0.75, 1])
    top.set_ylabel("probability (band: smoothed label)")
    top.set_title(title, fontsize=9)
    top.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7)
    step = max(1, len(time) // _POINTS)
    v = np.asarray(values).reshape(len(time), -1)
    if v.dtype == np.int16:
        v = v / 32768.0  # full scale, as the front-end reads it
    for c in range(v.shape[1]):
        bottom.plot(time[::step], v[::step, c], linewidth=0.6, label=channels[c] if c < len(channels) else "")
    if v.shape[1] > 1:
        bottom.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=6)
    bottom.set_xlabel("time (s)")
    bottom.set_ylabel("input")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
