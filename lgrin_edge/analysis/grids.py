"""The sweep's grids: the paper's ablation tables (Tables IV-VII, Fig. 6), cross-corpus transfer, and
grids from a small YAML or JSON file.

A grid is a list of rows; a row is a name and the settings it changes from the paper's L-GrIN trained
with the sweep's recipe: L-GrIN options (``conv``, ``inception``, ``adjacency``, ``pooling``, ``eta``,
``num_layers``, ``sort_k``), recipe settings (``epochs``, ``lr``, ``lambdas``, ...; training/recipes.py)
and transfer settings (``init_from``, ``finetune``, ``transfer_norm``; training/transfer.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lgrin_edge.cli import UserError
from lgrin_edge.models.lgrin import LGrINOptions
from lgrin_edge.models.options import OptionError
from lgrin_edge.train.recipes import RECIPE_KEYS
from lgrin_edge.train.transfer import FINETUNES, TRANSFER_NORMS

# eq. 8's weights are one recipe setting, ``lambdas: [l1, l2, l3]``, as on the train command line.
MODEL_KEYS = tuple(k for k in LGrINOptions.option_names() if not k.startswith("lambda"))
TRANSFER_KEYS = ("init_from", "finetune", "transfer_norm")
ROW_KEYS = (*MODEL_KEYS, *RECIPE_KEYS, *TRANSFER_KEYS)


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _positive(v: object) -> bool:
    return _number(v) and v > 0


def _non_negative(v: object) -> bool:
    return _number(v) and v >= 0


def _fraction(v: object) -> bool:
    return _non_negative(v) and v < 1


def _whole(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


# What each recipe value a row sets must be. The trainer takes these on trust, so a bad one would fail
# in every worker: it is refused with the row's name when the grid is read, before any cell starts.
# Named choices (schedule, ce_reduction, ...) are checked by TrainConfig with the recipe they change.
RECIPE_VALUES: dict[str, tuple[str, Callable[[object], bool]]] = {
    "epochs": ("an integer >= 1", _whole),
    "lr_step": ("an integer >= 1", _whole),
    "lr": ("a finite number > 0", _positive),
    "weight_decay": ("a finite number >= 0", _non_negative),
    "label_smoothing": ("a number in [0, 1)", _fraction),
    "average": ("a number in [0, 1)", _fraction),
    "adj_lr": ("null or a finite number > 0", lambda v: v is None or _positive(v)),
    "adj_eps": ("null or a finite number > 0", lambda v: v is None or _positive(v)),
    "adj_init": ("a finite number > 0", _positive),
    "adj_mean": ("a finite number", _number),
    "lambdas": (
        "three finite numbers >= 0, [l1, l2, l3]",
        lambda v: isinstance(v, list | tuple) and len(v) == 3 and all(map(_non_negative, v)),
    ),
    "augment": (
        "a list of names",
        lambda v: isinstance(v, list | tuple) and all(isinstance(a, str) for a in v),
    ),
}


@dataclass(frozen=True)
class Row:
    """One configuration: its name in the table, its settings and the table's descriptive cells."""

    name: str
    settings: dict[str, Any]
    columns: tuple[str, ...] = ()
    section: str = ""


@dataclass(frozen=True)
class Grid:
    """Rows, the headers of their descriptive columns, and the paper's table or figure they mirror."""

    name: str
    title: str
    rows: tuple[Row, ...]
    headers: tuple[str, ...] = ()
    plot: bool = False  # a line plot per section (Fig. 6)
    notes: tuple[str, ...] = field(default_factory=tuple)


def _mark(on: bool) -> str:
    return "yes" if on else "-"


