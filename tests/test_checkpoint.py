import errno
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors import SafetensorError

from lgrin_edge import create_model
from lgrin_edge.checkpoint import (
    CheckpointError,
    config_digest,
    load_checkpoint,
    save_checkpoint,
    write_error,
)
from lgrin_edge.cli import describe_os_error

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


def _saved(tmp_path: Path, meta: dict | None = None) -> Path:
    torch.manual_seed(0)
    model = create_model("lgrin", **OPTIONS["lgrin"], **SHAPE)
    save_checkpoint(model, tmp_path, {"classes": ["a", "b", "c"], "num_nodes": 7, **(meta or {})})
    return tmp_path / "config.json"


def _edit(path: Path, change, drop_checksum: bool = False) -> None:
    cfg = json.loads(path.read_text())
    change(cfg)
    if drop_checksum:  # as a checkpoint written before config.json carried its checksum
        del cfg["config_sha256"]
    path.write_text(json.dumps(cfg, indent=2) + "\n")


def test_config_json_carries_its_checksum_and_any_edit_is_refused(tmp_path):
    path = _saved(tmp_path)
    cfg = json.loads(path.read_text())
    assert cfg["config_sha256"] == config_digest(cfg)
    path.write_text(json.dumps(cfg, indent=4, sort_keys=True))  # another layout, the same content
    load_checkpoint(tmp_path)
    _edit(path, lambda c: c.update(dataset="another"))
    with pytest.raises(CheckpointError, match=r"config.json was edited or damaged: its content differs"):
        load_checkpoint(tmp_path)


@pytest.mark.parametrize("drop_checksum", [False, True])
@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (
            lambda c: c.update(classes=["a", "b", "c", "d", "e"]),
            "lists 5 class names but the model's classifier has 3",
        ),
        (lambda c: c.update(num_nodes=9), "gives num_nodes 9 but its model was built for 7 nodes"),
        (lambda c: c["config"].update(num_nodes=9), "config.json implies (9, 9)"),
    ],
)
def test_an_edited_config_is_named_also_in_a_checkpoint_without_a_checksum(
    tmp_path, change, needle, drop_checksum
):
    path = _saved(tmp_path)
    _edit(path, change, drop_checksum)
    with pytest.raises(CheckpointError, match=re.escape(needle)) as e:
        load_checkpoint(tmp_path)
    assert str(path) in str(e.value)


def test_a_checkpoint_without_a_checksum_still_loads(tmp_path):
    path = _saved(tmp_path)
    _edit(path, lambda c: None, drop_checksum=True)
    model, cfg = load_checkpoint(tmp_path)
    assert cfg["classes"] == ["a", "b", "c"] and "config_sha256" not in cfg and model.options.num_classes == 3


def test_a_failed_weights_write_is_an_os_error_naming_the_file(tmp_path):
    """The system refuses the write for real (a file-size limit, as a full disk refuses it)."""
    code = (
        "import resource, signal\n"
        "from lgrin_edge import create_model\n"
        "from lgrin_edge.checkpoint import save_checkpoint\n"
        "model = create_model('gcn', hidden=64, num_nodes=7, in_features=5, num_classes=3)\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))\n"
        "try:\n"
        f"    save_checkpoint(model, {str(tmp_path)!r})\n"
        "except OSError as e:\n"
        "    print(e.errno, e.filename)\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(errno.EFBIG), str(tmp_path / "model.safetensors")]
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_in_safetensors_reads_as_no_space_left(tmp_path):
    # the text safetensors gives when the file system is full
    error = SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")
    found = write_error(error, tmp_path / "model.safetensors")
    assert isinstance(found, OSError) and found.errno == errno.ENOSPC
    assert describe_os_error(found) == f"no space left on the device: {tmp_path / 'model.safetensors'}"
    other = write_error(SafetensorError("something else"), tmp_path / "m")
    assert isinstance(other, CheckpointError) and "cannot write" in str(other)
