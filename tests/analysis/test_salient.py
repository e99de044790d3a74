import numpy as np
import pytest
import torch

from lgrin_edge.analysis.salient import check_explainable, node_frames, position_histogram, salient_nodes
from lgrin_edge.cli import UserError


class Fixed(torch.nn.Module):
    """Node embeddings given outright: what salient_nodes reads is then known exactly."""

    def __init__(self, h: np.ndarray) -> None:
        super().__init__()
        self.h = torch.as_tensor(h)

    def node_embeddings(self, x: torch.Tensor) -> torch.Tensor:
        return self.h[: len(x)]

    def pool(self, h: torch.Tensor) -> torch.Tensor:
        return h.max(1).values

    def classifier(self, g: torch.Tensor) -> torch.Tensor:
        return g[:, :2]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.node_embeddings(x)))


def test_the_node_that_wins_most_features_is_salient_and_constant_features_do_not_count():
    h = np.zeros((2, 4, 5))
    h[0, 2, :3] = 1.0  # node 2 wins three features; two features are 0 on every node
    h[1, 1, 0] = 2.0
    h[1, 3, 1:] = 1.0  # node 3 wins four of five
    sal = salient_nodes(Fixed(h), np.zeros((2, 4, 1), np.float32))
    assert sal.node.tolist() == [2, 3]
    assert sal.share[0] == pytest.approx(1.0)  # all three informative features
    assert sal.share[1] == pytest.approx(0.8)
    assert sal.wins.shape == (2, 4) and sal.wins[1].sum() == pytest.approx(5.0)


def test_a_shared_maximum_is_split_between_the_nodes_that_reach_it():
    h = np.zeros((1, 3, 2))
    h[0, [0, 1], 0] = 1.0  # a node and its neighbour (the 1-hop max pool copies maxima)
    h[0, 2, 1] = 1.0
    sal = salient_nodes(Fixed(h), np.zeros((1, 3, 1), np.float32))
    assert sal.wins[0].tolist() == pytest.approx([0.5, 0.5, 1.0]) and sal.node[0] == 2


def test_node_frames_follow_the_graph_construction():
    frames = node_frames(np.array([3, 8]), 5, "resample")
    assert frames[0].tolist() == [0, 1, 2, 0, 1]  # cyclic padding
    assert frames[1].tolist() == [0, 2, 4, 5, 7]  # resampled: round(linspace(0, 7, 5))
    assert node_frames(np.array([7]), 5, "chunk").tolist() == [[0, 1, 2, 3, 4], [5, 6, 5, 6, 5]]


def test_positions_per_class():
    hist = position_histogram(np.array([1, 1, 0, 2]), np.array([0, 0, 1, 1]), ["a", "b"], 3)
    assert hist == {"a": [0, 2, 0], "b": [1, 0, 1]}


@pytest.mark.parametrize(
    "cfg, words",
    [
        ({"model": "blstm", "config": {}}, "L-GrIN"),
        ({"model": "lgrin", "config": {"pooling": "mean"}}, "max pool"),
    ],
)
def test_models_without_a_max_pool_are_refused(cfg, words):
    with pytest.raises(UserError, match=words):
        check_explainable(cfg)
