"""The int8 acceptance matrix: does every int8 artifact verify for every seed, dataset and CPU code path?

Each cell trains L-GrIN (``python -m lgrin_edge.train``) and exports every target (``python -m
lgrin_edge.export --target all``) in a fresh process whose environment pins the torch threads and the
CPU code path (``ATEN_CPU_CAPABILITY=default`` emulates a CPU without AVX2/AVX-512 for torch, numpy's
AVX-512 features are disabled with it), then records each int8 artifact's top-1 agreement with fp32
and its accuracy against the fp32 model's. Finished cells are kept (one folder each) and skipped on a
re-run, unless they were trained with other settings than the run's recipe (an earlier version's
default, another --recipe or --epochs): such a cell is reported as an error, never reused. The report
is written as markdown and JSON, named after the selection when it is not the whole matrix
(report-t1-avx2.md for --threads 1 --cpu avx2), so a partial run never replaces the full report.

--static-int8 checks the static recipes instead (onnx, tensorrt, tflite full integer with its TFLite
Micro check, executorch; c and web have none): each cell exports only those targets, int8 only, into
its own folder (dist-static) from the cell's finished training, which it reuses where a plain run left
one; the report is report-static.md.

Example: python -m lgrin_edge.robustness --out runs/robustness      (seeds 0-4 x both datasets x
         threads 1, 2 x CPU as detected / default: 40 trainings, about an hour on 2 cores)
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

from lgrin_edge.atomic import write_bytes, write_json
from lgrin_edge.cli import Parser, UserError, at_least, run
from lgrin_edge.data import load_dataset
from lgrin_edge.export.quant_spec import STATIC_SPECS
from lgrin_edge.export.targets import TARGET_NAMES
from lgrin_edge.export.tolerances import MAX_ACCURACY_DELTA, MIN_MEAN_AGREEMENT, VERIFY
from lgrin_edge.measure.threads import cpu_description
from lgrin_edge.train.recipes import RECIPES, model_lambdas, resolve, train_settings
from lgrin_edge.train.trainer import TrainConfig

# "avx2" is what an AVX2 CPU without AVX-512 runs (torch's avx2 kernels, numpy's AVX-512 off); on such
# a CPU "detected" is the same path. The matrix runs "detected" and "default" unless told otherwise.
CPU_PATHS = ("detected", "avx2", "default")
MATRIX_CPU_PATHS = ("detected", "default")
# --static-int8: the targets with a static int8 recipe, and the cell's export folder for them.
STATIC_TARGETS = tuple(t for t in TARGET_NAMES if t in STATIC_SPECS)
STATIC_DIST = "dist-static"


def numpy_avx512_features() -> str:
    """numpy's AVX-512 dispatch targets this CPU has, for NPY_DISABLE_CPU_FEATURES (numpy refuses to
    disable a feature the CPU lacks, so the list is read from numpy itself)."""
    import numpy as np

    features = np._core._multiarray_umath.__cpu_features__  # numpy's own table of detected features
    return " ".join(f for f, on in features.items() if on and f.startswith("AVX512"))


def cell_env(threads: int, cpu: str) -> dict[str, str]:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    if cpu in ("avx2", "default"):
        env["ATEN_CPU_CAPABILITY"] = cpu
        env["NPY_DISABLE_CPU_FEATURES"] = numpy_avx512_features()
    return env


def cell_name(dataset: str, seed: int, threads: int, cpu: str) -> str:
    """A cell's folder: a bundled dataset by its name, a dataset file by its stem (never its path, so the
    folder stays inside --out)."""
    return f"{Path(dataset).stem}-s{seed}-t{threads}-{cpu}"


# What reading a cell's JSON files raises when one is damaged or from another version.
DAMAGED = (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError)


def _damaged(path: Path, e: Exception) -> str:
    what = "not JSON" if isinstance(e, json.JSONDecodeError) else f"no {e}" if isinstance(e, KeyError) else e
    return f"{path} is damaged ({what}); move the cell folder away to run the cell again"


def trained_otherwise(run: Path, recipe: str, epochs: int) -> list[str]:
    """The settings in which the training in ``run`` differs from ``recipe`` at ``epochs`` epochs (a
    setting a run of an earlier version did not record is compared with its default then)."""
    config = json.loads((run / "config.json").read_text())
    settings = resolve(recipe, {"epochs": epochs})
    got, defaults = config.get("train", {}), TrainConfig().to_dict()

    def plain(value: object) -> object:  # tuples and lists compare alike, as JSON keeps them
        return json.loads(json.dumps(value))

    differ = [k for k, v in train_settings(settings).items() if plain(got.get(k, defaults[k])) != plain(v)]
    model = config.get("config", {})
    for name, value in model_lambdas(settings, int(config["num_nodes"])).items():
        if not math.isclose(float(model.get(name, math.nan)), value, rel_tol=1e-9):
            differ.append(name)
    return differ


def cell_commands(
    cell: Path,
    dataset: str,
    seed: int,
    epochs: int,
    recipe: str,
    dist: str,
    targets: tuple[str, ...],
    static: bool = False,
) -> list[list[str]]:
    """The commands a cell still needs: its training unless the cell holds a finished one (training
    writes its folder staged, so a config.json is a finished run), then the export into ``dist``."""
    py = sys.executable
    export = [py, "-m", "lgrin_edge.export", "--checkpoint", str(cell / "run"), "--target", *targets]
    export += ["--out", str(cell / dist)]
    if static:
        # int8 only: the fp32 files are the plain export's, and only the static recipes are measured here.
        export += ["--precision", "int8", "--static-int8"]
    if (cell / "run" / "config.json").is_file():
        return [export]
    train = [py, "-m", "lgrin_edge.train", "--dataset", dataset, "--seed", str(seed)]
    train += ["--epochs", str(epochs), "--recipe", recipe, "--out", str(cell / "run"), "--device", "cpu"]
    return [train, export]


def train_and_export_cell(
    out: Path,
    dataset: str,
    seed: int,
    threads: int,
    cpu: str,
    epochs: int,
    run: bool = True,
    dist: str = "dist",
    targets: tuple[str, ...] = ("all",),
    recipe: str = "default",
    static: bool = False,
) -> dict:
    """Train + export one cell (or reuse its finished folders); returns its rows.

    A cell whose training finished is not trained again: exporting into a new ``dist`` folder measures
    changed int8 recipes (``static``: the --static-int8 ones) on the same models.
    """
    cell = out / cell_name(dataset, seed, threads, cpu)
    manifest = cell / dist / "manifest.json"
    if (cell / "run" / "config.json").is_file():
        try:
            differ = trained_otherwise(cell / "run", recipe, epochs)
        except DAMAGED as e:
            return {"cell": cell.name, "error": _damaged(cell / "run" / "config.json", e)}
        if differ:
            return {
                "cell": cell.name,
                "error": f"trained with other settings ({', '.join(differ)}) than --recipe {recipe} at "
                f"{epochs} epochs; use another --out",
            }
    if not manifest.is_file() and not run:
        return {"cell": cell.name, "missing": True}
    if not manifest.is_file():
        cell.mkdir(parents=True, exist_ok=True)
        env = cell_env(threads, cpu)
        with open(cell / f"log-{dist}.txt", "w") as log:
            for cmd in cell_commands(cell, dataset, seed, epochs, recipe, dist, targets, static):
                proc = subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
                training = "lgrin_edge.train" in cmd
                if proc.returncode and (training or not manifest.is_file()):
                    what = "training" if training else "export"
                    return {"cell": cell.name, "error": f"{what} exited {proc.returncode} (see {log.name})"}
    try:
        data = json.loads(manifest.read_text())
        rows = _int8_rows(data, dataset, seed, threads, cpu, static)
    except DAMAGED as e:
        return {"cell": cell.name, "error": _damaged(manifest, e)}
    other = _other_recipes(data, static)
    if other:
        flag = "without" if static else "with"
        return {"cell": cell.name, "error": f"{manifest} was exported {flag} --static-int8 ({other})"}
    return {"cell": cell.name, "rows": rows}


def _other_recipes(data: dict, static: bool) -> str:
    """The int8 files of the manifest ``data`` whose activations are not what the run measures (static
    ones for ``static``, else float or dynamic), as "target: activations"; "" when there are none. Only
    the targets --static-int8 changes count: c and web always calibrate static activations."""
    other = []
    for a in data["artifacts"] + data.get("failed", []):
        mine = a["target"] in STATIC_TARGETS and "artifact" not in a and isinstance(a.get("info"), dict)
        if a["precision"] != "int8" or not mine:
            continue
        activations = (a["info"].get("recipe") or {}).get("activations", "unrecorded")
        if (activations == "static") != static:
            other.append(f"{a['target']}: {activations} activations")
    return ", ".join(other)


# The check a --static-int8 cell reports even where it was skipped (no verified full-integer file, or
# tflite-micro not installed): a missing TFLite Micro column would hide that no file ran there.
TFLM_CHECK = ("tflite", "tflite-micro")


def _int8_rows(
    data: dict, dataset: str, seed: int, threads: int, cpu: str, static: bool = False
) -> list[dict]:
    """A cell's rows: each int8 artifact of its export manifest against the fp32 reference (``static``:
    and the TFLite Micro check where it was skipped, with its reason)."""
    ref = data["reference"]["accuracy"]
    skipped = [s for s in data.get("skipped", []) if (s.get("target"), s.get("artifact")) == TFLM_CHECK]
    return [
        {
            "dataset": dataset,
            "seed": seed,
            "threads": threads,
            "cpu": cpu,
            "target": a["target"] + (f"/{a['artifact']}" if "artifact" in a else ""),
            "agreement": a.get("top1_agreement", 0.0),
            "accuracy": a.get("accuracy", 0.0),
            "fp32_accuracy": ref,
            "verified": bool(a.get("verified")),
            **_facts(a),
        }
        # This run's attempts: the verified files and the ones that failed (and were not written).
        for a in data["artifacts"] + data.get("failed", []) + (skipped if static else [])
        if a["precision"] == "int8"
    ]


def _facts(entry: dict) -> dict:
    """What a row keeps beyond the agreement: why a check was ``skipped``, that its export failed
    (``error``), where the full-integer tflite needed its fallback (``fallback``) the nodes it kept in
    float (``float_nodes``) and the calibration of the file written (``calibration``), the TFLite Micro
    arena (``arena_bytes``)."""
    facts: dict = {}
    if "reason" in entry:
        facts["skipped"] = str(entry["reason"])
    if "error" in entry:
        facts["error"] = str(entry["error"])
    info = entry.get("info") if isinstance(entry.get("info"), dict) else {}
    if "fallback" in info:
        recipe = info.get("recipe") or {}
        facts["fallback"] = True
        facts["float_nodes"] = [str(n) for n in recipe.get("float_nodes", [])]
        facts["calibration"] = str(recipe.get("calibration", ""))
    if "arena_bytes" in entry:
        facts["arena_bytes"] = int(entry["arena_bytes"])
    return facts


def summarise(rows: list[dict], static: bool = False) -> tuple[str, bool]:
    """Markdown report and whether the matrix meets the bar; ``static`` adds what the --static-int8
    files record (files verified per target, fallbacks, TFLite Micro arenas)."""
    lines = ["| dataset | seed | threads | CPU path | " + " | ".join(_targets(rows)) + " |"]
    lines.append("|" + "---|" * (4 + len(_targets(rows))))
    ok = True
    for (ds, seed, threads, cpu), group in itertools.groupby(sorted(rows, key=_cell_key), key=_cell_key):
        cells = {r["target"]: r for r in group}
        shown = []
        for t in _targets(rows):
            text, good = _shown(cells[t]) if t in cells else ("-", True)
            ok &= good
            shown.append(text)
        lines.append(f"| {ds} | {seed} | {threads} | {cpu} | " + " | ".join(shown) + " |")
    lines += ["", "| target | cells | mean agreement | min agreement | max abs accuracy delta (points) |"]
    lines.append("|---|---|---|---|---|")
    for t in _targets(rows):
        rs = [r for r in rows if r["target"] == t]
        # A failed export has no agreement (its cell is a miss), a skipped check none either.
        ran = [r for r in rs if "error" not in r and "skipped" not in r]
        if not ran:
            lines.append(f"| {t} | {len(rs)} | - | - | - |")
            continue
        mean = sum(r["agreement"] for r in ran) / len(ran)
        ok &= mean >= MIN_MEAN_AGREEMENT
        worst = max(abs(r["accuracy"] - r["fp32_accuracy"]) for r in ran) * 100
        low = min(r["agreement"] for r in ran)
        lines.append(f"| {t} | {len(rs)} | {mean:.4f} | {low:.4f} | {worst:.2f} |")
    return "\n".join(lines + (["", *static_summary(rows)] if static else [])), ok


def _cell_key(row: dict) -> tuple:
    return row["dataset"], row["seed"], row["threads"], row["cpu"]


def _shown(row: dict) -> tuple[str, bool]:
    """A row's table entry and whether it meets the bar: agreement (accuracy change), then the nodes a
    fallback kept in float and the TFLite Micro arena where the manifest records them."""
    if "error" in row:
        return "**failed**", False
    if "skipped" in row:
        return "skipped", True
    delta = row["accuracy"] - row["fp32_accuracy"]
    good = row["agreement"] >= VERIFY["int8"]["min_agreement"] and abs(delta) <= MAX_ACCURACY_DELTA
    text = f"{row['agreement']:.4f} ({delta * 100:+.2f})"
    if row.get("fallback"):
        text += f" {_fallback_text(row)}"
    if "arena_bytes" in row:
        text += f" arena {row['arena_bytes']:,} B"
    return text + ("" if good else " **miss**"), good


def _fallback_text(row: dict) -> str:
    """What a full-integer file's fallback ended with: the nodes it kept in float, or the calibration
    that brought the file within its bar in full integer."""
    if row["float_nodes"]:
        return f"float: {', '.join(row['float_nodes'])}"
    if row.get("calibration") not in (None, "", "histogram"):
        return f"{row['calibration']} calibration, full integer"
    return "float: none (the fallback kept none)"


def static_summary(rows: list[dict]) -> list[str]:
    """The --static-int8 report's lines under the tables: files verified by the export per target, the
    cells whose full-integer tflite needed its fallback and what it ended with, the largest TFLite Micro
    arena."""
    cells = sorted({_cell_key(r) for r in rows})
    verified = ", ".join(
        f"{t} {sum(r['verified'] for r in rows if r['target'] == t)}/{len(cells)}" for t in _targets(rows)
    )
    lines = [f"Verified by the export (cells of {len(cells)}): {verified}"]
    fallbacks = [r for r in rows if r.get("fallback")]
    widened = len({_cell_key(r) for r in fallbacks if r["float_nodes"]})
    cells_with = len({_cell_key(r) for r in fallbacks})
    lines.append(f"Cells with a fallback: {cells_with} ({widened} of them keep nodes in float)")
    lines += [f"- {_cell_text(r)}: {_fallback_text(r)}" for r in fallbacks]
    arenas = [r for r in rows if "arena_bytes" in r]
    if arenas:
        top = max(arenas, key=lambda r: r["arena_bytes"])
        lines.append(f"Largest TFLite Micro arena: {top['arena_bytes']:,} B ({_cell_text(top)})")
    else:
        lines.append("Largest TFLite Micro arena: none recorded")
    return lines


def _cell_text(row: dict) -> str:
    return f"{row['dataset']} seed {row['seed']} t{row['threads']} {row['cpu']}"


def _targets(rows: list[dict]) -> list[str]:
    return sorted({r["target"] for r in rows})


def _parser() -> Parser:
    p = Parser(
        prog="python -m lgrin_edge.robustness",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", type=Path, default=Path("runs/robustness"), help="cell folders and the report")
    p.add_argument(
        "--datasets",
        nargs="+",
        default=["japanesevowels", "basicmotions"],
        help="bundled datasets or .npz files (default: japanesevowels basicmotions)",
    )
    p.add_argument("--seeds", nargs="+", type=at_least(0), default=[0, 1, 2, 3, 4])
    p.add_argument(
        "--threads", nargs="+", type=at_least(1), default=[1, 2], help="torch threads while training"
    )
    p.add_argument(
        "--cpu",
        nargs="+",
        default=list(MATRIX_CPU_PATHS),
        choices=CPU_PATHS,
        help="torch CPU code path: as detected, avx2 (an AVX2 CPU without AVX-512), default (no AVX); "
        "default: detected default",
    )
    p.add_argument("--epochs", type=at_least(1), default=150)
    p.add_argument(
        "--recipe",
        default="default",
        choices=tuple(RECIPES),
        help="training recipe of every cell (docs/model.md)",
    )
    p.add_argument(
        "--dist",
        default=None,
        help="export folder name inside each cell; a new name re-exports finished trainings with the "
        f"current recipes (default: dist, with --static-int8 {STATIC_DIST})",
    )
    p.add_argument(
        "--targets",
        nargs="+",
        default=["all"],
        choices=[*TARGET_NAMES, "all"],
        help="export targets of each cell (e.g. one new target into a new --dist folder); all: every "
        f"target, with --static-int8 every one with a static recipe ({', '.join(STATIC_TARGETS)})",
    )
    p.add_argument(
        "--static-int8",
        action="store_true",
        help="verify the static int8 recipes (export --static-int8: integer activations, the full-integer "
        "tflite with its TFLite Micro check), int8 only, into each cell's own folder, reusing its training",
    )
    p.add_argument("--report-only", action="store_true", help="summarise finished cells, run none")
    return p


def _run_matrix(
    args: argparse.Namespace, cells: list[tuple[str, int, int, str]]
) -> tuple[list[dict], list[str]]:
    """Every cell's int8 rows, and a line for each cell not run yet or whose training failed."""
    rows, errors, start = [], [], time.time()
    for i, (ds, seed, threads, cpu) in enumerate(cells, 1):
        result = train_and_export_cell(
            args.out,
            ds,
            seed,
            threads,
            cpu,
            args.epochs,
            run=not args.report_only,
            dist=args.dist,
            targets=tuple(args.targets),
            recipe=args.recipe,
            static=args.static_int8,
        )
        rows += result.get("rows", [])
        if result.get("missing"):
            errors.append(f"{result['cell']}: not run yet")
        if "error" in result:
            errors.append(f"{result['cell']}: {result['error']}")
        elapsed = time.time() - start
        left = elapsed / i * (len(cells) - i)
        print(f"[{i}/{len(cells)}] {result['cell']} ({elapsed:.0f} s, about {left:.0f} s left)", flush=True)
    return rows, errors


