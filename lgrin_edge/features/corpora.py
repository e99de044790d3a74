"""Corpus layouts: list the labelled raw files (and their subject groups) of each supported corpus."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable

from .common import FeatureError, Item, check_root, find_files

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".mpg", ".mpeg", ".flv", ".webm")
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")

# ---------------------------------------------------------------- IEMOCAP

IEMOCAP_CLASSES = ("neutral", "angry", "sad", "happy")
_IEMOCAP_CODES = {"neu": "neutral", "ang": "angry", "sad": "sad", "hap": "happy"}
# "[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]"
_IEMOCAP_LINE = re.compile(r"^\[\s*[\d.]+\s*-\s*[\d.]+\s*\]\s+(Ses(\d\d)[FM]_\S+)\s+(\w+)\s+\[")


def iemocap_items(
    root: str, *, merge_excited: bool = True, group_by: str = "session", spontaneity: bool = True
) -> tuple[list[Item], tuple[str, ...]]:
    """Utterances of IEMOCAP with the 4-class mapping neu, ang, sad, hap (+ exc when ``merge_excited``).

    Layout: ``ROOT/Session{1..5}/dialog/EmoEvaluation/*.txt`` (top level only; the Categorical/,
    Attribute/ and Self-evaluation/ sub-folders are individual ratings, not the consensus label) and
    ``ROOT/Session{n}/sentences/wav/<dialog>/<utterance>.wav``. Utterances of other labels (fru, sur, fea,
    dis, oth, xxx) are left out. ``group_by``: ``session`` (1..5) or ``speaker`` (2*(session-1) + 0 for
    the female, 1 for the male speaker; the speaker is the letter of the utterance's last name part, as
    in ``Ses01F_impro01_M000``, not the dialog's). ``spontaneity`` adds a per-file flag: 1 for improvised
    dialogs (``impro`` in the name), 0 for scripted ones.
    """
    check_root(root)
    if group_by not in ("session", "speaker"):
        raise ValueError(f"group_by must be 'session' or 'speaker', not {group_by!r}")
    codes = dict(_IEMOCAP_CODES)
    if merge_excited:
        codes["exc"] = "happy"
    sessions = sorted(d for d in os.listdir(root) if re.fullmatch(r"Session\d", d))
    if not sessions:
        raise FeatureError(f"no Session1..Session5 folders under {root} (expected IEMOCAP's layout)")
    items: dict[str, Item] = {}
    n_eval = 0
    for sess in sessions:
        eval_dir = os.path.join(root, sess, "dialog", "EmoEvaluation")
        if not os.path.isdir(eval_dir):
            raise FeatureError(f"missing label folder: {eval_dir}")
        for name in sorted(os.listdir(eval_dir)):
            path = os.path.join(eval_dir, name)
            if not (name.endswith(".txt") and os.path.isfile(path)) or name.startswith("._"):
                continue
            n_eval += 1
            for line in _read_lines(path):
                m = _IEMOCAP_LINE.match(line)
                if not m or m.group(3) not in codes:
                    continue
                utt, session = m.group(1), int(m.group(2))
                dialog = utt.rsplit("_", 1)[0]
                wav = os.path.join(root, f"Session{session}", "sentences", "wav", dialog, utt + ".wav")
                speaker = 2 * (session - 1) + (0 if utt.rsplit("_", 1)[1].startswith("F") else 1)
                spont = 1.0 if "_impro" in utt else 0.0
                items[utt] = Item(
                    path=wav,
                    label=codes[m.group(3)],
                    group=session if group_by == "session" else speaker,
                    static=(spont,) if spontaneity else (),
                    meta={"utterance": utt, "code": m.group(3)},
                )
    if n_eval == 0:
        raise FeatureError(f"no EmoEvaluation/*.txt label files under {root}")
    if not items:
        raise FeatureError(f"no utterance with a 4-class label in the EmoEvaluation files under {root}")
    return [items[k] for k in sorted(items)], IEMOCAP_CLASSES


def _read_lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read().splitlines()
    except OSError as exc:
        raise FeatureError(f"unreadable label file {path}: {exc}") from exc


# ---------------------------------------------------------------- RAVDESS

RAVDESS_CLASSES = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
_RAVDESS_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
_RAVDESS_MODALITY = {"both": ("01", "02"), "av": ("01",), "video": ("02",)}


def ravdess_items(
    root: str, *, suffixes: tuple[str, ...] = (".mp4",), modality: str = "both", vocal: str = "both"
) -> tuple[list[Item], tuple[str, ...]]:
    """RAVDESS clips, labels decoded from ``MM-VV-EE-II-SS-RR-AA.<ext>`` (modality, vocal channel,
    emotion 01-08, intensity, statement, repetition, actor 01-24); groups = actor.

    ``modality``: ``av`` (01, audio-video), ``video`` (02, video-only) or ``both``. The two are the same
    footage; ``both`` gives the paper's 4,904 clips, and actor groups keep the twins in one fold.
    ``vocal``: ``speech`` (01), ``song`` (02) or ``both``. Audio-only files (modality 03) are never used.
    """
    check_root(root)
    if modality not in _RAVDESS_MODALITY:
        raise ValueError(f"modality must be one of {sorted(_RAVDESS_MODALITY)}")
    vocals = {"speech": ("01",), "song": ("02",), "both": ("01", "02")}[vocal]
    items = []
    for path in find_files(root, suffixes):
        stem = os.path.splitext(os.path.basename(path))[0]
        m = _RAVDESS_NAME.match(stem)
        if not m:
            continue
        mod, voc, emo, inten, stmt, rep, actor = m.groups()
        if mod not in _RAVDESS_MODALITY[modality] or voc not in vocals:
            continue
        if not 1 <= int(emo) <= 8:
            raise FeatureError(f"RAVDESS emotion code {emo} outside 01-08 in file name: {path}")
        items.append(
            Item(
                path=path,
                label=RAVDESS_CLASSES[int(emo) - 1],
                group=int(actor),
                meta={"intensity": inten, "statement": stmt, "repetition": rep, "vocal": voc},
            )
        )
    if not items:
        raise FeatureError(
            f"no RAVDESS files named MM-VV-EE-II-SS-RR-AA{'|'.join(suffixes)} (modality {modality}, "
            f"vocal {vocal}) under {root}"
        )
    return items, RAVDESS_CLASSES


# ---------------------------------------------------------------- RML, eNTERFACE (6 basic emotions)

BASIC6_CLASSES = ("anger", "disgust", "fear", "happiness", "sadness", "surprise")
_BASIC6_ALIASES = {
    "an": "anger", "ang": "anger", "anger": "anger", "angry": "anger",
    "di": "disgust", "dis": "disgust", "disgust": "disgust", "disgusted": "disgust",
    "fe": "fear", "fea": "fear", "fear": "fear", "fearful": "fear", "afraid": "fear",
    "ha": "happiness", "hap": "happiness", "happy": "happiness", "happiness": "happiness", "joy": "happiness",
    "sa": "sadness", "sad": "sadness", "sadness": "sadness",
    "su": "surprise", "sur": "surprise", "surprise": "surprise", "surprised": "surprise",
}  # fmt: skip


def label_from_path(rel: str, aliases: dict[str, str]) -> str:
    """The one class named by the letter tokens of a relative path (``subject 1/anger/s1_an_1`` ->
    anger; ``s3/ha2`` -> happiness); raises if none or several classes are named."""
    tokens = re.split(r"[^a-z]+", os.path.splitext(rel)[0].lower())
    found = {aliases[t] for t in tokens if t in aliases}
    if len(found) != 1:
        what = "no emotion" if not found else f"several emotions {sorted(found)}"
        raise FeatureError(f"{what} recognised in the path of {rel}")
    return found.pop()


def _numbered_groups(names: Iterable[str]) -> dict[str, int]:
    """Stable ids for subject names: the number in the name when every name has a distinct one."""
    names = sorted(set(names))
    nums = [re.findall(r"\d+", n) for n in names]
    if all(nums) and len({int(n[-1]) for n in nums}) == len(names):
        return {n: int(d[-1]) for n, d in zip(names, nums, strict=True)}
    return {n: i for i, n in enumerate(names)}


def _subject_dir_items(
    root: str,
    suffixes: tuple[str, ...],
    aliases: dict[str, str],
    subject_re: str | None,
) -> list[Item]:
    items, subjects = [], []
    for path in find_files(root, suffixes):
        rel = os.path.relpath(path, root)
        label = label_from_path(rel, aliases)
        m = re.search(subject_re, rel, flags=re.IGNORECASE) if subject_re else None
        if m:
            subject = m.group(1)
        elif os.sep in rel:
            subject = rel.split(os.sep, 1)[0]
        else:
            subject = re.split(r"[_\-]", os.path.basename(rel), maxsplit=1)[0]
        items.append(Item(path=path, label=label, meta={"subject": subject}))
        subjects.append(subject)
    ids = _numbered_groups(subjects)
    for it in items:
        it.group = ids[it.meta["subject"]]
    return items


def rml_items(root: str, *, suffixes: tuple[str, ...] = VIDEO_SUFFIXES) -> tuple[list[Item], tuple[str, ...]]:
    """RML clips laid out as ``ROOT/<subject>/<code><n>.avi`` with code an, di, fe, ha, sa, su (full
    emotion names in folder or file names are recognised too); groups = subject folder."""
    check_root(root)
    items = _subject_dir_items(root, suffixes, _BASIC6_ALIASES, None)
    if not items:
        raise FeatureError(f"no video files under {root}")
    return items, BASIC6_CLASSES


def enterface_items(
    root: str, *, suffixes: tuple[str, ...] = VIDEO_SUFFIXES
) -> tuple[list[Item], tuple[str, ...]]:
    """eNTERFACE'05 clips laid out as ``ROOT/subject <k>/<emotion>/sentence <j>/s<k>_<code>_<j>.avi``
    (code an, di, fe, ha, sa, su); groups = subject number (from ``subject <k>``, else ``s<k>_``)."""
    check_root(root)
    items = _subject_dir_items(root, suffixes, _BASIC6_ALIASES, r"(?:subject\s*|^s)(\d+)")
    if not items:
        raise FeatureError(f"no video files under {root}")
    return items, BASIC6_CLASSES


# ---------------------------------------------------------------- MPI emotional body expressions

MPI_CLASSES = (
    "amusement", "anger", "disgust", "fear", "joy", "neutral", "pride", "relief", "sadness", "shame",
    "surprise",
)  # fmt: skip
_MPI_ALIASES = {c: c for c in MPI_CLASSES} | {
    "amused": "amusement", "angry": "anger", "disgusted": "disgust", "fearful": "fear", "afraid": "fear",
    "joyful": "joy", "proud": "pride", "relieved": "relief", "sad": "sadness", "ashamed": "shame",
    "surprised": "surprise",
}  # fmt: skip


def mpi_items(root: str, *, suffixes: tuple[str, ...] = (".bvh",)) -> tuple[list[Item], tuple[str, ...]]:
    """MPI body-expression BVH exports whose path names one of the 11 emotions as a word (e.g.
    ``ROOT/<actor>/<emotion>/take.bvh`` or ``ROOT/<actor>_<emotion>_3.bvh``); groups = actor, the first
    folder under ROOT, or the file-name part before the first ``_``/``-`` for files directly in ROOT."""
    check_root(root)
    items = _subject_dir_items(root, suffixes, _MPI_ALIASES, None)
    if not items:
        raise FeatureError(f"no {'/'.join(suffixes)} files under {root}")
    return items, MPI_CLASSES


# ---------------------------------------------------------------- generic class-per-folder layout


def _check_distinct(classes: list[str], root: str) -> None:
    """Two class folders whose names differ only in case, surrounding spaces or Unicode form ("Happy",
    "happy ") would be two classes of one emotion: refused, naming both."""
    seen: dict[str, str] = {}
    for name in classes:
        key = unicodedata.normalize("NFKC", name).strip().casefold()
        if key in seen:
            raise FeatureError(
                f"class folders {seen[key]!r} and {name!r} under {root} name the same class (they differ "
                "only in case, spaces or Unicode form); merge them or rename one"
            )
        seen[key] = name


def folder_items(
    root: str, suffixes: tuple[str, ...], *, group_regex: str | None = None
) -> tuple[list[Item], tuple[str, ...]]:
    """Any corpus laid out as ``ROOT/<class>/**/<file>``; classes are the folder names, sorted.

    ``group_regex`` (one capture group, searched in the path relative to ROOT) gives each file's
    subject; without it no groups are written.
    """
    check_root(root)
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and d[0] != ".")
    _check_distinct(classes, root)
    items, names = [], []
    for cls in classes:
        for path in find_files(os.path.join(root, cls), suffixes):
            rel = os.path.relpath(path, root)
            subject = ""
            if group_regex:
                m = re.search(group_regex, rel)
                if not m or not m.groups():
                    raise FeatureError(f"--group-regex {group_regex!r} finds no subject in {rel}")
                subject = m.group(1)
            items.append(Item(path=path, label=cls, meta={"subject": subject} if group_regex else {}))
            names.append(subject)
    if not items:
        raise FeatureError(f"no {'/'.join(suffixes)} files in class folders under {root}")
    if group_regex:
        ids = _numbered_groups(names)
        for it in items:
            it.group = ids[it.meta["subject"]]
    used = tuple(c for c in classes if any(it.label == c for it in items))
    return items, used
