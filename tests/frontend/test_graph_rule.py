"""The graph rule on the device (lgrin_input.h: lgrin_graph_*, through ctypes) and in numpy
(lgrin_edge/frontend/graph_rule.py) against lgrin_edge/data/graph.py, index for index: every (T, M) up to
(400, 128), the odd cases, the halves numpy's round sends to the even neighbour and the products of
linspace that land beside a half; the known answers in export/tests/data/input/graph.txt, which the C
tool and the Java desktop test read too.

The ctypes binding of lgrin_input.c is lgrin_edge/frontend/native_input.py; ``python -m
tests.frontend.test_graph_rule`` rewrites graph.txt."""

from __future__ import annotations

import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from lgrin_edge.atomic import write_bytes
from lgrin_edge.cli import UserError
from lgrin_edge.data.graph import LONG_POLICIES, sequence_to_graphs
from lgrin_edge.export.c_facts import EXPORT_DIR
from lgrin_edge.frontend.graph_rule import FrameRing, graph_count, node_indices
from lgrin_edge.frontend.native_input import POLICY_CODE, SOURCES
from lgrin_edge.frontend.native_input import library as clib
from lgrin_edge.native import find_compiler

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "export" / "tests" / "data" / "input"
needs_cc = pytest.mark.skipif(find_compiler() is None, reason="no C compiler on PATH (cc, gcc or clang)")


def c_indices(t: int, m: int, policy: str, graph: int = 0) -> np.ndarray:
    idx = np.zeros(m, np.uint32)
    rc = clib().lgrin_graph_indices(t, m, POLICY_CODE[policy], graph, idx.ctypes.data)
    assert rc == 0, clib().lgrin_input_strerror(rc)
    return idx.astype(np.int64)


def c_gather(ring: np.ndarray, first: int, t: int, m: int, policy: str, graph: int = 0) -> np.ndarray:
    ring = np.ascontiguousarray(ring, np.float32)
    out = np.zeros((m, ring.shape[1]), np.float32)
    lib = clib()
    rc = lib.lgrin_graph_gather(
        ring.ctypes.data, len(ring), first, t, ring.shape[1], m, POLICY_CODE[policy], graph, out.ctypes.data
    )
    assert rc == 0, lib.lgrin_input_strerror(rc)
    return out


# ------------------------------------------------------------------------------ known answers


def half_way_cases(limit: int = 12) -> list[tuple[int, int]]:
    """(T, M) where some j (T - 1) / (M - 1) is a half exactly, or numpy's double product of it is a
    half while the exact value is not (or the reverse): where a port that rounds differently goes wrong."""
    exact, beside = [], []
    for m in range(3, 60):
        for t in range(m + 1, 3 * m + 8):
            step = (t - 1) / (m - 1)
            for j in range(1, m - 1):
                y, true = j * step, Fraction(j * (t - 1), m - 1)
                if (y - np.floor(y) == 0.5) != (true.denominator == 2):
                    beside.append((t, m))
                    break
                if true.denominator == 2 and len(exact) < limit:
                    exact.append((t, m))
                    break
    return exact[:limit] + beside[:limit]


def cases() -> list[tuple[int, int, str]]:
    """The (T, M, policy) of graph.txt."""
    shapes = {(4, 3), (6, 3), (8, 5), (10, 5), (30, 15), (76, 19), (1_000_003, 120), (100, 90), (406, 120)}
    for m in (1, 2, 3, 7, 90, 120):
        shapes |= {(t, m) for t in (1, m - 1, m, m + 1, 2 * m + 1, 10 * m + 3) if t >= 1}
    shapes |= set(half_way_cases())
    return [(t, m, p) for t, m in sorted(shapes) for p in LONG_POLICIES]


DIGEST = (128, 400)  # every (T, M) with M <= 128, T <= 400 under resample, folded into one number
FNV_PRIME, MASK = 1099511628211, (1 << 64) - 1


def digest(index_rows) -> int:
    """h = h * FNV_PRIME + index + 1 (mod 2^64) over every index in order (C and Java fold the same)."""
    h = 0
    for row in index_rows:
        for v in row.tolist():
            h = (h * FNV_PRIME + v + 1) & MASK
    return h


def all_resample_rows():
    m_max, t_max = DIGEST
    for m in range(1, m_max + 1):
        for t in range(1, t_max + 1):
            yield node_indices(t, m, "resample")[0]


