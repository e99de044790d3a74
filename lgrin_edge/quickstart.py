"""The main job on bundled data: train L-GrIN, fold + quantise, export every target, verify, print the table.

Example: python -m lgrin_edge.quickstart            (JapaneseVowels, a few minutes on 2 CPU cores)
         python -m lgrin_edge.quickstart --dataset basicmotions
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lgrin_edge.cli import Parser, at_least, run
from lgrin_edge.data import DATASET_NAMES
from lgrin_edge.export.__main__ import main as export_main
from lgrin_edge.train import main as train_main


def _main(argv: list[str] | None = None) -> int:
    p = Parser(
        prog="python -m lgrin_edge.quickstart",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--dataset", default="japanesevowels", help=f"{', '.join(DATASET_NAMES)} or an .npz path")
    p.add_argument("--epochs", type=at_least(1), default=150, help="training epochs")
    p.add_argument("--runs", type=Path, default=Path("runs"), help="where the checkpoint goes")
    p.add_argument("--dist", type=Path, default=Path("dist"), help="where the exported artifacts go")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument(
        "--verbose",
        action="store_true",
        help="show the converters' and runtimes' own output (by default it goes to DIST/<name>/export.log)",
    )
    args = p.parse_args(argv)
    name = Path(args.dataset).stem
    run_dir, dist = args.runs / f"{name}-lgrin", args.dist / name
    print(f"[1/2] training L-GrIN on {args.dataset} -> {run_dir}")
    code = train_main(
        [
            "--dataset",
            args.dataset,
            "--model",
            "lgrin",
            "--epochs",
            str(args.epochs),
            "--out",
            str(run_dir),
            "--device",
            args.device,
            # Re-running the main job replaces its own earlier run, once the new one is complete; the
            # training command refuses folders holding anything but a run.
            "--overwrite",
        ]
    )
    if code:
        return code
    print(f"[2/2] folding, quantising, exporting every target and verifying -> {dist}")
    verbose = ["--verbose"] if args.verbose else []
    return export_main(["--checkpoint", str(run_dir), "--target", "all", "--out", str(dist), *verbose])


def main(argv: list[str] | None = None) -> int:
    """The command: exit code 0 on success; problems are one line on stderr (lgrin_edge.cli.run)."""
    return run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
