"""Checkpoints: ``model.safetensors`` (weights, no pickle) + ``config.json`` (how to rebuild the model)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from lgrin_edge import __version__
from lgrin_edge.atomic import atomic_path, write_json
from lgrin_edge.models import GraphModel, create_model

FORMAT_VERSION = 1
WEIGHTS = "model.safetensors"
CONFIG = "config.json"


class CheckpointError(ValueError):
    """A checkpoint is missing, corrupt, or does not match its configuration."""


def save_checkpoint(model: GraphModel, out: str | Path, meta: dict | None = None) -> None:
    """Write weights and config into the folder ``out`` (each file atomically)."""
    out = Path(out)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(out / WEIGHTS) as tmp:
        # One metadata key only: safetensors writes metadata in hash order, and checkpoints must be
        # byte-identical for a fixed seed.
        save_file(state, str(tmp), metadata={"format_version": str(FORMAT_VERSION)})
    config = {
        "format_version": FORMAT_VERSION,
        "lgrin_edge": __version__,
        "model": model.name,
        "config": _jsonable(model.config),
        **(meta or {}),
    }
    write_json(out / CONFIG, config)


def read_config(path: str | Path) -> dict:
    path = Path(path)
    cfg_path = path / CONFIG if path.is_dir() else path
    if not cfg_path.is_file():
        raise CheckpointError(f"no checkpoint config at {cfg_path} (expected a folder with {CONFIG})")
    try:
        cfg = json.loads(cfg_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{cfg_path} is not valid JSON ({e})") from e
    for key in ("model", "config", "format_version"):
        if key not in cfg:
            raise CheckpointError(f"{cfg_path} lacks the key {key!r}")
    if cfg["format_version"] != FORMAT_VERSION:
        raise CheckpointError(
            f"{cfg_path}: checkpoint format {cfg['format_version']}, expected {FORMAT_VERSION}"
        )
    return cfg


def load_checkpoint(path: str | Path, device: str = "cpu") -> tuple[GraphModel, dict]:
    """Rebuild the model from config.json and load its weights; mismatches raise CheckpointError."""
    path = Path(path)
    cfg = read_config(path)
    weights = path / WEIGHTS
    if not weights.is_file():
        raise CheckpointError(f"missing weights file {weights}")
    try:
        model = create_model(cfg["model"], **cfg["config"])
    except (ValueError, TypeError, KeyError) as e:
        raise CheckpointError(f"{path / CONFIG}: cannot build model from its config ({e})") from e
    try:
        state = load_file(str(weights), device=device)
    except (SafetensorError, OSError) as e:
        raise CheckpointError(f"{weights} is corrupt or truncated ({e})") from e
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"{weights} does not match config.json's {cfg['model']} config: missing {missing[:5]}, "
            f"unexpected {unexpected[:5]}"
        )
    for key, tensor in expected.items():
        if state[key].shape != tensor.shape:
            raise CheckpointError(
                f"{weights}: tensor {key!r} has shape {tuple(state[key].shape)} but config.json implies "
                f"{tuple(tensor.shape)} (a checkpoint from another configuration?)"
            )
    model.load_state_dict(state)
    model.eval()
    return model.to(device), cfg


def _jsonable(obj: object) -> object:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, tuple | list):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, torch.Tensor):
        return obj.tolist()
    return obj