def known_answers() -> str:
    lines = [
        "# lgrin_input graph known answers (tests/frontend/test_graph_rule.py: lgrin_edge/data/graph.py)",
        "# T M POLICY GRAPH COUNT then the M frame indices of that graph",
    ]
    for t, m, policy in cases():
        g_all = node_indices(t, m, policy)
        for g in sorted({0, len(g_all) - 1}):
            lines.append(f"{t} {m} {policy} {g} {len(g_all)} " + " ".join(map(str, g_all[g].tolist())))
    m_max, t_max = DIGEST
    lines.append(f"# digest: M 1..{m_max}, T 1..{t_max}, resample: h = h * {FNV_PRIME} + index + 1 mod 2^64")
    lines.append(f"digest {m_max} {t_max} {digest(all_resample_rows())}")
    return "\n".join(lines) + "\n"


def write_known_answers() -> None:
    write_bytes(DATA / "graph.txt", known_answers().encode())


# ------------------------------------------------------------------------------ tests: numpy


def test_node_indices_are_sequence_to_graphs_itself():
    rng = np.random.default_rng(0)
    for t, m, policy in [(1, 5, "resample"), (13, 4, "chunk"), (30, 15, "resample"), (9, 9, "truncate")]:
        seq = rng.standard_normal((t, 3)).astype(np.float32)
        idx = node_indices(t, m, policy)
        assert np.array_equal(seq[idx], sequence_to_graphs(seq, m, policy))
        assert graph_count(t, m, policy) == len(idx)


def test_numpy_round_is_half_to_even_and_reads_the_double_product():
    """The two facts the ports must copy: halves go to the even neighbour (T=6, M=3: 2.5 -> 2), and the
    double product decides, not the exact fraction (T=30, M=15: 7 x 29/14 = 14.5 exactly, but the double
    product is 14.500000000000002, so node 7 takes frame 15, not 14)."""
    assert node_indices(6, 3)[0].tolist() == [0, 2, 5]
    assert node_indices(4, 3)[0].tolist() == [0, 2, 3]  # 1.5 -> 2
    assert 7 * (29 / 14) == 14.500000000000002
    assert node_indices(30, 15)[0][7] == 15


def test_frame_ring_builds_the_graph_of_the_frames_it_holds():
    ring = FrameRing(capacity=5, width=2)
    frames = np.arange(16, dtype=np.float32).reshape(8, 2)
    ring.push(frames[:2])
    assert np.array_equal(ring.graph(4), sequence_to_graphs(frames[:2], 4)[0])  # cyclic padding
    ring.push(frames[2:])
    assert ring.count == 5 and np.array_equal(ring.held(), frames[3:])
    for policy in LONG_POLICIES:
        assert np.array_equal(ring.graph(3, policy), sequence_to_graphs(frames[3:], 3, policy)[0])
    assert np.array_equal(ring.graph(2, "chunk", 2), sequence_to_graphs(frames[3:], 2, "chunk")[2])


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(UserError, match="at least one frame"):
        node_indices(0, 4)
    with pytest.raises(UserError, match="policy"):
        graph_count(5, 4, "interpolate")
    with pytest.raises(UserError, match="no frames yet"):
        FrameRing(3, 2).graph(4)
    with pytest.raises(UserError, match=r"\(k, 2\)"):
        FrameRing(3, 2).push(np.zeros((1, 3)))


def test_known_answers_are_numpys_today():
    """graph.txt is what data/graph.py gives now: the C tool and the Java test read a current truth."""
    assert (DATA / "graph.txt").read_text() == known_answers()


# ------------------------------------------------------------------------------ tests: C


@needs_cc
def test_c_indices_equal_numpy_for_every_small_t_and_m():
    lib, mismatches = clib(), []
    out = np.zeros(128, np.uint32)
    for m in range(1, 129):
        for t in range(1, 401):
            lib.lgrin_graph_indices(t, m, POLICY_CODE["resample"], 0, out.ctypes.data)
            if not np.array_equal(out[:m], node_indices(t, m, "resample")[0]):
                mismatches.append((t, m))
    assert not mismatches, f"C differs from data/graph.py at (T, M) = {mismatches[:10]}"


