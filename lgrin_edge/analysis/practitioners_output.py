"""Where the practitioners' command writes: its --out folder (only its own entries), the table and the JSON
of every cell, and their copies in a --publish folder (a file there is replaced only if this command
wrote it)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from importlib.metadata import version
from pathlib import Path

from lgrin_edge.analysis.cells import TEMP_FILE
from lgrin_edge.analysis.practitioners_cells import CELLS, LOGS, WORK, Cell, stored, train_options
from lgrin_edge.analysis.practitioners_data import DATA, Source
from lgrin_edge.analysis.practitioners_report import (
    MARK,
    entries,
    markdown,
    mean_ranks,
    missing_lines,
    table_rows,
)
from lgrin_edge.atomic import write_bytes, write_json
from lgrin_edge.cli import UserError

NAME = "practitioners"
OWN = {DATA, CELLS, LOGS, WORK, f"{NAME}.log", f"{NAME}.md", f"{NAME}.json"}
WRITER = "python -m lgrin_edge.analysis.practitioners"


def check_folder(out: Path) -> None:
    """--out is absent, empty, or holds only what this command writes: it never mixes with other files."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} exists and is not a folder")
    if not out.is_dir():
        return
    foreign = sorted(e.name for e in out.iterdir() if e.name not in OWN and not TEMP_FILE.match(e.name))
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise UserError(f"--out {out} holds files this command did not write ({shown}); choose another --out")


def _ours(path: Path) -> bool:
    """Whether ``path`` is a table or JSON file this command wrote."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError):
        return False
    if path.suffix == ".md":
        return text.startswith(MARK)
    try:
        return json.loads(text).get("written_by") == WRITER
    except (json.JSONDecodeError, AttributeError):
        return False


def check_publish(folder: Path | None) -> None:
    """Before any work: --publish's files are absent or this command's own."""
    if folder is None:
        return
    if folder.exists() and not folder.is_dir():
        raise UserError(f"--publish {folder} exists and is not a folder")
    for suffix in (".md", ".json"):
        path = folder / f"{NAME}{suffix}"
        if path.exists() and not _ours(path):
            raise UserError(f"--publish: {path} was not written by this command; choose another folder")


def _grid_command(argv: list[str]) -> list[str]:
    """``argv`` as the command that fills the table (a re-run resumes it): without the options that only
    write or publish the report."""
    shown, skip = [], 0
    for word in argv:
        if skip:
            skip -= 1
        elif word == "--report-only":
            continue
        elif word.split("=")[0] in ("--publish", "--notes"):
            skip = 0 if "=" in word else 1
        else:
            shown.append(word)
    return shown


def _intro(args: argparse.Namespace, argv: list[str] | None, cpu: str, sources: list[Source]) -> list[str]:
    protocol = (
        "each dataset's own train/test split (k-fold where it has none)"
        if args.protocol == "official"
        else f"the training split alone, {args.folds}-fold (the test split is not read)"
    )
    frames = "" if args.frames == 1 else f" Each graph node holds {args.frames} consecutive steps."
    epochs = "the recipe's epochs" if args.epochs is None else f"--epochs {args.epochs}"
    shown = " ".join(_grid_command(sys.argv[1:] if argv is None else argv))
    return [
        f"Accuracy (%) on the test data, mean +- standard deviation over the seeds "
        f"{', '.join(map(str, args.seeds))} ((n/{len(args.seeds)}): only n seeds finished). Protocol: "
        f"{protocol}; every model with the train command's "
        f"defaults ({epochs}), the same folds for every model.{frames} Rank 1 = the best mean accuracy.",
        "",
        f"Command: `{WRITER} {shown}`; each cell is `python -m lgrin_edge.train --dataset D --model M "
        f"--seed S --device cpu {' '.join(train_options(args.epochs, args.folds))} --out RUN` "
        f"(aeon's classifiers take no --epochs) with OMP_NUM_THREADS={args.threads}, {args.workers} at once.",
        "",
        f"CPU: {cpu}. Data: aeon {version('aeon')}'s bundled classification datasets ({len(sources)} here).",
    ]


def write_reports(
    args: argparse.Namespace,
    sources: list[Source],
    cells: list[Cell],
    failures: dict[str, str],
    argv: list[str] | None,
    seconds: float,
    cpu: str,
) -> str:
    """Write practitioners.md and .json (every finished cell's record in it) to --out and --publish;
    return the table."""
    records = [r for c in cells if (r := stored(args.out, c)[0]) is not None]
    table = entries(records, sources, args.models, args.seeds)
    rows = table_rows(table, sources, args.models)
    text = markdown(
        "L-GrIN against practitioners' baselines", _intro(args, argv, cpu, sources), rows,
        missing_lines(table, failures), [] if args.notes is None else [args.notes.read_text()],
    )  # fmt: skip
    ranks, ranked = mean_ranks(table, args.models)
    summary = {
        "written_by": WRITER, "written": time.strftime("%Y-%m-%d %H:%M:%S"), "argv": argv, "cpu": cpu,
        "protocol": args.protocol, "frames": args.frames, "seeds": args.seeds, "models": args.models,
        "datasets": [s.__dict__ for s in sources], "mean_rank": ranks, "ranked_datasets": ranked,
        "seconds_this_run": round(seconds, 1), "failed": failures,
        "entries": [e.to_dict() for e in table], "cells": records,
    }  # fmt: skip
    for folder in [args.out] + ([args.publish] if args.publish else []):
        write_bytes(folder / f"{NAME}.md", text.encode())
        write_json(folder / f"{NAME}.json", summary)
    return "\n".join(rows)
