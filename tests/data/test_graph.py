import numpy as np
import pytest

from lgrin_edge.data.graph import build_graphs, cyclic_pad, graph_loops, sequence_to_graphs


def seq(t: int, p: int = 2) -> np.ndarray:
    return np.arange(t * p, dtype=np.float32).reshape(t, p)


def test_cyclic_padding_repeats_from_the_start():
    g = cyclic_pad(seq(3), 7)
    assert np.array_equal(g[:, 0], np.array([0, 2, 4, 0, 2, 4, 0], dtype=np.float32))


@pytest.mark.parametrize(
    ("policy", "expected_first_col"),
    [("truncate", [0, 2, 4, 6]), ("resample", [0, 6, 12, 18])],
)
def test_long_sequence_policies(policy, expected_first_col):
    g = sequence_to_graphs(seq(10), 4, policy)
    assert g.shape == (1, 4, 2)
    assert g[0, :, 0].tolist() == expected_first_col


def test_chunk_policy_makes_several_graphs():
    g = sequence_to_graphs(seq(10), 4, "chunk")
    assert g.shape == (3, 4, 2)
    assert g[2, :, 0].tolist() == [16, 18, 16, 18]  # last window cyclically padded


def test_build_graphs_tracks_sources_and_ignores_padding():
    x = np.zeros((2, 10, 2), dtype=np.float32)
    x[0, :3] = seq(3)
    x[1] = seq(10)
    graphs, source, loops = build_graphs(x, np.array([3, 10]), 4, "chunk")
    assert source.tolist() == [0, 1, 1, 1]
    assert loops.tolist() == [3, 4, 4, 2]  # padded graphs repeat their 3 and last 2 frames
    assert graphs[0, 3].tolist() == x[0, 0].tolist()  # padding zeros never become nodes


def test_graph_loops_count_the_frames_a_graph_repeats():
    assert graph_loops(5, 12).tolist() == [5]  # padded: frames 0-4 repeated
    assert graph_loops(12, 12).tolist() == [12]
    assert graph_loops(30, 12, "resample").tolist() == [12]
    assert graph_loops(30, 12, "truncate").tolist() == [12]
    assert graph_loops(30, 12, "chunk").tolist() == [12, 12, 6]  # the last window is padded


def test_empty_sequence_and_unknown_policy():
    with pytest.raises(ValueError, match="empty sequence"):
        cyclic_pad(np.zeros((0, 2), np.float32), 4)
    with pytest.raises(ValueError, match="policy"):
        sequence_to_graphs(seq(5), 4, "interpolate")


def test_default_nodes_follow_the_longest_sequence_up_to_the_papers_largest_m():
    from lgrin_edge.data.graph import MAX_DEFAULT_NODES, default_nodes

    assert default_nodes(29) == (29, "the longest sequence has 29 frames")
    m, why = default_nodes(406)
    assert m == MAX_DEFAULT_NODES == 120 and "406" in why and "--nodes" in why
