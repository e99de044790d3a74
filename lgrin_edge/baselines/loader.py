"""Load a baseline's run folder (train.py wrote it): its config.json and fitted arrays checked against
the checksums recorded at training, no pickle anywhere."""

from __future__ import annotations

from pathlib import Path

from safetensors import SafetensorError

from lgrin_edge.baselines import BASELINES, FITTED
from lgrin_edge.baselines.rocket import Rocket
from lgrin_edge.checkpoint import (
    CONFIG,
    CONFIG_SHA256,
    CheckpointError,
    check_file,
    config_digest,
    read_config,
)


def load_baseline(folder: str | Path) -> tuple[Rocket, dict]:
    """The fitted baseline of run ``folder`` and its config.json; CheckpointError naming what is wrong."""
    folder = Path(folder)
    cfg = read_config(folder)
    if cfg["model"] not in BASELINES:
        raise CheckpointError(f"{folder} is a {cfg['model']} run, not one of {', '.join(BASELINES)}")
    if cfg.get(CONFIG_SHA256) != config_digest(cfg):
        raise CheckpointError(
            f"{folder / CONFIG} was edited or damaged: its checksum differs (re-run training)"
        )
    path = check_file(folder, cfg, FITTED)
    try:
        return Rocket.load(cfg["model"], cfg["config"], path), cfg
    except (KeyError, ValueError, TypeError, OSError, SafetensorError) as e:
        raise CheckpointError(f"{path} does not match {folder / CONFIG} ({e}); re-run training") from e
