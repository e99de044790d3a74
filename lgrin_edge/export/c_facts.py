"""The C runtime's facts, read from the C sources themselves: the Python side never restates them.

``export/include/lgrin.h`` defines the model file format (magic, versions, header size, limits, precision
codes) and every status code (the X-macro list ``LGRIN_STATUS_LIST``); ``export/CMakeLists.txt`` lists
the translation units of each library. Both are parsed once, at import, strictly: a define, enum or list
that is missing or not in the expected form raises :class:`CFactsError` naming the file and the symbol.
The headers and included ``.c`` files of each library are found by following its ``#include "..."``
lines, so they are listed nowhere.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

__all__ = [
    "ERROR_NAMES",
    "EXPORT_DIR",
    "FRONTEND_INCLUDED",
    "FRONTEND_SOURCES",
    "HEADER_SIZE",
    "INCLUDED",
    "INPUT_INCLUDED",
    "INPUT_SOURCES",
    "MAGIC",
    "MAX_LAYERS",
    "MAX_SPEC_BYTES",
    "MIN_VERSION",
    "PRECISION_CODES",
    "SOURCES",
    "STREAM_INCLUDED",
    "STREAM_SOURCES",
    "VERSION",
    "CFactsError",
]

# The C sources travel inside the package (lgrin_edge/c_sources links to export/ in the repository and is
# copied into wheels as package data), so everything here works from a wheel install too.
EXPORT_DIR = Path(__file__).resolve().parents[1] / "c_sources"
_HEADER = "include/lgrin.h"
_CMAKE = "CMakeLists.txt"


class CFactsError(RuntimeError):
    """A C source lacks a fact the Python side reads, or holds it in a form this parser does not accept."""

    def __init__(self, file: str, symbol: str, problem: str) -> None:
        super().__init__(f"{EXPORT_DIR / file}: {symbol}: {problem}")


def _read(file: str) -> str:
    try:
        return (EXPORT_DIR / file).read_text(encoding="utf-8")
    except OSError as exc:
        raise CFactsError(file, "(file)", f"cannot read ({exc.strerror or exc})") from None


def _c_code(text: str) -> str:
    """C text with line splices joined and comments replaced by a space (string literals hold no '/*')."""
    text = text.replace("\\\n", "")
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


def _define(code: str, name: str) -> str:
    """The replacement text of ``#define name`` (an object-like macro) in comment-free C code."""
    found = re.findall(rf"^[ \t]*#[ \t]*define[ \t]+{name}[ \t]+(.+?)[ \t]*$", code, flags=re.M)
    if len(found) != 1:
        raise CFactsError(_HEADER, name, "not defined" if not found else "defined more than once")
    return found[0]


def _int_define(code: str, name: str) -> int:
    """An integer constant define: decimal literals (u/U suffix allowed), parentheses and '<<' only."""
    text = _define(code, name)

    def value(node: ast.expr) -> int:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.LShift):
            return value(node.left) << value(node.right)
        raise ValueError(node)

    try:
        return value(ast.parse(re.sub(r"\b(\d+)[uU]\b", r"\1", text), mode="eval").body)
    except (SyntaxError, ValueError):
        raise CFactsError(_HEADER, name, f"expected an integer constant, got {text!r}") from None


def _string_define(code: str, name: str) -> bytes:
    text = _define(code, name)
    m = re.fullmatch(r'"([ -!#-\[\]-~]*)"', text)  # printable ASCII, no quote or backslash
    if not m:
        raise CFactsError(_HEADER, name, f"expected a plain string literal, got {text!r}")
    return m.group(1).encode("ascii")


def _enum(code: str, name: str) -> dict[str, int]:
    """Enumerator -> value of ``enum name { A = 0, B = 1 };`` (every value written out)."""
    found = re.findall(rf"\benum[ \t]+{name}[ \t]*\{{([^}}]*)\}}", code)
    if len(found) != 1:
        raise CFactsError(_HEADER, f"enum {name}", "not defined" if not found else "defined more than once")
    items = [item.strip() for item in found[0].split(",") if item.strip()]
    pairs = [re.fullmatch(r"(\w+)\s*=\s*(-?\d+)", item) for item in items]
    if not pairs or not all(pairs):
        raise CFactsError(_HEADER, f"enum {name}", "expected 'NAME = value' for every enumerator")
    return {m.group(1): int(m.group(2)) for m in pairs if m}


def _status_list(code: str) -> dict[int, tuple[str, str]]:
    """Code -> (enum name, lgrin_strerror's text) from ``#define LGRIN_STATUS_LIST(X) X(...) X(...)``."""
    symbol = "LGRIN_STATUS_LIST"
    found = re.findall(rf"^[ \t]*#[ \t]*define[ \t]+{symbol}\(X\)(.*)$", code, flags=re.M)
    if len(found) != 1:
        raise CFactsError(_HEADER, symbol, "not defined" if not found else "defined more than once")
    entry = re.compile(r'\s*X\(\s*(LGRIN_\w+)\s*,\s*(-?\d+)\s*,\s*"([^"\\]*)"\s*\)\s*')
    table: dict[int, tuple[str, str]] = {}
    pos, body = 0, found[0]
    while pos < len(body.rstrip()):
        m = entry.match(body, pos)
        if not m:
            raise CFactsError(_HEADER, symbol, f"cannot parse the entry at {body[pos : pos + 40].strip()!r}")
        code_value = int(m.group(2))
        if code_value in table or any(m.group(1) == n for n, _ in table.values()):
            raise CFactsError(_HEADER, symbol, f"{m.group(1)} ({code_value}) is listed twice")
        table[code_value] = (m.group(1), m.group(3))
        pos = m.end()
    if table.get(0, ("",))[0] != "LGRIN_OK":
        raise CFactsError(_HEADER, symbol, "lacks X(LGRIN_OK, 0, ...)")
    return table


