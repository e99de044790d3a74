"""``python -m lgrin_edge.train --model minirocket`` (or multirocket, hydra): the graph models' protocol
(lgrin_edge/data/splits.py: the official split, or the same stratified, group-aware k folds for the same
seed) with an aeon classifier, and a run folder beside theirs: config.json, model.safetensors,
metrics.json, confusion.png, and eval.npz (the official test split's sequences) where there is one.

Each fold's classifier is fitted on the fold's whole training part, its validation part included: these
classifiers have no early stopping, and their ridge picks its own regularisation by leave-one-out on what
it is given. With k folds the run's classifier is fitted on every sequence.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import numpy as np

from lgrin_edge import __version__
from lgrin_edge.atomic import (
    check_folder_target,
    exclusive,
    file_sha256,
    staged_folder,
    write_json,
    write_npz,
)
from lgrin_edge.baselines import BASELINES, FITTED
from lgrin_edge.baselines.rocket import Rocket
from lgrin_edge.checkpoint import CONFIG, CONFIG_SHA256, FORMAT_VERSION, config_digest
from lgrin_edge.cli import UserError
from lgrin_edge.console import library_output_to_log
from lgrin_edge.data import load_dataset
from lgrin_edge.data.dataset import SequenceDataset
from lgrin_edge.data.splits import make_folds, protocol_name
from lgrin_edge.train.metrics import accuracy, confusion_matrix, unweighted_accuracy
from lgrin_edge.train.plots import plot_confusion

# The train command's options a baseline honours; any other one given is refused (check_options).
HONOURED = ("dataset", "model", "out", "overwrite", "folds", "seed", "device")
EVAL = "eval.npz"


def check_options(args: argparse.Namespace, typed: set[str]) -> None:
    """Refuse the options ``typed`` on the command line that apply to the graph models only."""
    ignored = sorted(d for d in typed if d not in HONOURED)
    if ignored:
        flags = ", ".join("--" + d.replace("_", "-") for d in ignored)
        verb, them = ("applies", "it") if len(ignored) == 1 else ("apply", "them")
        raise UserError(
            f"--model {args.model} is aeon's {BASELINES[args.model][0]} with its own defaults; {flags} "
            f"{verb} to the graph models only: leave {them} out (a baseline takes --dataset, --folds, "
            "--seed, --out, --overwrite)"
        )
    if args.device == "cuda":
        raise UserError(
            f"--model {args.model} runs on the CPU ({BASELINES[args.model][1]}); leave --device out"
        )


@dataclass
class Fitted:
    """The protocol's outcome: per-fold rows, pooled test labels and predictions, the run's classifier."""

    folds: list[dict] = field(default_factory=list)
    truth: list[np.ndarray] = field(default_factory=list)
    pred: list[np.ndarray] = field(default_factory=list)
    model: Rocket | None = None
    eval_idx: np.ndarray | None = None


def fit_protocol(ds: SequenceDataset, name: str, folds: int, seed: int, log=print) -> Fitted:
    """Fit and test ``name`` on every fold of the graph models' protocol; keep the classifier to save."""
    out = Fitted()
    plan = make_folds(ds, folds, seed)
    for fold in plan:
        fit_idx = np.union1d(fold.train, fold.val)
        began = time.time()
        with library_output_to_log("train"):  # numba's and aeon's warnings, not the fold lines
            model = Rocket.fit(name, ds.x[fit_idx], ds.y[fit_idx], ds.num_classes, seed)
            pred = model.predict(ds.x[fold.test])
        truth = ds.y[fold.test]
        row = {
            "fold": fold.index,
            "n_train": len(fit_idx),
            "n_test": len(fold.test),
            "accuracy": accuracy(truth, pred),
            "unweighted_accuracy": unweighted_accuracy(truth, pred, ds.num_classes),
            "seconds": round(time.time() - began, 2),
        }
        log(f"  fold {fold.index + 1}/{len(plan)}: test accuracy {row['accuracy']:.4f}")
        out.folds.append(row)
        out.truth.append(truth)
        out.pred.append(pred)
        out.model, out.eval_idx = model, fold.test
    if ds.is_test is None:  # k folds: the run's classifier sees every sequence, so nothing is held out
        with library_output_to_log("train"):
            out.model = Rocket.fit(name, ds.x, ds.y, ds.num_classes, seed)
        out.eval_idx = None
    return out


