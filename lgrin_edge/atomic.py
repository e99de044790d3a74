"""Outputs that appear whole or not at all: files and folders are staged beside their target, then renamed.

Nothing here deletes what the caller did not create: a staged file or folder is removed on failure, the
target is replaced only on success. Files get the mode the umask allows (tempfile alone would give 0600).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from lgrin_edge.cli import UserError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _normal_mode(path: Path, folder: bool = False) -> None:
    os.chmod(path, (0o777 if folder else 0o666) & ~_umask())


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path``, on error it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        _normal_mode(tmp_path)  # after writing: some writers (safetensors) recreate the file
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_npz(path: str | Path, **arrays: np.ndarray) -> None:
    """An uncompressed .npz of plain arrays, written atomically (loadable with allow_pickle=False)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)


def write_json(path: str | Path, obj: object) -> None:
    write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode())


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def place(staged: Path, path: Path) -> None:
    """Move a finished, staged file into place (same file system: an atomic rename)."""
    os.replace(staged, path)


@contextlib.contextmanager
def exclusive(folder: Path, what: str = "output") -> Iterator[None]:
    """Hold the lock of ``folder`` (``.<name>.lock`` beside it) or refuse: one writer per folder."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    lock = folder.parent / f".{folder.name}.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(
                f"another process is writing the {what} {folder} (lock {lock}); wait for it or choose "
                "another output folder"
            ) from None
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)
    finally:
        os.close(fd)


def check_folder_target(folder: Path, own_files: set[str], replace: bool, what: str, flag: str) -> None:
    """Before any work: ``folder`` must be absent or empty, or hold only ``own_files`` (a ``what``) and be
    replaced only when ``replace`` (the user passed ``flag``)."""
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder} exists and is not a folder")
    if folder.is_dir():
        entries = sorted(e.name for e in folder.iterdir())
        foreign = [e for e in entries if e not in own_files]
        if foreign:
            shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise UserError(f"{folder} holds files that are not a {what} ({shown}); choose another folder")
        if entries and not replace:
            raise UserError(
                f"{folder} already holds a {what}; pass {flag} to replace it, or choose another folder"
            )
    _check_creatable(folder)


def _check_creatable(path: Path) -> None:
    """``path`` can be created: its nearest existing ancestor is a writable folder."""
    probe = path.parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise UserError(f"cannot create {path}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK):
        raise UserError(f"cannot create {path}: {probe} is not writable")


def check_file_target(path: str | Path, suffix: str) -> None:
    """Before any work: ``path`` can be written as a ``suffix`` file (its folder exists or can be made,
    is writable, and ``path`` is not a folder)."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a folder; name the {suffix} file to write")
    if path.suffix != suffix:
        raise UserError(f"{path}: the output must be a {suffix} file")
    _check_creatable(path)


@contextlib.contextmanager
def staged_folder(folder: Path) -> Iterator[Path]:
    """Yield an empty staging folder beside ``folder``; on success it becomes ``folder`` (replacing the
    earlier one, which the caller checked may go), on any failure or Ctrl-C it is removed."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial-", dir=folder.parent))
    try:
        _normal_mode(stage, folder=True)
        yield stage
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=folder.parent))
            os.replace(folder, old / folder.name)
            os.replace(stage, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(stage, folder)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
