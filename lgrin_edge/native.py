"""Compiling the project's C sources into cached shared libraries (the C runtime, the training kernels).

A library is built once per (sources, compiler, flags, CPU) and cached under ``$LGRIN_CACHE_DIR`` (default
``~/.cache/lgrin_edge``); the file name carries a hash of all of them, so an edit or another CPU triggers a
rebuild and a cache shared between machines never serves a foreign build. Concurrent builders each
compile to a private temporary file and atomically rename it.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from lgrin_edge.atomic import atomic_path


def read_cpuinfo() -> str:
    """/proc/cpuinfo's text ("" where the file does not exist or cannot be read)."""
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def cpu_id() -> str:
    """What -march=native depends on."""
    lines = read_cpuinfo().splitlines()
    if not lines:
        return platform.processor() + platform.machine()
    return "".join(sorted({ln for ln in lines if ln.startswith(("flags", "Features", "model name"))}))


def cpu_flags(cpuinfo: str | None = None) -> set[str]:
    """The instruction-set flags /proc/cpuinfo lists (x86 'flags', Arm 'Features'); ``cpuinfo`` given: that
    text's (another machine's, for tests). Empty where the file does not exist."""
    flags: set[str] = set()
    for line in (read_cpuinfo() if cpuinfo is None else cpuinfo).splitlines():
        if line.startswith(("flags", "Features")):
            flags |= set(line.split(":", 1)[1].split())
    return flags


def cache_root() -> Path:
    env = os.environ.get("LGRIN_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "lgrin_edge"


def find_compiler(cc: str | None = None) -> str | None:
    return cc or os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")


def accepts(cc: str, flag: str) -> bool:
    """Whether ``cc`` compiles with ``flag`` (e.g. -march=native on a compiler that lacks it)."""
    res = subprocess.run(
        [cc, flag, "-x", "c", "-c", "-o", os.devnull, "-"],
        input="int x;\n",
        capture_output=True,
        text=True,
        check=False,
    )
    return res.returncode == 0


def compile_library(
    name: str,
    sources: Sequence[Path],
    flags: Sequence[str],
    include: Path | None = None,
    cc: str | None = None,
    force: bool = False,
    depends: Sequence[Path] = (),
) -> Path:
    """Compile ``sources`` (.c files) into ``lib<name>-<hash>.so`` in the cache; ``depends`` (the headers
    and included files they use) count towards the hash only."""
    cc = find_compiler(cc)
    if not cc:
        raise RuntimeError("no C compiler found: install gcc or clang, or set CC")
    missing = [str(s) for s in (*sources, *depends) if not Path(s).is_file()]
    if missing:
        raise RuntimeError(f"C sources not found: {missing}")
    flags = [f for f in flags if not f.startswith("-march") or accepts(cc, f)]
    digest = hashlib.sha256()
    for part in (*flags, cc, sys.platform, cpu_id()):
        digest.update(part.encode() + b"\0")
    for src in (*sources, *depends):
        digest.update(Path(src).read_bytes())
    suffix = ".dylib" if sys.platform == "darwin" else ".so"
    out = cache_root() / name / f"lib{name}-{digest.hexdigest()[:16]}{suffix}"
    if out.exists() and not force:
        return out
    with atomic_path(out) as tmp:
        cmd = [cc, *flags, *(["-I", str(include)] if include else []), "-o", str(tmp)]
        cmd += [str(s) for s in sources]
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise RuntimeError(f"building {name} failed ({' '.join(cmd)}):\n{res.stderr}")
    return out
