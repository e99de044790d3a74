"""Train a model with an honest evaluation protocol and save the checkpoint users export.

Example: python -m lgrin_edge.train --dataset japanesevowels --model lgrin --out runs/jv
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import platform
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch

from lgrin_edge import __version__
from lgrin_edge.atomic import (
    check_folder_target,
    exclusive,
    staged_folder,
    write_bytes,
    write_json,
    write_npz,
)
from lgrin_edge.baselines import BASELINES
from lgrin_edge.checkpoint import CONFIG, WEIGHTS, save_checkpoint
from lgrin_edge.cli import Parser, UserError, at_least, given, run
from lgrin_edge.data import DATASET_NAMES, load_dataset
from lgrin_edge.data.dataset import SequenceDataset, empty_classes
from lgrin_edge.data.graph import LONG_POLICIES, default_nodes
from lgrin_edge.data.windows import VOTE, WindowOptions, Windows, check_window_options, windows_for
from lgrin_edge.models import model_class, model_names, model_options, preset_options
from lgrin_edge.models.lgrin import training_bytes
from lgrin_edge.optional import installed, missing
from lgrin_edge.options_cli import add_options, add_shared_options, cli_fields, values
from lgrin_edge.spec import NPZ_KEY
from lgrin_edge.train.graph_stats import caption, degree_line, graph_diagnostics
from lgrin_edge.train.plots import plot_adjacency, plot_confusion, plot_curves
from lgrin_edge.train.protocol import ProtocolResult, run_protocol
from lgrin_edge.train.recipes import (
    EQ8_KEYS,
    EQ8_WEIGHTS,
    RECIPES,
    RecipeOptions,
    describe,
    model_lambdas,
    resolve,
    train_settings,
)
from lgrin_edge.train.trainer import (
    AUTOCASTS,
    SELECTIONS,
    TrainConfig,
    prior_alone,
    resolve_device,
    steps_per_epoch,
)
from lgrin_edge.train.transfer import FINETUNES, TRANSFER_NORMS, Source, load_source

CALIBRATION_MAX = 512
# What a run folder holds; only such a folder may be replaced (with --overwrite).
RUN_FILES = {
    CONFIG,
    WEIGHTS,
    "metrics.json",
    "history.csv",
    "calibration.npz",
    "eval.npz",
    "confusion.png",
    "adjacency.png",
    "curves.png",
}
HISTORY_COLUMNS = ("fit", "epoch", "train_ce", "eq8", "val_loss", "val_acc", "lr")
# Options of A's random start: --init-from starts A from RUN's.
START_OPTIONS = ("adj_init", "adj_mean")
# The recipe options --help lists with the run's optimisation; the others have a group of their own.
_WITH_OPTIMISATION = ("epochs", "lr", "lr_step")


def build_parser() -> argparse.ArgumentParser:
    """The command's options: the run, its optimisation, the recipe's overrides, the graph, the models."""
    p = Parser(
        prog="python -m lgrin_edge.train",
        description=__doc__,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--dataset",
        default="japanesevowels",
        help=f"bundled dataset ({', '.join(DATASET_NAMES)}) or path to an .npz (docs/data-format.md)",
    )
    p.add_argument(
        "--model",
        default="lgrin",
        choices=(*model_names(presets=True), *BASELINES),
        help="model to train; " + ", ".join(BASELINES) + ": aeon's classifiers (lgrin_edge/baselines/)",
    )
    p.add_argument("--out", type=Path, default=None, help="run folder; default runs/<dataset>-<model>")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an earlier run in --out (only once the new one is complete)",
    )
    p.add_argument(
        "--recipe",
        default="default",
        choices=tuple(RECIPES),
        help="training recipe the options below start from: "
        + "; ".join(f"{n}: {describe(n)}" for n in RECIPES)
        + " (docs/model.md)",
    )
    _add_optimisation_arguments(p)
    recipe = p.add_argument_group("recipe options (each overrides the --recipe's value)")
    add_options(recipe, RecipeOptions, omit=_WITH_OPTIMISATION)
    _add_model_arguments(p)
    _add_transfer_arguments(p.add_argument_group("cross-corpus transfer (docs/analyses.md)"))
    return p


def _add_transfer_arguments(t: argparse._ArgumentGroup) -> None:
    t.add_argument(
        "--init-from",
        type=Path,
        metavar="RUN",
        help="start from this L-GrIN run folder (trained on another corpus): the model and its options "
        "are RUN's (an L-GrIN option given here must repeat RUN's), the classifier is new for this "
        "dataset's classes; needs the same features per frame",
    )
    t.add_argument(
        "--finetune",
        choices=FINETUNES,
        help="with --init-from: classifier (the default) = freeze RUN's A, p and inception layers and "
        "train a new classifier only (the paper's Table VIII); all = train every layer from RUN's weights",
    )
    t.add_argument(
        "--transfer-norm",
        choices=TRANSFER_NORMS,
        help="with --init-from: input normalisation fitted on this dataset's training graphs (target, the "
        "default) or kept from RUN (source)",
    )


def _add_optimisation_arguments(p: argparse.ArgumentParser) -> None:
    add_options(p, RecipeOptions, ["epochs"])
    p.add_argument(
        "--folds", type=at_least(2), default=5, help="k for k-fold when the dataset has no official split"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of initialisation, batching and folds")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="auto = CUDA if present")
    p.add_argument("--batch-size", type=at_least(1), default=32, help="graphs per optimisation step")
    p.add_argument(
        "--autocast",
        default="none",
        choices=AUTOCASTS,
        help="bf16: forward passes in bfloat16 autocast (for GPUs; weights and optimiser stay fp32)",
    )
    add_options(p, RecipeOptions, ["lr", "lr_step"])
    p.add_argument(
        "--tensorboard",
        type=Path,
        metavar="DIR",
        help="also log every epoch's losses, validation accuracy and learning rate to TensorBoard in DIR "
        "(needs tensorboard: pip install 'lgrin-edge[tensorboard]'; skipped without it); curves.png is "
        "written either way",
    )
    p.add_argument(
        "--select",
        default="last",
        choices=SELECTIONS,
        help="weights to keep: last epoch, or the best validation accuracy / loss with early stopping",
    )
    p.add_argument(
        "--patience", type=at_least(1), default=50, help="early-stopping patience (--select accuracy|loss)"
    )


def _add_model_arguments(p: argparse.ArgumentParser) -> None:
    """Graph construction, then each model's options (L-GrIN's ablations, the baselines')."""
    g = p.add_argument_group("graph construction")
    g.add_argument(
        "--nodes",
        type=at_least(1),
        default=None,
        help="M, nodes per graph; default: the longest sequence, at most 120 (the paper's largest M)",
    )
    g.add_argument(
        "--long-policy",
        default="resample",
        choices=LONG_POLICIES,
        help="what to do with sequences longer than M",
    )
    add_options(g, WindowOptions)
    add_shared_options(p, [(model_class(n).__name__, model_options(n)) for n in model_names()])


