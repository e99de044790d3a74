"""L-GrIN against what practitioners pick: every model trained by the train command itself
(``python -m lgrin_edge.train --dataset D --model M --seed S``: the same recipe, protocol and folds for
each) on every classification dataset aeon bundles (the project's two bundled ones among them; an .npz
file may be added), one table of accuracy mean +- std over seeds and each model's mean rank.

--out holds data/ (aeon's problems as .npz files), cells/ (one JSON file per finished training, written
as it finishes: a re-run trains only the cells without one), logs/ (each training's output), and
practitioners.log, practitioners.md, practitioners.json. Cells run seed by seed, and within a seed model by
model in --models order (every dataset of the first model, then of the next), so a run cut short by
--minutes or Ctrl-C leaves whole columns; the table says which cells are missing and never fills them in.

--protocol train-cv leaves each dataset's test split out and runs k-fold on its training split: the
way to compare settings (e.g. --frames) without looking at the test data.

Example: python -m lgrin_edge.analysis.practitioners --out runs/practitioners --minutes 40 \\
         --publish docs/results
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import sys
import time
from pathlib import Path

from tqdm.auto import tqdm

from lgrin_edge.analysis.practitioners_cells import (
    CELLS,
    LOGS,
    WORK,
    Cell,
    cell_file,
    run_cell,
    stop_running,
    stored,
    train_options,
)
from lgrin_edge.analysis.practitioners_data import DATA, PROTOCOLS, check_names, default_datasets, prepare
from lgrin_edge.analysis.practitioners_output import check_folder, check_publish, write_reports
from lgrin_edge.atomic import exclusive
from lgrin_edge.cli import EXIT_INTERRUPTED, Parser, UserError, at_least, finite_float, on_interrupt, run
from lgrin_edge.measure.threads import cpu_description

MODELS = ("lgrin", "minirocket", "blstm", "senet", "gcn")
LOG = "practitioners.log"


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="python -m lgrin_edge.analysis.practitioners",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", type=Path, required=True, help="folder of the cells, logs and tables (resumable)")
    p.add_argument(
        "--datasets", nargs="+", metavar="D", help="default: every classification dataset aeon bundles "
        "(lower-case names, e.g. gunpoint japanesevowels); .npz files may be added",
    )  # fmt: skip
    p.add_argument("--models", nargs="+", default=list(MODELS), help=f"default: {' '.join(MODELS)}")
    p.add_argument("--seeds", nargs="+", type=at_least(0), default=list(range(5)), help="default: 0 1 2 3 4")
    p.add_argument("--epochs", type=at_least(1), help="the train command's --epochs (default: its recipe's)")
    p.add_argument(
        "--protocol", default="official", choices=PROTOCOLS,
        help="official: each dataset's own train/test split (k-fold without one); train-cv: the training "
        "split alone, in --folds folds (for choosing settings without the test data)",
    )  # fmt: skip
    p.add_argument("--folds", type=at_least(2), default=5, help="k of k-fold where there is no split (5)")
    p.add_argument(
        "--frames", type=at_least(1), default=1,
        help="consecutive steps per frame (graph node): each node holds that many steps of every "
        "channel (default 1: a node per step, as the train command reads the data)",
    )  # fmt: skip
    p.add_argument("--threads", type=at_least(1), default=1, help="torch threads of each training (1)")
    p.add_argument("--workers", type=at_least(1), default=1, help="trainings at once (default 1)")
    p.add_argument(
        "--minutes", type=finite_float(0.0, strict=True),
        help="start no training after this many minutes (those running finish); the table shows the rest "
        "as missing and a re-run goes on from there",
    )  # fmt: skip
    p.add_argument(
        "--publish", type=Path, metavar="DIR",
        help="also write practitioners.md and practitioners.json to DIR (replacing only files this "
        "command wrote)",
    )  # fmt: skip
    p.add_argument(
        "--notes",
        type=Path,
        metavar="FILE",
        help="markdown appended to the table (findings kept across runs)",
    )
    p.add_argument("--report-only", action="store_true", help="train nothing; write the tables from --out")
    return p


def check_options(args: argparse.Namespace) -> None:
    """What argparse cannot check alone, before any work: names, repeats, models the train command has."""
    from lgrin_edge.train.cli import build_parser as train_parser

    for name in ("datasets", "models", "seeds"):
        values = getattr(args, name) or []
        twice = sorted({str(v) for v in values if values.count(v) > 1})
        if twice:
            raise UserError(f"--{name} names {', '.join(twice)} more than once")
    choices = next(a.choices for a in train_parser()._actions if a.dest == "model")
    unknown = [m for m in args.models if m not in choices]
    if unknown:
        raise UserError(
            f"--models: the train command has no model {', '.join(unknown)} (its --model takes "
            f"{', '.join(choices)})"
        )
    check_names(args.datasets)
    if args.notes is not None and not args.notes.is_file():
        raise UserError(f"--notes: no such file {args.notes}")


def plan(args: argparse.Namespace, sources: list) -> list[Cell]:
    """Every cell, seed by seed, then model by model (whole columns first), then dataset by dataset."""
    return [
        Cell(src.key, src.dataset, src.data_id, model, seed, train_options(args.epochs, args.folds, model))
        for seed in args.seeds
        for model in args.models
        for src in sources
    ]


class Log:
    """The run's lines, on the terminal (above the progress bar) and appended to practitioners.log."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, line: str) -> None:
        tqdm.write(line)
        with open(self.path, "a") as f:
            f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")


