"""Ablation sweeps of the paper's Section IV-D: every (configuration, fold, seed) cell of a grid trained
and tested as a Ray task (or on a local process pool), results kept as they finish.

Built-in grids mirror the paper: pooling (Table IV), adjacency (Table V), components (Table VI),
inception (Table VII), lambdas (Fig. 6), transfer (Table VIII, with --init-from); or a grid file
(.json/.yaml: docs/analyses.md). Each cell is one fold of `python -m lgrin_edge.train --seed S` (the
official split, or group-aware k-fold with validation carved from the training folds).

--out holds cells/ (one JSON file per finished cell, written atomically; a re-run skips them, so an
interrupted sweep resumes; a damaged one is named and its cell runs again), and <grid>.md (the table),
<grid>.csv, <grid>.json, <grid>.png (lambdas).

Example: python -m lgrin_edge.sweep --grid components --dataset basicmotions japanesevowels \\
         --seeds 0 1 2 --out runs/components
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from tqdm.auto import tqdm

from lgrin_edge import __version__
from lgrin_edge.analysis.backends import BACKENDS, Resources, choose_backend, run_local, run_ray
from lgrin_edge.analysis.cells import (
    MANIFEST,
    Cell,
    cell_path,
    check_sweep_folder,
    read_cell,
    stored_cell,
    written_reports,
)
from lgrin_edge.analysis.grids import GRID_NAMES, MODEL_KEYS, Grid, Row, load_grid
from lgrin_edge.analysis.sweep_report import (
    csv_rows,
    markdown_table,
    plot_sections,
    summarise,
    write_markdown,
)
from lgrin_edge.atomic import exclusive, file_sha256, write_bytes, write_json
from lgrin_edge.cli import EXIT_INTERRUPTED, Parser, UserError, at_least, finite_float, run
from lgrin_edge.data import DATASET_NAMES, load_dataset
from lgrin_edge.data.graph import LONG_POLICIES, default_nodes
from lgrin_edge.data.splits import protocol_name
from lgrin_edge.measure.threads import cpu_description
from lgrin_edge.models.lgrin import LGrINOptions
from lgrin_edge.train.recipes import RECIPE_KEYS, RECIPES, model_lambdas, resolve, train_settings
from lgrin_edge.train.trainer import SELECTIONS, TrainConfig
from lgrin_edge.train.transfer import load_source


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="python -m lgrin_edge.sweep",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--grid", required=True, help=f"built-in grid ({', '.join(GRID_NAMES)}) or a .json/.yaml grid file"
    )
    p.add_argument(
        "--dataset",
        nargs="+",
        required=True,
        metavar="D",
        help=f"one or more datasets: {', '.join(DATASET_NAMES)} or .npz paths (one table column each)",
    )
    p.add_argument("--out", type=Path, required=True, help="folder of the cells and reports (resumable)")
    p.add_argument(
        "--folds",
        type=at_least(2),
        default=5,
        help="k of k-fold for data without an official split (default 5; the paper: 10 for "
        "video, 5 for speech and mocap); data with one has one fold, the split",
    )
    p.add_argument("--seeds", nargs="+", type=at_least(0), default=[0], help="seeds (default: 0)")
    p.add_argument(
        "--recipe",
        default="default",
        choices=tuple(RECIPES),
        help="training recipe every row starts from (default: default; docs/model.md)",
    )
    p.add_argument("--epochs", type=at_least(1), help="epochs of every cell (default: the recipe's, 150)")
    p.add_argument("--batch-size", type=at_least(1), default=32, help="graphs per step (default 32)")
    p.add_argument(
        "--select",
        default="last",
        choices=SELECTIONS,
        help="weights kept, as train's --select (default last)",
    )
    p.add_argument("--nodes", type=at_least(1), help="M; default: as train (the longest sequence, <= 120)")
    p.add_argument(
        "--long-policy",
        default="resample",
        choices=LONG_POLICIES,
        help="sequences longer than M (default resample)",
    )
    p.add_argument(
        "--init-from",
        metavar="RUN",
        help="the source run of --grid transfer (an L-GrIN run folder of another corpus)",
    )
    _add_backend_arguments(p.add_argument_group("where the cells run"))
    return p


def _add_backend_arguments(g: argparse._ArgumentGroup) -> None:
    g.add_argument(
        "--backend",
        default="auto",
        choices=BACKENDS,
        help="ray: every cell a Ray task; local: a process pool on this machine; auto (default): "
        "Ray when installed (pip install 'lgrin-edge[ray]'), else local",
    )
    g.add_argument(
        "--address",
        help="Ray cluster to submit to (ray://host:10001 or host:6379); default: "
        "start a local Ray instance (workers need this package and the data at the same paths)",
    )
    g.add_argument(
        "--workers",
        type=at_least(1),
        default=min(2, os.cpu_count() or 1),
        help="cells at once on this machine (local pool, or the local Ray instance's size in "
        "tasks); default min(2, CPUs)",
    )
    g.add_argument(
        "--cpus-per-task",
        type=at_least(1),
        default=1,
        help="CPU threads of each cell (its Ray CPU request); default 1",
    )
    g.add_argument(
        "--gpus-per-task",
        type=finite_float(0.0),
        default=0.0,
        help="GPUs of each cell (its Ray GPU request; > 0 trains on CUDA); default 0",
    )


def _data_id(spec: str) -> str:
    """Bundled data by name; a file by its content, so an edited .npz is a new dataset."""
    return spec if spec in DATASET_NAMES else f"sha256:{file_sha256(spec)}"


def _row_settings(args: argparse.Namespace, row: Row, ds, what: str) -> dict:
    """A row's settings for one dataset, resolved and checked: model options, recipe, M, protocol."""
    s = row.settings
    overrides = {"epochs": args.epochs} | {k: s[k] for k in RECIPE_KEYS if k in s}
    try:
        recipe = resolve(args.recipe, overrides)
        train = {**train_settings(recipe), "batch_size": args.batch_size, "select": args.select}
        TrainConfig(**train, device="cpu")  # refuse impossible values now, not in a worker
        nodes = args.nodes or default_nodes(ds.default_nodes)[0]
        lambdas = model_lambdas(recipe, nodes)
    except ValueError as e:
        raise UserError(f"{what}: {e}") from e
    # Every option spelt out: rows that differ only in naming a default share their cells.
    model = LGrINOptions.defaults() | lambdas
    model |= {k: s[k] for k in MODEL_KEYS if k in s}
    source = None
    if "init_from" in s:
        if any(k in s for k in MODEL_KEYS):
            raise UserError(f"{what}: a row with init_from takes the source run's model options")
        src = load_source(s["init_from"], s.get("finetune", "classifier"), s.get("transfer_norm", "target"))
        src.check_data(ds.num_features, args.nodes, ds.name)
        model, nodes = src.model_config(), src.num_nodes
        source = src.describe()
    folds = args.folds if ds.is_test is None else 1
    return {
        "model_config": model,
        "train": train,
        "nodes": nodes,
        "long_policy": args.long_policy,
        "folds": folds,
        "init_from": source,
        "lgrin_edge": __version__,
    }