def _report(
    table: str, ok: bool, errors: list[str], cells: int, argv: list[str] | None, static: bool = False
) -> str:
    """The markdown report: the machine and command, how to read the table, the table and the verdict."""
    head = [
        "# int8 acceptance matrix" + (": static int8 (--static-int8)" if static else ""),
        "",
        f"CPU: {cpu_description()}; {cells} cells; command: `python -m lgrin_edge.robustness "
        + " ".join(argv if argv is not None else sys.argv[1:])
        + "`",
        "",
        "Each entry: top-1 agreement of the int8 artifact with fp32 (accuracy change against fp32, points). "
        f"Bar: agreement >= {VERIFY['int8']['min_agreement']} and |change| <= "
        f"{MAX_ACCURACY_DELTA * 100:.1f} points in every cell, mean agreement >= {MIN_MEAN_AGREEMENT} "
        "per target.",
        "",
    ]
    if static:
        head[-1:] = [
            "tflite: the full-integer file; `min-max calibration, full integer` where its fallback made it "
            "again with min-max ranges, `float: NODES` where it kept nodes in float (then not full "
            "integer). tflite/tflite-micro: the same file in TFLite Micro, with its smallest arena.",
            "",
        ]
    return "\n".join([*head, table, "", f"Bar met: {'yes' if ok else 'no'}", *errors]) + "\n"


