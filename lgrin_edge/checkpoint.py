"""Checkpoints: ``model.safetensors`` (weights, no pickle) + ``config.json`` (how to rebuild the model).

config.json records the sha256 of every data file of the run (``files``) and of its own content
(``config_sha256``); loading checks them, so a damaged, swapped or edited file is refused before anything
uses it. A checkpoint written before config.json carried its checksum is checked for consistency instead:
its class names against the classifier, its M against the weights. config.json's ``feature_spec`` (what
the model's input is, lgrin_edge/spec.py) must agree with the model too; a checkpoint written before runs
recorded one gets a spec of what config.json knows (:func:`feature_spec`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from lgrin_edge import __version__
from lgrin_edge.atomic import atomic_path, file_sha256, write_json
from lgrin_edge.baselines import BASELINES, not_a_graph_model
from lgrin_edge.cli import UserError
from lgrin_edge.models import GraphModel, create_model
from lgrin_edge.spec import FeatureSpec, SpecError, of_config

FORMAT_VERSION = 1
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
CONFIG_SHA256 = "config_sha256"


class CheckpointError(UserError):
    """A checkpoint is missing, corrupt, or does not match its configuration."""


def nonfinite_tensors(state: dict[str, torch.Tensor]) -> list[str]:
    """Names of the floating-point tensors holding NaN or Inf."""
    return [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]


def save_checkpoint(
    model: GraphModel, out: str | Path, meta: dict | None = None, data_files: tuple[str, ...] = ()
) -> None:
    """Write weights, then config.json with the sha256 of the weights and of ``data_files`` (files
    already written into ``out``), into the folder ``out``."""
    out = Path(out)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    bad = nonfinite_tensors(state)
    if bad:
        raise CheckpointError(f"training produced NaN/Inf weights in {', '.join(bad[:3])}; nothing saved")
    try:
        with atomic_path(out / WEIGHTS) as tmp:
            # One metadata key only: safetensors writes metadata in hash order, and checkpoints must be
            # byte-identical for a fixed seed.
            save_file(state, str(tmp), metadata={"format_version": str(FORMAT_VERSION)})
    except SafetensorError as e:
        raise write_error(e, out / WEIGHTS) from e
    config = {
        "format_version": FORMAT_VERSION,
        "lgrin_edge": __version__,
        "model": model.name,
        "config": _jsonable(model.config),
        **(meta or {}),
        "files": {name: file_sha256(out / name) for name in (WEIGHTS, *data_files)},
    }
    write_json(out / CONFIG, {**config, CONFIG_SHA256: config_digest(config)})


def write_error(e: SafetensorError, path: Path) -> OSError | CheckpointError:
    """A safetensors write failure as the error it is: an OSError naming ``path`` where the system
    refused the write (a full disk: "no space left on the device: PATH"), else a CheckpointError."""
    found = re.search(r"\(os error (\d+)\)", str(e))
    if found:
        code = int(found.group(1))
        return OSError(code, os.strerror(code), str(path))
    return CheckpointError(f"cannot write {path}: {e}")


def config_digest(cfg: dict) -> str:
    """sha256 of what config.json says about the run: every key but the files' checksums (each checked
    against its file) and this digest, as compact JSON with sorted keys (so layout does not matter)."""
    body = {k: v for k, v in cfg.items() if k not in ("files", CONFIG_SHA256)}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def check_file(run: Path, cfg: dict, name: str) -> Path:
    """``run/name``, present and with the sha256 config.json recorded (when it recorded one)."""
    path = run / name
    if not path.is_file():
        raise CheckpointError(f"{path} is missing (re-run training to produce it)")
    want = cfg.get("files", {}).get(name)
    if want is not None and file_sha256(path) != want:
        raise CheckpointError(
            f"{path} is damaged or was replaced: its sha256 differs from the one config.json recorded "
            "(re-run training)"
        )
    return path


def run_folder(path: str | Path) -> Path:
    """The run folder a user means: the folder itself, or the folder of its config.json/weights."""
    path = Path(path)
    if path.is_file() and path.name in (CONFIG, WEIGHTS):
        return path.parent
    if path.exists() and not path.is_dir():
        raise CheckpointError(f"{path} is a file; pass the run folder written by lgrin_edge.train")
    if not path.exists():
        raise CheckpointError(
            f"checkpoint folder {path} does not exist (train one with python -m lgrin_edge.train)"
        )
    return path


def read_config(path: str | Path) -> dict:
    path = Path(path)
    cfg_path = path / CONFIG if path.is_dir() else path
    if not cfg_path.is_file():
        raise CheckpointError(
            f"{path} is not a checkpoint: it has no {CONFIG} (pass a run folder of lgrin_edge.train)"
        )
    try:
        cfg = json.loads(cfg_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{cfg_path} is not valid JSON ({e})") from e
    if not isinstance(cfg, dict):
        raise CheckpointError(f"{cfg_path} is not a checkpoint config (a JSON object)")
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
    path = run_folder(path)
    cfg = read_config(path)
    if cfg["model"] in BASELINES:
        raise CheckpointError(f"{path}: {not_a_graph_model(cfg['model'])}")
    weights = check_file(path, cfg, WEIGHTS)
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
                f"{weights}: tensor {key!r} has shape {tuple(state[key].shape)} but {path / CONFIG} implies "
                f"{tuple(tensor.shape)} (a checkpoint from another configuration, or an edited config.json?)"
            )
    bad = nonfinite_tensors(state)
    if bad:
        raise CheckpointError(
            f"{weights}: tensor {bad[0]!r} holds NaN/Inf values ({len(bad)} tensor(s) in all)"
        )
    check_config(path / CONFIG, cfg)  # the weights agree with cfg["config"]; the rest must agree with it
    model.load_state_dict(state)
    model.eval()
    return model.to(device), cfg


def check_config(cfg_path: Path, cfg: dict) -> None:
    """Refuse a config.json that disagrees with its model's options (which the weights' shapes were
    checked against) or, where it records one, with its own checksum: it was edited or damaged."""
    model = cfg["config"]
    classes, num_classes = cfg.get("classes"), model.get("num_classes")
    if isinstance(classes, list) and num_classes is not None and len(classes) != num_classes:
        raise CheckpointError(
            f"{cfg_path} lists {len(classes)} class names but the model's classifier has {num_classes} "
            "outputs (config.json was edited or damaged; re-run training)"
        )
    nodes = cfg.get("num_nodes")
    if nodes is not None and model.get("num_nodes") is not None and nodes != model["num_nodes"]:
        raise CheckpointError(
            f"{cfg_path} gives num_nodes {nodes} but its model was built for {model['num_nodes']} nodes per "
            "graph (config.json was edited or damaged; re-run training)"
        )
    want = cfg.get(CONFIG_SHA256)
    if want is not None and config_digest(cfg) != want:
        raise CheckpointError(
            f"{cfg_path} was edited or damaged: its content differs from the checksum it recorded when "
            "training wrote it (restore it, or re-run training)"
        )
    feature_spec(cfg, cfg_path)


def feature_spec(cfg: dict, cfg_path: Path | str = CONFIG) -> tuple[FeatureSpec, bool]:
    """The checkpoint's feature spec and whether config.json held it (else: one made of what config.json
    knows, with a bundled dataset's own spec, "unknown" for the rest); CheckpointError where the recorded
    one disagrees with the model."""
    from lgrin_edge.data.bundled import BUNDLED, bundled_spec

    name = cfg.get("dataset")
    try:
        dataset = bundled_spec(name, list(cfg.get("classes") or [])) if name in BUNDLED else None
        return of_config(cfg, dataset)
    except SpecError as e:
        raise CheckpointError(f"{cfg_path}: {e}") from None


def _jsonable(obj: object) -> object:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, tuple | list):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, torch.Tensor):
        return obj.tolist()
    return obj
