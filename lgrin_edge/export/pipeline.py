"""Export pipeline: load a checkpoint, fold it, export each requested target, verify, write the manifest."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from lgrin_edge import __version__
from lgrin_edge.atomic import exclusive, place, write_json, write_npz
from lgrin_edge.atomic import file_sha256 as sha256
from lgrin_edge.checkpoint import CheckpointError, check_file, load_checkpoint, run_folder
from lgrin_edge.cli import UserError
from lgrin_edge.compress.fold import DeployLGrIN, FoldError, fold_model, folded_arrays
from lgrin_edge.export.targets import TARGETS, ExportContext
from lgrin_edge.export.verify import compare

FOLD_TOLERANCE = 1e-5
SAMPLES = 32


# Where --keep-unverified puts artifacts that missed their tolerance (for inspection and timing only).
UNVERIFIED_DIR = "unverified"


class ExportSetupError(UserError):
    """The export cannot start (bad checkpoint, output folder, options)."""


def load_run_data(
    checkpoint: Path, calibration_n: int, cfg: dict, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Calibration graphs (from training data) and held-out graphs + labels stored with the checkpoint,
    checked against config.json's checksums and the model's (M, P)."""
    out = []
    for name in ("calibration.npz", "eval.npz"):
        path = check_file(checkpoint, cfg, name)
        try:
            with np.load(path, allow_pickle=False) as f:
                arrays = {k: f[k] for k in f.files}
        except Exception as e:
            raise CheckpointError(f"{path} is not a readable .npz ({type(e).__name__}: {e})") from e
        for key in ("x", "y"):
            if key not in arrays:
                raise CheckpointError(f"{path} lacks the array {key!r}")
        x, y = arrays["x"], arrays["y"]
        if x.ndim != 3 or x.shape[1:] != shape or len(x) == 0 or y.shape != (len(x),):
            raise CheckpointError(
                f"{path}: x {x.shape} and y {y.shape} do not fit the model's graphs (N >= 1, {shape[0]}, "
                f"{shape[1]})"
            )
        if not np.isfinite(x).all():
            raise CheckpointError(f"{path}: x holds NaN/Inf values")
        out.append(arrays)
    cal, ev = out
    return cal["x"][:calibration_n].astype(np.float32), ev["x"].astype(np.float32), ev["y"].astype(np.int64)


def check_out_dir(out: Path) -> None:
    """An export folder may be new, empty, or an earlier export's (its files are replaced one by one,
    each only by a verified new one); anything else is refused."""
    if out.exists() and not out.is_dir():
        raise ExportSetupError(f"output {out} exists and is not a folder")
    manifest = out / "manifest.json"
    if manifest.is_file():
        try:
            ours = "lgrin_edge" in json.loads(manifest.read_text())
        except (ValueError, UnicodeDecodeError, OSError):
            ours = False
        if not ours:
            raise ExportSetupError(f"{manifest} was not written by lgrin_edge.export; choose another --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportSetupError(f"cannot create output folder {out}: {e.strerror}") from e
    if not os.access(out, os.W_OK):
        raise ExportSetupError(f"output folder {out} is not writable")


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
    keep_unverified: bool = False,
    static_int8: bool = False,
) -> dict:
    """Export and verify; returns the manifest (also written to out/manifest.json).

    Each artifact is written into a staging folder inside ``out``, verified there, and moved into place
    only if it verified; an artifact that fails leaves the earlier file of that name untouched.
    """
    for name, value in (("calibration", calibration_n), ("batch", batch), ("threads", threads)):
        if value < 1:
            raise ExportSetupError(f"--{name} must be >= 1, got {value}")
    checkpoint = run_folder(checkpoint)
    model, cfg = load_checkpoint(checkpoint)
    calibration, x_eval, y_eval = load_run_data(checkpoint, calibration_n, cfg, _input_shape(cfg))
    check_out_dir(out)
    with exclusive(out, "export folder"):
        return _export_locked(
            checkpoint,
            model,
            cfg,
            calibration,
            x_eval,
            y_eval,
            targets,
            precisions,
            out,
            batch,
            threads,
            log,
            sensitivity,
            keep_unverified,
            static_int8,
        )


def _input_shape(cfg: dict) -> tuple[int, int]:
    """(M, P) of the model's input graphs, from config.json."""
    try:
        return int(cfg.get("num_nodes") or cfg["config"]["num_nodes"]), int(cfg["config"]["in_features"])
    except (KeyError, TypeError, ValueError):
        raise CheckpointError("config.json does not give the model's input shape; re-run training") from None


