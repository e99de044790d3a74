"""The project's licence is stated plainly: LICENSE, pyproject, SPDX lines, and openSMILE's restriction."""

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPDX = "SPDX-License-Identifier: Apache-2.0"
COPYRIGHT = "Copyright 2026 The lgrin-edge authors"
# Build outputs (Gradle, CMake) are not sources.
NOT_SOURCES = {"build", ".gradle", ".cxx"}
# The two sentences of openSMILE's research licence that the docs quote.
OPENSMILE_QUOTES = (
    "You may NOT use or distribute this Software or any derivative works in any form for commercial "
    "purposes, except those outlined in (B).",
    "In particular any direct (software) or indirect (models, features extracted with the software) use of "
    "the software, parts of the software, or derivatives in a product (no matter whether free or paid), is "
    "not allowed without an additional commercial license.",
)


def shipped_sources() -> list[Path]:
    """Every C, header and Java file that goes to a device or into an app, tests of the runtime included."""
    found = [p for ext in ("*.c", "*.h", "*.java") for p in (ROOT / "export").rglob(ext)]
    found += [p for ext in ("*.c", "*.h", "*.java") for p in (ROOT / "android_demo").rglob(ext)]
    found += (ROOT / "lgrin_edge" / "models").glob("*.c")
    return sorted(p for p in found if not NOT_SOURCES & set(p.relative_to(ROOT).parts))


def has_licence_header(path: Path) -> bool:
    """SPDX and copyright comment lines, next to each other, among the first five lines."""
    head = path.read_text(encoding="utf-8").splitlines()[:5]
    for i, line in enumerate(head):
        if SPDX in line and line.lstrip().startswith(("/*", "//", "*")):
            return any(COPYRIGHT in near for near in head[max(i - 1, 0) : i + 2])
    return False


def flat(text: str) -> str:
    return " ".join(text.split())


def test_every_shipped_source_carries_the_spdx_line():
    files = shipped_sources()
    names = {p.relative_to(ROOT).as_posix() for p in files}
    # The glob must reach the files that matter, or the check below would pass on nothing.
    anchors = ("export/include/lgrin.h", "export/jni/lgrin_jni.c", "lgrin_edge/models/maxpool1hop.c",
               "export/java/org/lgrin/edge/LGrinNative.java")  # fmt: skip
    assert [a for a in anchors if a not in names] == []
    assert any(n.startswith("android_demo/") and n.endswith(".java") for n in names)
    missing = [p.relative_to(ROOT).as_posix() for p in files if not has_licence_header(p)]
    assert not missing, f"no '{SPDX}' + '{COPYRIGHT}' header in: {', '.join(missing)}"


def test_license_file_is_apache_2():
    path = ROOT / "LICENSE"
    assert path.is_file(), "LICENSE is missing"
    text = path.read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    sections = ("1. Definitions.", "2. Grant of Copyright License.", "3. Grant of Patent License.",
                "4. Redistribution.", "5. Submission of Contributions.", "6. Trademarks.",
                "7. Disclaimer of Warranty.", "8. Limitation of Liability.",
                "9. Accepting Warranty or Additional Liability.", "END OF TERMS AND CONDITIONS")  # fmt: skip
    assert [s for s in sections if s not in text] == []


def test_pyproject_declares_the_same_licence():
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    licence = project["license"]
    assert (licence if isinstance(licence, str) else licence.get("text")) == "Apache-2.0"
    other = [c for c in project.get("classifiers", []) if c.startswith("License ::") and "Apache" not in c]
    assert other == []


def test_docs_quote_opensmiles_licence_exactly():
    docs = flat((ROOT / "docs" / "licences.md").read_text(encoding="utf-8"))
    features = flat((ROOT / "docs" / "features.md").read_text(encoding="utf-8"))
    for quote in OPENSMILE_QUOTES:
        assert quote in docs and quote in features
    try:
        dist = importlib.metadata.distribution("opensmile")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("the speech extra (opensmile) is not installed: the quotes are not checked against it")
    licence = next(f for f in dist.files or [] if f.name == "LICENSE")
    text = flat(dist.locate_file(licence).read_text(encoding="utf-8"))
    for quote in OPENSMILE_QUOTES:
        assert quote in text


def test_opensmile_extractor_states_its_licence_once():
    pytest.importorskip("opensmile", reason="the speech extra (opensmile) is not installed")
    code = (
        "from lgrin_edge.features import speech; speech.feature_names(); speech.is09_config_path(); "
        "print(speech.LICENCE_NOTE)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    note = done.stdout.strip()
    assert "research licence" in note and note.startswith("warning:")
    # Both extractor levels are built; the note comes once.
    assert done.stderr.splitlines().count(note) == 1, done.stderr
