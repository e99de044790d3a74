"""The terminal shows the project's own lines; third-party library output goes to a log file.

Converters and runtimes (TensorFlow Lite, absl, oneDNN, XNNPACK, ExecuTorch, torch.export) print from C++
straight to file descriptors 1 and 2, from C++ through Python's ``sys.stderr`` (pybind11 redirection),
and from Python through ``warnings`` and ``logging`` handlers that write to ``sys.stderr``. Inside
:func:`library_output_to_log` descriptors 1 and 2 and ``sys.stderr`` point at a log file, Python warnings
and log records go there too, and ``sys.stdout`` writes to the terminal (the project's progress lines)
and copies each line into the log, so the log holds the whole story in order. The project's own errors
are printed by :func:`lgrin_edge.cli.run` after the command's body has left this context, so they reach
the terminal.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path


class _Tee(io.TextIOBase):
    """A text stream that writes to the terminal and copies into the log."""

    def __init__(self, terminal: io.TextIOBase, log: io.TextIOBase) -> None:
        self._terminal, self._log = terminal, log

    def write(self, text: str) -> int:
        self._terminal.write(text)
        self._log.write(text)
        return len(text)

    def flush(self) -> None:
        self._terminal.flush()
        self._log.flush()

    def isatty(self) -> bool:  # progress bars draw themselves only on a terminal
        return self._terminal.isatty()

    def fileno(self) -> int:
        return self._terminal.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._terminal, "encoding", "utf-8")


class LibraryLog:
    """Where third-party output of one command goes: a temporary file until :meth:`keep` moves it."""

    def __init__(self, path: Path | None) -> None:
        self.path = path  # None: nothing is captured (--verbose)

    def keep(self, final: Path) -> Path | None:
        """Move the log to ``final``, inside the command's finished output (None without a log)."""
        if self.path is None:
            return None
        shutil.move(self.path, final)
        self.path = final
        return final


def _open_terminal(fd: int, like: io.TextIOBase) -> io.TextIOWrapper:
    encoding = getattr(like, "encoding", None) or "utf-8"
    return io.TextIOWrapper(
        os.fdopen(os.dup(fd), "wb", buffering=0), encoding=encoding, errors="replace", line_buffering=True
    )


@contextlib.contextmanager
def library_output_to_log(name: str, verbose: bool = False) -> Iterator[LibraryLog]:
    """Send third-party output to a temporary log while inside.

    With ``verbose`` nothing is redirected (everything reaches the terminal as it is printed). The
    caller moves the log into its finished output with :meth:`LibraryLog.keep`; one it did not keep is
    named in one line on the way out (an unfinished command's log is where its cause may be), or
    removed when empty.
    """
    if verbose:
        yield LibraryLog(None)
        return
    fd, raw = tempfile.mkstemp(prefix=f"lgrin-edge-{name}-", suffix=".log")
    path = Path(raw)
    handle = LibraryLog(path)
    log = open(fd, "w", encoding="utf-8", errors="replace", buffering=1)  # noqa: SIM115 - closed below
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    streams = (sys.stdout, sys.stderr)
    terminal = _open_terminal(saved[0], sys.stdout)
    show = warnings.showwarning
    last_resort = logging.lastResort
    try:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        sys.stdout, sys.stderr = _Tee(terminal, log), log  # type: ignore[assignment]

        def to_log(message, category, filename, lineno, file=None, line=None):
            log.write(warnings.formatwarning(message, category, filename, lineno, line))

        warnings.showwarning = to_log
        logging.lastResort = logging.StreamHandler(log)
        logging.lastResort.setLevel(logging.WARNING)
        yield handle
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        sys.stdout, sys.stderr = streams
        warnings.showwarning = show
        logging.lastResort = last_resort
        terminal.close()
        for s in saved:
            os.close(s)
        log.close()
        if handle.path == path:  # not kept
            if path.stat().st_size:
                print(f"third-party library output: {path}", file=sys.stderr)
            else:
                path.unlink()
