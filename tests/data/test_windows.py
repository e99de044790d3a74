import dataclasses

import numpy as np
import pytest

from lgrin_edge.cli import UserError
from lgrin_edge.data import make_synthetic
from lgrin_edge.data.graph import build_graphs, sequence_to_graphs
from lgrin_edge.data.splits import make_folds
from lgrin_edge.data.windows import VOTE, Windows, sequence_vote, windows_for
from lgrin_edge.spec import StreamSpec, unknown_spec
from lgrin_edge.train.protocol import graphs_for


def windows(window_s: float, hop_s: float, rate: float = 10.0) -> Windows:
    return Windows(StreamSpec(window_s, hop_s, "windows"), rate)


def seq(t: int, p: int = 2) -> np.ndarray:
    return np.arange(t * p, dtype=np.float32).reshape(t, p)


@pytest.mark.parametrize(
    ("t", "window_s", "hop_s", "starts"),
    [
        (100, 2.0, 1.0, list(range(0, 81, 10))),  # start + W <= T: the last window ends at frame 100
        (30, 2.0, 1.0, [0, 10]),
        (29, 2.0, 1.0, [0]),  # frames 20..28 are in no window: no extra window at the end
        (20, 2.0, 1.0, [0]),
        (5, 2.0, 1.0, [0]),  # shorter than W: one window, the sequence itself
        (100, 1.0, 3.0, [0, 30, 60, 90]),  # a hop longer than the window leaves gaps
        (7, 0.2, 0.1, [0, 1, 2, 3, 4, 5]),
    ],
)
def test_window_starts(t, window_s, hop_s, starts):
    w = windows(window_s, hop_s)
    assert list(w.starts(t)) == starts
    pieces = w.cut(seq(t))
    assert [len(p) for p in pieces] == [min(t, w.size)] * len(starts)
    for s, piece in zip(starts, pieces, strict=True):
        assert np.array_equal(piece, seq(t)[s : s + w.size])


@pytest.mark.parametrize(
    ("seconds", "rate", "frames"),
    [(0.25, 10, 2), (0.35, 10, 4), (0.15, 10, 2), (1.0, 156.25, 156), (0.016, 156.25, 2), (2.0, 100, 200)],
)
def test_seconds_are_frames_rounded_half_to_even(seconds, rate, frames):
    assert frames == int(np.rint(seconds * rate))  # the stream definition's round_half_even
    w = windows(seconds, seconds, rate)
    assert (w.size, w.step) == (frames, frames)


@pytest.mark.parametrize(("window_s", "hop_s", "name"), [(0.05, 1.0, "--window"), (1.0, 0.04, "--hop")])
def test_less_than_a_frame_is_refused_naming_the_option(window_s, hop_s, name):
    with pytest.raises(UserError, match=f"^{name} .* is 0 frames at 10 frames/s"):
        windows(window_s, hop_s)


def test_options_need_each_other_and_a_known_frame_rate():
    spec = unknown_spec(2, ["a", "b"])
    assert windows_for(None, None, spec) is None
    with pytest.raises(UserError, match="--hop applies with --window only"):
        windows_for(None, 1.0, spec)
    with pytest.raises(UserError, match="--window needs --hop"):
        windows_for(1.0, None, spec)
    with pytest.raises(UserError, match=r"input\.frame_rate_hz 'unknown'"):
        windows_for(1.0, 0.5, spec)
    known = dataclasses.replace(spec, frame_rate_hz=10)
    assert windows_for(1.0, 0.5, known).to_dict() == {
        "window_s": 1.0,
        "hop_s": 0.5,
        "frame_rate_hz": 10.0,
        "window_frames": 10,
        "hop_frames": 5,
    }


def test_each_window_becomes_graphs_by_the_graph_rule_and_keeps_its_sequence():
    x = np.zeros((2, 30, 2), np.float32)
    x[0], x[1, :7] = seq(30), seq(7) + 100
    w = windows(2.0, 1.0)
    for m, policy in ((20, "resample"), (8, "resample"), (8, "chunk"), (24, "truncate")):
        graphs, source, loops = build_graphs(x, np.array([30, 7]), m, policy, w)
        assert len(loops) == len(graphs) and (loops <= m).all()
        want = [sequence_to_graphs(seq(30)[s : s + 20], m, policy) for s in (0, 10)]
        want.append(sequence_to_graphs(seq(7) + 100, m, policy))  # 7 frames < W: the sequence, padded
        assert np.array_equal(graphs, np.concatenate(want))
        assert source.tolist() == [0] * (len(want[0]) + len(want[1])) + [1] * len(want[2])


def test_windows_inherit_label_group_and_split_and_never_straddle_a_fold():
    ds = make_synthetic(n=48, with_groups=True, min_len=10, max_len=24)
    w = windows(1.2, 0.5)  # W = 12 and H = 5 frames: 1 to 3 windows per sequence
    per_sequence = [len(w.starts(int(n))) for n in ds.lengths]
    assert min(per_sequence) == 1 and max(per_sequence) == 3
    tested = []
    for fold in make_folds(ds, 3, seed=0):
        parts = [graphs_for(ds, idx, 12, "resample", w) for idx in (fold.train, fold.val, fold.test)]
        for idx, part in zip((fold.train, fold.val, fold.test), parts, strict=True):
            assert set(part.source.tolist()) == set(idx.tolist())  # every sequence, and no other
            assert np.array_equal(part.y, ds.y[part.source])
            assert part.loops is not None and len(part.loops) == len(part.x)
            counts = np.bincount(part.source, minlength=len(ds.y))
            assert np.array_equal(counts[idx], np.array(per_sequence)[idx])  # all its windows, here
        sources = [set(p.source.tolist()) for p in parts]
        assert not (sources[0] & sources[1] or sources[0] & sources[2] or sources[1] & sources[2])
        groups = [set(ds.groups[p.source].tolist()) for p in parts]
        assert not groups[2] & (groups[0] | groups[1])  # a test group is nowhere else
        tested.extend(parts[2].source.tolist())
    assert sorted(set(tested)) == list(range(len(ds.y)))
    assert len(tested) == sum(per_sequence)  # each sequence's windows are tested in one fold only


def test_a_sequence_is_decided_by_its_windows_mean_probability():
    assert VOTE == "mean-probability"
    # Sequence 7: two windows lean to class 0, one is sure of class 1; a majority would say 0.
    logits = np.array([[0.2, 0.0], [0.2, 0.0], [0.0, 9.0], [1.0, 1.0], [3.0, 0.0]], np.float32)
    ids, pred = sequence_vote(logits, np.array([7, 7, 7, 2, 5]))
    assert ids.tolist() == [2, 5, 7] and pred.tolist() == [0, 0, 1]  # sequence 2: a tie, the first class