def _components() -> Grid:
    """Table VI: every on/off combination of G*conv, inception, learned A and learned p the paper ran.

    Off means the paper's alternative: the linear projection of eq. 3, one convolution per layer, the
    binary chain adjacency (Table IV's fixed graph), max pooling (Table V's fixed pooling)."""
    combos = [
        (0, 0, 0, 0),
        (1, 0, 0, 0),
        (0, 1, 0, 0),
        (0, 0, 1, 0),
        (0, 0, 0, 1),
        (0, 0, 1, 1),
        (1, 1, 0, 0),
        (1, 1, 1, 0),
        (1, 1, 0, 1),
        (1, 1, 1, 1),
    ]
    names = ["G*conv", "inception", "learned A", "learned p"]
    rows = []
    for c in combos:
        on = [n for n, bit in zip(names, c, strict=True) if bit]
        name = "GCN (none)" if not on else "L-GrIN (all)" if all(c) else "+ " + ", ".join(on)
        settings = {
            "conv": "gstar" if c[0] else "linear",
            "inception": bool(c[1]),
            "adjacency": "learned" if c[2] else "binary",
            "pooling": "learned" if c[3] else "max",
        }
        rows.append(Row(name, settings, tuple(_mark(bool(b)) for b in c)))
    return Grid("components", "Table VI: ablation of L-GrIN's components", tuple(rows), tuple(names))


def _pooling() -> Grid:
    rows = [
        Row(name, {"adjacency": "binary", "pooling": kind}, (kind,))
        for name, kind in (
            ("Maxpool", "max"),
            ("Meanpool", "mean"),
            ("Sortpool", "sort"),
            ("Learnable pool", "learned"),
        )
    ]
    notes = ("Every row uses the binary chain adjacency, as the paper's Table IV does.",)
    return Grid("pooling", "Table IV: learned vs fixed pooling", tuple(rows), ("pooling",), notes=notes)


def _adjacency() -> Grid:
    rows = [
        Row(name, {"adjacency": kind, "pooling": "max"}, (kind,))
        for name, kind in (("Binary", "binary"), ("Weighted", "weighted"), ("Learnable", "learned"))
    ]
    notes = ("Every row uses max pooling, as the paper's Table V does.",)
    return Grid(
        "adjacency", "Table V: learned vs constructed adjacency", tuple(rows), ("adjacency",), notes=notes
    )


def _inception() -> Grid:
    rows = [
        # The toolkit lists the wider branch first (--eta 128 64); the paper writes the pair (64, 128).
        Row(f"({a}, {b})", {"eta": [b, a], "num_layers": 2}, (f"({a}, {b})", "2"), "filter sizes (eta)")
        for a, b in ((16, 32), (32, 64), (64, 128), (128, 256))
    ]
    rows += [
        Row(
            f"{n} layer{'s' if n > 1 else ''}",
            {"eta": [128, 64], "num_layers": n},
            ("(64, 128)", str(n)),
            "number of inception layers",
        )
        for n in (1, 2, 3)
    ]
    return Grid("inception", "Table VII: inception layer settings", tuple(rows), ("eta", "layers"))


LAMBDA_VALUES = (1.0, 0.8, 0.6, 0.4, 0.2, 0.1, 0.05, 0.01)
PAPER_LAMBDAS = (0.1, 0.1, 1e-4)


def _lambdas() -> Grid:
    """Fig. 6: lambda1 and lambda2 of eq. 8 varied one at a time, the others at the paper's values."""
    rows = []
    for i, symbol in ((0, "lambda1"), (1, "lambda2")):
        for v in LAMBDA_VALUES:
            lam = list(PAPER_LAMBDAS)
            lam[i] = v
            # In eq. 9's own units whatever the recipe's, so the values are the paper's.
            settings = {"lambdas": lam, "structure_units": "frames"}
            rows.append(Row(f"{symbol} = {v:g}", settings, (f"{v:g}",), symbol))
    return Grid("lambdas", "Fig. 6: the weights of eq. 8's loss terms", tuple(rows), ("value",), plot=True)


def _transfer(init_from: str | None) -> Grid:
    """Table VIII: the target corpus trained from scratch against a run of another corpus reused."""
    if init_from is None:
        raise UserError("--grid transfer needs --init-from RUN (the run trained on the source corpus)")
    rows = (
        Row("same corpus (from scratch)", {}, ("-", "-")),
        Row(
            "cross corpus (classifier re-trained)",
            {"init_from": init_from, "finetune": "classifier"},
            (init_from, "classifier"),
        ),
        Row(
            "cross corpus (all layers fine-tuned)",
            {"init_from": init_from, "finetune": "all"},
            (init_from, "all"),
        ),
    )
    return Grid("transfer", "Table VIII: cross-corpus transfer", rows, ("trained on", "re-trained"))