def model_config(args: argparse.Namespace, nodes: int, source: Source | None = None) -> dict:
    """The model's options: those the command line sets (a preset's own in their place) and eq. 8's
    lambdas from the recipe (or --lambdas, --structure-units) for graphs of ``nodes`` nodes; with
    --init-from, RUN's."""
    if source is not None:
        return source.model_config()
    options = model_options(args.model)
    eq8 = model_lambdas(recipe_settings(args), nodes)
    own = {k: v for k, v in eq8.items() if k in options.option_names()}
    return options.config_from_args(args) | own | preset_options(args.model)


def _check_preset(args: argparse.Namespace, typed: set[str]) -> None:
    """Refuse an option ``typed`` on the command line that the preset --model names fixes otherwise."""
    fixed = preset_options(args.model)
    for f in cli_fields(model_options(args.model)):
        if f.name in fixed and f.dest in typed and f.value(args) != fixed[f.name]:
            raise UserError(
                f"--model {args.model} is {model_class(args.model).name} with {f.flag} {fixed[f.name]}; "
                f"leave {f.flag} out or choose another --model"
            )


def library_versions() -> dict:
    import sklearn

    return {
        "lgrin_edge": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
    }


def run_meta(args: argparse.Namespace, ds, res: ProtocolResult, nodes: int, cfg: TrainConfig,
             source: Source | None = None) -> dict:  # fmt: skip
    """What config.json records beside the model: the data, M, the recipe, where the run started, and
    the feature spec every export carries (lgrin_edge/spec.py)."""
    spec = ds.spec.for_run(nodes, args.long_policy, ds.classes)
    windows = _windows(args, ds)
    meta = {
        "dataset": args.dataset,
        "classes": ds.classes,
        "num_nodes": nodes,
        "long_policy": args.long_policy,
        NPZ_KEY: (spec if windows is None else spec.with_stream(windows.stream)).to_dict(),
        "train": {"recipe": args.recipe, **cfg.to_dict()},
        "eval_data": res.final_eval_kind,
    }
    if windows is not None:  # runs on whole sequences keep the config.json they always had
        meta["windows"] = windows.to_dict()
    return meta if source is None else {**meta, "init_from": source.describe()}


