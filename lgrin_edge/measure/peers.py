"""The report's section on the C runtime against the runtimes a user would pick instead (its peers).

Per dataset and batch: every L-GrIN row, its accuracy and file size, per-sample latency, the ratio to the
fastest peer, multiples of both compute floors (the GEMM rates measured in the run; the ISA's nominal peak
of the CPU it ran on, peak.py); then what two caller threads give, the dispatching library against the
-march=native build, and the memory a microcontroller must provide (the C runtime's workspace, TFLite
Micro's tensor arena). The report writes it into report.md and, alone, into c_runtime.md.
"""

from __future__ import annotations

from lgrin_edge.measure.cells import NA, fmt, unverified
from lgrin_edge.measure.peak import Peak


def is_c(row: dict) -> bool:
    return str(row.get("target", "")).split(" ")[0] == "c"


def _label(r: dict) -> str:
    threads = f", {r['threads']} threads" if r.get("threads", 1) > 1 else ""
    return f"{r.get('target', r['runtime'])} {r['precision']}{threads}"


def _table(rows: list[dict], rates: dict[str, float], peak: Peak) -> list[str]:
    """The rows by per-sample time; the GEMM floor's column only where the run measured its rates."""
    peers = [r for r in rows if not is_c(r)]
    fastest = min(peers, key=lambda r: r["per_sample_s"]) if peers else None
    floors = [rates, peak.rates] if rates else [peak.rates]
    names = ["runtime", "runtime version, kernels", "accuracy", "size", "per sample", "vs fastest peer"]
    names += ["x GEMM floor", "x ISA floor"] if rates else ["x ISA floor"]
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for r in sorted(rows, key=lambda r: r["per_sample_s"]):
        cells = [
            _label(r),
            r["runtime"] + unverified(r),
            f"{r['accuracy']:.4f}",
            fmt(r.get("bytes"), ".0f", " KiB", 1 / 1024),
            f"{r['per_sample_s'] * 1e6:.1f} us",
            f"{fastest['per_sample_s'] / r['per_sample_s']:.2f}x" if fastest else NA,
        ]
        for floor in floors:
            rate = floor.get(r["precision"])
            ok = rate and r.get("macs") and r.get("threads", 1) == 1
            cells.append(f"{r['per_sample_s'] / (r['macs'] / rate):.1f}" if ok else NA)
        lines.append("| " + " | ".join(cells) + " |")
    if fastest:
        lines.append(
            f"\nFastest peer: {_label(fastest)} ({fastest['per_sample_s'] * 1e6:.1f} us per sample)."
        )
    return lines


def _memory(rows: list[dict]) -> list[str]:
    micro = [r for r in rows if "arena_bytes" in r]
    return [
        f"- {r['dataset']}: C runtime workspace {r['c_workspace_bytes']:,} B, TensorFlow Lite Micro arena "
        f"{r['arena_bytes']:,} B (full-integer .tflite, {fmt(r.get('bytes'), ',', ' B')})"
        for r in micro
        if r.get("c_workspace_bytes")
    ]


def _caller_threads(rows: list[dict]) -> list[str]:
    """Each C row on several caller threads against the same build, kernels and batch on one."""
    out = []
    for r in rows:
        if not is_c(r) or r.get("threads", 1) == 1:
            continue
        one = next(
            (
                d
                for d in rows
                if d.get("threads", 1) == 1
                and (d["dataset"], d["batch"], d.get("target"), d.get("kernel"))
                == (r["dataset"], r["batch"], r.get("target"), r.get("kernel"))
            ),
            None,
        )
        if one:
            gain = one["median_s"] / r["median_s"]
            out.append(f"- {r['dataset']} batch {r['batch']}: {_label(r)} {gain:.2f}x the throughput of one")
    return out


def _native_gap(rows: list[dict]) -> list[str]:
    out = []
    for r in rows:
        if r.get("target") != "c (native)":
            continue
        match = [
            d
            for d in rows
            if d["dataset"] == r["dataset"]
            and d["batch"] == r["batch"]
            and d.get("threads", 1) == r.get("threads", 1)
            and d.get("target") in ("c", "c (dispatch)")
        ]
        for d in match:
            gap = d["median_s"] / r["median_s"] - 1
            out.append(
                f"- {r['dataset']} batch {r['batch']}: dispatching library ({d.get('kernel') or 'chosen'} "
                f"kernels, row '{d['target']}') {gap:+.1%} against the -march=native build"
            )
    return out


def peers_markdown(rows: list[dict], rates: dict[str, float], peak: Peak, recorded: bool = True) -> str:
    """The section's markdown from the report's inference rows; ``recorded``: ``peak`` is the run's CPU's
    (its record in the JSON), not the one running the report. Empty without a C runtime row."""
    lgrin = [{**r, "per_sample_s": r["median_s"] / r["batch"]} for r in rows if r["model"] == "lgrin"]
    if not any(is_c(r) for r in lgrin):
        return ""
    lines = ["## The C runtime and its peers (L-GrIN, one thread unless stated)", ""]
    lines.append(
        "Rows: `c` is the dispatching library as users get it (every CMake preset builds it; it picks its "
        "kernels at load), `c (native)` the single-family -march=native build, `c (dispatch-<family>)` one "
        "kernel family of the dispatching library forced through the API."
    )
    whose = "" if recorded else " (of the CPU writing this report: the JSON records no peak)"
    lines.append(f"ISA floor{whose}: {peak.describe()}.")
    measured = ", ".join(f"{p} {v / 1e9:.0f} GMAC/s" for p, v in sorted(rates.items()))
    lines.append(
        f"GEMM floor: measured in this run, {measured}; n/a on rows of several threads or without MACs."
        if rates
        else "No GEMM floor column: the run measured no GEMM rate (the note under the first table)."
    )
    for dataset in sorted({r["dataset"] for r in lgrin}):
        for batch in sorted({r["batch"] for r in lgrin if r["dataset"] == dataset}):
            sel = [r for r in lgrin if r["dataset"] == dataset and r["batch"] == batch]
            lines += ["", f"### {dataset}, batch {batch}", "", *_table(sel, rates, peak)]
    threads = _caller_threads(lgrin)
    if threads:
        lines += [
            "",
            "Caller threads (the batch split, one workspace each) against one thread:",
            "",
            *threads,
        ]
    gap = _native_gap(lgrin)
    if gap:
        lines += ["", "Dispatching library (what every CMake preset builds) against -march=native:", "", *gap]
    memory = _memory(lgrin)
    if memory:
        lines += ["", "Memory a microcontroller provides beside the model's constants:", "", *memory]
    return "\n".join(lines) + "\n"