BUILTIN = {
    "pooling": _pooling,
    "adjacency": _adjacency,
    "components": _components,
    "inception": _inception,
    "lambdas": _lambdas,
    "transfer": _transfer,
}
GRID_NAMES = tuple(BUILTIN)


def load_grid(spec: str, init_from: str | None = None) -> Grid:
    """A built-in grid by name, or a grid file (.json, .yaml, .yml); every problem is one UserError."""
    if spec in BUILTIN:
        return BUILTIN[spec](init_from) if spec == "transfer" else BUILTIN[spec]()
    path = Path(spec)
    if path.suffix not in (".json", ".yaml", ".yml"):
        raise UserError(
            f"--grid {spec}: not a built-in grid ({', '.join(GRID_NAMES)}) nor a .json/.yaml file"
        )
    if not path.is_file():
        raise UserError(f"grid file not found: {path}")
    return grid_from_dict(_read(path), path.stem, str(path))


def _read(path: Path) -> object:
    text = path.read_text()
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise UserError(f"{path} is not valid JSON ({e})") from e
    try:
        import yaml
    except ImportError:
        raise UserError(
            f"{path}: YAML grids need PyYAML (pip install pyyaml), or write the grid as JSON"
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise UserError(f"{path} is not valid YAML ({str(e).splitlines()[0]})") from e


def grid_from_dict(data: object, default_name: str, where: str) -> Grid:
    """``{name?, title?, rows: [{name, <setting>: value, ...}, ...]}`` as a Grid, checked row by row."""
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list) or not data["rows"]:
        raise UserError(f"{where}: a grid is a mapping with a non-empty list 'rows' (docs/analyses.md)")
    unknown = sorted(set(data) - {"name", "title", "rows"})
    if unknown:
        raise UserError(f"{where}: unknown grid key(s) {', '.join(unknown)}; use name, title, rows")
    rows, seen = [], set()
    for i, item in enumerate(data["rows"], 1):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            raise UserError(f"{where}: row {i} needs a 'name' (text) and its settings")
        settings = {k: v for k, v in item.items() if k != "name"}
        check_row(settings, f"{where}: row {item['name']!r}")
        if item["name"] in seen:
            raise UserError(f"{where}: two rows are named {item['name']!r}")
        seen.add(item["name"])
        rows.append(Row(item["name"], settings))
    name = str(data.get("name", default_name))
    return Grid(name, str(data.get("title", name)), tuple(rows))


def check_row(settings: dict, where: str) -> None:
    """Refuse a row's unknown keys, impossible L-GrIN options and impossible recipe values (the named
    choices among these are checked with the recipe they change, in the sweep)."""
    for key in settings:
        if key not in ROW_KEYS:
            hint = " (use lambdas: [l1, l2, l3])" if key.startswith("lambda") else ""
            raise UserError(f"{where}: unknown setting {key!r}{hint}; valid: {', '.join(ROW_KEYS)}")
    for key, (what, good) in RECIPE_VALUES.items():
        if key in settings and not good(settings[key]):
            raise UserError(f"{where}: {key} must be {what}, got {json.dumps(settings[key])}")
    model = {k: settings[k] for k in MODEL_KEYS if k in settings}
    try:
        LGrINOptions.from_config("lgrin", {"num_nodes": 1, "in_features": 1, "num_classes": 1, **model})
    except OptionError as e:
        raise UserError(f"{where}: {e}") from e
    if settings.get("finetune", "classifier") not in FINETUNES:
        raise UserError(f"{where}: finetune must be one of {', '.join(FINETUNES)}")
    if settings.get("transfer_norm", "target") not in TRANSFER_NORMS:
        raise UserError(f"{where}: transfer_norm must be one of {', '.join(TRANSFER_NORMS)}")
    if ("finetune" in settings or "transfer_norm" in settings) and "init_from" not in settings:
        raise UserError(f"{where}: finetune and transfer_norm need init_from (a run folder)")