def save_run(out: Path, args: argparse.Namespace, ds, res: ProtocolResult, nodes: int, cfg: TrainConfig,
             source: Source | None = None) -> dict:  # fmt: skip
    model = res.final_model.cpu()
    meta = run_meta(args, ds, res, nodes, cfg, source)
    rng = np.random.default_rng(cfg.seed)
    pick = np.sort(rng.permutation(len(res.final_train.x))[:CALIBRATION_MAX])
    write_npz(out / "calibration.npz", x=res.final_train.x[pick], y=res.final_train.y[pick])
    write_npz(out / "eval.npz", x=res.final_eval.x, y=res.final_eval.y, classes=np.array(ds.classes))
    save_checkpoint(model, out, meta, data_files=("calibration.npz", "eval.npz"))
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
        "train": {"recipe": args.recipe, **cfg.to_dict()},
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
        **{k: v for k, v in meta.items() if k in ("init_from", "windows")},
    }
    if res.per_sequence is not None:
        metrics["per_sequence"] = res.per_sequence
    learned_graph = args.model == "lgrin" and model.config["adjacency"] != "weighted"
    if learned_graph:
        adj = model.graph().detach().numpy()  # relu(A) as it folds (with --max-degree, capped)
        fitted, prior = res.final_fit, None
        if fitted.init_adj is not None and source is None:  # a transferred A did not start from the draw
            o = model.options
            steps = steps_per_epoch(len(res.final_train.y), cfg)
            prior = prior_alone(fitted.init_adj, o.lambda1, o.lambda2, cfg, steps, fitted.epochs_run)
        metrics["graph"] = graph_diagnostics(adj, fitted.init_adj, prior)
    metrics["history"] = res.histories
    write_json(out / "metrics.json", metrics)
    write_history_csv(out / "history.csv", res.histories)
    plot_curves(res.histories, out / "curves.png", f"{args.model} on {ds.name}: learning curves")
    plot_confusion(
        res.confusion,
        ds.classes,
        out / "confusion.png",
        f"{args.model} on {ds.name}: accuracy {res.accuracy:.3f}",
    )
    if learned_graph:
        plot_adjacency(adj, out / "adjacency.png", f"learned relu(A), {ds.name}", caption(metrics["graph"]))
    return metrics


@contextlib.contextmanager
def tensorboard_logger(folder: Path | None) -> Iterator[Callable[[str, dict], None] | None]:
    """An ``on_epoch(fit, row)`` that writes each epoch's scalars to TensorBoard event files in
    ``folder`` (new files, named by TensorBoard: nothing there is overwritten), or None without one."""
    if folder is None:
        yield None
        return
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(log_dir=str(folder))

    def log(fit: str, row: dict) -> None:
        for key in HISTORY_COLUMNS[2:]:
            if key in row:
                writer.add_scalar(f"{fit}/{key}", row[key], row["epoch"])

    try:
        yield log
    finally:
        writer.close()


def write_history_csv(path: Path, histories: dict[str, list[dict]]) -> None:
    """One row per epoch of every fit (HISTORY_COLUMNS), for spreadsheets and plotting tools."""
    lines = [",".join(HISTORY_COLUMNS)]
    for label, rows in histories.items():
        for r in rows:
            cells = [
                r.get(c, "") for c in HISTORY_COLUMNS[1:]
            ]  # eq8: absent in runs made before it was logged
            values = [f"{v:.6g}" if isinstance(v, float) else str(v) for v in cells]
            lines.append(",".join([label, *values]))
    write_bytes(path, ("\n".join(lines) + "\n").encode())


def recipe_settings(args: argparse.Namespace) -> dict:
    """The recipe's settings with the options given on the command line put in."""
    return resolve(args.recipe, values(RecipeOptions, args))


def train_config(args: argparse.Namespace, device: str) -> TrainConfig:
    """The run's TrainConfig: the recipe's optimisation settings (eq. 8's lambdas go to the model)."""
    recipe = train_settings(recipe_settings(args))
    try:
        return TrainConfig(
            **recipe,
            batch_size=args.batch_size,
            patience=args.patience,
            select=args.select,
            seed=args.seed,
            device=device,
            autocast=args.autocast,
        )
    except ValueError as e:
        raise UserError(str(e)) from e