def _cmake_list(text: str, name: str) -> tuple[str, ...]:
    """The files of ``set(name a.c b.c ...)`` in CMakeLists.txt: plain relative .c paths only."""
    code = re.sub(r"#[^\n]*", "", text)
    found = re.findall(rf"\bset\(\s*{name}\s+([^)]*)\)", code)
    if len(found) != 1:
        raise CFactsError(_CMAKE, name, "not set" if not found else "set more than once")
    files = tuple(found[0].split())
    if not files or not all(re.fullmatch(r"[\w./-]+\.c", f) and ".." not in f for f in files):
        raise CFactsError(_CMAKE, name, f"expected relative .c paths, got {found[0].split()}")
    return files


def _included(sources: tuple[str, ...]) -> tuple[str, ...]:
    """Every file the sources pull in through ``#include "..."`` (next to the includer, else include/),
    transitively, relative to export/ and sorted; quoted includes that resolve nowhere raise."""
    seen: set[str] = set()
    todo = list(sources)
    while todo:
        file = todo.pop()
        for target in re.findall(r'^[ \t]*#[ \t]*include[ \t]+"([^"]+)"', _read(file), flags=re.M):
            for base in (EXPORT_DIR / Path(file).parent, EXPORT_DIR / "include"):
                path = (base / target).resolve()
                if path.is_file():
                    rel = path.relative_to(EXPORT_DIR.resolve()).as_posix()
                    if rel not in seen:
                        seen.add(rel)
                        todo.append(rel)
                    break
            else:
                raise CFactsError(file, f'#include "{target}"', "no such file here or in include/")
    return tuple(sorted(seen - set(sources)))


_header = _c_code(_read(_HEADER))
_cmake = _read(_CMAKE)

#: The model file's first four bytes (LGRIN_MAGIC).
MAGIC: bytes = _string_define(_header, "LGRIN_MAGIC")
#: The newest format version the runtime loads (LGRIN_VERSION) and the oldest (LGRIN_MIN_VERSION).
VERSION: int = _int_define(_header, "LGRIN_VERSION")
MIN_VERSION: int = _int_define(_header, "LGRIN_MIN_VERSION")
HEADER_SIZE: int = _int_define(_header, "LGRIN_HEADER_SIZE")
MAX_LAYERS: int = _int_define(_header, "LGRIN_MAX_LAYERS")
MAX_SPEC_BYTES: int = _int_define(_header, "LGRIN_MAX_SPEC_BYTES")
#: Precision name ("fp32", "int8") -> its code in the header (enum lgrin_precision).
PRECISION_CODES: dict[str, int] = {
    name.removeprefix("LGRIN_").lower(): value for name, value in _enum(_header, "lgrin_precision").items()
}
#: C status code -> (enum name, meaning) for every error (non-zero) code of LGRIN_STATUS_LIST.
ERROR_NAMES: dict[int, tuple[str, str]] = {k: v for k, v in _status_list(_header).items() if k != 0}
#: The runtime's translation units relative to export/ (LGRIN_SOURCES), and the files they include, which
#: only count towards a build's cache key.
SOURCES: tuple[str, ...] = _cmake_list(_cmake, "LGRIN_SOURCES")
INCLUDED: tuple[str, ...] = _included(SOURCES)
#: The speech front-end library (LGRIN_FRONTEND_SOURCES) and the input library (LGRIN_INPUT_SOURCES).
FRONTEND_SOURCES: tuple[str, ...] = _cmake_list(_cmake, "LGRIN_FRONTEND_SOURCES")
FRONTEND_INCLUDED: tuple[str, ...] = _included(FRONTEND_SOURCES)
INPUT_SOURCES: tuple[str, ...] = _cmake_list(_cmake, "LGRIN_INPUT_SOURCES")
INPUT_INCLUDED: tuple[str, ...] = _included(INPUT_SOURCES)
#: The live stream library (LGRIN_STREAM_SOURCES); it links the runtime, front-end and input libraries.
STREAM_SOURCES: tuple[str, ...] = _cmake_list(_cmake, "LGRIN_STREAM_SOURCES")
STREAM_INCLUDED: tuple[str, ...] = _included(STREAM_SOURCES)
#: Every translation unit a program with live streams compiles (runtime, front-end, input, stream), and
#: every file they include: what lgrin_live, the stream library and the WebAssembly builds are made of.
STREAM_PROGRAM_SOURCES: tuple[str, ...] = (*SOURCES, *FRONTEND_SOURCES, *INPUT_SOURCES, *STREAM_SOURCES)
STREAM_PROGRAM_INCLUDED: tuple[str, ...] = tuple(
    sorted({*INCLUDED, *FRONTEND_INCLUDED, *INPUT_INCLUDED, *STREAM_INCLUDED})
)
