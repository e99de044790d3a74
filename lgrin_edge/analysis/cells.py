"""The sweep's unit of work: one (configuration, dataset, fold, seed) cell, and the folder that keeps
finished cells.

A cell's id carries a hash of every setting that changes its result (model options, the resolved
recipe, the data, M, the protocol, a transfer source's weights), so an edited grid or recipe never
reuses an old result. The driver writes one JSON file per finished cell, atomically, as it finishes;
a re-run skips the cells whose file holds a valid result and runs a damaged one's again.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import platform
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lgrin_edge.cli import UserError

CELLS = "cells"
MANIFEST = "sweep.json"
CELL_FILE = re.compile(r"^[0-9a-f]{12}-[a-z0-9_]+-f\d+-s\d+\.json$")
TEMP_FILE = re.compile(r"^\..+\.tmp$")  # what lgrin_edge.atomic leaves when a writer is killed


def settings_hash(settings: dict) -> str:
    """12 hex digits of sha256 over the settings as canonical JSON."""
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=list)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "data"


@dataclass(frozen=True)
class Cell:
    """What one task needs, all plain data (it travels to a Ray worker or a pool process).

    ``settings``: model_config, train (TrainConfig fields but seed and device), nodes, long_policy,
    folds, and init_from ({run, finetune, norm, weights_sha256}) or None; ``data_id``: the dataset's
    name, or the sha256 of its file."""

    dataset: str
    data_id: str
    fold: int
    seed: int
    settings: dict

    @property
    def key(self) -> str:
        return settings_hash({**self.settings, "data": self.data_id, "init_from": _source_id(self.settings)})

    @property
    def id(self) -> str:
        return f"{self.key}-{_slug(Path(self.dataset).stem)}-f{self.fold}-s{self.seed}"


def _source_id(settings: dict) -> str | None:
    """A transfer source by its weights (not its path: the same run may sit elsewhere on a worker)."""
    src = settings.get("init_from")
    return None if src is None else f"{src['weights_sha256']}/{src['finetune']}/{src['norm']}"


def train_and_test_fold(cell: Cell, threads: int, device: str) -> dict:
    """Train and test one cell, one fold of the project's protocol (lgrin_edge.train.protocol.run_fold).
    Runs in a worker; its console output (the fits' progress) is dropped so the driver's bar stays
    readable."""
    import torch

    from lgrin_edge.data import load_dataset
    from lgrin_edge.train.protocol import run_fold
    from lgrin_edge.train.trainer import TrainConfig
    from lgrin_edge.train.transfer import load_source

    torch.set_num_threads(threads)
    s = cell.settings
    began = time.time()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        ds = load_dataset(cell.dataset)
        cfg = TrainConfig(**s["train"], seed=cell.seed, device=device)
        src = s.get("init_from")
        start = None if src is None else load_source(src["run"], src["finetune"], src["norm"])
        row = run_fold(
            ds, "lgrin", s["model_config"], cfg, s["nodes"], cell.fold, s["folds"], s["long_policy"], start
        )
    return {**row, "seconds": round(time.time() - began, 2), "host": platform.node(), "threads": threads}


def cell_path(out: Path, cell: Cell) -> Path:
    return out / CELLS / f"{cell.id}.json"


def read_cell(out: Path, cell: Cell) -> dict | None:
    """The stored result of a finished cell, or None (not run, or a file that is not its result)."""
    return stored_cell(out, cell)[0]


def stored_cell(out: Path, cell: Cell) -> tuple[dict | None, str | None]:
    """(the stored result, None) of a finished cell; (None, why) where its file exists but is not a
    result the reports can use (damaged, cut short, another version's or another cell's); (None, None)
    where the cell has not run."""
    return stored_json(cell_path(out, cell), lambda data: _cell_problem(data, cell))


def stored_json(path: Path, problem: Callable[[dict], str | None]) -> tuple[dict | None, str | None]:
    """(the JSON object at ``path``, None); (None, why) where the file is not a JSON object or
    ``problem`` names what is wrong with it; (None, None) where there is no file."""
    if not path.is_file():
        return None, None
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None, "not JSON"
    if not isinstance(data, dict):
        return None, "not a JSON object"
    why = problem(data)
    return (None, why) if why else (data, None)


# What the driver and the reports read from a cell's file.
CELL_KEYS = ("cell", "fold", "seed", "accuracy", "params", "seconds")


def _cell_problem(data: dict, cell: Cell) -> str | None:
    lacks = [k for k in CELL_KEYS if k not in data]
    if lacks:
        return "lacks " + ", ".join(repr(k) for k in lacks)
    if (data["cell"], data["fold"], data["seed"]) != (cell.id, cell.fold, cell.seed):
        return "holds another cell's result"
    acc = data["accuracy"]
    if not isinstance(acc, int | float) or isinstance(acc, bool) or not 0 <= acc <= 1:
        return f"accuracy {json.dumps(acc)} is not a number in [0, 1]"
    if not isinstance(data["params"], int) or isinstance(data["params"], bool) or data["params"] < 0:
        return f"params {json.dumps(data['params'])} is not a count"
    return None


def check_sweep_folder(out: Path) -> None:
    """Before any work: ``out`` is absent, empty, or holds only what a sweep wrote (cell files, the
    manifest and the reports it lists); the sweep never overwrites another command's files."""
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} exists and is not a folder")
    if not out.is_dir():
        return
    own = {CELLS, MANIFEST, *written_reports(out)}
    foreign = [e.name for e in out.iterdir() if e.name not in own and not TEMP_FILE.match(e.name)]
    cells = out / CELLS
    if cells.exists() and not cells.is_dir():
        foreign.append(CELLS)
    elif cells.is_dir():
        foreign += [
            f"{CELLS}/{e.name}"
            for e in cells.iterdir()
            if not (CELL_FILE.match(e.name) or TEMP_FILE.match(e.name)) or not e.is_file()
        ]
    if foreign:
        shown = ", ".join(sorted(foreign)[:3]) + (", ..." if len(foreign) > 3 else "")
        raise UserError(f"{out} holds files the sweep did not write ({shown}); choose another --out")


def written_reports(out: Path) -> list[str]:
    """The report files an earlier sweep recorded in ``out``'s manifest."""
    path = out / MANIFEST
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UserError(f"{path} is not a sweep manifest (not JSON); choose another --out") from None
    files = data.get("reports", []) if isinstance(data, dict) else None
    if not isinstance(files, list) or not all(isinstance(f, str) and "/" not in f for f in files):
        raise UserError(f"{path} is not a sweep manifest; choose another --out")
    return files
