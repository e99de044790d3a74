"""Export a trained checkpoint for edge runtimes, verify every artifact in its own runtime.

Example: python -m lgrin_edge.export --checkpoint runs/jv --target all --out dist/jv

Targets (one table drives this CLI, the exporters and the verification):
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings

# The TFLite converter logs every graph it builds through TensorFlow's C++ logger; keep warnings only.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from pathlib import Path

from lgrin_edge.cli import Parser, at_least, run
from lgrin_edge.console import library_output_to_log
from lgrin_edge.export.pipeline import EXPORT_LOG, run_export
from lgrin_edge.export.targets import PRECISIONS, TARGET_NAMES, TARGETS
from lgrin_edge.export.tolerances import VERIFY
from lgrin_edge.export.verify import VERIFY_DATA_FORMAT, flips_said

BAR = min(v["min_agreement"] for v in VERIFY.values())  # the int8 promise, named in --verify-data's help


def target_help() -> str:
    return "\n".join(
        f"  {t.name:10s} {'/'.join(t.precisions):10s} {t.about}; needs {t.needs}" for t in TARGETS.values()
    )


def build_parser() -> argparse.ArgumentParser:
    """The command's options: what to export, in which forms, and where to."""
    p = Parser(
        prog="python -m lgrin_edge.export",
        description=__doc__ + target_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--checkpoint",
        type=Path,
        default=Path("runs/japanesevowels-lgrin"),
        help="run folder written by lgrin_edge.train (default: %(default)s)",
    )
    p.add_argument(
        "--target",
        nargs="+",
        default=["all"],
        choices=(*TARGET_NAMES, "all"),
        help="one or more targets, or all (default: all)",
    )
    p.add_argument("--precision", default="all", choices=(*PRECISIONS, "all"), help="default: %(default)s")
    p.add_argument("--out", type=Path, default=None, help="output folder (default dist/<checkpoint name>)")
    p.add_argument(
        "--verify-data",
        type=Path,
        default=None,
        metavar="NPZ",
        help=f"verify every artifact on your own held-out graphs: {VERIFY_DATA_FORMAT}, M and P as the "
        "checkpoint's (default: the graphs training kept, eval.npz: the official test split, or on a "
        "k-fold run the final model's small validation split). The bar is >= "
        f"{BAR * 100:g}%% top-1 agreement with the trained model, so N graphs allow floor({1 - BAR:.2f} N) "
        "flips; the manifest records the file's path, sha256 and N",
    )
    _add_build_options(p)
    return p


def _add_build_options(p: argparse.ArgumentParser) -> None:
    """How the artifacts are built, verified and reported."""
    p.add_argument(
        "--calibration",
        type=at_least(1),
        default=256,
        help="training samples used to calibrate int8; more than the checkpoint has uses all of them, "
        "with a note (default: %(default)s)",
    )
    p.add_argument(
        "--batch",
        type=at_least(1),
        default=1,
        help="batch size baked into fixed-batch formats ("
        + ", ".join(t.name for t in TARGETS.values() if t.fixed_batch)
        + ") (default: %(default)s)",
    )
    p.add_argument("--threads", type=at_least(1), default=1, help="runtime threads used for verification")
    p.add_argument(
        "--sensitivity",
        action="store_true",
        help="also report what each node's int8 quantisation costs (onnx, tensorrt; tflite, "
        "executorch: their --static-int8 recipe; on training graphs): sensitivity_<target>.json and a "
        "table, for an artifact that misses its tolerance (the full-integer tflite measures it itself "
        "when it misses its bar)",
    )
    p.add_argument(
        "--static-int8",
        action="store_true",
        help="int8 with integer activations, calibrated (onnx, tensorrt: static Q/DQ; tflite: full "
        "integer, int8 input and output; executorch: static per-tensor), for NPUs, delegates and TFLite "
        "Micro; default: int8 weights with float activations (onnx, tensorrt: weight-only; tflite, "
        "executorch: dynamic range), which verify on every model of docs/robustness.md",
    )
    p.add_argument(
        "--qat-epochs",
        type=at_least(0),
        default=0,
        metavar="N",
        help="with --static-int8 (tflite): fine-tune the full-integer file's weights for N epochs against "
        "the float model on the training graphs (quantisation-aware; kept where its file meets the bar "
        "there that the post-training file misses, or is closer to the float model, "
        "docs/quantisation.md) (default: %(default)s, off)",
    )
    p.add_argument(
        "--verbose",
        action="store_true",
        help="show the converters' and runtimes' own output on the terminal (by default it goes to "
        f"OUT/{EXPORT_LOG}, named at the end)",
    )
    p.add_argument(
        "--keep-unverified",
        action="store_true",
        help="also keep artifacts that miss their tolerance, in OUT/unverified/ (for inspection or "
        "timing; never in place of a verified file)",
    )


