"""The report's section "On-device front-end": what computing a model's input costs on the device, from
the benchmarks of benchmarks/test_frontend.py (extra_info ``kind`` "frontend").

One row per benchmark: the stage (speech at an input rate, motion, the end-to-end decision), what ran it,
the time per hop of input (median and p90 of the rounds, divided by the hops each round processed), the
real-time factor (compute time over the input's duration), the state the stage keeps and its code bytes
on x86-64 and Cortex-M4.
"""

from __future__ import annotations

from lgrin_edge.measure.cells import NA, fmt

SOURCE = "benchmarks/test_frontend.py"
COMMAND = f"pytest --benchmark-only {SOURCE}"
KIND = "frontend"
# The table's order of stages (a stage not listed follows them, by name)
STAGES = (
    "speech, 16 kHz in",
    "speech, 48 kHz in",
    "motion, 100 Hz in, 10 Hz frames",
    "end to end, 0.5 s decision",
)
TFLM = "TensorFlow Lite Micro"  # the start of the runtime of the rows TFLite Micro runs


def duration(seconds: float | None) -> str:
    """A time per hop: microseconds to three significant figures below 1 ms, else milliseconds."""
    if seconds is None:
        return NA
    if seconds < 1e-3:
        us = seconds * 1e6
        return f"{us:.3g} us" if us < 100 else f"{us:.0f} us"
    return f"{seconds * 1e3:.3g} ms"


def _per_hop(row: dict, key: str) -> float | None:
    value, hops = row.get(key), row.get("hops")
    return value / hops if value is not None and hops else None


def real_time_factor(row: dict) -> float | None:
    """Compute time over the duration of the input it processed (below 1: faster than real time)."""
    seconds = (row.get("hops") or 0) * (row.get("hop_s") or 0)
    return row["median_s"] / seconds if seconds else None


def _state(row: dict) -> str:
    total = fmt(row.get("state_bytes"), ",")
    parts = row.get("state_parts")
    if not isinstance(parts, dict) or not parts or row.get("state_bytes") is None:
        return total
    return f"{total} ({' + '.join(f'{name} {value:,}' for name, value in parts.items())})"


def _order(row: dict) -> tuple:
    """Stages in STAGES' order; within one: C, numpy, TFLite Micro, others; one hop per call first."""
    stage, runtime = str(row.get("stage")), str(row.get("runtime"))
    rank = STAGES.index(stage) if stage in STAGES else len(STAGES)
    family = next((i for i, p in enumerate(("C99", "numpy", TFLM)) if runtime.startswith(p)), 3)
    return rank, stage, family, row.get("hops") or 0, runtime


def frontend_markdown(rows: list[dict]) -> str:
    """The section: its table and what each column means, or the line naming the command that fills it."""
    head = "\n## On-device front-end\n\n"
    if not rows:
        return head + f"Not in this run: `{COMMAND}` fills this section.\n"
    lines = [
        "| stage | runtime | time per hop, median / p90 | real-time factor | state bytes "
        "| code bytes x86-64 / Cortex-M4 |",
        "|---|---|---|---|---|---|",
    ]
    for r in sorted(rows, key=_order):
        code = " / ".join(fmt(r.get(k), ",") for k in ("code_bytes_x86_64", "code_bytes_cortex_m4"))
        cells = [
            fmt(r.get("stage")),
            fmt(r.get("runtime")),
            f"{duration(_per_hop(r, 'median_s'))} / {duration(_per_hop(r, 'p90_s'))}",
            fmt(real_time_factor(r), ".2g"),
            _state(r),
            code,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    notes = [
        "",
        "Time per hop: the median (p90) of pytest-benchmark's rounds over the hops of input each round "
        "processed (a hop: 10 ms of audio or motion; the end-to-end row: one 0.5 s decision), through "
        "the Python bindings (ctypes for C), so one hop per call includes the call's overhead and a "
        "whole signal per call shows the computation alone. Real-time factor: compute time over the "
        "input's duration. State bytes: what the stage keeps between hops (lgrin_frontend_state_size, "
        "lgrin_motion_state_size; end to end also the frame ring, the graph and the runtime's "
        "workspace; TensorFlow Lite Micro: its smallest tensor arena); n/a for numpy. Code bytes: the "
        "text of the objects (export/ci.sh's count: x86-64 gcc -O2, Cortex-M4 clang-14 -Os), without "
        "libm or the compiler's helpers; end to end: runtime + speech front-end + input rules; n/a where "
        "not built here (numpy, TensorFlow Lite Micro).",
    ]
    if not any(str(r.get("runtime")).startswith(TFLM) for r in rows):
        notes.append(f"\nNo {TFLM} row: its benchmark was skipped in this run (`{COMMAND} -rs` prints why).")
    return head + "\n".join([*lines, *notes]) + "\n"