def _todo(out: Path, cells: list[Cell], log: Log) -> list[Cell]:
    damaged = [f"{cell_file(out, c).name} ({why})" for c in cells if (why := stored(out, c)[1])]
    if damaged:
        log(f"warning: {len(damaged)} cell file(s) are not results; their cells run again: {damaged[0]} ...")
    return [c for c in cells if stored(out, c)[0] is None]


def _note(cell: Cell, record: dict | None, error: str | None, failures: dict[str, str]) -> str:
    """A finished cell's line; a failed one is added to ``failures``."""
    if error is None and record is not None:
        return f"{cell.model} on {cell.key} seed {cell.seed}: accuracy {record['accuracy']:.4f} " + (
            f"({record['wall_seconds']:.0f} s)"
        )
    failures[f"{cell.key}/{cell.model}/{cell.seed}"] = str(error)
    return f"{cell.model} on {cell.key} seed {cell.seed}: FAILED: {error}"


def execute(args: argparse.Namespace, todo: list[Cell], log: Log, cpu: str) -> dict[str, str]:
    """Run the cells (``--workers`` at once, none started after ``--minutes``); each is stored as it
    finishes. Returns the failures: "dataset/model/seed" -> the train command's error."""
    deadline = None if args.minutes is None else time.time() + 60 * args.minutes
    failures: dict[str, str] = {}
    queue = list(todo)
    with (
        cf.ThreadPoolExecutor(args.workers) as pool,
        tqdm(total=len(todo), unit="cell", dynamic_ncols=True) as bar,
    ):
        running: dict[cf.Future, Cell] = {}
        try:
            while queue or running:
                while queue and len(running) < args.workers and (deadline is None or time.time() < deadline):
                    cell = queue.pop(0)
                    running[pool.submit(run_cell, args.out, cell, args.threads, cpu)] = cell
                if not running:
                    break
                bar.set_postfix_str(", ".join(f"{c.model}/{c.key}/s{c.seed}" for c in running.values()))
                done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    cell = running.pop(future)
                    bar.update()
                    log(f"[{bar.n}/{len(todo)}] " + _note(cell, *future.result(), failures))
        except KeyboardInterrupt:
            stop_running()  # before the pool's exit, which waits for its trainings to end
            raise
    if queue:
        log(f"--minutes {args.minutes:g} reached: {len(queue)} cell(s) not started; re-run to go on")
    return failures


def _main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.datasets = args.datasets or default_datasets()
    check_options(args)
    check_folder(args.out)
    check_publish(args.publish)
    with exclusive(args.out, "practitioners folder"):
        check_folder(args.out)  # again under the lock
        for sub in (DATA, CELLS, LOGS, WORK):
            (args.out / sub).mkdir(parents=True, exist_ok=True)
        log, cpu = Log(args.out / LOG), cpu_description()
        sources = prepare(args.datasets, args.out, args.protocol, args.frames)
        cells = plan(args, sources)
        todo = _todo(args.out, cells, log)
        size = f"{len(sources)} datasets x {len(args.models)} models x {len(args.seeds)} seeds"
        log(f"{len(cells)} cells ({size}); {len(cells) - len(todo)} finished, {len(todo)} not; CPU {cpu}")
        on_interrupt(f"finished cells are kept in {args.out / CELLS}; re-run the same command to go on")
        began, failures = time.time(), {}
        try:
            failures = execute(args, todo, log, cpu) if todo and not args.report_only else {}
        except KeyboardInterrupt:
            write_reports(args, sources, cells, failures, argv, time.time() - began, cpu)
            print(f"interrupted: finished cells are kept in {args.out}; re-run to go on", file=sys.stderr)
            return EXIT_INTERRUPTED
        table = write_reports(args, sources, cells, failures, argv, time.time() - began, cpu)
    print(table)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    """The command: 0 when no training failed; problems are one line on stderr."""
    return run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
