"""Fit one model: Adam, step decay, early stopping and model selection on a validation split."""

from __future__ import annotations

import contextlib
import copy
import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from lgrin_edge.cli import UserError
from lgrin_edge.models import GraphModel
from lgrin_edge.models.lgrin import graph_prior, structure_matrix
from lgrin_edge.train.allocator import retain_freed_memory
from lgrin_edge.train.augment import Augmenter, check_augments

CE_REDUCTIONS = ("dataset", "sum", "mean")
AUTOCASTS = ("none", "bf16")
SELECTIONS = ("accuracy", "loss", "last")
SCHEDULES = ("step", "cosine")
BATCHINGS = ("fixed", "even")
# Parameters eq. 8 regularises itself (A, p): decoupled weight decay leaves them to it.
STRUCTURE_PARAMS = ("adj", "pool_p")


@dataclass
class TrainConfig:
    """Optimisation settings; defaults follow the paper (Adam, lr 0.01, x0.5 every 50 epochs)."""

    epochs: int = 150
    batch_size: int = 32
    lr: float = 0.01
    lr_step: int = 50
    lr_gamma: float = 0.5
    patience: int = 50
    # Which epoch's weights to keep: "last" (default: train all epochs, no early stopping), or judged on
    # the validation split only, "accuracy" (ties: lower loss) or "loss" with early stopping after
    # `patience` epochs. A validation split of a few dozen graphs picks arbitrary early epochs
    # (docs/model.md), hence the default.
    select: str = "last"
    # Cross-entropy per batch: "mean" (default), "sum", or "dataset" (batch sum x N / B, an estimate of
    # eq. 7's sum over all N training graphs). Larger weights strengthen the classification term against
    # the structure loss but give overconfident logits that quantise worse (measured in docs/model.md).
    ce_reduction: str = "mean"
    seed: int = 0
    device: str = "cpu"
    # "bf16": forward passes under torch.autocast in bfloat16 (weights, gradients and Adam stay fp32).
    autocast: str = "none"
    # The recipe options (docs/model.md measures each alone); the defaults are the paper's setting.
    schedule: str = "step"  # "step": x lr_gamma every lr_step epochs; "cosine": to 0 over all epochs
    weight_decay: float = 0.0  # decoupled (AdamW) on the network weights; A and p keep eq. 8's terms
    label_smoothing: float = 0.0
    adj_lr: float | None = None  # learning rate of A (None: lr)
    # Adam's epsilon for A (None: torch's 1e-8). Adam steps every entry by about its learning rate whatever
    # the gradient's size, so eq. 8's small constant pull weighs as much as the classification gradient;
    # a larger epsilon makes steps of gradients below it proportional to them.
    adj_eps: float | None = None
    augment: tuple[str, ...] = ()  # subset of train/augment.py's AUGMENTS
    average: float = 0.0  # decay of an exponential moving average of the weights (0: off)
    adj_init: float = 1.0  # A starts at N(adj_mean, adj_init^2): the paper's N(0, 1) draw, scaled
    adj_mean: float = 0.0  # ... and shifted
    # "fixed": batches of batch_size and a smaller last one (34 graphs: 32 + 2); "even": the same number
    # of batches with sizes that differ by one at most (17 + 17), so no step follows a handful of graphs.
    batching: str = "fixed"

    def __post_init__(self) -> None:
        checks = {
            "ce_reduction": (self.ce_reduction, CE_REDUCTIONS),
            "autocast": (self.autocast, AUTOCASTS),
            "select": (self.select, SELECTIONS),
            "schedule": (self.schedule, SCHEDULES),
            "batching": (self.batching, BATCHINGS),
        }
        for name, (value, allowed) in checks.items():
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
        self.augment = check_augments(self.augment)
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if not 0.0 <= self.average < 1.0:
            raise ValueError(f"average (an EMA decay) must be in [0, 1), got {self.average}")
        if self.weight_decay < 0 or (self.adj_lr is not None and not self.adj_lr > 0):
            raise ValueError("weight_decay must be >= 0 and adj_lr > 0")
        if self.adj_eps is not None and not (math.isfinite(self.adj_eps) and self.adj_eps > 0):
            raise ValueError(f"adj_eps (Adam's epsilon for A) must be > 0, got {self.adj_eps}")
        if not (math.isfinite(self.adj_init) and self.adj_init > 0):
            raise ValueError(f"adj_init (the spread of A's start) must be > 0, got {self.adj_init}")
        if not math.isfinite(self.adj_mean):
            raise ValueError(f"adj_mean (the centre of A's start) must be finite, got {self.adj_mean}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FitResult:
    best_epoch: int
    best_val_accuracy: float
    epochs_run: int
    history: list[dict]
    init_adj: np.ndarray | None = None  # a learned adjacency's initial value (set by the protocol)


def resolve_device(name: str) -> str:
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was requested but no CUDA device is available")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda; got {name!r}")
    return name


