"""Shared pieces of the feature pipelines: errors, optional imports, input checks, corpus items."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from types import ModuleType

from lgrin_edge.cli import UserError
from lgrin_edge.optional import installed, missing


class FeatureError(UserError):
    """A raw input cannot be turned into features; the message names the file."""


class MissingPackage(UserError, ImportError):
    """An optional package a feature pipeline needs is absent (or cannot be imported): one line."""


def require(module: str) -> ModuleType:
    """Import an optional heavy dependency, or raise :class:`MissingPackage` with
    :func:`lgrin_edge.optional.missing`'s line naming the extra that installs it."""
    if not installed(module):
        raise MissingPackage(missing(module))
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # installed, but it (or a library it loads) is broken
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MissingPackage(f"{module} is installed but cannot be imported ({first})") from exc


def check_input_file(path: str | os.PathLike[str]) -> str:
    """Return ``path`` as str after checking it exists, is a readable file and is not empty."""
    p = os.fspath(path)
    if not os.path.exists(p):
        raise FeatureError(f"missing input: {p}")
    if not os.path.isfile(p):
        raise FeatureError(f"not a file: {p}")
    if not os.access(p, os.R_OK):
        raise FeatureError(f"unreadable input (permission denied): {p}")
    if os.path.getsize(p) == 0:
        raise FeatureError(f"empty input (0 bytes): {p}")
    return p


def check_root(root: str | os.PathLike[str]) -> str:
    """Return ``root`` as str after checking it is an existing directory."""
    r = os.fspath(root)
    if not os.path.isdir(r):
        raise FeatureError(f"corpus root is not a directory: {r}")
    return r


@dataclass
class Item:
    """One labelled raw file of a corpus.

    ``group`` is the subject/speaker/actor id; ``static`` holds per-file constant feature values appended
    to every frame (IEMOCAP's spontaneity flag).
    """

    path: str
    label: str
    group: int = -1
    static: tuple[float, ...] = ()
    meta: dict[str, str] = field(default_factory=dict)


def find_files(root: str, suffixes: tuple[str, ...]) -> list[str]:
    """All files under ``root`` whose lower-cased name ends with one of ``suffixes``, sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            if name.lower().endswith(suffixes) and not name.startswith("._"):
                out.append(os.path.join(dirpath, name))
    return sorted(out)
