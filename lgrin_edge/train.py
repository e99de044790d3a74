"""Train a model with an honest evaluation protocol and save the checkpoint users export.

Example: python -m lgrin_edge.train --dataset japanesevowels --model lgrin --out runs/jv
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

import numpy as np
import torch

from lgrin_edge import __version__
from lgrin_edge.atomic import write_json, write_npz
from lgrin_edge.checkpoint import save_checkpoint
from lgrin_edge.data import DATASET_NAMES, DatasetError, load_dataset
from lgrin_edge.data.graph import LONG_POLICIES
from lgrin_edge.models import MODEL_NAMES
from lgrin_edge.models.lgrin import ADJACENCIES, CONVS, POOLINGS
from lgrin_edge.models.senet import PRESETS
from lgrin_edge.training.plots import plot_adjacency, plot_confusion
from lgrin_edge.training.protocol import ProtocolResult, run_protocol
from lgrin_edge.training.trainer import CE_REDUCTIONS, SELECTIONS, TrainConfig, resolve_device

CALIBRATION_MAX = 512


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m lgrin_edge.train",
        description=__doc__,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--dataset",
        default="japanesevowels",
        help=f"bundled dataset ({', '.join(DATASET_NAMES)}) or path to an .npz (docs/data-format.md)",
    )
    p.add_argument("--model", default="lgrin", choices=MODEL_NAMES, help="model to train")
    p.add_argument("--out", type=Path, default=None, help="run folder; default runs/<dataset>-<model>")
    p.add_argument("--epochs", type=int, default=150, help="training epochs")
    p.add_argument("--folds", type=int, default=5, help="k for k-fold when the dataset has no official split")
    p.add_argument("--seed", type=int, default=0, help="seed of initialisation, batching and folds")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="auto = CUDA if present")
    p.add_argument("--batch-size", type=int, default=32, help="graphs per optimisation step")
    p.add_argument(
        "--lr", type=float, default=0.01, help="Adam learning rate (halved every --lr-step epochs)"
    )
    p.add_argument("--lr-step", type=int, default=50, help="epochs between learning-rate halvings")
    p.add_argument(
        "--select",
        default="last",
        choices=SELECTIONS,
        help="weights to keep: last epoch, or the best validation accuracy / loss with early stopping",
    )
    p.add_argument(
        "--patience", type=int, default=50, help="early-stopping patience (--select accuracy|loss)"
    )
    p.add_argument(
        "--ce-reduction",
        default="mean",
        choices=CE_REDUCTIONS,
        help="cross-entropy over a batch: mean, sum, or dataset (= eq. 7's sum over all training graphs, "
        "estimated per batch); changes its balance against the structure loss",
    )
    g = p.add_argument_group("graph construction")
    g.add_argument(
        "--nodes", type=int, default=None, help="M, nodes per graph; default: the longest sequence"
    )
    g.add_argument(
        "--long-policy",
        default="resample",
        choices=LONG_POLICIES,
        help="what to do with sequences longer than M",
    )
    m = p.add_argument_group("L-GrIN options (the paper's ablations)")
    m.add_argument(
        "--eta", type=int, nargs=2, default=(128, 64), metavar=("ETA1", "ETA2"), help="G1*, G2* widths"
    )
    m.add_argument("--layers", type=int, default=2, help="number of graph inception layers")
    m.add_argument(
        "--conv", default="gstar", choices=CONVS, help="G*conv (eq. 4) or linear projection (eq. 3)"
    )
    m.add_argument(
        "--no-inception", action="store_true", help="one graph convolution per layer, no inception"
    )
    m.add_argument("--adjacency", default="learned", choices=ADJACENCIES)
    m.add_argument("--pooling", default="learned", choices=POOLINGS, help="learned = [max | H^T p | mean]")
    m.add_argument("--sort-k", type=int, default=10, help="nodes kept by sort pooling")
    m.add_argument("--lambdas", type=float, nargs=3, default=(0.1, 0.1, 1e-4), metavar=("L1", "L2", "L3"))
    b = p.add_argument_group("baseline options")
    b.add_argument("--hidden", type=int, default=None, help="BLSTM (300) / GCN (192) width")
    b.add_argument("--senet-preset", default="compact", choices=tuple(PRESETS))
    return p


def model_config(args: argparse.Namespace) -> dict:
    if args.model == "lgrin":
        return {
            "eta": tuple(args.eta),
            "num_layers": args.layers,
            "conv": args.conv,
            "inception": not args.no_inception,
            "adjacency": args.adjacency,
            "pooling": args.pooling,
            "sort_k": args.sort_k,
            "lambda1": args.lambdas[0],
            "lambda2": args.lambdas[1],
            "lambda3": args.lambdas[2],
        }
    if args.model == "senet":
        return {"preset": args.senet_preset}
    return {} if args.hidden is None else {"hidden": args.hidden}


def library_versions() -> dict:
    import sklearn

    return {
        "lgrin_edge": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
    }


def save_run(
    out: Path, args: argparse.Namespace, ds, res: ProtocolResult, nodes: int, cfg: TrainConfig
) -> dict:
    model = res.final_model.cpu()
    meta = {
        "dataset": args.dataset,
        "classes": ds.classes,
        "num_nodes": nodes,
        "long_policy": args.long_policy,
        "train": cfg.to_dict(),
        "eval_data": res.final_eval_kind,
    }
    save_checkpoint(model, out, meta)
    rng = np.random.default_rng(cfg.seed)
    pick = np.sort(rng.permutation(len(res.final_train.x))[:CALIBRATION_MAX])
    write_npz(out / "calibration.npz", x=res.final_train.x[pick], y=res.final_train.y[pick])
    write_npz(out / "eval.npz", x=res.final_eval.x, y=res.final_eval.y, classes=np.array(ds.classes))
    metrics = {
        "model": args.model,
        "dataset": args.dataset,
        "protocol": res.protocol,
        "accuracy": res.accuracy,
        "unweighted_accuracy": res.unweighted_accuracy,
        "folds": res.folds,
        "params": res.extra["params"],
        "confusion": res.confusion.tolist(),
        "classes": ds.classes,
        "config": model.config,
        "train": cfg.to_dict(),
        "num_nodes": nodes,
        "long_policy": args.long_policy,
        "seed": cfg.seed,
        "seconds": round(res.seconds, 1),
        "final_model": {
            "best_epoch": res.final_fit.best_epoch,
            "epochs_run": res.final_fit.epochs_run,
            "best_val_accuracy": res.final_fit.best_val_accuracy,
            "eval_data": res.final_eval_kind,
        },
        "versions": library_versions(),
    }
    write_json(out / "metrics.json", metrics)
    plot_confusion(
        res.confusion,
        ds.classes,
        out / "confusion.png",
        f"{args.model} on {ds.name}: accuracy {res.accuracy:.3f}",
    )
    if args.model == "lgrin" and model.config["adjacency"] != "weighted":
        adj = torch.relu(model.adj).detach().numpy()
        plot_adjacency(adj, out / "adjacency.png", f"learned relu(A), {ds.name}")
    return metrics


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        device = resolve_device(args.device)
        ds = load_dataset(args.dataset)
    except (DatasetError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    nodes = args.nodes or ds.default_nodes
    out = args.out or Path("runs") / f"{Path(args.dataset).stem}-{args.model}"
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        print(f"error: cannot write to output folder {out}: {e}", file=sys.stderr)
        return 2
    cfg = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        lr_step=args.lr_step,
        patience=args.patience,
        ce_reduction=args.ce_reduction,
        select=args.select,
        seed=args.seed,
        device=device,
    )
    print(
        f"{args.model} on {ds.name}: {len(ds.y)} sequences, {ds.num_features} features, "
        f"{ds.num_classes} classes, M = {nodes} nodes, device {device}"
    )
    try:
        res = run_protocol(ds, args.model, model_config(args), cfg, nodes, args.folds, args.long_policy)
    except (DatasetError, ValueError, FloatingPointError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    metrics = save_run(out, args, ds, res, nodes, cfg)
    print(
        f"{res.protocol}: accuracy {metrics['accuracy']:.4f}, unweighted accuracy "
        f"{metrics['unweighted_accuracy']:.4f}, {metrics['params']:,} parameters, {metrics['seconds']} s"
    )
    print(f"checkpoint and metrics written to {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
