"""Salient nodes of a trained L-GrIN (the paper's Fig. 7): which node (frame) of each graph answers most
strongly at the max pool, per sample and per class.

Writes into --out: salient.csv (one row per graph), summary.json (per class: how often each position is
salient, the mean share of features the salient node wins), positions.png (those histograms) and
class-<k>.png per class (the salient frame of a few graphs: the 68 landmarks for 136-feature face data,
else the sequence with the salient node marked).

Example: python -m lgrin_edge.explain --checkpoint runs/japanesevowels-lgrin --out runs/jv-explain
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from lgrin_edge import __version__
from lgrin_edge.analysis.salient import check_explainable, node_frames, position_histogram, salient_nodes
from lgrin_edge.analysis.salient_plots import plot_examples, plot_histograms
from lgrin_edge.atomic import check_folder_target, exclusive, staged_folder, write_bytes, write_json
from lgrin_edge.checkpoint import load_checkpoint, read_config, run_folder
from lgrin_edge.cli import Parser, UserError, at_least, run

OWN_FILES = {"salient.csv", "summary.json", "positions.png"}


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="python -m lgrin_edge.explain",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--checkpoint", type=Path, required=True, help="training run folder (or its config.json)")
    p.add_argument(
        "--dataset",
        help="bundled dataset or .npz whose sequences to explain (all of them, made into graphs as in "
        "training); default: the run's held-out graphs (eval.npz)",
    )
    p.add_argument("--out", type=Path, help="output folder; default <checkpoint>-explain")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier explain folder in --out")
    p.add_argument("--per-class", type=at_least(1), default=4, help="graphs drawn per class figure")
    return p


def _graphs(args: argparse.Namespace, run_dir: Path, cfg: dict) -> tuple[np.ndarray, np.ndarray, list, dict]:
    """(graphs, labels, classes, per-graph columns) from --dataset or the run's eval.npz."""
    m, p = cfg["config"]["num_nodes"], cfg["config"]["in_features"]
    if args.dataset is None:
        path = run_dir / "eval.npz"
        if not path.exists():
            raise UserError(f"{run_dir} has no eval.npz; pass --dataset to name the sequences to explain")
        with np.load(path, allow_pickle=False) as ev:
            return ev["x"], ev["y"], list(ev["classes"]), {}
    from lgrin_edge.data import load_dataset
    from lgrin_edge.data.graph import build_graphs

    ds = load_dataset(args.dataset)
    if ds.num_features != p:
        raise UserError(f"{ds.name} has {ds.num_features} features per frame; the checkpoint expects {p}")
    # Label k must name the class the model's output k was trained for.
    trained, count = cfg.get("classes"), cfg["config"]["num_classes"]
    if (list(ds.classes) != trained) if trained is not None else (ds.num_classes != count):
        shown = ", ".join(map(str, trained)) if trained is not None else f"{count} unnamed classes"
        raise UserError(
            f"{ds.name} has the classes [{', '.join(ds.classes)}] but {run_dir} was trained on [{shown}]; "
            "explain needs the same classes in the same order"
        )
    policy = cfg.get("long_policy", "resample")
    x, source, _ = build_graphs(ds.x, ds.lengths, m, policy)
    frames = node_frames(ds.lengths, m, policy)
    return (
        x,
        ds.y[source],
        list(ds.classes),
        {"sequence": source, "length": ds.lengths[source], "frames": frames},
    )


def _csv(sal, y: np.ndarray, classes: list, cols: dict) -> bytes:
    head = ["graph", "label", "predicted", "salient_node", "feature_share"]
    if cols:
        head += ["sequence", "length", "salient_frame"]
    lines = [",".join(head)]
    for g in range(len(y)):
        row = [str(g), classes[y[g]], classes[sal.predicted[g]], str(sal.node[g]), f"{sal.share[g]:.4f}"]
        if cols:
            row += [str(cols["sequence"][g]), str(cols["length"][g]), str(cols["frames"][g, sal.node[g]])]
        lines.append(",".join(row))
    return ("\n".join(lines) + "\n").encode()


def _main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run_dir = run_folder(args.checkpoint)
    cfg = read_config(run_dir)
    check_explainable(cfg)  # before any data is read or any folder created
    out = args.out or run_dir.with_name(run_dir.name + "-explain")
    classes_guess = range(cfg["config"]["num_classes"])
    own = OWN_FILES | {f"class-{k}.png" for k in classes_guess}
    check_folder_target(out, own, args.overwrite, "salient-node report", "--overwrite")
    model, cfg = load_checkpoint(run_dir)
    x, y, classes, cols = _graphs(args, run_dir, cfg)
    print(f"explaining {len(x)} graphs of {run_dir} (M = {x.shape[1]}, {len(classes)} classes)")
    sal = salient_nodes(model, x)
    hist = position_histogram(sal.node, y, classes, x.shape[1])
    summary = {
        "lgrin_edge": __version__,
        "checkpoint": str(run_dir),
        "data": args.dataset or "eval.npz",
        "graphs": len(x),
        "accuracy": float(np.mean(sal.predicted == y)),
        "classes": {
            c: {
                "graphs": int((y == k).sum()),
                "mean_feature_share": float(sal.share[y == k].mean()) if (y == k).any() else None,
                "positions": hist[c],
            }
            for k, c in enumerate(classes)
        },
    }
    with exclusive(out, "explain folder"), staged_folder(out) as stage:
        write_bytes(stage / "salient.csv", _csv(sal, y, classes, cols))
        write_json(stage / "summary.json", summary)
        plot_histograms(hist, stage / "positions.png", f"salient-node positions per class, {run_dir.name}")
        for k, c in enumerate(classes):
            idx = np.flatnonzero(y == k)[: args.per_class]
            if len(idx):
                examples = [
                    {"x": x[g], "node": int(sal.node[g]), "share": float(sal.share[g]),
                     "caption": f"graph {g}, predicted {classes[sal.predicted[g]]}"}
                    for g in idx
                ]  # fmt: skip
                plot_examples(examples, stage / f"class-{k}.png", f"{c}: salient frames")
    for c in classes:
        top = int(np.argmax(hist[c])) if sum(hist[c]) else None
        print(f"  {c}: most often salient at node {top}, mean feature share "
              f"{summary['classes'][c]['mean_feature_share'] or 0:.0%}")  # fmt: skip
    print(f"written to {out}/ (salient.csv, summary.json, positions.png, class-*.png)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command: exit code 0 on success; problems are one line on stderr (lgrin_edge.cli.run)."""
    return run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
