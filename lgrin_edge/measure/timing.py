"""Latency beyond the median: nearest-rank percentiles and the spread of a benchmark's round times.

pytest-benchmark times rounds (one call each, or the mean of ``iterations`` calls where it calibrated
several) and writes every round's time to its JSON (``stats.data``); its own stats stop at the quartiles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

TAILS = (90, 99)


def percentile(times: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile: the smallest time that ``q`` percent of rounds do not exceed
    (always one of the measured times; with fewer than 100 rounds, p99 is the slowest)."""
    if not times:
        raise ValueError("no times to take a percentile of")
    if not 0 < q <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {q}")
    ordered = sorted(times)
    # q * n first: 0.9 * 100 is 90.00000000000001 in floating point, 90 * 100 / 100 is 90
    return ordered[max(1, math.ceil(q * len(ordered) / 100)) - 1]


def tails(times: Sequence[float]) -> dict[str, float]:
    """``p90_s`` and ``p99_s`` of round times in seconds (empty without times)."""
    return {f"p{q}_s": percentile(times, q) for q in TAILS} if times else {}


def summary(stats: dict, info: dict) -> dict:
    """Median, p90, p99, interquartile range, min, max (seconds) and rounds of one benchmark, from its
    JSON ``stats`` (the round times where present, else the percentiles recorded in ``info``, its
    extra_info). What neither holds is None."""
    times = stats.get("data")
    recorded = (
        tails(times) if isinstance(times, list) and times else {k: info.get(k) for k in ("p90_s", "p99_s")}
    )
    iqr = stats.get("iqr")
    if iqr is None and stats.get("q1") is not None and stats.get("q3") is not None:
        iqr = stats["q3"] - stats["q1"]
    return {
        "median_s": float(stats["median"]),
        **{f"p{q}_s": recorded.get(f"p{q}_s") for q in TAILS},
        "iqr_s": iqr,
        "min_s": stats.get("min"),
        "max_s": stats.get("max"),
        "rounds": stats.get("rounds", len(times) if isinstance(times, list) else None),
    }
