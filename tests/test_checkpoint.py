import json

import pytest
import torch

from lgrin_edge import create_model
from lgrin_edge.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

SHAPE = {"num_nodes": 7, "in_features": 5, "num_classes": 3}

# config.json's "config" as the code before typed options wrote it (the order is part of the text)
SHAPE_TEXT = '"num_nodes": 7, "in_features": 5, "num_classes": 3}'
WRITTEN_BEFORE = {
    "lgrin": '{"eta": [8, 4], "num_layers": 2, "conv": "gstar", "inception": true, "adjacency": "learned", '
    '"pooling": "max", "sort_k": 10, "lambda1": 0, "lambda2": 0.1, "lambda3": 0.0001, ' + SHAPE_TEXT,
    "blstm": '{"hidden": 16, ' + SHAPE_TEXT,
    "senet": '{"widths": [32, 64, 128], "reduction": 8, "preset": "compact", ' + SHAPE_TEXT,
    "gcn": '{"hidden": 8, "num_layers": 2, ' + SHAPE_TEXT,
}
OPTIONS = {
    "lgrin": {"eta": (8, 4), "pooling": "max", "lambda1": 0},
    "blstm": {"hidden": 16},
    "senet": {"preset": "compact"},
    "gcn": {"hidden": 8, "num_layers": 2},
}


@pytest.mark.parametrize("name", OPTIONS)
def test_config_json_is_written_as_before_and_loads(name, tmp_path):
    torch.manual_seed(0)
    model = create_model(name, **OPTIONS[name], **SHAPE).eval()
    save_checkpoint(model, tmp_path, {"dataset": "toy"})
    text = (tmp_path / "config.json").read_text()
    saved = json.loads(text)
    assert saved["model"] == name and json.dumps(saved["config"]) == WRITTEN_BEFORE[name]
    assert text == json.dumps(saved, indent=2) + "\n"

    loaded, cfg = load_checkpoint(tmp_path)
    assert type(loaded) is type(model) and loaded.config == model.config and cfg["dataset"] == "toy"
    state = loaded.state_dict()
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    x = torch.randn(2, 7, 5)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))


def test_a_config_with_an_unknown_option_is_refused_naming_it(tmp_path):
    save_checkpoint(create_model("gcn", hidden=8, **SHAPE), tmp_path)
    path = tmp_path / "config.json"
    cfg = json.loads(path.read_text())
    cfg["config"]["hiden"] = 8
    path.write_text(json.dumps(cfg))
    with pytest.raises(
        CheckpointError, match=r"cannot build model from its config \(gcn has no option 'hiden'"
    ):
        load_checkpoint(tmp_path)