def available_memory() -> int:
    """Bytes of memory available to this process now (MemAvailable), or 0 where unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def check_graph_size(args: argparse.Namespace, nodes: int, features: int) -> None:
    """Refuse a configuration whose training would not fit in memory, naming the option that fixes it."""
    if args.model != "lgrin":
        return
    if args.pooling == "sort" and args.sort_k > nodes:
        raise UserError(f"--sort-k {args.sort_k} is larger than the {nodes} nodes per graph")
    config = {"num_nodes": nodes, "in_features": features, "eta": tuple(args.eta), "num_layers": args.layers}
    need, have = training_bytes(config, args.batch_size), available_memory()
    if args.device != "cuda" and have and need > have:
        fits = nodes
        while fits > 8 and training_bytes({**config, "num_nodes": fits}, args.batch_size) > have / 2:
            fits = fits * 3 // 4
        raise UserError(
            f"M = {nodes} nodes per graph would need about {need / 2**30:.0f} GiB to train (this machine "
            f"has {have / 2**30:.0f} GiB free); choose fewer nodes, e.g. --nodes {fits}, or a smaller "
            "--batch-size"
        )


def _check_outputs(args: argparse.Namespace, out: Path) -> Path | None:
    """Check that the run folder and the TensorBoard folder can be written (before any data is read);
    returns the folder to log TensorBoard events to: None without --tensorboard or without the package
    (training goes on without that log, as the line printed here says)."""
    check_folder_target(out, RUN_FILES, args.overwrite, "training run", "--overwrite")
    if args.tensorboard is None:
        return None
    if not installed("tensorboard"):
        print(f"skipped tensorboard: {missing('tensorboard')}")
        return None
    if args.tensorboard.exists() and not args.tensorboard.is_dir():
        raise UserError(f"--tensorboard {args.tensorboard} exists and is not a folder")
    return args.tensorboard


def _source(args: argparse.Namespace, typed: set[str]) -> Source | None:
    """The run --init-from names (refused in one line unless it is an L-GrIN checkpoint whose model the
    options ``typed`` on the command line agree with), or None."""
    if args.init_from is None:
        if args.finetune or args.transfer_norm:
            raise UserError("--finetune and --transfer-norm apply with --init-from RUN only")
        return None
    if args.model != "lgrin":
        raise UserError(f"--init-from starts an L-GrIN from an L-GrIN run; --model is {args.model}")
    source = load_source(args.init_from, args.finetune or "classifier", args.transfer_norm or "target")
    unhonoured = _unhonoured(args, typed, source)
    if unhonoured:
        raise UserError(
            f"--init-from {source.run} keeps that run's model, so these options cannot apply: "
            f"{'; '.join(unhonoured)}; leave them out"
        )
    return source


def _model_option_entries(args: argparse.Namespace) -> dict[str, tuple[str, ...]]:
    """The options that set the model's own configuration (config.json's "config"), by argparse
    destination, and the entries each sets: --init-from keeps RUN's configuration, so these may only
    repeat it."""
    entries = {f.dest: (f.name,) for f in cli_fields(model_options(args.model))}
    return entries | dict.fromkeys(EQ8_KEYS, EQ8_WEIGHTS)


def _unhonoured(args: argparse.Namespace, typed: set[str], source: Source) -> list[str]:
    """Each option of ``typed`` that asks for another model than ``source``'s, with RUN's value."""
    wanted = model_config(args, source.num_nodes)  # what the options ask for, at RUN's M

    def same(a: object, b: object) -> bool:
        if isinstance(a, int | float) and isinstance(b, int | float):
            return math.isclose(a, b, rel_tol=1e-9)  # eq. 8's weights are computed
        return json.dumps(a) == json.dumps(b)  # tuples and lists compare alike, as JSON keeps them

    found = []
    for dest, keys in _model_option_entries(args).items():
        if dest in typed and not all(same(wanted[k], source.config.get(k)) for k in keys):
            value = getattr(args, dest)
            shown = " ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
            option = "--" + dest.replace("_", "-") + ("" if isinstance(value, bool) else f" {shown}")
            has = ", ".join(f"{k} {json.dumps(source.config.get(k))}" for k in keys)
            found.append(f"{option} (the run has {has})")
    found += [f"--{d.replace('_', '-')} (A starts from the run's)" for d in START_OPTIONS if d in typed]
    return found


def _nodes(args: argparse.Namespace, ds, source: Source | None, windows: Windows | None) -> tuple[int, str]:
    """M and why: --init-from's graphs, --nodes, one node per frame of a --window, or the dataset's
    default."""
    if source is not None:
        source.check_data(ds.num_features, args.nodes, ds.name)
        return source.num_nodes, f"from {source.run}"
    if args.nodes:
        return args.nodes, "--nodes"
    if windows is not None:
        return windows.size, "one per frame of a --window"
    return default_nodes(ds.default_nodes)


def _windows(args: argparse.Namespace, ds: SequenceDataset) -> Windows | None:
    """The windows --window/--hop cut from ``ds``'s sequences, or None (whole sequences)."""
    return windows_for(args.window, args.hop, ds.spec)


