"""The datasets of the practitioners' table: what ``--dataset`` the train command gets for each, and the
two variants used to choose defaults without the test split (training part only; frames of several steps).

A dataset is a name the train command reads itself (basicmotions, japanesevowels, synthetic), one of
aeon's bundled classification problems (lgrin_edge/data/aeon_sets.py; written once as an .npz), or an
.npz file. Each carries an id that changes whenever its content could, so a stored cell is never reused
for other data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from importlib.metadata import version
from pathlib import Path

import numpy as np

from lgrin_edge import __version__
from lgrin_edge.atomic import file_sha256, write_npz
from lgrin_edge.cli import UserError
from lgrin_edge.data import BUNDLED, DATASET_NAMES, load_dataset
from lgrin_edge.data.aeon_sets import aeon_classification_names, load_aeon
from lgrin_edge.data.dataset import SequenceDataset
from lgrin_edge.spec import NPZ_KEY, unknown_spec

PROTOCOLS = ("official", "train-cv")
DATA = "data"


def aeon_keys() -> dict[str, str]:
    """aeon's bundled classification problems by key (lower case): key -> aeon's name."""
    return {n.lower(): n for n in aeon_classification_names()}


def default_datasets() -> list[str]:
    """Every bundled classification dataset aeon ships (the project's two bundled ones among them)."""
    return list(aeon_keys())


@dataclass(frozen=True)
class Source:
    """One dataset as the table uses it: its key (table row), the train command's --dataset, its id."""

    key: str
    dataset: str
    data_id: str
    sequences: int
    classes: int
    channels: int
    lengths: tuple[int, int]
    test: int


def _describe(key: str, dataset: str, data_id: str, ds: SequenceDataset) -> Source:
    lengths = (int(ds.lengths.min()), int(ds.lengths.max()))
    test = 0 if ds.is_test is None else int(ds.is_test.sum())
    return Source(key, dataset, data_id, len(ds.y), ds.num_classes, ds.num_features, lengths, test)


def check_names(names: list[str]) -> None:
    """Refuse (one line) a dataset that is neither aeon's, bundled, nor an existing .npz file."""
    known = aeon_keys()
    for name in names:
        if name.endswith(".npz"):
            if not Path(name).is_file():
                raise UserError(f"--datasets: no such file {name}")
        elif name not in known and name not in DATASET_NAMES:
            raise UserError(
                f"--datasets: unknown dataset {name!r}; aeon bundles {', '.join(known)}, or an .npz file"
            )


def _key(name: str) -> str:
    return Path(name).stem.lower() if name.endswith(".npz") else name


def _load(name: str) -> tuple[SequenceDataset, str]:
    """The data and its id: a file by its content, a packaged dataset by its package version."""
    if name.endswith(".npz"):
        return load_dataset(name), f"sha256:{file_sha256(name)}"
    if name in BUNDLED:
        return load_dataset(name), f"bundled:{name}:aeon {version('aeon')}"
    if name in DATASET_NAMES:  # generated data: as the package version makes it
        return load_dataset(name), f"{name}:lgrin_edge {__version__}"
    return load_aeon(aeon_keys()[name]), f"aeon {version('aeon')}:{aeon_keys()[name]}"


def training_part(ds: SequenceDataset) -> SequenceDataset:
    """The official training split alone (no ``is_test``: the train command then runs k-fold on it)."""
    if ds.is_test is None:
        raise UserError(f"{ds.name} has no official split; train-cv needs one to leave its test part out")
    keep = ~ds.is_test
    return replace(
        ds, x=ds.x[keep], lengths=ds.lengths[keep], y=ds.y[keep], is_test=None, default_nodes=0,
        groups=None if ds.groups is None else ds.groups[keep],
    )  # fmt: skip


def stack_frames(ds: SequenceDataset, width: int) -> SequenceDataset:
    """Each frame becomes ``width`` consecutive steps of every channel (P -> width x P features), so a
    graph node holds a short segment, not one sample; a sequence of T steps gives ceil(T / width) frames
    (its end padded with its last step)."""
    if width == 1:
        return ds
    seqs = []
    for seq, n in zip(ds.x, ds.lengths, strict=True):
        s = seq[: int(n)]
        frames = -(-len(s) // width)
        s = np.concatenate([s, np.repeat(s[-1:], frames * width - len(s), axis=0)])
        seqs.append(s.reshape(frames, width * s.shape[1]))
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    x = np.zeros((len(seqs), int(lengths.max()), seqs[0].shape[1]), dtype=np.float32)
    for i, s in enumerate(seqs):
        x[i, : len(s)] = s
    spec = unknown_spec(x.shape[2], ds.classes, extractor=f"{ds.spec.extractor_id}-frames{width}")
    return replace(ds, x=x, lengths=lengths, default_nodes=0, feature_spec=spec)


def _write(ds: SequenceDataset, path: Path) -> None:
    arrays = {"x": ds.x, "lengths": ds.lengths, "y": ds.y, "classes": np.array(ds.classes)}
    if ds.is_test is not None:
        arrays["is_test"] = ds.is_test
    if ds.groups is not None:
        arrays["groups"] = ds.groups
    write_npz(path, **arrays, **{NPZ_KEY: np.array([ds.spec.to_json()])})


def prepare(names: list[str], out: Path, protocol: str, frames: int) -> list[Source]:
    """Each dataset as the train command will read it; files are written to ``out``/data once (their
    name says what they hold, so an existing one is the same data)."""
    sources = []
    for name in names:
        ds, data_id = _load(name)
        key = _key(name)
        if protocol == "official" and frames == 1 and (name in DATASET_NAMES or name.endswith(".npz")):
            sources.append(_describe(key, name, data_id, ds))
            continue
        if protocol == "train-cv":
            ds = training_part(ds)
        ds = stack_frames(ds, frames)
        suffix = ("-train" if protocol == "train-cv" else "") + (f"-frames{frames}" if frames > 1 else "")
        stem = key if not name.endswith(".npz") else f"{key}-{data_id[7:15]}"  # an edited file: a new name
        path = out / DATA / f"{stem}{suffix}.npz"
        if not path.is_file():
            _write(ds, path)
        data_id = f"{data_id}{suffix}"
        sources.append(_describe(key, str(path), data_id, ds))
    return sources