def _export_locked(
    checkpoint: Path,
    model: torch.nn.Module,
    cfg: dict,
    calibration: np.ndarray,
    x_eval: np.ndarray,
    y_eval: np.ndarray,
    targets: list[str],
    precisions: list[str],
    out: Path,
    batch: int,
    threads: int,
    log: Callable[[str], None],
    sensitivity: bool,
    keep_unverified: bool,
    static_int8: bool,
) -> dict:
    deploy = fold_model(model)
    with torch.no_grad():
        reference = model(torch.as_tensor(x_eval)).numpy()
        folded = deploy(torch.as_tensor(x_eval)).numpy()
    if not np.isfinite(reference).all():
        raise ExportSetupError(
            "the trained model's logits on eval.npz hold NaN/Inf: the checkpoint cannot be a reference"
        )
    fold_diff = float(np.abs(reference - folded).max())
    # 1e-5 per unit of logit scale: fp32 rounding alone reaches 1e-5 absolute once logits exceed ~100.
    scale = max(1.0, float(np.abs(reference).max()))
    if not fold_diff <= FOLD_TOLERANCE * scale:  # written so that NaN fails
        raise ExportSetupError(
            f"folded model differs from the trained model by {fold_diff:.2e} "
            f"(> {FOLD_TOLERANCE} x logit scale {scale:.1f})"
        )
    arrays = None
    if isinstance(deploy, DeployLGrIN):
        try:
            arrays = folded_arrays(deploy)
        except FoldError as e:
            log(f"note: {e}")
    ctx = ExportContext(
        deploy=deploy, calibration=calibration, out=out, batch=batch, arrays=arrays, static_int8=static_int8
    )
    artifacts, skipped, failed = [], [], []
    logits_c = None
    stage = Path(tempfile.mkdtemp(prefix=".export-partial-", dir=out))
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
                final = out / target.files[precision]
                path = stage / final.name
                log(f"export {name}/{precision} -> {final}")
                start = time.time()
                kept = "the earlier file is kept" if final.exists() else "no file written"
                try:
                    info = target.export(ctx, precision, path)
                    runner = target.load(path, threads)
                    logits = np.asarray(runner(x_eval), dtype=np.float32)
                except Exception as e:
                    failed.append(
                        {
                            **entry,
                            "path": final.name,
                            "verified": False,
                            "kept": kept,
                            "error": f"{type(e).__name__}: {e}",
                        }
                    )
                    log(f"  FAILED ({kept}): {type(e).__name__}: {e}")
                    continue
                result = compare(logits, reference, y_eval, precision)
                record = {
                    **entry,
                    "path": final.name,
                    "bytes": path.stat().st_size,
                    "sha256": sha256(path),
                    "runtime": target.runtime,
                    **result,
                    "seconds": round(time.time() - start, 2),
                    "info": info,
                }
                if not result["verified"]:
                    if keep_unverified:
                        (out / UNVERIFIED_DIR).mkdir(exist_ok=True)
                        place(path, out / UNVERIFIED_DIR / final.name)
                        record["path"] = f"{UNVERIFIED_DIR}/{final.name}"
                    failed.append({**record, "kept": kept})
                    log(f"  NOT VERIFIED ({kept}): top-1 agreement {result['top1_agreement']:.4f}")
                    continue
                place(path, final)
                artifacts.append(record)
                if name == "c":
                    logits_c = logits
            if sensitivity and target.sensitivity and "int8" in precisions:
                log(f"sensitivity {name}/int8: quantising each node alone (training graphs)")
                rows = target.sensitivity(ctx)
                write_json(out / f"sensitivity_{name}.json", rows)
                from lgrin_edge.export.sensitivity import NodeCost, format_report

                log(format_report([NodeCost(**r) for r in rows]))
            if target.follow_up and set(precisions) & set(target.precisions):
                for e in target.follow_up(out, artifacts, x_eval, reference, y_eval, log):
                    (failed if e.get("verified") is False else skipped).append(e)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if ctx.scratch is not None:
            shutil.rmtree(ctx.scratch, ignore_errors=True)
    placed = {(a["target"], a["precision"]) for a in artifacts}
    kept_artifacts, kept_skipped = earlier_entries(out, checkpoint, placed, {s["target"] for s in skipped})
    artifacts, skipped = kept_artifacts + artifacts, kept_skipped + skipped
    if logits_c is None and any(a["target"] == "c" for a in kept_artifacts):
        logits_c = earlier_logits_c(out, x_eval)  # the kept C model's logits stay beside it
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
        "failed": failed,
        "skipped": skipped,
    }
    write_json(out / "manifest.json", manifest)
    return manifest


def earlier_entries(
    out: Path, checkpoint: Path, placed: set[tuple[str, str]], skipped_now: set[str]
) -> tuple[list[dict], list[dict]]:
    """Entries of an earlier export of the same checkpoint into ``out`` whose files this run did not
    replace (other targets, or artifacts that failed now and so kept their earlier file).

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
        if (a.get("target"), a.get("precision")) not in placed
        and a.get("verified")
        and "sha256" in a
        and (out / a["path"]).is_file()
        and sha256(out / a["path"]) == a["sha256"]
    ]
    skipped = [
        s
        for s in old.get("skipped", [])
        if s.get("target") not in skipped_now and (s.get("target"), s.get("precision")) not in placed
    ]
    return arts, skipped


def earlier_logits_c(out: Path, x: np.ndarray) -> np.ndarray | None:
    """The C runtime's logits in an earlier samples.npz of the same held-out graphs, if there is one."""
    try:
        with np.load(out / "samples.npz", allow_pickle=False) as f:
            same = "logits_c" in f.files and np.array_equal(f["x"], x[: len(f["x"])])
            return np.asarray(f["logits_c"]) if same else None
    except (OSError, ValueError, KeyError):
        return None


def write_samples(out: Path, x: np.ndarray, y: np.ndarray, cfg: dict, logits_c: np.ndarray | None) -> None:
    """A few held-out graphs for on-device demos and tests (the Android demo bundles them)."""
    n = min(SAMPLES, len(y))
    arrays = {"x": x[:n], "y": y[:n], "classes": np.array(cfg.get("classes", []), dtype=str)}
    if logits_c is not None:
        arrays["logits_c"] = logits_c[:n]
    write_npz(out / "samples.npz", **arrays)
