"""Turn pytest-benchmark JSON into a markdown table and a Pareto plot (accuracy against latency).

Example: pytest --benchmark-only --benchmark-json=bench.json
         python -m lgrin_edge.benchmark.report bench.json --out benchmarks/results
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lgrin_edge.atomic import atomic_path, write_bytes
from lgrin_edge.benchmark.peak import peak
from lgrin_edge.benchmark.peers import peers_markdown
from lgrin_edge.cli import Parser, UserError, run

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# What each inference row's extra_info must hold (benchmarks/ writes them).
ROW_KEYS = ("model", "dataset", "runtime", "precision", "batch", "accuracy", "params")


def load_rows(path: Path) -> tuple[list[dict], dict[str, float], dict]:
    """Inference rows (the training rows are read by ``training_rows``), measured floor rates (MAC/s per
    precision) and the machine info."""
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise UserError(f"{path} is not JSON ({e}); pass the file written by pytest --benchmark-json") from e
    except UnicodeDecodeError:
        raise UserError(
            f"{path} is not a text file; pass the file written by pytest --benchmark-json"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise UserError(f"{path} has no 'benchmarks' list: not a pytest-benchmark JSON file")
    rows, rates = [], {}
    for b in data["benchmarks"]:
        name = b.get("name", "?") if isinstance(b, dict) else "?"
        try:
            info, median = b.get("extra_info", {}), float(b["stats"]["median"])
        except (AttributeError, KeyError, TypeError, ValueError):
            raise UserError(f"{path}: benchmark {name!r} has no stats.median") from None
        if info.get("kind") in ("training", "seeds"):
            continue
        if info.get("kind") == "floor":
            if "precision" not in info or "macs" not in info:
                raise UserError(f"{path}: floor benchmark {name!r} lacks precision or macs")
            rates[info["precision"]] = info["macs"] / median
        elif "model" in info:
            missing = [k for k in ROW_KEYS if k not in info]
            if missing:
                raise UserError(f"{path}: benchmark {name!r} lacks {', '.join(missing)} in extra_info")
            rows.append({**info, "median_s": median})
    kinds = {b.get("extra_info", {}).get("kind") for b in data["benchmarks"] if isinstance(b, dict)}
    if not rows and not kinds & {"training", "seeds"}:
        raise UserError(f"{path} holds no lgrin-edge benchmarks")
    return rows, rates, data.get("machine_info", {})


def _kind_rows(path: Path, kind: str) -> list[dict]:
    """The extra_info of every benchmark of ``kind``, with its median time as ``median_s``."""
    data = json.loads(path.read_text())
    return [
        {**b["extra_info"], "median_s": float(b["stats"]["median"])}
        for b in data.get("benchmarks", [])
        if isinstance(b, dict) and b.get("extra_info", {}).get("kind") == kind
    ]


def training_rows(path: Path) -> list[dict]:
    """The training-throughput rows (benchmarks/test_training.py): graphs/s per configuration and threads."""
    return [{**r, "graphs_per_s": r["batch"] / r["median_s"]} for r in _kind_rows(path, "training")]


def seed_rows(path: Path) -> list[dict]:
    """The accuracy-over-seeds rows (benchmarks/test_accuracy.py), with the test-set evaluation time."""
    return _kind_rows(path, "seeds")


def seeds_markdown(rows: list[dict]) -> str:
    """Test accuracy per model and dataset: mean +- sample std over the seeds, the lowest, each seed."""
    lines = [
        "| dataset | model | params | seeds | accuracy (%) mean +- std | lowest | per seed | test-set pass |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(rows, key=lambda r: (r["dataset"], -r["accuracy_mean"])):
        each = " ".join(f"{100 * a:.2f}" for a in r["accuracies"])
        lines.append(
            f"| {r['dataset']} | {r['model']} | {r['params']:,} | {len(r['seeds'])} "
            f"| {100 * r['accuracy_mean']:.2f} +- {100 * r['accuracy_std']:.2f} "
            f"| {100 * min(r['accuracies']):.2f} | {each} | {r['median_s'] * 1e3:.1f} ms |"
        )
    return "\n".join(lines) + "\n"


def training_markdown(rows: list[dict], rates: dict[str, float]) -> str:
    """Graphs/s beside the floor: 3 x forward MACs per graph at the fp32 GEMM rate x threads."""
    lines = [
        "| configuration (M, P) | threads | graphs/s | floor graphs/s | x floor | max pool |",
        "|---|---|---|---|---|---|",
    ]
    rate = rates.get("fp32")
    for r in sorted(rows, key=lambda r: (r["config"], r["threads"])):
        floor = rate * r["threads"] / r["macs"] if rate else None
        floor_txt = f"{floor:,.0f}" if floor else "-"
        multiple = f"{floor / r['graphs_per_s']:.1f}" if floor else "-"
        lines.append(
            f"| {r['config']} ({r['num_nodes']}, {r['in_features']}) | {r['threads']} "
            f"| {r['graphs_per_s']:,.0f} | {floor_txt} | {multiple} | {r.get('maxpool', '')} |"
        )
    return "\n".join(lines) + "\n"


def enrich(rows: list[dict], rates: dict[str, float]) -> None:
    """Speed-up against BLSTM fp32 (PyTorch) at the same dataset and batch; multiple of the compute floor."""
    base = {
        (r["dataset"], r["batch"]): r["median_s"]
        for r in rows
        if r["model"] == "blstm" and r["runtime"] == "pytorch"
    }
    for r in rows:
        ref = base.get((r["dataset"], r["batch"]))
        r["speedup_vs_blstm"] = ref / r["median_s"] if ref else None
        rate = rates.get("int8" if r["precision"] == "int8" else "fp32")
        if "macs" in r and rate:
            r["floor_multiple"] = r["median_s"] / (r["macs"] * r["batch"] / rate)


def markdown(rows: list[dict], rates: dict[str, float], machine: dict) -> str:
    head = (
        "| dataset | model | runtime | precision | batch | accuracy | params | size | median latency | "
        "speed-up vs BLSTM fp32 | x floor |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    key = lambda r: (r["dataset"], r["batch"], r["median_s"])  # noqa: E731
    for r in sorted(rows, key=key):
        sp = f"{r['speedup_vs_blstm']:.1f}x" if r.get("speedup_vs_blstm") else "-"
        fl = f"{r['floor_multiple']:.1f}" if r.get("floor_multiple") else "-"
        runtime = r.get("target", r["runtime"])
        if r.get("verified") is False:
            runtime += f" (unverified: {r['top1_agreement']:.1%} agreement)"
        lines.append(
            f"| {r['dataset']} | {r['model']} | {runtime} | {r['precision']} | {r['batch']} "
            f"| {r['accuracy']:.4f} | {r['params']:,} | {r['bytes'] / 1024:.0f} KiB "
            f"| {r['median_s'] * 1e3:.3f} ms | {sp} | {fl} |"
        )
    cpu = machine.get("cpu", {}).get("brand_raw", "unknown CPU")
    rate_txt = ", ".join(f"{p} {v / 1e9:.0f} GMAC/s" for p, v in sorted(rates.items()))
    lines += ["", f"Machine: {cpu}, one thread. Measured compute floor rates: {rate_txt or 'not measured'}."]
    return "\n".join(lines) + "\n"


# The Pareto plot's encoding: colour = model, marker = precision.
_MODEL_COLORS = {"lgrin": "tab:red", "blstm": "tab:blue", "senet": "tab:green", "senet-paper": "tab:olive"}
_PRECISION_MARKERS = {"fp32": "o", "int8": "s"}


def pareto_plot(rows: list[dict], path: Path) -> None:
    """Accuracy against batch-1 latency per dataset: colour = model, shape = precision, area ~ parameters.

    Only L-GrIN's points are labelled (by runtime); the legend names the rest. Rows of pinned C kernel
    families (``kernel`` in extra_info) stay in the table only: they are builds of one runtime.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    datasets = sorted({r["dataset"] for r in rows})
    fig, axes = plt.subplots(1, len(datasets), figsize=(6.5 * len(datasets), 5.2), squeeze=False)
    biggest = max(r["params"] for r in rows)
    for ax, ds in zip(axes[0], datasets, strict=True):
        points = sorted(
            (r for r in rows if r["dataset"] == ds and r["batch"] == 1 and "kernel" not in r),
            key=lambda r: r["median_s"],
        )
        _plot_points(ax, points, biggest)
        ax.set_xscale("log")
        ax.set_xlabel("median latency at batch 1, one thread (ms, log scale)")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(f"{ds}: accuracy vs latency")
        ax.grid(alpha=0.3, which="both")
    handles = [Line2D([], [], marker="o", linestyle="", color=c, label=m) for m, c in _MODEL_COLORS.items()]
    handles += [
        Line2D([], [], marker=m, linestyle="", color="gray", label=p) for p, m in _PRECISION_MARKERS.items()
    ]
    fig.legend(
        handles=handles,
        loc="lower center",
        ncol=len(handles),
        frameon=False,
        title="colour: model, shape: precision, area: parameters",
    )
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def _plot_points(ax: Axes, points: list[dict], biggest: int) -> None:
    """One dataset's rows, in order of latency; area ~ sqrt(parameters / the largest model's)."""
    for k, r in enumerate(points):
        x, y = r["median_s"] * 1e3, r["accuracy"] * 100
        ax.scatter(
            x,
            y,
            s=25 + 400 * (r["params"] / biggest) ** 0.5,
            alpha=0.75,
            color=_MODEL_COLORS.get(r["model"], "gray"),
            marker=_PRECISION_MARKERS.get(r["precision"], "o"),
            edgecolor="black",
            linewidth=0.5,
        )
        if r["model"] == "lgrin":
            ax.annotate(
                f"{r.get('target', r['runtime'])} {r['precision']}",
                (x, y),
                fontsize=7,
                xytext=(4, (6, -10, 15, -19)[k % 4]),  # neighbours often share an accuracy
                textcoords="offset points",
            )


