"""``python -m lgrin_edge.frontend IN.wav --out OUT.npy [--spec SPEC.json]``: a WAV file -> (T, P) float32
frames of the lgrin-speech front-end (the C tool ``lgrin_frontend IN.wav OUT.f32`` writes the same)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np

from lgrin_edge.atomic import atomic_path, check_file_target
from lgrin_edge.cli import Parser, UserError, run

from . import wav
from .spec import DESCRIPTOR_SETS, SpeechSpec
from .speech import frames

DESCRIPTION = "Speech features of one WAV file (16-bit PCM or 32-bit float, first channel, any rate)."


def _parser() -> Parser:
    ap = Parser(prog="python -m lgrin_edge.frontend", description=DESCRIPTION)
    add_arguments(ap)
    return ap


def add_arguments(ap: argparse.ArgumentParser) -> None:
    """The options of this command (also ``python -m lgrin_edge.features frames``)."""
    ap.add_argument("input", nargs="?", metavar="IN.wav")
    ap.add_argument("--out", metavar="OUT.npy", help="where to write the (T, P) float32 frames")
    ap.add_argument("--spec", metavar="SPEC.json", help="a SpeechSpec as JSON (default: the built-in one)")
    ap.add_argument(
        "--descriptors", choices=sorted(DESCRIPTOR_SETS), help="a built-in descriptor set instead"
    )
    ap.add_argument("--print-spec", action="store_true", help="print the spec in use as JSON and stop")


def _main(argv: Sequence[str] | None = None) -> int:
    return write_frames(_parser().parse_args(argv))


def write_frames(args: argparse.Namespace) -> int:
    """Compute the frames of ``args.input`` and write them to ``args.out`` (or print the spec)."""
    if args.spec and args.descriptors:
        raise UserError("give --spec or --descriptors, not both")
    spec = SpeechSpec.load(args.spec) if args.spec else SpeechSpec.preset(args.descriptors or "lld16")
    if args.print_spec:
        print(spec.to_json())
        return 0
    if not args.input or not args.out:
        raise UserError("name the input WAV file and --out OUT.npy (or ask for --print-spec)")
    check_file_target(args.out, ".npy")
    signal, rate = wav.read(args.input)
    result = frames(signal, rate, spec)
    with atomic_path(args.out) as tmp, open(tmp, "wb") as fh:
        np.save(fh, result)
    print(
        f"wrote {args.out}: {result.shape[0]} frames x {result.shape[1]} ({rate} Hz input)", file=sys.stderr
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command: exit code 0 on success; problems are one line on stderr (lgrin_edge.cli.run)."""
    return run(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
