"""Outputs that appear whole or not at all: files and folders are staged beside their target, then renamed.

Nothing here deletes what the caller did not create: a staged file or folder is removed on failure, the
target is replaced only on success. A folder is swapped for its stage in one step where Linux offers one
(renameat2 RENAME_EXCHANGE). Destinations are checked before any work by a real write, not os.access.
Files get the mode the umask allows (tempfile alone would give 0600).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import functools
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
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
    replaced only when ``replace`` (the user passed ``flag``); the folder can be made or swapped in."""
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
    folder = _real(folder)
    if os.path.ismount(folder):
        raise UserError(
            f"{folder} is a mount point: the new {what} is made beside it and swapped in, which a mount "
            "point cannot be; choose a folder inside it"
        )
    _check_creatable(folder)
    if folder.is_dir():
        _probe(folder, f"cannot replace {folder}")  # an immutable folder passes every other check


def _probe(where: Path, what: str) -> None:
    """Create and remove an entry in the folder ``where``: os.access says yes for read-only mounts,
    immutable folders and /proc, so only a real write tells."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".lgrin-probe-", dir=where))
    except OSError as e:
        reason = "it accepts no new entries" if e.errno == errno.ENOENT else os.strerror(e.errno or 0).lower()
        raise UserError(f"{what}: {where} is not writable ({reason})") from None


def _check_creatable(path: Path) -> None:
    """``path`` can be created, and its lock and staging folder beside it: its nearest existing ancestor
    is a folder that takes new entries."""
    probe = path.parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise UserError(f"cannot create {path}: {probe} is a file, not a folder")
    _probe(probe, f"cannot create {path}")


def check_file_target(path: str | Path, suffix: str) -> None:
    """Before any work: ``path`` can be written as a ``suffix`` file (its folder exists or can be made,
    is writable, and ``path`` is not a folder)."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a folder; name the {suffix} file to write")
    if path.suffix != suffix:
        raise UserError(f"{path}: the output must be a {suffix} file")
    _check_creatable(path)


def _real(folder: Path) -> Path:
    """The folder the link ``folder`` points to (replaced; the link stays), else ``folder``."""
    return Path(os.path.realpath(folder)) if folder.is_symlink() else folder


def make_stage(folder: Path) -> Path:
    """A new, empty, hidden folder beside ``folder`` (same file system), to build ``folder``'s next
    contents in; :func:`swap_in` makes it ``folder``."""
    folder = _real(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial-", dir=folder.parent))
    _normal_mode(stage, folder=True)
    return stage


def swap_in(stage: Path, folder: Path) -> None:
    """Make the complete folder ``stage`` into ``folder`` and remove the earlier contents: one exchange
    where the system has one (there is no moment without a whole ``folder``), otherwise two renames with
    Ctrl-C held back between them. On an error nothing has changed and ``stage`` is still the new one."""
    folder = _real(folder)
    with _sigint_held():
        if not folder.exists():
            os.rename(stage, folder)
        elif _exchange(stage, folder):
            shutil.rmtree(stage, ignore_errors=True)  # the earlier contents, now at the stage's name
        else:
            holder = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=folder.parent))
            aside = holder / folder.name
            try:
                os.rename(folder, aside)
            except BaseException:
                holder.rmdir()
                raise
            try:
                os.rename(stage, folder)
            except BaseException:
                os.rename(aside, folder)  # should this fail too, the earlier folder stays whole in holder
                holder.rmdir()
                raise
            shutil.rmtree(holder, ignore_errors=True)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """libc's renameat2 (Linux, glibc 2.28 and later), None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    except OSError:
        return None
    function = getattr(libc, "renameat2", None)
    if function is not None:
        function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        function.restype = ctypes.c_int
    return function


def _exchange(a: Path, b: Path) -> bool:
    """Swap the paths ``a`` and ``b`` in one step (renameat2 RENAME_EXCHANGE); False, with nothing
    changed, where this system or file system cannot."""
    function = _renameat2()
    if function is None:
        return False
    if function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


@contextlib.contextmanager
def _sigint_held() -> Iterator[None]:
    """Ctrl-C during the block is held back. It is then dropped: the block is the last step of a
    command's output, and once it has run the new output is whole and in place, so an interrupt there
    would only report the command as stopped with its earlier output kept, which is no longer true."""
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous is None:
        yield  # only the main thread can set a handler; None: one Python did not install
        return
    signal.signal(signal.SIGINT, lambda *_: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def staged_folder(folder: Path) -> Iterator[Path]:
    """Yield an empty staging folder beside ``folder``; on success it becomes ``folder`` (replacing the
    earlier one, which the caller checked may go), on any failure or Ctrl-C it is removed."""
    stage = make_stage(folder)
    try:
        yield stage
        swap_in(stage, folder)
    finally:
        shutil.rmtree(stage, ignore_errors=True)  # the discarded stage, or the earlier contents
