"""Evaluation protocol: per-fold training and testing, then the final model users export."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import torch
from tqdm.auto import tqdm

from lgrin_edge.data.dataset import SequenceDataset
from lgrin_edge.data.graph import build_graphs
from lgrin_edge.data.splits import FINAL_VALIDATION, Fold, make_folds, protocol_name, validation_split
from lgrin_edge.data.windows import VOTE, Windows, sequence_vote
from lgrin_edge.models import GraphModel, count_parameters, create_model
from lgrin_edge.train.metrics import accuracy, confusion_matrix, unweighted_accuracy
from lgrin_edge.train.trainer import FitResult, TrainConfig, fit, predict_logits, seed_everything
from lgrin_edge.train.transfer import Source


@dataclass
class GraphSplit:
    """Graphs (G, M, P) built from some sequences, with labels and the sequence each came from."""

    x: np.ndarray
    y: np.ndarray
    source: np.ndarray
    loops: np.ndarray | None = None  # each graph's loop length (data/graph.py graph_loops)


@dataclass
class ProtocolResult:
    protocol: str
    folds: list[dict]
    accuracy: float
    unweighted_accuracy: float
    confusion: np.ndarray
    final_model: GraphModel
    final_fit: FitResult
    final_train: GraphSplit
    final_eval: GraphSplit
    final_eval_kind: str
    seconds: float
    extra: dict = field(default_factory=dict)
    # Per-epoch history of every fit, by its label ("fold 1", ..., "final"), in training order.
    histories: dict[str, list[dict]] = field(default_factory=dict)
    # With windows: the folds' mean accuracies per sequence (its windows' vote), beside those per window.
    per_sequence: dict | None = None


def graphs_for(
    ds: SequenceDataset, idx: np.ndarray, nodes: int, policy: str, windows: Windows | None = None
) -> GraphSplit:
    """The graphs of sequences ``idx`` (of their windows with ``windows``), each with its sequence."""
    x, source, loops = build_graphs(ds.x[idx], ds.lengths[idx], nodes, policy, windows)
    return GraphSplit(x, ds.y[idx][source], idx[source], loops)


def train_one(
    model_name: str,
    model_cfg: dict,
    train: GraphSplit,
    val: GraphSplit,
    cfg: TrainConfig,
    desc: str,
    on_epoch: Callable[[dict], None] | None = None,
    start: Source | None = None,
) -> tuple[GraphModel, FitResult]:
    """Build, initialise and fit one model; ``start`` begins it from another run (transfer.py)."""
    seed_everything(cfg.seed)
    model = create_model(model_name, **model_cfg)
    adj = getattr(model, "adj", None)
    init = None
    if start is not None:
        start.apply(model, train.x)
    elif isinstance(adj, torch.nn.Parameter):
        with torch.no_grad():
            # The same N(0, 1) draw, scaled and shifted: adj_init = 1, adj_mean = 0 is the paper's start.
            adj.mul_(cfg.adj_init).add_(cfg.adj_mean)
    if isinstance(adj, torch.nn.Parameter):
        init = adj.detach().cpu().numpy().copy()
    if start is None:
        model.norm.fit(torch.as_tensor(train.x))
    result = fit(
        model, train.x, train.y, val.x, val.y, cfg, desc=desc, on_epoch=on_epoch, train_loops=train.loops
    )
    result.init_adj = init  # the graph diagnostics compare the learned A with where it started
    return model, result


def _labelled(on_epoch: Callable[[str, dict], None] | None, label: str) -> Callable[[dict], None] | None:
    return None if on_epoch is None else (lambda row: on_epoch(label, row))


class _Deployed(NamedTuple):
    """The model a run saves, the graphs it trained on, and the graphs the export verifies it with."""

    model: GraphModel
    fit: FitResult
    train: GraphSplit
    eval: GraphSplit
    eval_kind: str


def _fold_row(
    fold: Fold, tr: GraphSplit, va: GraphSplit, te: GraphSplit, pred: np.ndarray, res: FitResult, classes: int
) -> dict:
    """A fold's entry in the metrics: split sizes, test accuracy and how its training went."""
    return {
        "fold": fold.index,
        "n_train": len(tr.y),
        "n_val": len(va.y),
        "n_test": len(te.y),
        "accuracy": accuracy(te.y, pred),
        "unweighted_accuracy": unweighted_accuracy(te.y, pred, classes),
        "best_epoch": res.best_epoch,
        "epochs_run": res.epochs_run,
        "best_val_accuracy": res.best_val_accuracy,
    }


