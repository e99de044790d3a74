"""``python -m lgrin_edge.features CORPUS ROOT --out data.npz``: raw corpus -> npz dataset."""

from __future__ import annotations

import argparse
import logging
from collections import Counter
from collections.abc import Sequence

from lgrin_edge.atomic import check_file_target
from lgrin_edge.cli import Parser, UserError, at_least, run
from lgrin_edge.frontend import __main__ as frontend_cli

from .cache import FeatureCache, default_cache_dir
from .corpus_table import BY_NAME, CORPORA
from .pipeline import ExtractOptions, check_classes, check_packages, extract, write_dataset

_EPILOG = """\
Every command writes one npz file: x (N, T, P) float32 zero-padded, lengths, y, groups (subject ids,
where the corpus has them), classes, plus files, feature_names and feature_spec (what the features are,
carried into every exported model: python -m lgrin_edge.inspect FILE). Features are cached per input file
(path, size, mtime, extractor settings) in --cache-dir. See docs/features.md for layouts and label maps.
"""


def _parser() -> argparse.ArgumentParser:
    ap = Parser(
        prog="python -m lgrin_edge.features",
        description="Turn a raw emotion corpus into the lgrin-edge npz dataset format.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = ap.add_subparsers(dest="command", required=True, metavar="CORPUS")
    frames = sub.add_parser(
        "frames",
        help="one WAV file -> its (T, P) frames of the lgrin-speech front-end (.npy), as the C tool "
        "lgrin_frontend IN.wav OUT.f32 computes them on the device",
        description=frontend_cli.DESCRIPTION,
    )
    frames.error = ap.error  # type: ignore[method-assign]
    frontend_cli.add_arguments(frames)
    for corpus in CORPORA:
        p = sub.add_parser(corpus.name, help=corpus.help, description=corpus.help)
        p.error = ap.error  # type: ignore[method-assign]  # one-line errors in every sub-command
        _add_common_arguments(p)
        for option in corpus.options:
            option.add_to(p)
    return ap


def _add_common_arguments(p: argparse.ArgumentParser) -> None:
    """Input, output, cache and progress: every corpus has these."""
    p.add_argument("root", metavar="ROOT", help="corpus root folder")
    p.add_argument("--out", "-o", required=True, help="npz file to write (atomically)")
    p.add_argument("--cache-dir", default=None, help=f"feature cache folder (default {default_cache_dir()})")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the feature cache")
    p.add_argument(
        "--skip-bad",
        action="store_true",
        help="skip unreadable/empty/no-face files with a warning instead of stopping",
    )
    p.add_argument(
        "--max-frames",
        type=at_least(1),
        default=None,
        help="keep at most this many frames per sequence (default: all)",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


# The options that are extractor settings (ExtractOptions' field of each); a corpus without one of them
# extracts with ExtractOptions' default.
_SETTINGS = {
    "extractor": "speech_extractor",
    "no_face": "no_face",
    "face_model": "face_model",
    "min_confidence": "min_confidence",
    "expect_channels": "expect_channels",
}


def _extract_options(args: argparse.Namespace) -> ExtractOptions:
    given = {field: getattr(args, dest) for dest, field in _SETTINGS.items() if hasattr(args, dest)}
    if "expect_channels" in given:
        given["expect_channels"] = given["expect_channels"] or None  # --expect-channels 0: any
    return ExtractOptions(**given, max_frames=args.max_frames)


def _main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "frames":
        return frontend_cli.write_frames(args)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    # Found before any extraction (which can take hours), not after it.
    check_file_target(args.out, ".npz")
    corpus, opts = BY_NAME[args.command], _extract_options(args)
    modality = corpus.modality_of(args)
    check_packages(modality, opts.speech_extractor)
    try:
        items, classes = corpus.items(args)
        check_classes([it.label for it in items], args.root)
        cache = FeatureCache(None if args.no_cache else (args.cache_dir or default_cache_dir()))
        result = extract(
            items, modality, options=opts, cache=cache, skip_bad=args.skip_bad, progress=not args.no_progress
        )
        out = write_dataset(args.out, result, classes, root=args.root, modality=modality)
    except ImportError as exc:
        raise UserError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    counts = Counter(it.label for it in result.items)
    p = result.seqs[0].shape[1]
    print(f"wrote {out}: {len(result.seqs)} sequences, P={p}, longest T={max(len(s) for s in result.seqs)}")
    print("classes: " + ", ".join(f"{c}={counts.get(c, 0)}" for c in classes))
    print(f"cache: {cache.hits} hits, {cache.misses} misses; skipped: {len(result.skipped)}")
    for path, why in result.skipped:
        print(f"  skipped {path}: {why}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command: exit code 0 on success; problems are one line on stderr (lgrin_edge.cli.run)."""
    return run(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
