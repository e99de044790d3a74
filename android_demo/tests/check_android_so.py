#!/usr/bin/env python3
"""Inspect the Android arm64 build of liblgrin_jni.so with readelf; exit 1 with the reasons if Android would
refuse to load it or the Java class could not bind its native methods.

    python android_demo/tests/check_android_so.py build/.../liblgrin_jni.so [CLASS.java ...]

Checks: ELF64 AArch64 shared object; DT_SONAME liblgrin_jni.so and no text relocations (both enforced by
Android's loader from API 23); dependencies only on libraries every Android device has; no glibc symbol
versions or glibc-only symbols; every `native` method of the Java classes (default
export/java/org/lgrin/edge/LGrinNative.java; all of them in package org.lgrin.edge) exported as its JNI
symbol (unless the library registers them itself in JNI_OnLoad); undefined symbols only with a DT_NEEDED
library that can provide them. Warns when LOAD
segments are not 16 KB aligned (needed on 16 KB-page devices, Android 15+).
"""

import re
import subprocess
import sys
from pathlib import Path

ANDROID_SYSTEM_LIBS = {"libc.so", "libm.so", "libdl.so", "liblog.so", "libandroid.so"}
JAVA_CLASS = Path(__file__).resolve().parents[2] / "export/java/org/lgrin/edge/LGrinNative.java"
JAVA_PACKAGE = "org_lgrin_edge"


def readelf(*args: str) -> str:
    return subprocess.run(["readelf", "-W", *args], check=True, capture_output=True, text=True).stdout


def problems(so: Path, classes: tuple[Path, ...] = (JAVA_CLASS,)) -> tuple[list[str], list[str]]:
    """Errors (Android would refuse the library or Java could not bind it) and warnings, in that order of
    checks: ELF header, dynamic section, symbols, JNI methods, segment alignment."""
    header = readelf("-h", str(so))
    errors = _header_errors(header)
    dynamic = readelf("-d", str(so))
    needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", dynamic))
    errors += _dynamic_errors(dynamic, needed)
    if "GLIBC_" in readelf("-V", str(so)):
        errors.append("requires glibc symbol versions: linked against the host libc, not Android's")
    syms = [line.split() for line in readelf("--dyn-syms", str(so)).splitlines()]
    syms = [s for s in syms if len(s) >= 8 and s[0].endswith(":")]
    undefined = sorted({s[7].split("@")[0] for s in syms if s[6] == "UND" and s[7]})
    defined = {s[7].split("@")[0] for s in syms if s[6] != "UND" and s[4] in ("GLOBAL", "WEAK")}
    errors += _symbol_errors(syms, undefined, needed)
    natives: list[str] = []
    for java in classes:
        found, jni_errors = _jni_errors(defined, java)
        natives += found
        errors += jni_errors
    warnings = _alignment_warnings(readelf("-l", str(so)))
    machine = re.search(r"^\s*Machine:\s*(.+)$", header, re.M)
    print(
        f"{so.name}: {machine.group(1).strip() if machine else '?'} shared object, "
        f"needs {sorted(needed) or 'nothing'}, "
        f"{len(natives)} native methods bound, {len(undefined)} undefined symbols: {' '.join(undefined)}"
    )
    return errors, warnings


def _header_errors(header: str) -> list[str]:
    errors = []
    for field, want in (("Class", "ELF64"), ("Machine", "AArch64"), ("Type", "DYN")):
        m = re.search(rf"^\s*{field}:\s*(.+)$", header, re.M)
        if not m or want not in m.group(1):
            errors.append(f"ELF {field} is {m.group(1).strip() if m else '?'}, expected {want}")
    return errors


def _dynamic_errors(dynamic: str, needed: set[str]) -> list[str]:
    """Dependencies, DT_SONAME and text relocations: what Android's loader enforces."""
    errors = []
    if needed - ANDROID_SYSTEM_LIBS:
        errors.append(f"depends on {sorted(needed - ANDROID_SYSTEM_LIBS)}, not present on Android")
    soname = re.search(r"\(SONAME\)\s+Library soname: \[(.+?)\]", dynamic)
    if not soname or soname.group(1) != "liblgrin_jni.so":
        found = soname.group(1) if soname else "missing"
        errors.append(f"DT_SONAME is {found}, Android requires liblgrin_jni.so")
    if "TEXTREL" in dynamic:
        errors.append("has text relocations (refused by Android from API 23): build with -fPIC")
    return errors


def _symbol_errors(syms: list[list[str]], undefined: list[str], needed: set[str]) -> list[str]:
    """Undefined symbols no library can provide, and glibc-only ones (``syms``: readelf --dyn-syms rows)."""
    errors = []
    strong_undefined = sorted({s[7].split("@")[0] for s in syms if s[6] == "UND" and s[4] == "GLOBAL"})
    if strong_undefined and not needed:
        errors.append(
            f"uses {strong_undefined} but has no DT_NEEDED library to take them from: Android's "
            "loader fails with 'cannot locate symbol' (link against libc.so)"
        )
    glibc_only = [u for u in undefined if u.startswith(("__isoc99_", "__libc_", "__xstat", "__fxstat"))]
    if glibc_only:
        errors.append(f"uses glibc-only symbols {glibc_only}")
    return errors


def _jni_errors(defined: set[str], java: Path) -> tuple[list[str], list[str]]:
    """The Java class's native methods, and those without their JNI symbol among ``defined`` (none are
    needed where the library registers them itself in JNI_OnLoad)."""
    errors = []
    source = java.read_text() if java.exists() else ""
    modifiers = r"(?:(?:public|protected|private|static|final|synchronized)\s+)*"
    declaration = rf"(?:^|[;{{}}])\s*{modifiers}native\s+{modifiers}[\w\[\]<>.]+\s+(\w+)\s*\("
    natives = re.findall(declaration, source, re.M)
    if not java.exists():
        errors.append(f"{java} is missing")
    elif not natives:
        errors.append(f"{java.name} declares no native methods")
    elif "JNI_OnLoad" not in defined:
        prefix = f"Java_{JAVA_PACKAGE}_{java.stem}_"
        for name in natives:
            mangled = prefix + name.replace("_", "_1")
            if not any(d == mangled or d.startswith(mangled + "__") for d in defined):
                errors.append(f"native method {name} has no exported symbol {mangled}")
    return natives, errors


def _alignment_warnings(segments: str) -> list[str]:
    """LOAD segments below 16 KB alignment (``segments``: readelf -l)."""
    aligns = [int(a, 16) for a in re.findall(r"^\s*LOAD\s+.*\s(0x[0-9a-f]+)$", segments, re.M)]
    if any(a < 0x4000 for a in aligns):
        return [
            f"LOAD segments aligned to {min(aligns):#x}; 16 KB-page devices need 0x4000 "
            "(link with -Wl,-z,max-page-size=16384)"
        ]
    return []


def main() -> int:
    if len(sys.argv) < 2 or not Path(sys.argv[1]).is_file():
        print(__doc__, file=sys.stderr)
        return 2
    classes = tuple(Path(a) for a in sys.argv[2:]) or (JAVA_CLASS,)
    errors, warnings = problems(Path(sys.argv[1]), classes)
    for w in warnings:
        print(f"warning: {w}")
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
