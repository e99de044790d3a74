"""The C runtime's facts as lgrin_edge/export/c_facts.py reads them agree with what the C compiler, the built
library and CMake make of the same files; the parser refuses what it cannot read; and no other file of
the package or the Java binding restates them."""

from __future__ import annotations

import ast
import ctypes
import json
import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath

import numpy as np
import pytest

from lgrin_edge.deploy.folded import FoldedLGrIN
from lgrin_edge.export import c_facts as facts
from lgrin_edge.export import c_runtime as cr
from lgrin_edge.native import find_compiler

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "lgrin_edge"
EXPORT = ROOT / "export"
needs_cc = pytest.mark.skipif(find_compiler() is None, reason="no C compiler on PATH (cc, gcc or clang)")


@needs_cc
def test_the_c_compiler_reads_the_header_as_the_parser_does(tmp_path: Path) -> None:
    """A program built against lgrin.h prints every define and enumerator the parser read."""
    names = {
        "LGRIN_VERSION": facts.VERSION,
        "LGRIN_MIN_VERSION": facts.MIN_VERSION,
        "LGRIN_HEADER_SIZE": facts.HEADER_SIZE,
        "LGRIN_MAX_LAYERS": facts.MAX_LAYERS,
        "LGRIN_MAX_SPEC_BYTES": facts.MAX_SPEC_BYTES,
        **{f"LGRIN_{p.upper()}": code for p, code in facts.PRECISION_CODES.items()},
        **{name: code for code, (name, _) in facts.ERROR_NAMES.items()},
    }
    lines = "".join(f'    printf("{n} %ld\\n", (long){n});\n' for n in names)
    src = tmp_path / "facts.c"
    src.write_text(
        f'#include <stdio.h>\n#include "lgrin.h"\nint main(void)\n{{\n    printf("LGRIN_MAGIC %s\\n", '
        f"LGRIN_MAGIC);\n{lines}    return 0;\n}}\n"
    )
    exe = tmp_path / "facts"
    cmd = [find_compiler(), "-std=c99", "-Wall", "-Werror", "-I", str(facts.EXPORT_DIR / "include")]
    subprocess.run([*cmd, "-o", str(exe), str(src)], check=True, capture_output=True)
    out = dict(line.split(" ", 1) for line in subprocess.check_output([exe], text=True).splitlines())
    assert out.pop("LGRIN_MAGIC").encode() == facts.MAGIC == b"LGRN"
    assert {k: int(v) for k, v in out.items()} == names
    assert facts.PRECISION_CODES == {"fp32": 0, "int8": 1}


@needs_cc
def test_strerror_of_the_built_library_is_every_parsed_meaning() -> None:
    lib = ctypes.CDLL(str(cr.build_library()))
    lib.lgrin_strerror.argtypes, lib.lgrin_strerror.restype = [ctypes.c_int], ctypes.c_char_p
    assert {code: lib.lgrin_strerror(code).decode() for code in facts.ERROR_NAMES} == {
        code: meaning for code, (_, meaning) in facts.ERROR_NAMES.items()
    }
    assert lib.lgrin_strerror(0) == b"ok"
    lowest = min(facts.ERROR_NAMES)
    assert sorted(facts.ERROR_NAMES) == list(range(lowest, 0))  # -1, -2, ... with no gap
    assert lib.lgrin_strerror(lowest - 1) == b"unknown error"