def adam(
    model: nn.Module,
    lr: float,
    weight_decay: float = 0.0,
    adj_lr: float | None = None,
    adj_eps: float | None = None,
) -> torch.optim.Optimizer:
    """The paper's optimiser (AdamW where ``weight_decay`` is set: decoupled decay of the network weights,
    not of A and p). ``adj_lr`` and ``adj_eps`` give A a learning rate and an epsilon of its own. The
    fused kernel (one pass over all parameters) is about 10% of a JapaneseVowels step faster than the
    per-tensor loop on CPU (docs/training-speed.md); it needs every parameter floating point on one CPU
    or CUDA device."""
    named = list(model.named_parameters())
    params = [p for _, p in named]
    devices = {p.device.type for p in params}
    fused = len(devices) == 1 and devices <= {"cpu", "cuda"} and all(p.is_floating_point() for p in params)
    if not weight_decay and adj_lr is None and adj_eps is None:
        return torch.optim.Adam(params, lr=lr, fused=fused)
    structure = {name: p for name, p in named if name in STRUCTURE_PARAMS}
    groups = [{"params": [p for name, p in named if name not in structure], "weight_decay": weight_decay}]
    if "pool_p" in structure:
        groups.append({"params": [structure["pool_p"]], "weight_decay": 0.0})
    if "adj" in structure:
        group = {"params": [structure["adj"]], "weight_decay": 0.0, "lr": adj_lr or lr}
        groups.append({**group, "eps": adj_eps} if adj_eps is not None else group)
    return torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay, fused=fused)


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    torch.use_deterministic_algorithms(True, warn_only=True)


