"""Code bytes of the C sources a device links, counted as export/ci.sh's size gate counts them: the text
of each object file (binutils ``size``), compiled alone, without libc, libm or the compiler's helpers.

Targets: x86-64 at -O2 (gcc), and the microcontroller build, Cortex-M4 at -Os (clang-14, one kernel
family). Parts: the runtime (loader, run paths, dispatch, kernel families: what ``c_runtime`` builds), the
speech front-end (lgrin_frontend.c), the input rules (lgrin_input.c: motion, face, graph) and the live
stream API (lgrin_stream.c, lgrin_stream_spec.c, lgrin_json.c: the spec reader and the decision loop).
"""

from __future__ import annotations

import functools
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

from lgrin_edge.export.c_facts import EXPORT_DIR, FRONTEND_SOURCES, INPUT_SOURCES, SOURCES, STREAM_SOURCES

# the translation units of each part, as export/CMakeLists.txt lists them
PARTS = {"runtime": SOURCES, "speech": FRONTEND_SOURCES, "input": INPUT_SOURCES, "stream": STREAM_SOURCES}
COMMON = ("-std=c99", "-ffp-contract=off")
# target -> (compilers to try, flags); the same flags as export/ci.sh's size gate
TARGETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "x86-64": (
        ("x86_64-linux-gnu-gcc", *(("gcc",) if platform.machine() in ("x86_64", "AMD64") else ())),
        ("-O2",),
    ),
    "cortex-m4": (
        ("clang-14",),
        (
            "-Os",
            "-DLGRIN_SINGLE_FAMILY",
            "--target=thumbv7em-none-eabihf",
            "-mcpu=cortex-m4",
            "-ffreestanding",
        ),
    ),
}


def compiler(target: str) -> str | None:
    """The compiler that builds ``target`` here, or None where none is installed."""
    return next((cc for cc in TARGETS[target][0] if shutil.which(cc)), None)


def missing(target: str) -> str | None:
    """Why ``target``'s code size cannot be measured here (one line), or None."""
    if shutil.which("size") is None:
        return "binutils' size is not installed"
    if compiler(target) is None:
        return f"no {target} compiler ({' or '.join(TARGETS[target][0])}) is installed"
    return None


@functools.cache
def text_bytes(part: str, target: str) -> int | None:
    """Text bytes of ``part`` (a key of PARTS) built for ``target``; None where :func:`missing` says
    why not. A source that does not compile raises RuntimeError with the compiler's message."""
    if missing(target):
        return None
    cc, flags = compiler(target), TARGETS[target][1]
    with tempfile.TemporaryDirectory(prefix="lgrin-size-") as tmp:
        objects = []
        for src in PARTS[part]:
            obj = Path(tmp) / (Path(src).stem + ".o")
            cmd = [str(cc), *COMMON, *flags, "-I", str(EXPORT_DIR / "include"), "-c", str(EXPORT_DIR / src)]
            done = subprocess.run([*cmd, "-o", str(obj)], capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr}")
            objects.append(str(obj))
        out = subprocess.run(["size", *objects], capture_output=True, text=True, check=True).stdout
    # size prints a header, then "text data bss dec hex filename" per object
    return sum(int(line.split()[0]) for line in out.splitlines()[1:])


def sizes(*parts: str) -> dict[str, int | None]:
    """``code_bytes_<target>`` of ``parts`` together, per target (None where not measurable here)."""
    out: dict[str, int | None] = {}
    for target in TARGETS:
        each = [text_bytes(p, target) for p in parts]
        known = [v for v in each if v is not None]
        out[f"code_bytes_{target.replace('-', '_')}"] = sum(known) if len(known) == len(each) else None
    return out