def plan(args: argparse.Namespace, grid: Grid) -> tuple[dict[tuple[str, str], list[Cell]], dict[str, str]]:
    """Every row's cells per dataset (grid order), and each dataset's protocol name. Reads the data (to
    count folds and check transfer sources) but trains nothing."""
    cells: dict[tuple[str, str], list[Cell]] = {}
    protocols = {}
    for spec in args.dataset:
        ds = load_dataset(spec)
        protocols[spec] = protocol_name(ds, args.folds)
        data_id = _data_id(spec)
        for row in grid.rows:
            settings = _row_settings(args, row, ds, f"row {row.name!r} on {ds.name}")
            n_folds = settings["folds"]
            cells[(row.name, spec)] = [
                Cell(spec, data_id, f, seed, settings) for seed in args.seeds for f in range(n_folds)
            ]
    return cells, protocols


def _describe(cell: Cell, rows: dict[str, list[str]]) -> str:
    return f"{' = '.join(rows[cell.id])} / {Path(cell.dataset).stem} fold {cell.fold + 1} seed {cell.seed}"


def execute(
    args: argparse.Namespace, todo: list[Cell], rows: dict[str, list[str]], backend: str
) -> list[dict]:
    """Run the cells, store each finished one at once, log a line per cell; return the failures."""
    res = Resources(args.workers, args.cpus_per_task, args.gpus_per_task)
    outcomes = run_ray(todo, res, args.address) if backend == "ray" else run_local(todo, res)
    failures = []
    with tqdm(total=len(todo), desc="cells", unit="cell", dynamic_ncols=True) as bar:
        for i, (cell, result, err) in enumerate(outcomes, 1):
            if isinstance(err, KeyboardInterrupt):  # Ctrl-C reached a worker first
                raise KeyboardInterrupt
            if err is None and result is not None:
                record = {
                    "cell": cell.id,
                    "dataset": cell.dataset,
                    "fold": cell.fold,
                    "seed": cell.seed,
                    "settings": cell.settings,
                    **result,
                }
                write_json(cell_path(args.out, cell), record)
                line = f"accuracy {result['accuracy']:.4f} ({result['seconds']:.0f} s)"
            else:
                message = f"{type(err).__name__}: {err}".splitlines()[0]
                failures.append({"cell": cell.id, "what": _describe(cell, rows), "error": message})
                line = f"FAILED: {message}"
            bar.update()
            tqdm.write(f"[{i}/{len(todo)}] {_describe(cell, rows)}: {line}")
    return failures


