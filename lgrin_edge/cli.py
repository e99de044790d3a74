"""What every command does at its edges: option checks, one-line errors, Ctrl-C, exit codes.

Every ``python -m lgrin_edge.<command>`` runs its ``main`` through :func:`run`, so a user sees one line
naming the problem (never a traceback) and exit code 2 for bad input or options, 1 for a result that
failed its check, 130 for Ctrl-C. ``LGRIN_EDGE_DEBUG=1`` shows the traceback instead. Ctrl-C before
:func:`run` is reached (while the command's imports load) is answered by :func:`startup_interrupt`, which
the package installs for ``python -m`` (lgrin_edge/__init__.py) and :func:`run` replaces with Python's own.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import NoReturn

EXIT_INPUT = 2
EXIT_INTERRUPTED = 130
# What Ctrl-C leaves, unless the command says otherwise (on_interrupt).
INTERRUPT_DEFAULT = "earlier output is unchanged (new output is staged and was discarded)"
_interrupt_leaves = [INTERRUPT_DEFAULT]


class UserError(ValueError):
    """A problem with the user's input, options or files; its message is shown as one line."""


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error: ``prog: error: <what is wrong> (--help lists the options)``.

    Long options are never abbreviated (``--epoch`` is not taken for ``--epochs``): an option that is not
    one of the parser's own (or its sub-commands') is refused, naming the closest one."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message} (--help lists the options)\n")

    def parse_known_args(
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        args = sys.argv[1:] if args is None else list(args)
        # Checked before argparse parses, so a misspelt option is named even where argparse would first
        # complain of a required option the misspelling was meant to give.
        known = set(option_strings(self))
        for arg in args:
            if arg == "--":
                break
            name = arg.partition("=")[0]
            # argparse reads a token with a space as a value, never as an option
            if name.startswith("--") and len(name) > 2 and " " not in arg and name not in known:
                import difflib  # here: this module loads before every command, and this is rare

                close = difflib.get_close_matches(name, sorted(known), n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                self.error(f"unrecognized option {name}{hint}")
        return super().parse_known_args(args, namespace)


def option_strings(parser: argparse.ArgumentParser) -> Iterator[str]:
    """Every option string of ``parser`` and of its sub-commands' parsers."""
    for action in parser._actions:
        yield from action.option_strings
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from option_strings(sub)


class _Given(argparse.Namespace):
    """A namespace that already "has" every option, so argparse fills in no default: what the parse
    leaves in it is what the command line gave."""

    def __getattr__(self, name: str) -> None:
        if name.startswith("_"):
            raise AttributeError(name)
        return None


def given(parser: argparse.ArgumentParser, argv: list[str] | None) -> set[str]:
    """The destinations (``args`` attribute names) of the options the command line ``argv`` gives (for a
    parser without sub-commands: argparse parses those into a namespace of its own, defaults and all)."""
    return set(vars(parser.parse_args(argv, _Given())))


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
        errno.EFBIG: "file larger than this system allows (ulimit -f)",
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


def on_interrupt(leaves: str) -> None:
    """Say what Ctrl-C leaves from here on (the line reads ``interrupted: <leaves>``), for a command
    that keeps finished work; :func:`run` starts every command with :data:`INTERRUPT_DEFAULT`."""
    _interrupt_leaves[0] = leaves


_deferred = [False]  # a Ctrl-C arrived inside interrupt_between_steps and waits for the next step


@contextlib.contextmanager
def interrupt_between_steps() -> Iterator[None]:
    """Ctrl-C inside the block waits for the end of the current step (:func:`step_done`).

    Converters and runtimes (TensorFlow Lite, JAX, ExecuTorch, onnxruntime) do not survive a
    KeyboardInterrupt raised in the middle of their imports or native calls: measured here, one swallowed
    it and finished the command, another crashed with SIGSEGV. So the first Ctrl-C is noted at once and
    raised between steps; a second one is raised where it lands."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def note(signum: int, frame: object) -> None:
        if _deferred[0]:  # the second Ctrl-C: Python's own behaviour, at once
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt
        _deferred[0] = True
        with contextlib.suppress(OSError):  # the terminal may be gone; the interrupt still counts
            os.write(sys.stdout.fileno(), b"interrupt: stopping after the current step (Ctrl-C again: now)\n")

    _deferred[0] = False
    signal.signal(signal.SIGINT, note)
    try:
        yield
        step_done()
    finally:
        signal.signal(signal.SIGINT, previous)
        _deferred[0] = False


def step_done() -> None:
    """A step of an :func:`interrupt_between_steps` block ended: raise the Ctrl-C that waited for it."""
    if _deferred[0]:
        _deferred[0] = False
        raise KeyboardInterrupt


def startup_interrupt(signum: int, frame: object) -> None:
    """SIGINT handler while a command's imports load: one line, exit 130.

    Nothing has been read or written yet, and a KeyboardInterrupt raised inside an import would print a
    traceback through the import machinery; so the process ends here, at once."""
    sys.stderr.write("interrupted while starting: nothing was read or written\n")
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)


def _python_sigint() -> None:
    """Put Python's own SIGINT handler (KeyboardInterrupt) back in place of :func:`startup_interrupt`."""
    if threading.current_thread() is threading.main_thread() and (
        signal.getsignal(signal.SIGINT) is startup_interrupt
    ):
        signal.signal(signal.SIGINT, signal.default_int_handler)


def run(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> int:
    """Run a command's ``main`` and turn the user's problems into one line and an exit code."""
    _python_sigint()
    on_interrupt(INTERRUPT_DEFAULT)
    if os.environ.get("LGRIN_EDGE_DEBUG"):
        return main(argv)
    try:
        return main(argv)
    except KeyboardInterrupt:
        print(f"interrupted: {_interrupt_leaves[0]}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except UserError as e:
        return fail(str(e))
    except MemoryError:
        return fail("out of memory: use fewer nodes per graph (--nodes) or a smaller --batch-size")
    except OSError as e:
        return fail(describe_os_error(e))
