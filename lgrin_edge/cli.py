"""What every command does at its edges: option checks, one-line errors, Ctrl-C, exit codes.

Every ``python -m lgrin_edge.<command>`` runs its ``main`` through :func:`run`, so a user sees one line
naming the problem (never a traceback) and exit code 2 for bad input or options, 1 for a result that
failed its check, 130 for Ctrl-C. ``LGRIN_EDGE_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import sys
from collections.abc import Callable
from typing import NoReturn

EXIT_INPUT = 2
EXIT_INTERRUPTED = 130


class UserError(ValueError):
    """A problem with the user's input, options or files; its message is shown as one line."""


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error: ``prog: error: <what is wrong> (--help lists the options)``."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message} (--help lists the options)\n")


def at_least(low: int) -> Callable[[str], int]:
    """argparse type: an integer >= ``low``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse


def finite_float(low: float = -math.inf, strict: bool = False) -> Callable[[str], float]:
    """argparse type: a finite float >= ``low`` (> ``low`` with ``strict``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or value < low or (strict and value == low):
            raise argparse.ArgumentTypeError(
                f"must be a finite number {'>' if strict else '>='} {low}, got {text}"
            )
        return value

    parse.__name__ = "number"
    return parse


def describe_os_error(e: OSError) -> str:
    """One line for a file-system error: what happened, to which path."""
    where = e.filename if e.filename is not None else ""
    known = {
        errno.ENOSPC: "no space left on the device",
        errno.EDQUOT: "disk quota exceeded",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.EISDIR: "is a folder, not a file",
        errno.ENOTDIR: "a part of the path is not a folder",
        errno.ENOENT: "no such file or folder",
        errno.EROFS: "the file system is read-only",
        errno.EEXIST: "already exists",
    }
    what = known.get(e.errno or 0, e.strerror or str(e))
    return f"{what}: {where}" if where else what


def fail(message: str, code: int = EXIT_INPUT) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def run(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> int:
    """Run a command's ``main`` and turn the user's problems into one line and an exit code."""
    if os.environ.get("LGRIN_EDGE_DEBUG"):
        return main(argv)
    try:
        return main(argv)
    except KeyboardInterrupt:
        print(
            "interrupted: earlier output is unchanged (new output is staged and was discarded)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except UserError as e:
        return fail(str(e))
    except MemoryError:
        return fail("out of memory: use fewer nodes per graph (--nodes) or a smaller --batch-size")
    except OSError as e:
        return fail(describe_os_error(e))
