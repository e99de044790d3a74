"""Per-file feature cache: one ``.npy`` per (file path, size, mtime, extractor config)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from lgrin_edge.atomic import atomic_path


def default_cache_dir() -> str:
    """``$LGRIN_FEATURE_CACHE``, else ``$XDG_CACHE_HOME/lgrin_edge/features`` (``~/.cache`` by default)."""
    env = os.environ.get("LGRIN_FEATURE_CACHE")
    if env:
        return env
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "lgrin_edge", "features")


class FeatureCache:
    """Stores extractor outputs keyed on the input file's identity and the extractor configuration.

    The key covers the absolute path, size and mtime (ns) of the file, so an edited or replaced file is
    re-extracted; ``config`` must describe everything that changes the output (extractor name, versions,
    model hashes, parameters). ``directory=None`` disables caching.
    """

    def __init__(self, directory: str | os.PathLike[str] | None) -> None:
        self.directory = None if directory is None else os.fspath(directory)
        self.hits = 0
        self.misses = 0
        if self.directory is not None:
            os.makedirs(self.directory, exist_ok=True)

    @staticmethod
    def key(path: str, config: dict[str, Any]) -> str:
        st = os.stat(path)
        ident = {
            "path": os.path.abspath(path),
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "config": config,
        }
        blob = json.dumps(ident, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()

    def get_or_compute(
        self, path: str, config: dict[str, Any], compute: Callable[[str], np.ndarray]
    ) -> np.ndarray:
        """Return the cached array for ``path`` under ``config``, computing and storing it on a miss."""
        if self.directory is None:
            self.misses += 1
            return compute(path)
        k = self.key(path, config)
        target = os.path.join(self.directory, k[:2], k + ".npy")
        if os.path.exists(target):
            try:
                arr = np.load(target, allow_pickle=False)
                self.hits += 1
                return arr
            except (OSError, ValueError):
                pass  # a damaged entry is recomputed and overwritten below
        self.misses += 1
        arr = compute(path)
        with atomic_path(target) as tmp, open(tmp, "wb") as fh:
            np.save(fh, arr, allow_pickle=False)
        return arr