def _sequence_text(res: ProtocolResult) -> str:
    """The accuracies per sequence of a windowed run, for the closing line ("" otherwise)."""
    seq = res.per_sequence
    if seq is None:
        return ""
    accuracies = f"{seq['accuracy']:.4f}, {seq['unweighted_accuracy']:.4f}"
    return f" per window; per sequence ({seq['vote']} vote) {accuracies}"


def _load(args: argparse.Namespace) -> SequenceDataset:
    """The dataset, with a warning on classes without samples."""
    ds = load_dataset(args.dataset)
    empty = empty_classes(ds)
    if empty:
        print(
            f"warning: {len(empty)} class(es) have no samples and can never be predicted: "
            f"{', '.join(empty[:5])}",
            file=sys.stderr,
        )
    return ds


def _describe_windows(windows: Windows, ds: SequenceDataset) -> str:
    """The windows a run trains on, for the log."""
    count = sum(len(windows.starts(int(n))) for n in ds.lengths)
    return (
        f"{windows.describe()}: {count} windows of {len(ds.y)} sequences; test accuracy per window and per "
        f"sequence ({VOTE} vote of its windows)"
    )


def _main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = args.out or Path("runs") / f"{Path(args.dataset).stem}-{args.model}"
    if args.model in BASELINES:
        from lgrin_edge.baselines.train import train_baseline

        return train_baseline(args, given(build_parser(), argv), out, RUN_FILES)
    # Options and the output folder are checked before any data is read or any folder is created.
    tensorboard = _check_outputs(args, out)
    typed = given(build_parser(), argv)
    _check_preset(args, typed)
    source = _source(args, typed)
    device = resolve_device(args.device)
    cfg = train_config(args, device)  # impossible recipe settings are refused before any data is read
    check_window_options(args.window, args.hop)
    ds = _load(args)
    windows = _windows(args, ds)
    nodes, why = _nodes(args, ds, source, windows)
    if windows is not None and args.long_policy == "chunk" and windows.size > nodes:
        # a stream classifies one graph per decision; chunk would train on every chunk of a window
        raise UserError(
            f"--long-policy chunk with a --window of {windows.size} frames > M = {nodes}: a stream "
            "classifies one graph per window; use resample or truncate, or --nodes >= the window's frames"
        )
    if source is None:
        check_graph_size(args, nodes, ds.num_features)
    print(
        f"{args.model} on {ds.name}: {len(ds.y)} sequences, {ds.num_features} features, "
        f"{ds.num_classes} classes, M = {nodes} nodes ({why}), device {device}"
    )
    if windows is not None:
        print(_describe_windows(windows, ds))
    config = model_config(args, nodes, source)
    if "lambda1" in config:
        weights = ", ".join(f"{k} {config[k]:.4g}" for k in ("lambda1", "lambda2", "lambda3"))
        print(f"recipe {args.recipe}; eq. 8: {weights}")
    with exclusive(out, "run folder"):
        # Checked again under the lock: another run may have finished into it meanwhile.
        check_folder_target(out, RUN_FILES, args.overwrite, "training run", "--overwrite")
        with tensorboard_logger(tensorboard) as on_epoch:
            try:
                res = run_protocol(
                    ds, args.model, config, cfg, nodes, args.folds, args.long_policy,
                    on_epoch=on_epoch, start=source, windows=windows,
                )  # fmt: skip
            except (ValueError, FloatingPointError) as e:  # the data cannot train this model
                raise UserError(str(e)) from e
        with staged_folder(out) as stage:
            metrics = save_run(stage, args, ds, res, nodes, cfg, source)
    print(
        f"{res.protocol}: accuracy {metrics['accuracy']:.4f}, unweighted accuracy "
        f"{metrics['unweighted_accuracy']:.4f}{_sequence_text(res)}, {metrics['params']:,} parameters, "
        f"{metrics['seconds']} s"
    )
    if "graph" in metrics:
        print(degree_line(metrics["graph"]))
    print(f"checkpoint and metrics written to {out}/")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command: exit code 0 on success; problems are one line on stderr (lgrin_edge.cli.run)."""
    return run(_main, argv)