def _sequence_log(row: dict) -> str:
    """A windowed fold's accuracy per sequence, for its log line ("" for whole sequences)."""
    return f", per sequence {row['sequence_accuracy']:.4f}" if "sequence_accuracy" in row else ""


def _time_left(start: float, done: int, fits: int) -> str:
    """The estimate of the remaining fits' time, from the mean time of those done ("" when none is left)."""
    left = (time.time() - start) / done * (fits - done)
    return f"; about {left:.0f} s left for {fits - done} more fit(s)" if fits > done else ""


@dataclass
class _FoldRun:
    """One fold trained and tested: its model, fit, graphs, test predictions and metrics entry."""

    model: GraphModel
    fit: FitResult
    train: GraphSplit
    test: GraphSplit
    pred: np.ndarray
    row: dict


@dataclass(frozen=True)
class _Training:
    """What every fit of one protocol shares: the data, the model to build, the recipe, the graphs."""

    ds: SequenceDataset
    model_name: str
    model_cfg: dict
    cfg: TrainConfig
    nodes: int
    policy: str
    start: Source | None = None
    windows: Windows | None = None

    def graphs(self, idx: np.ndarray) -> GraphSplit:
        return graphs_for(self.ds, idx, self.nodes, self.policy, self.windows)

    def train(
        self, tr: GraphSplit, va: GraphSplit, desc: str, on_epoch: Callable[[dict], None] | None
    ) -> tuple[GraphModel, FitResult]:
        return train_one(self.model_name, self.model_cfg, tr, va, self.cfg, desc, on_epoch, self.start)


def _run_fold(t: _Training, fold: Fold, n_folds: int, on_epoch: Callable[[dict], None] | None) -> _FoldRun:
    tr, va, te = (t.graphs(i) for i in (fold.train, fold.val, fold.test))
    model, res = t.train(tr, va, f"{t.model_name} fold {fold.index + 1}/{n_folds}", on_epoch)
    logits = predict_logits(model, te.x)
    pred = logits.argmax(1)
    row = _fold_row(fold, tr, va, te, pred, res, t.ds.num_classes)
    if t.windows is not None:
        row |= _sequence_row(t.ds, te, logits)
    return _FoldRun(model, res, tr, te, pred, row)


def _sequence_row(ds: SequenceDataset, te: GraphSplit, logits: np.ndarray) -> dict:
    """A windowed fold's test accuracies per sequence, each sequence decided by its windows' vote."""
    sequences, pred = sequence_vote(logits, te.source)
    truth = ds.y[sequences]
    return {
        "n_test_sequences": len(sequences),
        "sequence_accuracy": accuracy(truth, pred),
        "sequence_unweighted_accuracy": unweighted_accuracy(truth, pred, ds.num_classes),
    }


def _train_final(t: _Training, on_epoch: Callable[[dict], None] | None) -> _Deployed:
    """k-fold's model to deploy: trained on all data less 15% held out for early stopping."""
    all_idx = np.arange(len(t.ds.y))
    train_idx, val_idx = validation_split(all_idx, t.ds.y, t.ds.groups, 0.15, t.cfg.seed)
    tr, va = t.graphs(train_idx), t.graphs(val_idx)
    model, res = t.train(tr, va, f"{t.model_name} final (all data)", on_epoch)
    return _Deployed(model, res, tr, va, f"{FINAL_VALIDATION} (used for early stopping only)")


