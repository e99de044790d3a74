"""The report's markdown files: the comment line each begins with, which names the commands that wrote
it, and the check that the report replaces only files that begin with that line (a hand-written table in
--out is kept unless --overwrite)."""

from __future__ import annotations

import shlex
from pathlib import Path

from lgrin_edge.cli import UserError, describe_os_error

PROG = "python -m lgrin_edge.measure.report"
MARKER = f"<!-- written by {PROG}"


def comment_line(args: list[str], pytest_command: str | None) -> str:
    """``<!-- written by python -m lgrin_edge.measure.report ARGS[; the JSON from: COMMAND] -->``."""
    words = f"{MARKER} {shlex.join(args)}"
    if pytest_command:
        words += f"; the JSON from: {pytest_command}"
    # "-->" would end the comment early; a newline would split the line
    return words.replace("-->", "-- >").replace("\n", " ") + " -->"


def check_replaceable(paths: list[Path], overwrite: bool) -> None:
    """Before anything is written: each markdown file in ``paths`` is absent or begins with MARKER, unless
    ``overwrite``."""
    for path in paths:
        if path.suffix != ".md" or not (path.exists() or path.is_symlink()):
            continue
        if not path.is_file():
            raise UserError(f"{path} exists and is not a file; choose another --out")
        try:
            with path.open(encoding="utf-8", errors="replace") as f:
                first = f.readline()
        except OSError as e:
            raise UserError(f"cannot read {path} ({describe_os_error(e)})") from None
        if not first.startswith(MARKER) and not overwrite:
            raise UserError(
                f"{path} was not written by this report (its first line is not '{MARKER} ...'); pass "
                "--overwrite to replace it, or choose another --out"
            )
