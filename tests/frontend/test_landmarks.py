"""MediaPipe face mesh -> 136-value frames (lgrin_edge/frontend/landmarks.py) equal to what
lgrin_edge/features/face.py's video path makes, and the C function (lgrin_input.h: lgrin_face_frame,
through ctypes) bit for bit; the C and Java copies of MESH_TO_IBUG68 are generated from face.py's and
checked against it. ``python -m tests.frontend.test_landmarks`` rewrites the known answers
(export/tests/data/input/face.txt, mesh_to_ibug68.txt and their files) and the two tables."""

from __future__ import annotations

import ctypes
import re
from pathlib import Path

import numpy as np
import pytest

from lgrin_edge.atomic import write_bytes
from lgrin_edge.cli import UserError
from lgrin_edge.export.c_facts import EXPORT_DIR
from lgrin_edge.features.face import MESH_TO_IBUG68, mesh_to_ibug68, points_to_features
from lgrin_edge.frontend.landmarks import c_table, java_table, mesh_frames
from lgrin_edge.frontend.native_input import library as clib
from tests.frontend.test_graph_rule import DATA, ROOT, needs_cc

SOURCE = EXPORT_DIR / "src" / "lgrin_input.c"  # the C copy of the table
JAVA = ROOT.joinpath(
    "android_demo", "core", "src", "main", "java", "org", "lgrin", "edge", "demo", "LandmarkFrames.java"
)
# where each copy of the table sits: between its BEGIN and END marker lines
BLOCKS = {SOURCE: (r"/\* BEGIN MESH_TO_IBUG68[^\n]*\n", r"\n/\* END MESH_TO_IBUG68 \*/", c_table),
          JAVA: (r"// BEGIN MESH_TO_IBUG68[^\n]*\n", r"\n    // END MESH_TO_IBUG68", java_table)}  # fmt: skip


def face_py_frame(mesh: np.ndarray, width: int, height: int) -> np.ndarray:
    """What features/face.py's video_landmarks does with one MediaPipe result: landmarks whose x and y are
    Python floats (MediaPipe's float32 values), (p.x * w, p.y * h), float32, MESH_TO_IBUG68."""
    landmarks = [(float(x), float(y)) for x, y in mesh[:, :2].tolist()]
    pts = np.array([(x * width, y * height) for x, y in landmarks], dtype=np.float32)
    return points_to_features(mesh_to_ibug68(pts)[None])[0]


def meshes(frames: int, points: int, stride: int, seed: int) -> np.ndarray:
    """(frames, points, stride) float32 image-normalised landmarks, a few just outside [0, 1] as
    MediaPipe gives near the image's edges, and some values whose products round at a half."""
    rng = np.random.default_rng(seed)
    m = rng.uniform(-0.05, 1.05, (frames, points, stride)).astype(np.float32)
    m[:, :8, :2] = np.array([0.5, 0.25, 1 / 3, 0.1, 2**-24, 1 - 2**-24, 0.0, 1.0], np.float32)[:, None]
    return m


def c_frame(mesh: np.ndarray, width: int, height: int) -> np.ndarray:
    mesh = np.ascontiguousarray(mesh, np.float32)
    out = np.zeros(136, np.float32)
    lib = clib()
    rc = lib.lgrin_face_frame(mesh.ctypes.data, mesh.shape[0], mesh.shape[1], width, height, out.ctypes.data)
    assert rc == 0, lib.lgrin_input_strerror(rc)
    return out


# (name, frames, mesh points, floats per point, image width, height)
CASES = (
    ("face_478", 3, 478, 3, 640, 480),
    ("face_468", 2, 468, 2, 1920, 1080),
    ("face_odd", 2, 478, 5, 721, 1283),
)


def known_answers() -> tuple[dict[str, str], dict[str, bytes]]:
    lines = [
        "# lgrin_input face known answers (tests/frontend/test_landmarks.py: lgrin_edge.frontend.landmarks)",
        "# MESH.f32 POINTS STRIDE WIDTH HEIGHT FRAMES EXPECTED.f32 (frames x 136 float32); bit-exact",
    ]
    files = {}
    for name, frames, points, stride, width, height in CASES:
        m = meshes(frames, points, stride, seed=len(files))
        files[f"{name}.mesh.f32"] = m.astype("<f4").tobytes()
        files[f"{name}.frames.f32"] = mesh_frames(m, width, height).astype("<f4").tobytes()
        lines.append(f"{name}.mesh.f32 {points} {stride} {width} {height} {frames} {name}.frames.f32")
    table = "# MESH_TO_IBUG68 (lgrin_edge/features/face.py): the mesh vertex of iBUG point i + 1\n"
    table += " ".join(map(str, MESH_TO_IBUG68))
    texts = {"face.txt": "\n".join(lines) + "\n", "mesh_to_ibug68.txt": table}
    return texts, files


def write_known_answers() -> None:
    texts, files = known_answers()
    for name, data in files.items():
        write_bytes(DATA / name, data)
    for name, text in texts.items():
        write_bytes(DATA / name, (text.rstrip("\n") + "\n").encode())