def format_table(manifest: dict) -> str:
    rows = [("target", "precision", "file", "bytes", "agree", "max|dlogit|", "accuracy", "verified")]
    for a in manifest["artifacts"] + manifest.get("failed", []):
        name = a["target"] + (f" ({a['artifact']})" if "artifact" in a else "")  # a second runtime's check
        if "error" in a:
            rows.append((name, a["precision"], a["path"], "-", "-", "-", "-", "FAILED"))
            continue
        rows.append(
            (
                name,
                a["precision"],
                a["path"],
                f"{a['bytes']:,}",
                f"{a['top1_agreement']:.4f}",
                f"{a['max_abs_diff']:.2e}",
                f"{a['accuracy']:.4f}",
                "yes" if a["verified"] else ("NO" if "artifact" in a else "NO (not written)"),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    ref = manifest["reference"]
    lines.append(
        f"reference: {ref['runtime']}, accuracy {ref['accuracy']:.4f} on {manifest['eval_data']['n']} "
        f"held-out samples ({manifest['eval_data']['kind']})"
    )
    for f in manifest.get("failed", []):
        why = f.get("error", "outside tolerance")
        if "flips" in f:
            why += f" ({flips_said(f, manifest['eval_data']['n'])})"
        lines.append(f"not written {f['target']}/{f['precision']}: {why}; {f['kept']}")
    for s in manifest["skipped"]:
        what = s.get("artifact", s["precision"])
        lines.append(f"skipped {s['target']}/{what}: {s['reason']}")
        if "build_command" in s:
            lines.append(f"  build it on the target: {s['build_command']}")
    return "\n".join(lines)


def _main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Quantisers log advice (pre-processing hints, deprecations) that is noise for this fixed graph.
    logging.getLogger().setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    targets = list(TARGET_NAMES) if "all" in args.target else list(dict.fromkeys(args.target))
    precisions = list(PRECISIONS) if args.precision == "all" else [args.precision]
    out = args.out or Path("dist") / args.checkpoint.name
    kept: list[Path] = []

    with library_output_to_log("export", args.verbose) as library_log:

        def add_log(stage: Path) -> None:  # the log lands with the export, as one unit
            if library_log.keep(stage / EXPORT_LOG) is not None:
                kept.append(out / EXPORT_LOG)

        manifest = run_export(
            args.checkpoint,
            targets,
            precisions,
            out,
            args.calibration,
            args.batch,
            args.threads,
            sensitivity=args.sensitivity,
            keep_unverified=args.keep_unverified,
            static_int8=args.static_int8,
            last_files=add_log,
            verify_data=args.verify_data,
            qat_epochs=args.qat_epochs,
        )
    print(format_table(manifest))
    print(f"manifest: {out / 'manifest.json'}")
    for path in kept:
        print(f"third-party library output: {path}")
    # The folder is served whole: the page reads ../manifest.json and ../samples.npz beside web/.
    if any("web/index.html" in a.get("bundle", {}) for a in manifest["artifacts"]):
        print(f"web page: python -m http.server -d {out} 8000, then open http://localhost:8000/web/")
    failed = manifest["failed"]
    if failed:
        names = ", ".join(f"{a['target']}/{a['precision']}" for a in failed)
        print(f"error: {len(failed)} artifact(s) outside tolerance or failed: {names}", file=sys.stderr)
        if not args.sensitivity:
            print("  which layers cost the agreement: re-run with --sensitivity", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command: exit code 0 on success; problems are one line on stderr (lgrin_edge.cli.run)."""
    return run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
