"""The benchmarks' ctypes binding of lgrin_input.c (lgrin_edge.frontend.native_input.py) gives numpy's
motion frames and graph bit for bit, so what they time is what the parity tests check."""

import numpy as np
import pytest

from lgrin_edge.data.graph import sequence_to_graphs
from lgrin_edge.frontend.motion import MotionSpec, Stream, frames
from lgrin_edge.native import find_compiler

pytestmark = pytest.mark.skipif(find_compiler() is None, reason="no C compiler on PATH (cc, gcc or clang)")


def test_the_c_motion_stream_gives_numpys_frames():
    from lgrin_edge.frontend.native_input import CMotionStream

    rng = np.random.default_rng(0)
    t = np.cumsum(rng.uniform(0.005, 0.015, 600))  # about 100 Hz, irregular
    x = rng.standard_normal((len(t), 6)).astype(np.float32)
    spec = MotionSpec(frame_rate=10.0)
    stream, ours = CMotionStream(spec), Stream(spec)
    c = np.concatenate([stream.push(t[i : i + 7], x[i : i + 7]) for i in range(0, len(t), 7)])
    assert len(c) > 50 and np.array_equal(c, frames(t, x, spec))
    assert np.array_equal(c, ours.push(t, x)) and stream.state_size > 0


def test_the_c_gather_gives_the_graph_rule_of_a_ring():
    from lgrin_edge.frontend.native_input import gather

    rng = np.random.default_rng(1)
    seq = rng.standard_normal((150, 4)).astype(np.float32)
    ring = np.roll(seq, 37, axis=0)  # the oldest frame at slot 37
    out = np.zeros((40, 4), np.float32)
    gather(ring, 37, len(seq), 40, out)
    assert np.array_equal(out, sequence_to_graphs(seq, 40, "resample")[0])
    with pytest.raises(RuntimeError, match="lgrin_input"):
        gather(ring, 0, 151, 40, out)  # more frames than the ring holds
