"""Export pipeline: load a checkpoint, fold it, export each requested target, verify, write the manifest."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from lgrin_edge import __version__
from lgrin_edge.atomic import exclusive, place, write_json, write_npz
from lgrin_edge.atomic import file_sha256 as sha256
from lgrin_edge.checkpoint import CheckpointError, check_file, load_checkpoint, run_folder
from lgrin_edge.cli import UserError
from lgrin_edge.compress.fold import DeployLGrIN, FoldError, fold_model, folded_arrays
from lgrin_edge.export.targets import TARGETS, ExportContext, FollowUp, Target
from lgrin_edge.export.tolerances import C_REPRODUCTION, FOLD, VERIFY
from lgrin_edge.export.verify import compare

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


@dataclass(frozen=True)
class ExportOptions:
    """What one export is asked for (the command's options)."""

    targets: list[str]
    precisions: list[str]
    batch: int = 1
    threads: int = 1
    sensitivity: bool = False
    keep_unverified: bool = False
    static_int8: bool = False


@dataclass
class _Heldout:
    """The held-out graphs every artifact is verified on, with the trained model's logits."""

    x: np.ndarray
    y: np.ndarray
    reference: np.ndarray


@dataclass
class _Results:
    artifacts: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    sample_logits: dict[str, np.ndarray] = field(default_factory=dict)  # samples.npz key -> logits


@dataclass
class _Job:
    """One export in progress: its inputs, the staging folder, and what it has made so far."""

    ctx: ExportContext
    stage: Path
    held: _Heldout
    opts: ExportOptions
    log: Callable[[str], None]
    results: _Results = field(default_factory=_Results)


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
    opts = ExportOptions(targets, precisions, batch, threads, sensitivity, keep_unverified, static_int8)
    notes = check_options(opts)
    checkpoint = run_folder(checkpoint)
    model, cfg = load_checkpoint(checkpoint)
    calibration, x_eval, y_eval = load_run_data(checkpoint, calibration_n, cfg, _input_shape(cfg))
    check_out_dir(out)
    for note in notes:
        log(note)
    with exclusive(out, "export folder"):
        return _export_locked(checkpoint, model, cfg, calibration, (x_eval, y_eval), out, opts, log)


def check_options(opts: ExportOptions) -> list[str]:
    """Notes on options some requested targets ignore; ExportSetupError for one that none of them uses."""
    given = {"batch": opts.batch != 1, "sensitivity": opts.sensitivity, "static_int8": opts.static_int8}
    notes = []
    asked = "/".join(opts.precisions)
    idle = [t for t in opts.targets if not set(opts.precisions) & set(TARGETS[t].precisions)]
    if idle and len(idle) == len(opts.targets):
        raise ExportSetupError(f"--precision {asked}: there is no {asked} file for {', '.join(idle)}")
    if idle:
        notes.append(f"note: there is no {asked} file for {', '.join(idle)}; skipped")
    for option in (name for name, on in given.items() if on):
        flag = "--" + option.replace("_", "-")
        users = [t for t in opts.targets if TARGETS[t].honours(option)]
        ignored = [t for t in opts.targets if t not in users]
        if not users:
            honoured = ", ".join(n for n, t in TARGETS.items() if t.honours(option))
            raise ExportSetupError(
                f"{flag} changes nothing for {', '.join(ignored)}; it applies to {honoured}"
            )
        if ignored:
            notes.append(f"note: {flag} applies to {', '.join(users)}; ignored by {', '.join(ignored)}")
    return notes


def _input_shape(cfg: dict) -> tuple[int, int]:
    """(M, P) of the model's input graphs, from config.json."""
    try:
        return int(cfg.get("num_nodes") or cfg["config"]["num_nodes"]), int(cfg["config"]["in_features"])
    except (KeyError, TypeError, ValueError):
        raise CheckpointError("config.json does not give the model's input shape; re-run training") from None


def _reference(
    model: torch.nn.Module, deploy: torch.nn.Module, x: np.ndarray
) -> tuple[np.ndarray, float, float]:
    """The trained model's logits on ``x``, and how far the folded model is from them (absolute, and
    the logit scale the tolerance is relative to); ExportSetupError where either is unusable."""
    with torch.no_grad():
        reference = model(torch.as_tensor(x)).numpy()
        folded = deploy(torch.as_tensor(x)).numpy()
    if not np.isfinite(reference).all():
        raise ExportSetupError(
            "the trained model's logits on eval.npz hold NaN/Inf: the checkpoint cannot be a reference"
        )
    fold_diff = float(np.abs(reference - folded).max())
    scale = max(1.0, float(np.abs(reference).max()))
    if not fold_diff <= FOLD * scale:  # written so that NaN fails
        raise ExportSetupError(
            f"folded model differs from the trained model by {fold_diff:.2e} "
            f"(> {FOLD} x logit scale {scale:.1f})"
        )
    return reference, fold_diff, scale


def _export_locked(
    checkpoint: Path,
    model: torch.nn.Module,
    cfg: dict,
    calibration: np.ndarray,
    eval_data: tuple[np.ndarray, np.ndarray],
    out: Path,
    opts: ExportOptions,
    log: Callable[[str], None],
) -> dict:
    deploy = fold_model(model)
    reference, fold_diff, scale = _reference(model, deploy, eval_data[0])
    held = _Heldout(*eval_data, reference)
    arrays = None
    if isinstance(deploy, DeployLGrIN):
        try:
            arrays = folded_arrays(deploy)
        except FoldError as e:
            log(f"note: {e}")
    ctx = ExportContext(
        deploy=deploy,
        calibration=calibration,
        out=out,
        batch=opts.batch,
        arrays=arrays,
        static_int8=opts.static_int8,
    )
    job = _Job(ctx, Path(tempfile.mkdtemp(prefix=".export-partial-", dir=out)), held, opts, log)
    results = job.results
    try:
        for name in opts.targets:
            _export_target(job, TARGETS[name])
    finally:
        shutil.rmtree(job.stage, ignore_errors=True)
        if ctx.scratch is not None:
            shutil.rmtree(ctx.scratch, ignore_errors=True)
    placed = {(a["target"], a["precision"]) for a in results.artifacts}
    skipped_now = {s["target"] for s in results.skipped}
    kept_artifacts, kept_skipped = earlier_entries(out, checkpoint, placed, skipped_now)
    results.artifacts[:0], results.skipped[:0] = kept_artifacts, kept_skipped
    for target in TARGETS.values():
        key = target.sample_logits
        if (
            key
            and key not in results.sample_logits
            and any(a["target"] == target.name for a in kept_artifacts)
        ):
            earlier = earlier_sample_logits(out, held.x, key)  # a kept file's logits stay beside it
            if earlier is not None:
                results.sample_logits[key] = earlier
    write_samples(out, held.x, held.y, cfg, results.sample_logits)
    manifest = _manifest(checkpoint, cfg, held, fold_diff, scale, len(calibration), results)
    write_json(out / "manifest.json", manifest)
    return manifest


def _export_target(job: _Job, target: Target) -> None:
    """Every requested precision of ``target``, then its sensitivity report and follow-up if asked."""
    ctx, opts, results, log = job.ctx, job.opts, job.results, job.log
    for precision in opts.precisions:
        if precision in target.precisions:
            _export_artifact(job, target, precision)
    if opts.sensitivity and target.sensitivity and "int8" in opts.precisions:
        log(f"sensitivity {target.name}/int8: quantising each node alone (training graphs)")
        rows = target.sensitivity(ctx)
        write_json(ctx.out / f"sensitivity_{target.name}.json", rows)
        from lgrin_edge.export.sensitivity import NodeCost, format_report

        log(format_report([NodeCost(**r) for r in rows]))
    follow = target.follow_up
    if follow is not None and follow.precision in opts.precisions:
        made, not_made = _follow_up(job, target, follow)
        results.artifacts.extend(made)
        for e in not_made:
            (results.failed if e.get("verified") is False else results.skipped).append(e)


def _follow_up(job: _Job, target: Target, follow: FollowUp) -> tuple[list[dict], list[dict]]:
    """The follow-up artifact of ``target``, from its file verified in this run (if one was)."""
    wanted = (target.name, follow.precision)
    source = next((a for a in job.results.artifacts if (a["target"], a["precision"]) == wanted), None)
    if source is None:
        what = {"target": target.name, "precision": follow.precision, "artifact": follow.artifact}
        return [], [{**what, "reason": f"no verified {target.name}/{follow.precision} file to start from"}]
    held = job.held
    return follow.run(job.ctx.out, job.stage, source, held.x, held.reference, held.y, job.log)


def _export_artifact(job: _Job, target: Target, precision: str) -> None:
    """Export one file into the staging folder, run it in its runtime, and move it into place if it
    verified."""
    ctx, held, opts, results, log = job.ctx, job.held, job.opts, job.results, job.log
    entry = {"target": target.name, "precision": precision}
    ok, reason = target.status()
    if not ok:
        results.skipped.append({**entry, "reason": reason})
        log(f"skip {target.name}/{precision}: {reason}")
        return
    final = ctx.out / target.files[precision]
    path = job.stage / final.name
    log(f"export {target.name}/{precision} -> {final}")
    start = time.time()
    kept = "the earlier file is kept" if final.exists() else "no file written"
    try:
        info = target.export(ctx, precision, path)
        runner = target.load(path, opts.threads)
        logits = np.asarray(runner(held.x), dtype=np.float32)
        facts = runner.facts()
        info = {**info, **facts}
        if facts:
            log("  runtime: " + ", ".join(f"{k} {v}" for k, v in facts.items()))
    except Exception as e:
        error = f"{type(e).__name__}: {e}"
        results.failed.append({**entry, "path": final.name, "verified": False, "kept": kept, "error": error})
        log(f"  FAILED ({kept}): {error}")
        return
    result = compare(logits, held.reference, held.y, precision)
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
        if opts.keep_unverified:
            (ctx.out / UNVERIFIED_DIR).mkdir(exist_ok=True)
            place(path, ctx.out / UNVERIFIED_DIR / final.name)
            record["path"] = f"{UNVERIFIED_DIR}/{final.name}"
        results.failed.append({**record, "kept": kept})
        log(f"  NOT VERIFIED ({kept}): top-1 agreement {result['top1_agreement']:.4f}")
        return
    place(path, final)
    results.artifacts.append(record)
    if target.sample_logits:
        results.sample_logits[target.sample_logits] = logits


def _manifest(
    checkpoint: Path,
    cfg: dict,
    held: _Heldout,
    fold_diff: float,
    scale: float,
    calibration_n: int,
    results: _Results,
) -> dict:
    return {
        "lgrin_edge": __version__,
        "checkpoint": str(checkpoint),
        "model": {
            "name": cfg["model"],
            "num_nodes": int(held.x.shape[1]),
            "num_features": int(held.x.shape[2]),
            "num_classes": int(held.reference.shape[1]),
            "classes": cfg.get("classes", []),
            "config": cfg["config"],
        },
        "eval_data": {"kind": cfg.get("eval_data", ""), "n": len(held.y)},
        "reference": {
            "runtime": f"pytorch {torch.__version__} fp32",
            "accuracy": float(np.mean(held.reference.argmax(1) == held.y)),
            "fold_max_abs_diff": fold_diff,
            "max_abs_logit": scale,
        },
        "calibration_samples": calibration_n,
        # The numbers every check of these files uses, for the checks made elsewhere (the Android demo's).
        "tolerances": {"fold": FOLD, "verify": VERIFY, "c_reproduction": C_REPRODUCTION},
        "artifacts": results.artifacts,
        "failed": results.failed,
        "skipped": results.skipped,
    }


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


def earlier_sample_logits(out: Path, x: np.ndarray, key: str) -> np.ndarray | None:
    """A target's logits under ``key`` in an earlier samples.npz of the same held-out graphs, if any."""
    try:
        with np.load(out / "samples.npz", allow_pickle=False) as f:
            same = key in f.files and np.array_equal(f["x"], x[: len(f["x"])])
            return np.asarray(f[key]) if same else None
    except (OSError, ValueError, KeyError):
        return None


def write_samples(
    out: Path, x: np.ndarray, y: np.ndarray, cfg: dict, sample_logits: dict[str, np.ndarray]
) -> None:
    """A few held-out graphs for on-device demos and tests (the Android demo bundles them), with the
    logits of the targets whose on-device build must reproduce them (``Target.sample_logits``)."""
    n = min(SAMPLES, len(y))
    arrays = {"x": x[:n], "y": y[:n], "classes": np.array(cfg.get("classes", []), dtype=str)}
    arrays.update({key: logits[:n] for key, logits in sample_logits.items()})
    write_npz(out / "samples.npz", **arrays)