def _metrics(args: argparse.Namespace, ds: SequenceDataset, fitted: Fitted, seconds: float) -> dict:
    truth, pred = np.concatenate(fitted.truth), np.concatenate(fitted.pred)
    assert fitted.model is not None
    return {
        "model": args.model,
        "dataset": args.dataset,
        "protocol": protocol_name(ds, args.folds),
        "accuracy": float(np.mean([f["accuracy"] for f in fitted.folds])),
        "unweighted_accuracy": float(np.mean([f["unweighted_accuracy"] for f in fitted.folds])),
        "folds": fitted.folds,
        "params": fitted.model.size()["fitted_values"],
        **fitted.model.size(),
        "confusion": confusion_matrix(truth, pred, ds.num_classes).tolist(),
        "classes": ds.classes,
        "seed": args.seed,
        "seconds": round(seconds, 1),
        "fit": {
            "estimator": f"aeon {BASELINES[args.model][0]} (defaults, one thread)",
            "data": "each fold's training part, validation part included; zero-padded to "
            f"{fitted.model.steps} steps",
            "eval_data": "official test split"
            if fitted.eval_idx is not None
            else "none (fitted on all data)",
        },
        "versions": {"lgrin_edge": __version__, "aeon": version("aeon"), "numpy": np.__version__},
    }


def save_run(
    out: Path, args: argparse.Namespace, ds: SequenceDataset, fitted: Fitted, seconds: float
) -> dict:
    """Write the run folder's files into ``out``; returns metrics.json's content."""
    assert fitted.model is not None
    files = [FITTED]
    config = fitted.model.save(out)
    if fitted.eval_idx is not None:
        idx = fitted.eval_idx
        write_npz(out / EVAL, x=ds.x[idx], lengths=ds.lengths[idx], y=ds.y[idx], classes=np.array(ds.classes))
        files.append(EVAL)
    meta = {
        "format_version": FORMAT_VERSION,
        "lgrin_edge": __version__,
        "model": args.model,
        "config": config,
        "dataset": args.dataset,
        "classes": ds.classes,
        "files": {name: file_sha256(out / name) for name in files},
    }
    write_json(out / CONFIG, {**meta, CONFIG_SHA256: config_digest(meta)})
    metrics = _metrics(args, ds, fitted, seconds)
    write_json(out / "metrics.json", metrics)
    title = f"{args.model} on {ds.name}: accuracy {metrics['accuracy']:.3f}"
    plot_confusion(np.array(metrics["confusion"]), ds.classes, out / "confusion.png", title)
    return metrics


def train_baseline(args: argparse.Namespace, typed: set[str], out: Path, run_files: set[str]) -> int:
    """The train command for a baseline: options and folder checked first, then the protocol and the run."""
    check_options(args, typed)
    check_folder_target(out, run_files, args.overwrite, "training run", "--overwrite")
    ds = load_dataset(args.dataset)
    print(
        f"{args.model} (aeon {BASELINES[args.model][0]}) on {ds.name}: {len(ds.y)} sequences, "
        f"{ds.num_features} features, {ds.num_classes} classes, {protocol_name(ds, args.folds)}"
    )
    began = time.time()
    with exclusive(out, "run folder"):
        check_folder_target(out, run_files, args.overwrite, "training run", "--overwrite")
        try:
            fitted = fit_protocol(ds, args.model, args.folds, args.seed)
        except ValueError as e:  # aeon's word on data it cannot fit
            raise UserError(f"{args.model} cannot fit {ds.name}: {e}") from e
        with staged_folder(out) as stage:
            metrics = save_run(stage, args, ds, fitted, time.time() - began)
    print(
        f"{metrics['protocol']}: accuracy {metrics['accuracy']:.4f}, unweighted accuracy "
        f"{metrics['unweighted_accuracy']:.4f}, {metrics['fitted_values']:,} fitted values "
        f"({metrics['fitted_bytes']:,} bytes), {metrics['seconds']} s"
    )
    print(f"fitted arrays and metrics written to {out}/")
    return 0