@needs_cc
@pytest.mark.parametrize(("t", "m", "policy"), cases())
def test_c_indices_and_count_on_the_odd_cases(t, m, policy):
    want = node_indices(t, m, policy)
    assert clib().lgrin_graph_count(t, m, POLICY_CODE[policy]) == len(want)
    for g in sorted({0, len(want) // 2, len(want) - 1}):
        assert np.array_equal(c_indices(t, m, policy, g), want[g])


@needs_cc
@pytest.mark.parametrize("m", [1, 2, 90, 120, 4097])
def test_c_resample_for_t_up_to_2_to_the_32(m):
    """T too large for the frame numbers to be held: graph.py's own expression on T alone."""
    for t in (2**31 - 1, 2**31 + 1, 4_294_967_295, 3_000_000_019):
        want = np.round(np.linspace(0, t - 1, m)).astype(np.int64)
        assert np.array_equal(c_indices(t, m, "resample"), want)


@needs_cc
def test_c_gather_from_a_ring_at_every_rotation():
    rng = np.random.default_rng(1)
    for t, m, policy in [(1, 4, "resample"), (7, 3, "resample"), (30, 15, "resample"), (11, 4, "chunk"),
                         (9, 4, "truncate"), (5, 5, "resample")]:  # fmt: skip
        seq = rng.standard_normal((t, 5)).astype(np.float32)
        want = sequence_to_graphs(seq, m, policy)
        for first in range(t):
            ring = np.roll(seq, first, axis=0)  # frame i at slot (first + i) mod t
            for g in range(len(want)):
                assert np.array_equal(c_gather(ring, first, t, m, policy, g), want[g])
    # a ring larger than the frames it holds
    ring = np.zeros((10, 2), np.float32)
    seq = rng.standard_normal((6, 2)).astype(np.float32)
    ring[(8 + np.arange(6)) % 10] = seq
    assert np.array_equal(c_gather(ring, 8, 6, 4, "resample"), sequence_to_graphs(seq, 4)[0])


@needs_cc
def test_c_refuses_what_has_no_graph():
    lib, idx = clib(), np.zeros(8, np.uint32)
    assert lib.lgrin_graph_count(0, 4, 1) == 0 and lib.lgrin_graph_count(4, 0, 1) == 0
    assert lib.lgrin_graph_count(4, 4, 3) == 0
    assert lib.lgrin_graph_indices(9, 4, POLICY_CODE["chunk"], 3, idx.ctypes.data) == -1
    assert lib.lgrin_graph_indices(9, 4, POLICY_CODE["resample"], 1, idx.ctypes.data) == -1
    ring = np.zeros((2, 1), np.float32)  # T = 3 frames cannot be in a ring of 2
    assert lib.lgrin_graph_gather(ring.ctypes.data, 2, 0, 3, 1, 4, 1, 0, idx.ctypes.data) == -1


@needs_cc
def test_the_c_tool_passes_every_known_answer(tmp_path):
    """export/tools/lgrin_input.c --check: the ctest's command, built here with the same flags."""
    cc = find_compiler()
    exe = tmp_path / "lgrin_input"
    cmd = [cc, "-std=c99", "-O2", "-ffp-contract=off", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
           "-I", str(EXPORT_DIR / "include"), "-o", str(exe), str(EXPORT_DIR / "tools" / "lgrin_input.c"),
           *map(str, SOURCES)]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    res = subprocess.run([exe, "--check", str(DATA)], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "input known answers passed" in res.stdout


NO_JDK = "no JDK (javac) on PATH: apt-get install openjdk-17-jdk-headless"


@pytest.mark.skipif(shutil.which("javac") is None, reason=NO_JDK)
def test_the_java_rules_pass_every_known_answer(tmp_path):
    """android_demo's GraphRule, MotionResampler and LandmarkFrames (InputTests) on the same files, compiled
    as android_demo/ci.sh compiles them (main code --release 11 -Werror, tests --release 17)."""
    pkg = ("org", "lgrin", "edge", "demo")
    main = ROOT.joinpath("android_demo", "core", "src", "main", "java", *pkg)
    test = ROOT.joinpath("android_demo", "core", "src", "test", "java", *pkg, "InputTests.java")
    sources = [str(main / f"{n}.java") for n in ("GraphRule", "MotionResampler", "LandmarkFrames")]
    out = str(tmp_path)
    for cmd in (
        ["javac", "-Xlint:all", "-Werror", "--release", "11", "-d", out, *sources],
        ["javac", "-Xlint:all", "--release", "17", "-cp", out, "-d", out, str(test)],
    ):
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        assert res.returncode == 0, res.stdout + res.stderr
    res = subprocess.run(
        ["java", "-cp", out, "org.lgrin.edge.demo.InputTests", str(DATA)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "input tests passed" in res.stdout


if __name__ == "__main__":
    write_known_answers()
    print(f"wrote {DATA / 'graph.txt'}")
