"""Speech as a live stream, end to end: an espeak-ng corpus of three speaking styles (classes), its frames
by ``python -m lgrin_edge.features wav-dir``, a tiny L-GrIN trained on 1 s windows every 0.25 s and
exported for the C runtime and ONNX; then held-out sentences (texts the corpus does not hold) of every
class joined into one WAV with silence between, streamed by the C tool lgrin_live and by ``python -m
lgrin_edge.live`` (c and onnx artifacts). The C labels follow the segments, and Python's timelines are
the C tool's. lgrin_edge/live/bar.py runs the same case larger, over seeds (docs/results/stream-bar.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lgrin_edge.live.bar import SpeechSetup, live_tool, speech_case
from lgrin_edge.native import find_compiler

pytestmark = [
    pytest.mark.skipif(
        shutil.which("espeak-ng") is None,
        reason="espeak-ng not installed (apt-get install espeak-ng): no speech to train and stream",
    ),
    pytest.mark.skipif(find_compiler() is None, reason="no C compiler on PATH (cc, gcc or clang)"),
]
# Six sentences a class, two held-out segments a class, 20 epochs: seconds on two cores.
SETUP = SpeechSetup(per_class=6, segments_per_class=2, epochs=20, seed=0)


def test_the_stream_follows_the_speaking_style(tmp_path: Path) -> None:
    (tmp_path / "case").mkdir()
    got = speech_case(tmp_path / "case", SETUP, live_tool(tmp_path))
    print(
        f"lgrin_live: {got['c_wall_s']:.3f} s wall for {got['duration_s']:.1f} s of audio "
        f"({got['c_wall_share']:.2%}); {got['hops_inside']} of {got['decisions']} decisions inside a segment"
    )  # measured and reported (docs/results/stream-bar.md), not asserted
    assert got["hops_inside"] >= 30
    assert got["hop_accuracy"] >= 0.75
    assert got["agree_c-int8"] >= 0.95  # the same file through the numpy stream: expected 1.0
    assert got["agree_onnx-int8"] >= 0.95


def test_a_wav_dir_spec_streams_as_written() -> None:
    """features wav-dir records how the corpus was made among the front-end's params (max_frames,
    per_file_columns); the stream reads past them."""
    from dataclasses import replace

    from lgrin_edge.frontend import SpeechSpec
    from lgrin_edge.live.stream import make_frontend
    from lgrin_edge.spec import speech_frontend_spec

    spec = speech_frontend_spec(SpeechSpec().to_dict(), ["a", "b"])
    record = {"max_frames": "all", "per_file_columns": ["speaker"]}
    make_frontend(replace(spec, params={**spec.params, **record}), "pcm", 16000)