def _main(argv: list[str] | None = None) -> int:
    p = Parser(
        prog="python -m lgrin_edge.benchmark.report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("json", type=Path, help="file written by pytest --benchmark-json")
    p.add_argument(
        "--out", type=Path, default=Path("benchmarks/results"), help="folder for report.md and pareto.png"
    )
    args = p.parse_args(argv)
    rows, rates, machine = load_rows(args.json)
    text, outputs = "", [args.out / "report.md"]
    if rows:
        enrich(rows, rates)
        text = markdown(rows, rates, machine)
        text += "\n" + peers_markdown(rows, rates, peak())
        pareto_plot(rows, args.out / "pareto.png")
        outputs.append(args.out / "pareto.png")
    seeds = seed_rows(args.json)
    if seeds:
        epochs = sorted({r["epochs"] for r in seeds})
        text += (
            f"\n## Accuracy over seeds (default recipe, {'/'.join(map(str, epochs))} epochs, official test "
            "split; the table above is seed 0)\n\n" + seeds_markdown(seeds)
        )
    training = training_rows(args.json)
    if training:
        text += "\n## Training throughput (batch 32, one optimisation step)\n\n" + training_markdown(
            training, rates
        )
    write_bytes(args.out / "report.md", text.encode())
    print(text)
    print(f"written: {', '.join(str(o) for o in outputs)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command: exit code 0 on success; problems are one line on stderr (lgrin_edge.cli.run)."""
    return run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