@needs_cc
@pytest.mark.parametrize("spec", [None, '{"classes": ["a", "b"]}'])
def test_a_written_file_carries_magic_and_version_and_loads(tmp_path: Path, spec: str | None) -> None:
    model, mean, std = FoldedLGrIN.random(6, 3, 2, eta=(4, 2), L=1)
    cal = (mean + std * np.random.default_rng(0).normal(size=(16, 6, 3))).astype(np.float32)
    data = cr.encode_model(model, cal, feature_spec=spec)
    assert data[:4] == facts.MAGIC
    version = int.from_bytes(data[4:8], "little")
    assert version == (facts.VERSION if spec else facts.MIN_VERSION)
    assert int.from_bytes(data[16:20], "little") == facts.PRECISION_CODES["int8"]
    path = tmp_path / "m.lgrn"
    path.write_bytes(data)
    assert cr.CModel(path).feature_spec == spec
    path.write_bytes(data[:4] + (facts.VERSION + 1).to_bytes(4, "little") + data[8:])
    with pytest.raises(cr.CModelFileError, match=facts.ERROR_NAMES[-4][0]):
        cr.CModel(path)


def test_sources_exist_and_cover_src() -> None:
    """Every .c of src/ is a translation unit of one library, and every kernel file is included."""
    units = (*facts.SOURCES, *facts.FRONTEND_SOURCES, *facts.INPUT_SOURCES, *facts.STREAM_SOURCES)
    assert len(set(units)) == len(units)
    assert all((facts.EXPORT_DIR / f).is_file() for f in (*units, *facts.INCLUDED))
    src = facts.EXPORT_DIR / "src"
    assert {f"src/{p.name}" for p in src.glob("*.c")} == set(units)
    kernels = {f"src/kernels/{p.name}" for p in (src / "kernels").iterdir()}
    assert kernels <= set(facts.INCLUDED)
    assert {"include/lgrin.h", "src/lgrin_internal.h"} <= set(facts.INCLUDED)
    assert facts.FRONTEND_INCLUDED == ("include/lgrin_frontend.h",)
    assert facts.INPUT_INCLUDED == ("include/lgrin_input.h",)
    assert {"include/lgrin_stream.h", "src/lgrin_json.h"} <= set(facts.STREAM_INCLUDED)


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not installed")
def test_sources_are_what_cmake_compiles(tmp_path: Path) -> None:
    """The translation units of the lgrin, lgrin_frontend and lgrin_input targets in CMake's own
    compile database, in order."""
    cmd = ["cmake", "-S", str(EXPORT), "-B", str(tmp_path), "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON"]
    cmd += ["-DLGRIN_BUILD_TESTS=OFF", "-DLGRIN_BUILD_JNI=OFF", "-DCMAKE_BUILD_TYPE=Release"]
    subprocess.run(cmd, check=True, capture_output=True)
    compiled: dict[str, list[str]] = {}
    for entry in json.loads((tmp_path / "compile_commands.json").read_text()):
        target = re.search(
            r"CMakeFiles/(\w+)\.dir/", entry["output"] if "output" in entry else entry["command"]
        )
        assert target, entry
        rel = Path(entry["file"]).resolve().relative_to(EXPORT.resolve()).as_posix()
        compiled.setdefault(target.group(1), []).append(rel)
    assert compiled == {
        "lgrin": list(facts.SOURCES),
        "lgrin_frontend": list(facts.FRONTEND_SOURCES),
        "lgrin_input": list(facts.INPUT_SOURCES),
        "lgrin_stream": list(facts.STREAM_SOURCES),
    }


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("_int_define", "#define LGRIN_HEADER_SIZE sizeof(int)\n", "LGRIN_HEADER_SIZE: expected an integer"),
        ("_int_define", "#define LGRIN_HEADER_SIZES 64u\n", "LGRIN_HEADER_SIZE: not defined"),
        ("_string_define", "#define LGRIN_MAGIC LGRN\n", "LGRIN_MAGIC: expected a plain string literal"),
        ("_enum", "enum lgrin_precision { LGRIN_FP32, LGRIN_INT8 };", "enum lgrin_precision: expected 'NAME"),
        ("_status_list", '#define LGRIN_STATUS_LIST(X) X(LGRIN_OK, 0, "ok") Y(LGRIN_E_ARG, -1, "a")\n',
         "LGRIN_STATUS_LIST: cannot parse the entry at 'Y(LGRIN_E_ARG"),
        ("_status_list", '#define LGRIN_STATUS_LIST(X) X(LGRIN_OK, 0, "ok") X(LGRIN_E_ARG, 0, "a")\n',
         "LGRIN_E_ARG (0) is listed twice"),
        ("_status_list", '#define LGRIN_STATUS_LIST(X) X(LGRIN_E_ARG, -1, "a")\n', "lacks X(LGRIN_OK, 0"),
    ],
)  # fmt: skip
def test_the_header_parser_names_file_and_symbol(name: str, text: str, words: str) -> None:
    symbol = {"_int_define": ("LGRIN_HEADER_SIZE",), "_string_define": ("LGRIN_MAGIC",)}
    args = symbol.get(name, ("lgrin_precision",) if name == "_enum" else ())
    with pytest.raises(facts.CFactsError, match=re.escape(words)) as err:
        getattr(facts, name)(facts._c_code(text), *args)
    assert str(err.value).startswith(str(facts.EXPORT_DIR / "include" / "lgrin.h"))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("set(LGRIN_OTHER a.c)", "LGRIN_SOURCES: not set"),
        ("set(LGRIN_SOURCES ${X} src/a.c)", "LGRIN_SOURCES: expected relative .c paths"),
        ("set(LGRIN_SOURCES ../a.c)", "LGRIN_SOURCES: expected relative .c paths"),
        ("set(LGRIN_SOURCES a.c)\nset(LGRIN_SOURCES b.c)", "LGRIN_SOURCES: set more than once"),
    ],
)
def test_the_cmake_parser_names_file_and_symbol(text: str, words: str) -> None:
    with pytest.raises(facts.CFactsError, match=re.escape(f"CMakeLists.txt: {words}")):
        facts._cmake_list(text, "LGRIN_SOURCES")


