"""One cell of the practitioners' table: one model trained and tested on one dataset with one seed by the
train command itself (``python -m lgrin_edge.train``, in its own process), and the folder that keeps
finished cells.

A cell's file name carries a hash of everything that changes its result (the data's id, the model, the
seed, the train options, the package version), so other settings never reuse an old result; a re-run
skips every cell whose file holds a valid result.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from lgrin_edge import __version__
from lgrin_edge.analysis.cells import settings_hash, stored_json
from lgrin_edge.atomic import write_json
from lgrin_edge.baselines import BASELINES

CELLS, LOGS, WORK = "cells", "logs", "work"
# What a cell's file keeps of the run's metrics.json (its per-epoch history and plots stay out: the
# table needs none of them and a folder of 250 cells should stay small enough to keep beside it).
KEPT = (
    "protocol", "accuracy", "unweighted_accuracy", "folds", "params", "classes", "config", "train",
    "num_nodes", "long_policy", "seconds", "final_model", "graph", "versions",
)  # fmt: skip


@dataclass(frozen=True)
class Cell:
    """What one training needs: the table's row (dataset key) and column (model), the seed, and the
    train command's own options for it."""

    key: str
    dataset: str
    data_id: str
    model: str
    seed: int
    options: tuple[str, ...]

    @property
    def id(self) -> str:
        h = settings_hash(
            {"data": self.data_id, "model": self.model, "seed": self.seed, "options": list(self.options),
             "lgrin_edge": __version__}
        )  # fmt: skip
        return f"{self.key}-{self.model}-s{self.seed}-{h[:10]}"

    def command(self, run: Path | str) -> list[str]:
        """The train command of this cell, writing its run folder to ``run``."""
        return [
            "python", "-m", "lgrin_edge.train", "--dataset", self.dataset, "--model", self.model,
            "--seed", str(self.seed), "--device", "cpu", *self.options, "--out", str(run),
        ]  # fmt: skip


def train_options(epochs: int | None, folds: int, model: str = "lgrin") -> tuple[str, ...]:
    """The train command's options of a cell besides data, model, seed and run folder (aeon's classifiers
    train no epochs: --epochs is the graph models' alone)."""
    epochs = None if model in BASELINES else epochs
    return (*(() if epochs is None else ("--epochs", str(epochs))), "--folds", str(folds))


# The trainings running now: Ctrl-C reaches a terminal's whole process group, but a signal sent to this
# process alone would leave them training on (stop_running passes it on).
RUNNING: set[subprocess.Popen] = set()


def stop_running() -> None:
    """Interrupt every training still running (each exits as the train command does on Ctrl-C)."""
    for child in list(RUNNING):
        if child.poll() is None:
            child.send_signal(signal.SIGINT)


def cell_file(out: Path, cell: Cell) -> Path:
    return out / CELLS / f"{cell.id}.json"


def stored(out: Path, cell: Cell) -> tuple[dict | None, str | None]:
    """(the stored result, None); (None, why) for a file that is not this cell's result; (None, None)
    for a cell that has not run."""
    return stored_json(cell_file(out, cell), lambda data: _problem(data, cell))


def _problem(data: dict, cell: Cell) -> str | None:
    if data.get("cell") != cell.id:
        return "holds another cell's result"
    acc = data.get("accuracy")
    if not isinstance(acc, int | float) or isinstance(acc, bool) or not 0 <= acc <= 1:
        return "no accuracy in [0, 1]"
    return None


def _last_line(log: Path) -> str:
    """The train command's last words (its one-line error), from its log."""
    lines = [ln.strip() for ln in log.read_text(errors="replace").replace("\r", "\n").splitlines()]
    lines = [ln for ln in lines if ln]
    return lines[-1] if lines else "no output"


def run_cell(out: Path, cell: Cell, threads: int, cpu: str) -> tuple[dict | None, str | None]:
    """Train and test ``cell`` in a fresh train process pinned to ``threads`` threads; store its result
    (and the command's whole output in logs/). Returns (record, None) or (None, the command's error)."""
    work = Path(tempfile.mkdtemp(prefix=f"{cell.id}.", dir=out / WORK))
    log = out / LOGS / f"{cell.id}.log"
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    env.pop("LGRIN_EDGE_DEBUG", None)  # the command's error should be its one line, not a traceback
    command = cell.command(work / "run")
    began = time.time()
    try:
        with open(log, "w") as f:
            f.write("$ " + " ".join(command) + "\n")
            f.flush()
            child = subprocess.Popen(
                [sys.executable, *command[1:]], stdout=f, stderr=subprocess.STDOUT, env=env
            )
            RUNNING.add(child)
            try:
                code = child.wait()
            finally:
                RUNNING.discard(child)
        if code != 0:
            return None, f"exit {code}: {_last_line(log)}"
        metrics = json.loads((work / "run" / "metrics.json").read_text())
        record = {
            "cell": cell.id, "dataset": cell.key, "data": cell.data_id, "model": cell.model,
            "seed": cell.seed, "command": [*command[:-2], "--out", "RUN"], "threads": threads,
            "cpu": cpu, "host": platform.node(), "wall_seconds": round(time.time() - began, 1),
            **{k: metrics[k] for k in KEPT if k in metrics},
        }  # fmt: skip
        write_json(cell_file(out, cell), record)
        return record, None
    finally:
        shutil.rmtree(work, ignore_errors=True)  # the run folder this cell made: its metrics are kept
