"""BasicMotions as a live stream, end to end: the bundled TEST recordings of every class joined end to end
as one motion CSV (10 samples/s, 6 values), streamed by the C tool lgrin_live and by ``python -m
lgrin_edge.live`` through a model trained on 2 s windows (``--window 2 --hop 1``) and one trained on whole
recordings (the default stream: W = M = 100 frames, H = 10). The labels follow the recordings away from
their edges, and the C and Python timelines are the same."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lgrin_edge.live.bar import Segment, Timeline, agreement, hop_accuracy, live_tool, run_c, run_python
from lgrin_edge.native import find_compiler

pytestmark = pytest.mark.skipif(find_compiler() is None, reason="no C compiler on PATH (cc, gcc or clang)")

RATE_HZ = 10.0
PER_CLASS = 2  # test recordings of each class in the stream


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Segment], Path]:
    """(the CSV, its segments, the C tool): test recordings, classes in turn, 10 s each."""
    from lgrin_edge.data.bundled import load_bundled

    tmp = tmp_path_factory.mktemp("motion")
    ds = load_bundled("basicmotions")
    test = np.flatnonzero(ds.is_test)
    picks = [test[ds.y[test] == c][:PER_CLASS] for c in range(len(ds.classes))]
    order = [int(p[i]) for i in range(PER_CLASS) for p in picks]  # a, b, c, d, a, b, c, d
    frames = np.concatenate([ds.x[i, : ds.lengths[i]] for i in order])
    lines = ["time_s,ax,ay,az,gx,gy,gz"]
    lines += [f"{k / RATE_HZ:.1f}," + ",".join(repr(float(v)) for v in row) for k, row in enumerate(frames)]
    (tmp / "walk.csv").write_text("\n".join(lines) + "\n")
    segments, at = [], 0.0
    for i in order:
        segments.append(Segment(at, at + ds.lengths[i] / RATE_HZ, ds.classes[ds.y[i]]))
        at = segments[-1].end_s
    return tmp / "walk.csv", segments, live_tool(tmp)


def _model(folder: Path, epochs: int, *train_args: str) -> Path:
    from lgrin_edge.live.bar import train_and_export

    train_and_export(
        Path("basicmotions"), folder / "run", folder / "dist", ["--epochs", str(epochs), *train_args], 0
    )
    return folder / "dist"


def _timelines(dist: Path, csv: Path, tool: Path) -> tuple[Timeline, dict[str, Timeline]]:
    c, wall = run_c(tool, dist / "model_int8.lgrn", csv)
    print(f"lgrin_live: {wall:.3f} s wall for {c.times[-1]:.1f} s of motion")  # measured, not asserted
    py = {
        f"{t} {p}": run_python(dist, csv, t, p, dist / f"{t}-{p}.png")
        for t, p in (("c", "int8"), ("onnx", "int8"))
    }
    return c, py


def test_a_windowed_model_follows_the_recordings(stream, tmp_path: Path) -> None:
    csv, segments, tool = stream
    c, py = _timelines(_model(tmp_path, 8, "--window", "2", "--hop", "1"), csv, tool)
    np.testing.assert_allclose(np.diff(c.times), 1.0)  # a decision every hop (10 frames)
    accuracy, count = hop_accuracy(c, segments, 2.0)
    print(f"windowed: {accuracy:.3f} of {count} decisions inside a recording name its class")
    assert count >= 0.8 * len(segments) * 8  # of each 10 s recording, the 2 s windows at 2..10 s
    assert accuracy >= 0.75
    assert agreement(py["c int8"], c) == 1.0  # the same int8 file, the same stream definition
    assert agreement(py["onnx int8"], c) >= 0.95


def test_the_default_stream_follows_the_recordings(stream, basicmotions_dist: Path) -> None:
    """W = M = 100 frames: the decisions at a recording's end see that recording alone, as in training.
    The model: the defaults' (tests/live/conftest.py), whose C int8 file verifies on every CPU path."""
    csv, segments, tool = stream
    c, py = _timelines(basicmotions_dist, csv, tool)
    np.testing.assert_allclose(np.diff(c.times), 1.0)  # H = round(100 / 10) frames
    ends = [i for i, t in enumerate(c.times) if any(abs(t - s.end_s) < 1e-6 for s in segments)]
    assert len(ends) == len(segments) - 1  # the last recording lacks its last frame (no sample after it)
    named = [c.labels[i] == next(s.label for s in segments if abs(c.times[i] - s.end_s) < 1e-6) for i in ends]
    print(f"default: {np.mean(named):.3f} of the {len(ends)} whole-recording windows name their class")
    assert np.mean(named) >= 0.75
    assert len(set(c.labels)) >= 3
    # the same file through the numpy stream: the same decisions. Another int8 recipe (onnx) is not held
    # to them here: most of these 10 s windows straddle two recordings, where recipes differ honestly.
    assert agreement(py["c int8"], c) == 1.0