def run_protocol(
    ds: SequenceDataset,
    model_name: str,
    model_cfg: dict,
    cfg: TrainConfig,
    nodes: int,
    folds: int = 5,
    policy: str = "resample",
    log=print,
    on_epoch: Callable[[str, dict], None] | None = None,
    start: Source | None = None,
    windows: Windows | None = None,
) -> ProtocolResult:
    """Train and test on every fold; then return the model to deploy. ``on_epoch(fit, row)`` gets every
    epoch's history row of every fit ("fold 1", ..., "final") as it is made.

    With an official split the deployed model is the fold model (trained on the training split only).
    With k-fold, a final model is trained on all data (a validation part held out for stopping), and
    its held-out validation graphs serve as the export's verification data. ``start``: every fit begins
    from that run (cross-corpus transfer). ``windows``: every fit trains and tests on the sequences'
    windows (folds still split sequences), and each fold also reports accuracies per sequence.
    """
    began = time.time()
    training = _training(ds, model_name, model_cfg, cfg, nodes, policy, start, windows)
    plan: list[Fold] = make_folds(ds, folds, cfg.seed)
    fits = len(plan) + (0 if ds.is_test is not None else 1)  # k-fold adds the final all-data model
    fold_results, y_true_all, y_pred_all = [], [], []
    histories: dict[str, list[dict]] = {}
    kept: _Deployed | None = None
    for fold in tqdm(
        plan, desc=f"{model_name} folds", disable=True if len(plan) == 1 else None, dynamic_ncols=True
    ):
        label = f"fold {fold.index + 1}"
        run = _run_fold(training, fold, len(plan), _labelled(on_epoch, label))
        histories[label] = run.fit.history
        fold_results.append(run.row)
        done = fold.index + 1
        log(
            f"  fold {done}/{len(plan)}: test accuracy {run.row['accuracy']:.4f} "
            f"(best epoch {run.fit.best_epoch})" + _sequence_log(run.row) + _time_left(began, done, fits)
        )
        y_true_all.append(run.test.y)
        y_pred_all.append(run.pred)
        if ds.is_test is not None:
            kept = _Deployed(run.model, run.fit, run.train, run.test, "official test split")
    if kept is None:
        kept = _train_final(training, _labelled(on_epoch, "final"))
        histories["final"] = kept.fit.history
    y_true, y_pred = np.concatenate(y_true_all), np.concatenate(y_pred_all)
    return _protocol_result(ds, folds, fold_results, (y_true, y_pred), kept, histories, time.time() - began)


def _training(
    ds: SequenceDataset,
    model_name: str,
    model_cfg: dict,
    cfg: TrainConfig,
    nodes: int,
    policy: str,
    start: Source | None,
    windows: Windows | None = None,
) -> _Training:
    sizes = {"num_nodes": nodes, "in_features": ds.num_features, "num_classes": ds.num_classes}
    return _Training(ds, model_name, {**model_cfg, **sizes}, cfg, nodes, policy, start, windows)


def run_fold(
    ds: SequenceDataset,
    model_name: str,
    model_cfg: dict,
    cfg: TrainConfig,
    nodes: int,
    fold: int,
    folds: int = 5,
    policy: str = "resample",
    start: Source | None = None,
) -> dict:
    """Fold ``fold`` of :func:`run_protocol` alone (the same folds for the same seed, the same training):
    its metrics entry plus the model's trainable and total parameter counts. The sweep's unit of work."""
    training = _training(ds, model_name, model_cfg, cfg, nodes, policy, start)
    plan = make_folds(ds, folds, cfg.seed)
    if not 0 <= fold < len(plan):
        raise ValueError(f"fold {fold} does not exist: {ds.name} has {len(plan)} fold(s) under this protocol")
    run = _run_fold(training, plan[fold], len(plan), None)
    total = sum(p.numel() for p in run.model.parameters())
    return {**run.row, "params": count_parameters(run.model), "total_params": total}


def _protocol_result(
    ds: SequenceDataset,
    folds: int,
    fold_results: list[dict],
    tested: tuple[np.ndarray, np.ndarray],
    kept: _Deployed,
    histories: dict[str, list[dict]],
    seconds: float,
) -> ProtocolResult:
    """The folds' mean accuracies and pooled confusion (``tested``: every fold's test labels and
    predictions), with the model to deploy."""
    return ProtocolResult(
        protocol=protocol_name(ds, folds),
        folds=fold_results,
        accuracy=float(np.mean([f["accuracy"] for f in fold_results])),
        unweighted_accuracy=float(np.mean([f["unweighted_accuracy"] for f in fold_results])),
        confusion=confusion_matrix(*tested, ds.num_classes),
        final_model=kept.model,
        final_fit=kept.fit,
        final_train=kept.train,
        final_eval=kept.eval,
        final_eval_kind=kept.eval_kind,
        seconds=seconds,
        extra={"params": count_parameters(kept.model)},
        histories=histories,
        per_sequence=_per_sequence(fold_results),
    )


def _per_sequence(fold_results: list[dict]) -> dict | None:
    """The folds' mean accuracies per sequence (windowed runs only), and how sequences were decided."""
    if "sequence_accuracy" not in fold_results[0]:
        return None
    return {
        "vote": VOTE,
        "accuracy": float(np.mean([f["sequence_accuracy"] for f in fold_results])),
        "unweighted_accuracy": float(np.mean([f["sequence_unweighted_accuracy"] for f in fold_results])),
    }