def _python_files() -> list[Path]:
    own = Path(facts.__file__).resolve()
    return [p for p in PACKAGE.rglob("*.py") if "c_sources" not in p.parts and p.resolve() != own]


def _strings(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            value = node.value.decode("latin-1") if isinstance(node.value, bytes) else node.value
            found.append((node.lineno, value))
    return found


def test_no_other_python_file_restates_the_facts() -> None:
    """No literal magic, status name or C file name: those come from c_facts (prose may name them)."""
    names = {name for name, _ in facts.ERROR_NAMES.values()}
    units = (*facts.SOURCES, *facts.FRONTEND_SOURCES, *facts.INPUT_SOURCES, *facts.STREAM_SOURCES)
    c_files = {PurePosixPath(f).name for f in units}
    c_files |= {
        PurePosixPath(f).name
        for f in (*facts.INCLUDED, *facts.FRONTEND_INCLUDED, *facts.INPUT_INCLUDED, *facts.STREAM_INCLUDED)
    }
    found = []
    for path in _python_files():
        for line, value in _strings(path):
            path_like = value.strip() and not any(c.isspace() for c in value)
            if (
                value == facts.MAGIC.decode()
                or value in names
                or (path_like and PurePosixPath(value).name in c_files)
            ):
                found.append(f"{path.relative_to(ROOT)}:{line}: {value!r}")
    assert not found, "read these from lgrin_edge.export.c_facts instead:\n" + "\n".join(found)


def test_the_java_binding_restates_no_status_code() -> None:
    """LGrinNative gets the bad-input case from the JNI bridge (which throws), not from a copied code."""
    java = [p for p in (EXPORT / "java" / "org").rglob("*.java")]
    assert java
    found = [
        f"{p.relative_to(ROOT)}: {m}" for p in java for m in re.findall(r"LGRIN_\w+|\"LGRN\"", p.read_text())
    ]
    assert not found, found
    assert "lgrin_strerror(LGRIN_E_INPUT)" in (EXPORT / "jni" / "lgrin_jni.c").read_text()
