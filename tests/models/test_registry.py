import pytest
import torch

from lgrin_edge import MODEL_NAMES, create_model
from lgrin_edge.models import count_parameters


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_maps_graphs_to_logits(name):
    m = create_model(name, num_nodes=12, in_features=6, num_classes=4)
    out = m.eval()(torch.randn(3, 12, 6))
    assert out.shape == (3, 4) and torch.isfinite(out).all()


@pytest.mark.parametrize(
    ("name", "opts", "lo", "hi"),
    [
        ("blstm", {}, 0.95e6, 1.1e6),  # paper: ~1M at P=136
        ("gcn", {}, 95e3, 110e3),  # paper: ~102K
        ("senet", {"preset": "paper"}, 24e6, 29e6),  # paper: ~26M
        ("senet", {"preset": "compact"}, 50e3, 300e3),
    ],
)
def test_baseline_sizes_match_the_paper(name, opts, lo, hi):
    m = create_model(name, num_nodes=90, in_features=136, num_classes=6, **opts)
    assert lo <= count_parameters(m) <= hi


def test_unknown_model_and_missing_config():
    with pytest.raises(ValueError, match="unknown model"):
        create_model("resnet", num_nodes=3, in_features=2, num_classes=2)
    with pytest.raises(ValueError, match="num_classes"):
        create_model("lgrin", num_nodes=3, in_features=2)
