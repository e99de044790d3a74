"""Export pipeline: load a checkpoint, fold it, export each requested target, verify, write the manifest."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from lgrin_edge import __version__
from lgrin_edge.atomic import write_json, write_npz
from lgrin_edge.checkpoint import CheckpointError, load_checkpoint
from lgrin_edge.compress.fold import DeployLGrIN, FoldError, fold_model, folded_arrays
from lgrin_edge.export.targets import TARGETS, ExportContext
from lgrin_edge.export.verify import compare, sha256

FOLD_TOLERANCE = 1e-5
SAMPLES = 32


class ExportError(RuntimeError):
    """The export cannot start (bad checkpoint, output folder, options)."""


def load_run_data(checkpoint: Path, calibration_n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Calibration graphs (from training data) and held-out graphs + labels stored with the checkpoint."""
    out = []
    for name in ("calibration.npz", "eval.npz"):
        path = checkpoint / name
        if not path.is_file():
            raise CheckpointError(f"{path} is missing: re-run training to produce it")
        try:
            with np.load(path, allow_pickle=False) as f:
                out.append({k: f[k] for k in f.files})
        except Exception as e:
            raise CheckpointError(f"{path} is corrupt or truncated ({e})") from e
    cal, ev = out
    if calibration_n < 1:
        raise ExportError(f"--calibration must be >= 1, got {calibration_n}")
    return cal["x"][:calibration_n].astype(np.float32), ev["x"].astype(np.float32), ev["y"].astype(np.int64)


def check_out_dir(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(f"cannot create output folder {out}: {e}") from e
    if not os.access(out, os.W_OK):
        raise ExportError(f"output folder {out} is not writable")


def run_export(
    checkpoint: Path,
    targets: list[str],
    precisions: list[str],
    out: Path,
    calibration_n: int = 256,
    batch: int = 1,
    threads: int = 1,
    log: Callable[[str], None] = print,
    sensitivity: bool = False,
) -> dict:
    """Export and verify; returns the manifest (also written to out/manifest.json)."""
    model, cfg = load_checkpoint(checkpoint)
    calibration, x_eval, y_eval = load_run_data(checkpoint, calibration_n)
    check_out_dir(out)
    deploy = fold_model(model)
    with torch.no_grad():
        reference = model(torch.as_tensor(x_eval)).numpy()
        folded = deploy(torch.as_tensor(x_eval)).numpy()
    fold_diff = float(np.abs(reference - folded).max())
    # 1e-5 per unit of logit scale: fp32 rounding alone reaches 1e-5 absolute once logits exceed ~100.
    scale = max(1.0, float(np.abs(reference).max()))
    if fold_diff > FOLD_TOLERANCE * scale:
        raise ExportError(
            f"folded model differs from the trained model by {fold_diff:.2e} "
            f"(> {FOLD_TOLERANCE} x logit scale {scale:.1f})"
        )
    arrays = None
    if isinstance(deploy, DeployLGrIN):
        try:
            arrays = folded_arrays(deploy)
        except FoldError as e:
            log(f"note: {e}")
    ctx = ExportContext(deploy=deploy, calibration=calibration, out=out, batch=batch, arrays=arrays)
    artifacts, skipped = [], []
    logits_c = None
    try:
        for name in targets:
            target = TARGETS[name]
            for precision in precisions:
                if precision not in target.precisions:
                    continue
                entry = {"target": name, "precision": precision}
                ok, reason = target.status()
                if not ok:
                    skipped.append({**entry, "reason": reason})
                    log(f"skip {name}/{precision}: {reason}")
                    continue
                path = out / target.files[precision]
                log(f"export {name}/{precision} -> {path}")
                start = time.time()
                try:
                    info = target.export(ctx, precision, path)
                    runner = target.load(path, threads)
                    logits = np.asarray(runner(x_eval), dtype=np.float32)
                except Exception as e:
                    path.unlink(missing_ok=True)
                    artifacts.append(
                        {**entry, "path": path.name, "verified": False, "error": f"{type(e).__name__}: {e}"}
                    )
                    log(f"  FAILED: {type(e).__name__}: {e}")
                    continue
                result = compare(logits, reference, y_eval, precision)
                artifacts.append(
                    {
                        **entry,
                        "path": path.name,
                        "bytes": path.stat().st_size,
                        "sha256": sha256(path),
                        "runtime": target.runtime,
                        **result,
                        "seconds": round(time.time() - start, 2),
                        "info": info,
                    }
                )
                if name == "c":
                    logits_c = logits
            if sensitivity and target.sensitivity and "int8" in precisions:
                log(f"sensitivity {name}/int8: quantising each node alone (training graphs)")
                rows = target.sensitivity(ctx)
                write_json(out / f"sensitivity_{name}.json", rows)
                from lgrin_edge.export.sensitivity import NodeCost, format_report

                log(format_report([NodeCost(**r) for r in rows]))
            if target.follow_up and set(precisions) & set(target.precisions):
                skipped.extend(target.follow_up(out, artifacts, x_eval, reference, y_eval, log))
    finally:
        if ctx.scratch is not None:
            shutil.rmtree(ctx.scratch, ignore_errors=True)
    kept_artifacts, kept_skipped = earlier_entries(out, checkpoint, targets)
    artifacts, skipped = kept_artifacts + artifacts, kept_skipped + skipped
    write_samples(out, x_eval, y_eval, cfg, logits_c)
    manifest = {
        "lgrin_edge": __version__,
        "checkpoint": str(checkpoint),
        "model": {
            "name": cfg["model"],
            "num_nodes": int(x_eval.shape[1]),
            "num_features": int(x_eval.shape[2]),
            "num_classes": int(reference.shape[1]),
            "classes": cfg.get("classes", []),
            "config": cfg["config"],
        },
        "eval_data": {"kind": cfg.get("eval_data", ""), "n": len(y_eval)},
        "reference": {
            "runtime": f"pytorch {torch.__version__} fp32",
            "accuracy": float(np.mean(reference.argmax(1) == y_eval)),
            "fold_max_abs_diff": fold_diff,
            "max_abs_logit": scale,
        },
        "calibration_samples": len(calibration),
        "artifacts": artifacts,
        "skipped": skipped,
    }
    write_json(out / "manifest.json", manifest)
    return manifest


def earlier_entries(out: Path, checkpoint: Path, targets: list[str]) -> tuple[list[dict], list[dict]]:
    """Entries of an earlier export of the same checkpoint into ``out`` for targets not re-run now.

    Kept only while their file is unchanged (same sha256), so exporting one target at a time builds up
    one manifest without ever listing a stale artifact.
    """
    path = out / "manifest.json"
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError):
        return [], []
    if old.get("checkpoint") != str(checkpoint):
        return [], []
    arts = [
        a
        for a in old.get("artifacts", [])
        if a.get("target") not in targets
        and "sha256" in a
        and (out / a["path"]).is_file()
        and sha256(out / a["path"]) == a["sha256"]
    ]
    skipped = [s for s in old.get("skipped", []) if s.get("target") not in targets]
    return arts, skipped


def write_samples(out: Path, x: np.ndarray, y: np.ndarray, cfg: dict, logits_c: np.ndarray | None) -> None:
    """A few held-out graphs for on-device demos and tests (the Android demo bundles them)."""
    n = min(SAMPLES, len(y))
    arrays = {"x": x[:n], "y": y[:n], "classes": np.array(cfg.get("classes", []), dtype=str)}
    if logits_c is not None:
        arrays["logits_c"] = logits_c[:n]
    write_npz(out / "samples.npz", **arrays)