def report(args: argparse.Namespace, grid: Grid, cells: dict, protocols: dict, run_info: dict) -> str:
    """Write <grid>.md/.csv/.json (and .png for a plotted grid); return the markdown table."""
    results = {key: [r for c in cs if (r := read_cell(args.out, c)) is not None] for key, cs in cells.items()}
    expected = {key: len(cs) for key, cs in cells.items()}
    summaries = summarise(grid, args.dataset, results, expected)
    table = markdown_table(grid, args.dataset, summaries)
    files = [f"{grid.name}.md", f"{grid.name}.csv", f"{grid.name}.json"] + ([f"{grid.name}.png"] * grid.plot)
    # The manifest first: a report file it lists is the sweep's own, so a later run may replace it.
    write_json(args.out / MANIFEST, {"reports": sorted(set(written_reports(args.out)) | set(files))})
    counts = sorted({c.settings["train"]["epochs"] for cs in cells.values() for c in cs})
    epochs = "/".join(map(str, counts)) + " epochs" + (" (per row)" if len(counts) > 1 else "")
    intro = [
        f"Command: `python -m lgrin_edge.sweep {' '.join(run_info['argv'])}`",
        "",
        f"Accuracy: mean +- standard deviation over {len(args.seeds)} seed(s) x the folds of each dataset's "
        f"protocol ({'; '.join(f'{Path(d).stem}: {p}' for d, p in protocols.items())}), recipe "
        f"{args.recipe}, {epochs}. Params: trainable parameters.",
        f"CPU: {run_info['cpu']}; backend: {run_info['backend']}.",
    ]
    write_markdown(args.out / files[0], grid.title, intro, table, list(grid.notes))
    write_bytes(args.out / files[1], csv_rows(grid, results))
    write_json(
        args.out / files[2],
        {
            "grid": grid.name,
            "title": grid.title,
            "datasets": args.dataset,
            "protocols": protocols,
            "seeds": args.seeds,
            **run_info,
            "summary": [s.to_dict() for s in summaries],
        },
    )
    if grid.plot:
        plot_sections(grid, args.dataset, summaries, args.out / files[3])
    return table


def _check_options(args: argparse.Namespace) -> None:
    """Options that argparse cannot check alone: a dataset or seed named twice would count its cells
    twice in the tables."""
    for name, values in (("--dataset", args.dataset), ("--seeds", args.seeds)):
        twice = sorted({str(v) for v in values if values.count(v) > 1})
        if twice:
            raise UserError(f"{name} names {', '.join(twice)} more than once")


def _todo(out: Path, unique: dict[str, Cell]) -> list[Cell]:
    """The cells without a valid stored result; a damaged cell file is named (one line) and run again."""
    stored = {c.id: stored_cell(out, c) for c in unique.values()}
    damaged = [f"{cell_path(out, c).name} ({why})" for c in unique.values() if (why := stored[c.id][1])]
    if damaged:
        shown = ", ".join(damaged[:3]) + (f" and {len(damaged) - 3} more" if len(damaged) > 3 else "")
        print(
            f"warning: {len(damaged)} cell file(s) in {out / 'cells'} are not results and their cells run "
            f"again: {shown}",
            file=sys.stderr,
        )
    return [c for c in unique.values() if stored[c.id][0] is None]


def _main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _check_options(args)
    backend, says, skipped = choose_backend(args.backend, args.address)  # before any work
    if skipped:
        print(skipped, flush=True)
    grid = load_grid(args.grid, args.init_from)
    check_sweep_folder(args.out)
    cells, protocols = plan(args, grid)
    rows: dict[str, list[str]] = {}
    for (name, _), cs in cells.items():
        for c in cs:
            rows.setdefault(c.id, []).append(name)  # rows with equal settings share their cells
    unique = {c.id: c for cs in cells.values() for c in cs}
    with exclusive(args.out, "sweep folder"):
        check_sweep_folder(args.out)  # again under the lock
        todo = _todo(args.out, unique)
        print(
            f"{grid.name}: {len(grid.rows)} rows x {len(args.dataset)} dataset(s) = {len(unique)} cells; "
            f"{len(unique) - len(todo)} finished earlier, {len(todo)} to run. {says}"
        )
        began = time.time()
        try:
            failures = execute(args, todo, rows, backend) if todo else []
            info = {
                "argv": argv if argv is not None else sys.argv[1:],
                "backend": backend,
                "cpu": cpu_description(),
                "workers": args.workers,
                "cells": len(unique),
                "cells_run": len(todo) - len(failures),
                "wall_seconds": round(time.time() - began, 1),
                "failed": failures,
            }
            table = report(args, grid, cells, protocols, info)
        except KeyboardInterrupt:
            # Each finished cell was stored as it finished, so the truth is "kept", not "unchanged".
            kept = sum(read_cell(args.out, c) is not None for c in unique.values())
            print(
                f"interrupted: {kept} of {len(unique)} cells finished and kept in {args.out}; "
                "re-run the same command to resume",
                file=sys.stderr,
            )
            return EXIT_INTERRUPTED
    print(table)
    print(f"{len(todo) - len(failures)} cell(s) run in {info['wall_seconds']} s; reports in {args.out}/")
    for f in failures:
        print(f"failed: {f['what']}: {f['error']} (re-run to retry)", file=sys.stderr)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    """The command: exit code 0 when every cell finished; problems are one line on stderr."""
    return run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
