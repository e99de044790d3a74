"""The C runtime, speech front-end, input and stream libraries and their glue (export/web/lgrin_web.c)
compiled to WebAssembly, and the files of a web export.

Two builds: ``simd128`` (-msimd128, for engines with WebAssembly SIMD) and ``portable`` (without). Both are
built by clang with ``--target=wasm32-wasi`` against wasi-libc (malloc, libm) and linked by wasm-ld with no
entry point; nothing in them calls WASI, so the modules import nothing and instantiate with an empty import
object (checked after every link). A build is cached under ``cache_root()/wasm``, its name carrying a hash
of the sources, the files they include, the flags and the toolchain, as :mod:`lgrin_edge.native` caches
native libraries.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lgrin_edge.atomic import atomic_path, write_bytes
from lgrin_edge.export.c_facts import EXPORT_DIR, STREAM_PROGRAM_INCLUDED, STREAM_PROGRAM_SOURCES
from lgrin_edge.native import cache_root

__all__ = ["BUILDS", "BUNDLE_FILES", "build_wasm", "wasm_sections", "wasm_status", "write_bundle"]

BUILDS = ("simd128", "portable")
WEB_DIR = EXPORT_DIR / "web"
PAGE_DIR = WEB_DIR / "page"
GLUE = "web/lgrin_web.c"  # relative to EXPORT_DIR, as the sources of c_facts
#: The files write_bundle writes; a web export adds the model file (model_int8.lgrn) beside them.
BUNDLE_FILES = (
    "index.html",
    "lgrin.js",
    "lgrin_page.js",
    "lgrin_page.css",
    "lgrin_capture.js",
    "lgrin_simd128.wasm",
    "lgrin_portable.wasm",
)
PACKAGES = "clang-14 lld-14 wasi-libc"
# -ffp-contract=off: the native build's rule, so the logits equal the native C runtime's bit for bit.
# -O2: as fast as -O3 here and smaller. --stack-first: a stack overflow traps instead of overwriting data.
# The exports are the glue's export_name attributes; the debug info wasi-libc's archive carries is dropped.
CFLAGS = ("-std=c99", "-O2", "-ffp-contract=off", "-DNDEBUG", "-nostartfiles")
LDFLAGS = ("-Wl,--no-entry", "-Wl,--stack-first", "-Wl,-z,stack-size=1048576", "-Wl,--strip-debug")
BUILD_FLAGS = {"simd128": ("-msimd128",), "portable": ()}


@dataclass(frozen=True)
class Toolchain:
    cc: str
    ld: str
    sysroot: Path
    version: str  # the compiler's --version line


def _first_found(env: str, names: tuple[str, ...]) -> str | None:
    given = os.environ.get(env)
    if given:
        return shutil.which(given)
    return next((found for name in names if (found := shutil.which(name))), None)


@functools.cache
def _toolchain_for(cc: str | None, ld: str | None, sysroot: str) -> Toolchain | str:
    """The toolchain, or why there is none (one line)."""
    hint = f"apt install {PACKAGES} (or set LGRIN_WASM_CC, LGRIN_WASM_LD, LGRIN_WASI_SYSROOT)"
    if not cc:
        return f"no clang for WebAssembly (LGRIN_WASM_CC, clang-14 or clang): {hint}"
    probe = subprocess.run(
        [cc, "--target=wasm32-wasi", "-x", "c", "-c", "-o", os.devnull, "-"],
        input="int x;\n",
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        return f"{cc} cannot compile for --target=wasm32-wasi: {hint}"
    if not ld:
        return f"no wasm-ld (LGRIN_WASM_LD, wasm-ld-14 or wasm-ld): {hint}"
    if not (Path(sysroot) / "lib" / "wasm32-wasi" / "libc.a").is_file():
        return f"no wasi-libc in {sysroot} (lib/wasm32-wasi/libc.a): {hint}"
    version = subprocess.run([cc, "--version"], capture_output=True, text=True, check=False).stdout
    return Toolchain(cc, ld, Path(sysroot), (version.splitlines() or ["unknown"])[0])


def _toolchain() -> Toolchain | str:
    cc = _first_found("LGRIN_WASM_CC", ("clang-14", "clang"))
    ld = _first_found("LGRIN_WASM_LD", ("wasm-ld-14", "wasm-ld"))
    return _toolchain_for(cc, ld, os.environ.get("LGRIN_WASI_SYSROOT") or "/usr")


def wasm_status() -> tuple[bool, str]:
    """(True, "") where the WebAssembly toolchain is installed, else (False, the one-line reason)."""
    found = _toolchain()
    return (True, "") if isinstance(found, Toolchain) else (False, found)


def _require_toolchain() -> Toolchain:
    found = _toolchain()
    if isinstance(found, str):
        raise RuntimeError(found)
    return found


def _leb128(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _name(data: bytes, pos: int) -> tuple[str, int]:
    n, pos = _leb128(data, pos)
    return data[pos : pos + n].decode("utf-8"), pos + n


def wasm_sections(data: bytes) -> tuple[list[str], list[str]]:
    """The imports ("module.name") and the export names of a WebAssembly binary module."""
    if data[:8] != b"\0asm\1\0\0\0":
        raise ValueError("not a WebAssembly binary module (version 1)")
    imports: list[str] = []
    exports: list[str] = []
    pos = 8
    while pos < len(data):
        section = data[pos]
        size, body = _leb128(data, pos + 1)
        if section in (2, 7):  # import, export
            count, at = _leb128(data, body)
            for _ in range(count):
                first, at = _name(data, at)
                if section == 7:
                    exports.append(first)
                    at = _leb128(data, at + 1)[1]  # kind byte, index
                else:
                    second, at = _name(data, at)
                    imports.append(f"{first}.{second}")
                    at = _skip_import_desc(data, at)
        pos = body + size
    return imports, exports


def _skip_import_desc(data: bytes, pos: int) -> int:
    kind = data[pos]
    pos += 1
    if kind == 0:  # function: type index
        return _leb128(data, pos)[1]
    if kind == 1:  # table: reference type, limits
        pos += 1
    elif kind == 3:  # global: value type, mutability
        return pos + 2
    flags = data[pos]  # memory or table limits
    pos = _leb128(data, pos + 1)[1]
    return _leb128(data, pos)[1] if flags & 1 else pos


def _units() -> tuple[list[Path], list[Path]]:
    """The translation units and the files they include (the latter count towards the hash only)."""
    units = (*STREAM_PROGRAM_SOURCES, GLUE)
    included = STREAM_PROGRAM_INCLUDED
    return [EXPORT_DIR / f for f in units], [EXPORT_DIR / f for f in included]


def build_wasm(build: str, force: bool = False) -> Path:
    """``lgrin_<build>-<hash>.wasm`` in the cache, compiled unless it is there already (or ``force``)."""
    if build not in BUILDS:
        raise ValueError(f"build must be one of {', '.join(BUILDS)}, got {build!r}")
    tools = _require_toolchain()
    sources, depends = _units()
    flags = [
        "--target=wasm32-wasi",
        f"--sysroot={tools.sysroot}",
        *CFLAGS,
        *BUILD_FLAGS[build],
        f"-fuse-ld={tools.ld}",
        *LDFLAGS,
    ]
    digest = hashlib.sha256()
    libc = tools.sysroot / "lib" / "wasm32-wasi" / "libc.a"
    for part in (*flags, tools.cc, tools.version, str(libc.stat().st_size), str(libc.stat().st_mtime_ns)):
        digest.update(part.encode() + b"\0")
    for src in (*sources, *depends):
        digest.update(src.read_bytes())
    out = cache_root() / "wasm" / f"lgrin_{build}-{digest.hexdigest()[:16]}.wasm"
    if out.exists() and not force:
        return out
    with atomic_path(out) as tmp:
        cmd = [tools.cc, *flags, "-I", str(EXPORT_DIR / "include"), "-o", str(tmp), *map(str, sources), "-lm"]
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise RuntimeError(f"building lgrin_{build}.wasm failed ({' '.join(cmd)}):\n{res.stderr}")
        imports = wasm_sections(tmp.read_bytes())[0]
        if imports:
            raise RuntimeError(f"lgrin_{build}.wasm imports {', '.join(imports)}: it must import nothing")
    return out


def _libc_version() -> str:
    try:
        res = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "wasi-libc"], capture_output=True, text=True, check=False
        )
    except OSError:
        return "unknown"
    return res.stdout.strip() if res.returncode == 0 and res.stdout.strip() else "unknown"


def toolchain_name() -> str:
    """E.g. "clang 14.0.6 + wasi-libc 0.0~git20220510.9886d3d-2"."""
    m = re.search(r"clang version (\S+)", _require_toolchain().version)
    return f"clang {m.group(1) if m else 'unknown'} + wasi-libc {_libc_version()}"


def write_bundle(folder: Path) -> dict:
    """Write lgrin.js, both .wasm builds and every file of the page into ``folder`` (which exists), each
    atomically; nothing else there is touched. Returns the names written, the .wasm sizes and the
    toolchain."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RuntimeError(f"{folder}: not a folder")
    wasm = {build: build_wasm(build) for build in BUILDS}
    page = sorted(p for p in PAGE_DIR.glob("*") if p.is_file()) if PAGE_DIR.is_dir() else []
    files = {"lgrin.js": WEB_DIR / "lgrin.js", **{f"lgrin_{b}.wasm": p for b, p in wasm.items()}}
    files.update({p.name: p for p in page})
    missing = [name for name in BUNDLE_FILES if name not in files or not files[name].is_file()]
    if missing:
        raise RuntimeError(f"the web bundle lacks {', '.join(missing)} (expected in {WEB_DIR})")
    for name, src in files.items():
        write_bytes(folder / name, src.read_bytes())
    return {
        "files": sorted(files),
        "wasm_bytes": {build: path.stat().st_size for build, path in wasm.items()},
        "toolchain": toolchain_name(),
    }