def _selection_tag(args: argparse.Namespace, p: argparse.ArgumentParser) -> list[str]:
    """Parts of the report's name: the export folder where it is not the default, "static" for
    --static-int8, and each selection that is not the whole matrix."""
    parts = [] if args.dist == _default_dist(args) else [args.dist]
    parts += ["static"] if args.static_int8 else []
    for name, prefix in (("datasets", ""), ("seeds", "s"), ("threads", "t"), ("cpu", "")):
        value = getattr(args, name)
        if list(value) != list(p.get_default(name)):
            parts.append(prefix + "+".join(map(str, value)))
    return parts


def _default_dist(args: argparse.Namespace) -> str:
    return STATIC_DIST if args.static_int8 else "dist"


def _check_static(args: argparse.Namespace) -> None:
    """--static-int8 names only targets with a static recipe, and never the plain export's folder."""
    if not args.static_int8:
        return
    lacking = [t for t in args.targets if t != "all" and t not in STATIC_TARGETS]
    if lacking:
        raise UserError(
            f"--static-int8: {', '.join(lacking)} has no static int8 recipe; --targets takes "
            f"{', '.join(STATIC_TARGETS)} (or all: those)"
        )
    if args.dist == "dist":
        raise UserError(f"--static-int8 --dist dist: that folder is the plain export's; use {STATIC_DIST}")