@torch.no_grad()
def predict_logits(model: nn.Module, x: np.ndarray | torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """Logits (N, C) for graphs x (N, M, P), in eval mode."""
    model.eval()
    device = next(model.parameters()).device
    xt = torch.as_tensor(x, dtype=torch.float32)
    outs = [model(xt[i : i + batch_size].to(device)).float().cpu() for i in range(0, len(xt), batch_size)]
    return torch.cat(outs).numpy()


def _scheduler(opt: torch.optim.Optimizer, cfg: TrainConfig) -> torch.optim.lr_scheduler.LRScheduler:
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    return torch.optim.lr_scheduler.StepLR(opt, step_size=cfg.lr_step, gamma=cfg.lr_gamma)


def prior_alone(
    init: np.ndarray, lambda1: float, lambda2: float, cfg: TrainConfig, steps_per_epoch: int, epochs: int
) -> np.ndarray:
    """A after the run's own optimiser settings for A (rate, epsilon, schedule, steps) with eq. 8's terms
    as the only loss: what the structure prior alone makes of the start. The learned A against this one
    shows what the classification loss added (graph_stats.py)."""
    adj = nn.Parameter(torch.as_tensor(init, dtype=torch.float32).clone())
    dist2 = structure_matrix(adj.shape[0])
    opt = torch.optim.Adam([adj], lr=cfg.adj_lr or cfg.lr, eps=cfg.adj_eps or 1e-8)
    sched = _scheduler(opt, cfg)
    for _ in range(epochs):
        for _ in range(steps_per_epoch):
            opt.zero_grad(set_to_none=True)
            graph_prior(adj, dist2, lambda1, lambda2).backward()
            opt.step()
        sched.step()
    return adj.detach().numpy()


def _moving_average(model: nn.Module, decay: float) -> torch.optim.swa_utils.AveragedModel | None:
    """An exponential moving average of the weights (and buffers), or None where ``decay`` is 0."""
    if not decay:
        return None
    return torch.optim.swa_utils.AveragedModel(
        model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(decay), use_buffers=True
    )


def _autocast(mode: str, device: torch.device) -> contextlib.AbstractContextManager:
    if mode == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _batches(perm: torch.Tensor, size: int, batching: str) -> list[torch.Tensor]:
    """The epoch's batches of ``perm``: ``fixed`` sizes with a remainder, or ``even`` sizes (as many)."""
    if batching == "fixed":
        return [perm[i : i + size] for i in range(0, len(perm), size)]
    count = -(-len(perm) // size)
    return [perm[len(perm) * k // count : len(perm) * (k + 1) // count] for k in range(count)]


def _trained(batch: torch.Tensor, n: int) -> bool:
    """Whether a batch takes a step: one of a single graph breaks batch-norm statistics in the SENet
    baseline, so it is skipped unless it is the whole training set."""
    return len(batch) >= 2 or n == 1


def steps_per_epoch(n: int, cfg: TrainConfig) -> int:
    """Optimiser steps in one epoch over ``n`` training graphs."""
    return sum(_trained(b, n) for b in _batches(torch.arange(n), cfg.batch_size, cfg.batching))


def _train_epoch(
    model: GraphModel,
    opt: torch.optim.Optimizer,
    ema: torch.optim.swa_utils.AveragedModel | None,
    augment: Augmenter,
    train: tuple[torch.Tensor, torch.Tensor],
    gen: torch.Generator,
    cfg: TrainConfig,
    desc: str,
    epoch: int,
) -> float:
    """One pass over the training graphs in the generator's order; returns the mean cross-entropy per
    graph (without the ``dataset`` reduction's scale). ``desc`` and ``epoch`` name the pass in errors."""
    xt, yt = train
    device = torch.device(cfg.device)
    reduction = "mean" if cfg.ce_reduction == "mean" else "sum"
    model.train()
    perm = torch.randperm(len(xt), generator=gen).to(device)
    total, n = 0.0, 0
    for idx in _batches(perm, cfg.batch_size, cfg.batching):
        if not _trained(idx, len(perm)):
            continue
        # "dataset": the batch sum times N / B estimates eq. 7's sum over all N training graphs.
        scale = len(yt) / len(idx) if cfg.ce_reduction == "dataset" else 1.0
        opt.zero_grad(set_to_none=True)
        xb = augment(xt[idx]) if augment else xt[idx]
        with _autocast(cfg.autocast, device):
            logits = model(xb).float()
        cls_loss = (
            nn.functional.cross_entropy(
                logits, yt[idx], reduction=reduction, label_smoothing=cfg.label_smoothing
            )
            * scale
        )
        loss = cls_loss + model.regularization()
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"{desc}: the loss became {float(loss)} at epoch {epoch}; lower --lr or check the inputs"
            )
        loss.backward()
        opt.step()
        if ema is not None:
            ema.update_parameters(model)
        total += float(cls_loss.detach()) / scale * (1 if reduction == "sum" else len(idx))
        n += len(idx)
    return total / max(n, 1)


@torch.no_grad()
def _validate(
    model: nn.Module, xv: torch.Tensor, yv: torch.Tensor, autocast: str, device: torch.device
) -> tuple[float, float]:
    """(loss, accuracy) on the validation graphs, in eval mode."""
    model.eval()
    with _autocast(autocast, device):
        logits = model(xv).float()
        loss = float(nn.functional.cross_entropy(logits, yv))
        return loss, float((logits.argmax(1) == yv).float().mean())


@torch.no_grad()
def _structure_loss(model: GraphModel) -> float:
    """The model's eq. 8 terms (0 for a model without any) at its current weights."""
    return float(model.regularization())


@dataclass
class _Selection:
    """The epoch ``select`` keeps so far: its (accuracy, loss), weights, and the epochs since it."""

    select: str
    best: tuple[float, float] = (-1.0, math.inf)
    key: tuple | None = None
    state: dict | None = None
    epoch: int = 0
    stale: int = 0

    def offer(self, epoch: int, val_acc: float, val_loss: float, judged: nn.Module) -> None:
        key = {"accuracy": (val_acc, -val_loss), "loss": (-val_loss,), "last": (epoch,)}[self.select]
        if self.key is None or key > self.key:
            self.key = key
            self.best, self.epoch, self.stale = (val_acc, val_loss), epoch, 0
            self.state = copy.deepcopy(judged.state_dict())
        else:
            self.stale += 1


class _Progress:
    """A bar on terminals; in a log (not a terminal) one line every tenth of the run instead, after a line
    that says what its numbers are."""

    def __init__(self, epochs: int, desc: str, num_classes: int, structure: bool) -> None:
        self.epochs, self.desc, self.structure, self.classes = epochs, desc, structure, num_classes
        self.bar = tqdm(range(1, epochs + 1), desc=desc, leave=False, dynamic_ncols=True, disable=None)
        self.lines = not sys.stderr.isatty()
        self.every, self.started = max(1, epochs // 10), time.monotonic()
        if self.lines:
            print(f"  {desc}: {self.legend()}", flush=True)

    def legend(self) -> str:
        """What each number of the progress lines is."""
        eq8 = "; eq. 8 = the structure terms, the rest of the training loss" if self.structure else ""
        chance = f"ln {self.classes} = {math.log(self.classes):.2f}"
        return (
            "train ce = mean cross-entropy per training graph over the epoch's steps, whatever "
            f"--ce-reduction (chance: {chance}; far above it while the untrained logits are large){eq8}; "
            "val ce, val acc: the validation graphs'"
        )

    def __iter__(self) -> Iterator[int]:
        return iter(self.bar)

    def report(self, row: dict, best_acc: float) -> None:
        epoch = row["epoch"]
        eq8 = {"eq8": f"{row['eq8']:.4g}"} if self.structure else {}
        self.bar.set_postfix(
            ce=f"{row['train_ce']:.3f}", **eq8, val_acc=f"{row['val_acc']:.3f}", best=f"{best_acc:.3f}"
        )
        if self.lines and (epoch % self.every == 0 or epoch == self.epochs):
            elapsed = time.monotonic() - self.started
            left = elapsed / epoch * (self.epochs - epoch)
            eq8_txt = f", eq. 8 {row['eq8']:.4g}" if self.structure else ""
            print(
                f"  {self.desc}: epoch {epoch}/{self.epochs}, train ce {row['train_ce']:.3f}{eq8_txt}, "
                f"val ce {row['val_loss']:.3f}, val acc {row['val_acc']:.3f}, {elapsed:.0f} s, "
                f"about {left:.0f} s left",
                flush=True,
            )

    def close(self) -> None:
        self.bar.close()


def fit(
    model: GraphModel,
    train_x: np.ndarray,
    train_y: np.ndarray,
    val_x: np.ndarray,
    val_y: np.ndarray,
    cfg: TrainConfig,
    desc: str = "train",
    on_epoch: Callable[[dict], None] | None = None,
    train_loops: np.ndarray | None = None,
) -> FitResult:
    """Train in place. The model ends with the weights ``cfg.select`` keeps: the last epoch's (default),
    or the best validation epoch's by accuracy (ties: lower loss) or by loss; with ``cfg.average`` the
    moving average's. ``on_epoch`` gets each epoch's history row as it is made (live logging).
    ``train_loops``: each training graph's loop length (data/graph.py graph_loops), which the shift
    augmentation's check takes (train/augment.py shift_check; None: M for every graph). The test
    split is never seen here."""
    device = torch.device(cfg.device)
    retain_freed_memory()
    model.to(device)
    xt = torch.as_tensor(train_x, dtype=torch.float32, device=device)
    yt = torch.as_tensor(train_y, dtype=torch.long, device=device)
    xv = torch.as_tensor(val_x, dtype=torch.float32, device=device)
    yv = torch.as_tensor(val_y, dtype=torch.long, device=device)
    opt = adam(model, cfg.lr, cfg.weight_decay, cfg.adj_lr, cfg.adj_eps)
    sched = _scheduler(opt, cfg)
    augment = Augmenter(cfg.augment, xt, cfg.seed, train_loops, yt)
    if augment.shift_reason:
        state = "on" if augment.shifts else "off"
        print(f"  {desc}: cyclic shifts {state}: {augment.shift_reason}", flush=True)
    ema = _moving_average(model, cfg.average)
    # The averaged weights are what validation sees, what selection keeps and what the run saves.
    judged = model if ema is None else ema.module
    gen = torch.Generator().manual_seed(cfg.seed)
    kept, history = _Selection(cfg.select), []
    structure = type(model).regularization is not GraphModel.regularization
    progress = _Progress(cfg.epochs, desc, model.options.num_classes, structure)
    for epoch in progress:
        train_ce = _train_epoch(model, opt, ema, augment, (xt, yt), gen, cfg, desc, epoch)
        lr = float(opt.param_groups[0]["lr"])  # the rate this epoch trained with
        sched.step()
        val_loss, val_acc = _validate(judged, xv, yv, cfg.autocast, device)
        row = {"epoch": epoch, "train_ce": train_ce, "val_loss": val_loss, "val_acc": val_acc, "lr": lr}
        # Eq. 8's terms are the rest of the training loss (train_ce is the cross-entropy alone).
        history.append({**row, "eq8": _structure_loss(model)})
        if on_epoch is not None:
            on_epoch(history[-1])
        kept.offer(epoch, val_acc, val_loss, judged)
        progress.report(history[-1], kept.best[0])
        if kept.stale >= cfg.patience and cfg.select != "last":
            break
    progress.close()
    if kept.state is not None:
        model.load_state_dict(kept.state)
    model.eval()
    return FitResult(kept.epoch, kept.best[0], len(history), history)