def table_in(path: Path) -> str:
    """The text between the table's markers in ``path``."""
    begin, end, _ = BLOCKS[path]
    found = re.search(begin + "(.*?)" + end, path.read_text(), re.S)
    assert found, f"{path} lacks its MESH_TO_IBUG68 markers"
    return found.group(1)


def rewrite_tables() -> None:
    """Put the tables generated from face.py between the markers of lgrin_input.c and LandmarkFrames.java."""
    for path, (begin, end, make) in BLOCKS.items():
        text = path.read_text()
        pattern = re.compile(f"({begin}).*?({end})", re.S)
        new = pattern.sub(lambda m, f=make: m.group(1) + f() + m.group(2), text)
        if new != text:
            write_bytes(path, new.encode())


# ------------------------------------------------------------------------------ tests


@pytest.mark.parametrize(("points", "stride"), [(478, 3), (468, 3), (478, 2)])
def test_mesh_frames_equal_face_pys_video_path(points, stride):
    for k, (w, h) in enumerate([(640, 480), (1920, 1080), (721, 1283), (1, 1)]):
        m = meshes(1, points, stride, seed=k)[0]
        want = face_py_frame(m, w, h)
        assert np.array_equal(mesh_frames(m, w, h)[0].view(np.uint32), want.view(np.uint32))
    batch = meshes(4, points, stride, seed=9)
    assert np.array_equal(mesh_frames(batch, 640, 480), np.stack([face_py_frame(m, 640, 480) for m in batch]))


def test_layout_is_x_then_y_of_the_ibug_points():
    m = np.zeros((478, 3), np.float32)
    m[:, 0] = np.arange(478) / 1000
    m[:, 1] = np.arange(478) / 2000
    f = mesh_frames(m, 1000, 2000)[0]
    assert np.allclose(f[:68], MESH_TO_IBUG68) and np.allclose(f[68:], MESH_TO_IBUG68)


@pytest.mark.parametrize(
    ("mesh", "width", "message"),
    [
        (np.zeros((477, 3)), 640, "478 or 468"),
        (np.zeros((478, 1)), 640, "478 or 468"),
        (np.zeros((478, 2)), 0, "width"),
        (np.full((478, 2), np.nan), 640, "NaN"),
    ],
)
def test_bad_meshes_are_one_line_errors(mesh, width, message):
    with pytest.raises(UserError, match=message):
        mesh_frames(mesh, width, 480)


def test_the_c_and_java_tables_are_generated_from_face_py():
    for path, (_, _, make) in BLOCKS.items():
        assert table_in(path) == make(), f"{path}: run python -m tests.frontend.test_landmarks"


def test_known_answers_are_numpys_today():
    texts, files = known_answers()
    for name, text in texts.items():
        assert (DATA / name).read_text() == text.rstrip("\n") + "\n"
    for name, data in files.items():
        assert (DATA / name).read_bytes() == data, name


@needs_cc
def test_c_table_is_face_pys():
    table = (ctypes.c_uint16 * 68).in_dll(clib(), "lgrin_mesh_to_ibug68")
    assert list(table) == MESH_TO_IBUG68.tolist()


@needs_cc
@pytest.mark.parametrize(("points", "stride"), [(478, 3), (468, 2), (478, 7)])
def test_c_frames_equal_numpy_bit_for_bit(points, stride):
    rng = np.random.default_rng(points + stride)
    for k in range(20):
        w, h = int(rng.integers(1, 4097)), int(rng.integers(1, 4097))
        m = meshes(1, points, stride, seed=k)[0]
        assert np.array_equal(c_frame(m, w, h).view(np.uint32), mesh_frames(m, w, h)[0].view(np.uint32))


@needs_cc
def test_c_refuses_bad_meshes():
    lib, out = clib(), np.zeros(136, np.float32)
    m = meshes(1, 478, 3, seed=0)[0]
    assert lib.lgrin_face_frame(m.ctypes.data, 477, 3, 640, 480, out.ctypes.data) == -1
    assert lib.lgrin_face_frame(m.ctypes.data, 478, 1, 640, 480, out.ctypes.data) == -1
    assert lib.lgrin_face_frame(m.ctypes.data, 478, 3, 0, 480, out.ctypes.data) == -1
    m[MESH_TO_IBUG68[30], 1] = np.inf
    assert lib.lgrin_face_frame(m.ctypes.data, 478, 3, 640, 480, out.ctypes.data) == -4
    m[MESH_TO_IBUG68[30], 1] = 0.5
    m[469, :] = np.nan  # an iris point: not one of the 68, not read
    assert lib.lgrin_face_frame(m.ctypes.data, 478, 3, 640, 480, out.ctypes.data) == 0


if __name__ == "__main__":
    rewrite_tables()
    write_known_answers()
    print(f"wrote the face known answers in {DATA} and the tables in {SOURCE.name}, {JAVA.name}")