def _check_selection(args: argparse.Namespace) -> None:
    """Before any cell: every dataset loads (one line naming the first that does not, rather than a
    training log per cell), and no dataset, seed, thread count or CPU path is named twice."""
    for name, values in (("--datasets", args.datasets), ("--seeds", args.seeds), ("--threads", args.threads),
                         ("--cpu", args.cpu)):  # fmt: skip
        twice = sorted({str(v) for v in values if values.count(v) > 1})
        if twice:
            raise UserError(f"{name} names {', '.join(twice)} more than once")
    stems = [Path(d).stem for d in args.datasets]
    clash = sorted({s for s in stems if stems.count(s) > 1})
    if clash:
        raise UserError(f"--datasets: two datasets are named {clash[0]!r} (a cell folder takes the stem)")
    if not args.report_only:
        for spec in args.datasets:
            try:
                load_dataset(spec)
            except UserError as e:
                raise UserError(f"--datasets: {e}") from e


def _main(argv: list[str] | None = None) -> int:
    p = _parser()
    args = p.parse_args(argv)
    if min(args.threads) < 1 or args.epochs < 1:
        p.error("--threads and --epochs must be >= 1")
    args.dist = _default_dist(args) if args.dist is None else args.dist
    if not args.dist or "/" in args.dist or args.dist in (".", "..", "run"):
        p.error(f"--dist must be a plain folder name other than 'run', got {args.dist!r}")
    _check_static(args)
    if args.static_int8 and "all" in args.targets:
        args.targets = list(STATIC_TARGETS)
    _check_selection(args)
    cells = list(itertools.product(args.datasets, args.seeds, args.threads, args.cpu))
    rows, errors = _run_matrix(args, cells)
    if not rows:
        why = f" ({errors[0]}{f'; {len(errors) - 1} more' if len(errors) > 1 else ''})" if errors else ""
        print(f"error: no cell produced int8 artifacts{why}", file=sys.stderr)
        return 1
    table, ok = summarise(rows, args.static_int8)
    report = _report(table, ok, errors, len(cells), argv, args.static_int8)
    suffix = "".join(f"-{part}" for part in _selection_tag(args, p))
    write_bytes(args.out / f"report{suffix}.md", report.encode())
    write_json(args.out / f"results{suffix}.json", {"rows": rows, "errors": errors, "bar_met": ok})
    print(report)
    return 0 if ok and not errors else 1


def main(argv: list[str] | None = None) -> int:
    """The command: exit code 0 on success; problems are one line on stderr (lgrin_edge.cli.run)."""
    return run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
