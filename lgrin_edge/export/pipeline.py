"""Export pipeline: load a checkpoint, fold it, export each requested target, verify, write the manifest.

Every artifact carries the checkpoint's feature spec (lgrin_edge/spec.py: what input the model needs)
inside it where its format has a place (export/spec_places.py), put there before it is verified; the
manifest and samples.npz carry it too.

An export replaces its folder as one unit: the new folder is built beside it (a hidden name in the same
parent) with every artifact that verified, the earlier export's files this run keeps, samples.npz and
manifest.json, then swapped in for the old one (lgrin_edge.atomic.swap_in). Whatever the moment of an
interrupt, a crash or a full disk, the folder is the earlier export or the new one, whole.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from lgrin_edge import __version__
from lgrin_edge.atomic import (
    check_folder_target,
    exclusive,
    make_stage,
    place,
    swap_in,
    write_json,
    write_npz,
)
from lgrin_edge.atomic import file_sha256 as sha256
from lgrin_edge.checkpoint import CheckpointError, check_file, feature_spec, load_checkpoint, run_folder
from lgrin_edge.cli import UserError, interrupt_between_steps, step_done
from lgrin_edge.compress.fold import DeployLGrIN, FoldError, fold_model
from lgrin_edge.data.splits import FINAL_VALIDATION
from lgrin_edge.deploy.folded import graph_cost_text
from lgrin_edge.deploy.int8 import require_paper_configuration
from lgrin_edge.export.spec_places import embed_spec, spec_place
from lgrin_edge.export.targets import TARGETS, ExportContext, FollowUp, FollowUpCall, Target
from lgrin_edge.export.tolerances import C_REPRODUCTION, FOLD, VERIFY
from lgrin_edge.export.verify import (
    EntryId,
    bar_said,
    compare,
    flips_said,
    load_verify_data,
)
from lgrin_edge.models.common import FeatureNorm
from lgrin_edge.spec import INSIDE_MODEL, NPZ_KEY, FeatureSpec

SAMPLES = 32


MANIFEST = "manifest.json"
SAMPLES_FILE = "samples.npz"
# The log of third-party library output, moved into the folder once the export is in place.
EXPORT_LOG = "export.log"
# Where --keep-unverified puts artifacts that missed their tolerance (for inspection and timing only).
UNVERIFIED_DIR = "unverified"
# Inside the stage: files not yet verified (removed before the swap, so it is never part of an export).
WORK_DIR = ".candidates"


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


def _read_manifest(out: Path) -> dict | None:
    """The manifest in ``out`` when lgrin_edge.export wrote it, else None."""
    try:
        manifest = json.loads((out / MANIFEST).read_text())
    except (ValueError, UnicodeDecodeError, OSError):
        return None
    return manifest if isinstance(manifest, dict) and "lgrin_edge" in manifest else None


def _listed(manifest: dict | None) -> set[str]:
    """The top-level names of every path ``manifest`` lists (artifacts, failed ones, resolver headers)."""
    names = set()
    for key in ("artifacts", "failed", "skipped"):
        entries = manifest.get(key) if manifest else None
        for entry in entries if isinstance(entries, list) else []:
            paths = entry_files(entry) if isinstance(entry, dict) else {}
            names |= {path.split("/")[0] for path in paths if path}
    return names


def entry_files(entry: dict) -> dict[str, object]:
    """Every file a manifest entry stands for, path -> its recorded sha256: the artifact, a follow-up's
    second file (TFLite Micro's resolver header) and the files a bundle holds beside it (the web page)."""
    files: dict[str, object] = {}
    if isinstance(entry.get("path"), str):
        files[entry["path"]] = entry.get("sha256")
    if isinstance(entry.get("resolver_header"), str):
        files[entry["resolver_header"]] = entry.get("header_sha256")
    bundle = entry.get("bundle")
    if isinstance(bundle, dict):
        files.update({k: v for k, v in bundle.items() if isinstance(k, str)})
    return files


def own_files(out: Path) -> set[str]:
    """The names an export folder may hold: what an export writes there, and nothing else."""
    names = {MANIFEST, SAMPLES_FILE, EXPORT_LOG, UNVERIFIED_DIR}
    names |= {t.follow_up.file for t in TARGETS.values() if t.follow_up}
    names |= {p.name for p in out.glob("sensitivity_*.json")}
    return names | _listed(_read_manifest(out))


def check_out_dir(out: Path) -> None:
    """Before any work: the export folder may be new, empty, or an earlier export's (replaced whole by
    the new one); a folder holding anything else, or one that cannot be made or swapped, is refused."""
    if (out / MANIFEST).is_file() and _read_manifest(out) is None:
        raise ExportSetupError(f"{out / MANIFEST} was not written by lgrin_edge.export; choose another --out")
    check_folder_target(out, own_files(out), True, "lgrin_edge export", "")


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
    qat_epochs: int = 0


@dataclass
class _Heldout:
    """The held-out graphs every artifact is verified on, with the trained model's logits and the
    manifest's record of the graphs (``eval_data``: kind, n, and the sha256 of a --verify-data file)."""

    x: np.ndarray
    y: np.ndarray
    reference: np.ndarray
    record: dict


@dataclass
class _Results:
    artifacts: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    sample_logits: dict[str, np.ndarray] = field(default_factory=dict)  # samples.npz key -> logits


@dataclass(frozen=True)
class _Folders:
    """Where one export writes. ``stage`` is the new export folder, built beside ``out`` and swapped in
    for it whole at the end; ``work`` (inside the stage, removed before the swap) holds files not yet
    verified; ``out`` is named in messages and commands."""

    stage: Path
    work: Path
    out: Path


@dataclass
class _Job:
    """One export in progress: its inputs, its folders, and what it has made so far."""

    ctx: ExportContext
    folders: _Folders
    held: _Heldout
    opts: ExportOptions
    log: Callable[[str], None]
    spec: FeatureSpec  # what every artifact carries
    earlier: dict | None  # the earlier export's manifest, where it is of the same checkpoint
    unchanged: list[dict]  # its verified entries whose files are unchanged
    results: _Results = field(default_factory=_Results)
    written: set[str] = field(default_factory=set)  # names of the files this run tried to make


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
    last_files: Callable[[Path], None] | None = None,
    verify_data: Path | None = None,
    qat_epochs: int = 0,
) -> dict:
    """Export and verify; returns the manifest (also written to out/manifest.json).

    Every artifact is verified on the checkpoint's held-out graphs (eval.npz), or on ``verify_data``
    (the user's own .npz of graphs and labels, checked before any work) where given.

    ``last_files(stage)`` may add files of the command's own (its log, :data:`EXPORT_LOG`) to the
    finished stage just before it replaces ``out``, so they land with the export or not at all.

    Every artifact is made and verified in a new folder beside ``out``, which then replaces ``out`` as
    one unit; an artifact that fails keeps the earlier file of its name. Where nothing verified and
    nothing earlier is kept, an earlier export in ``out`` is left as it was. More ``calibration_n`` than
    the checkpoint's training graphs uses all of them, with a note. ``qat_epochs`` > 0 fine-tunes the
    full-integer files (``static_int8``) of the targets that have it (tflite) on the training graphs.
    """
    for name, value in (("calibration", calibration_n), ("batch", batch), ("threads", threads)):
        if value < 1:
            raise ExportSetupError(f"--{name} must be >= 1, got {value}")
    if qat_epochs < 0:
        raise ExportSetupError(f"--qat-epochs must be >= 0, got {qat_epochs}")
    opts = ExportOptions(
        targets, precisions, batch, threads, sensitivity, keep_unverified, static_int8, qat_epochs
    )
    notes = check_options(opts)
    check_out_dir(out)
    checkpoint = run_folder(checkpoint)
    model, cfg = load_checkpoint(checkpoint)
    spec = _feature_spec(model, cfg, notes)
    calibration, *eval_data = _run_data(checkpoint, cfg, calibration_n, verify_data, notes)
    for note in notes:
        log(note)
    with exclusive(out, "export folder"):
        check_out_dir(out)  # again under the lock: another export may have finished into it meanwhile
        return _export_locked(
            checkpoint, model, cfg, spec, calibration, tuple(eval_data), out, opts, log, last_files
        )


def _run_data(
    checkpoint: Path, cfg: dict, calibration_n: int, verify_data: Path | None, notes: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """The calibration graphs, and the held-out graphs, labels and their manifest record: the
    checkpoint's eval.npz, or the user's ``verify_data``; notes on what they are."""
    shape = _input_shape(cfg)
    calibration, x, y = load_run_data(checkpoint, calibration_n, cfg, shape)
    if len(calibration) < calibration_n:
        notes.append(
            f"note: --calibration {calibration_n}: using the {len(calibration)} training graphs there are"
        )
    if verify_data is not None:
        x, y, record = load_verify_data(verify_data, shape, _num_classes(cfg))
        return calibration, x, y, record
    kind = cfg.get("eval_data", "")
    if kind.startswith(FINAL_VALIDATION):  # a k-fold run: its test folds' models were not kept
        notes.append(
            "note: a k-fold run keeps no test set: the artifacts are verified on its final model's "
            f"validation split, {len(y)} graphs; --verify-data NPZ verifies them on held-out graphs of "
            f"your own (x (N, {shape[0]}, {shape[1]}) float32, y (N,) class indices)"
        )
    return calibration, x, y, {"kind": kind, "n": len(y)}


def _num_classes(cfg: dict) -> int:
    """How many classes the checkpoint's classifier tells apart, from config.json."""
    try:
        return int(cfg["config"].get("num_classes") or len(cfg["classes"]))
    except (KeyError, TypeError, ValueError):
        raise CheckpointError("config.json does not give the model's classes; re-run training") from None


def _feature_spec(model: torch.nn.Module, cfg: dict, notes: list[str]) -> FeatureSpec:
    """The checkpoint's feature spec, its normalisation checked against the model: every model of the
    package normalises its input itself (models/common.py FeatureNorm, folded into the deployed graph's
    first operation); a note where the checkpoint predates recorded specs."""
    spec, recorded = feature_spec(cfg)
    if not recorded:
        notes.append(
            "note: the checkpoint records no feature spec (trained before runs did); the artifacts carry "
            "one of what config.json knows (classes, M, P, long_policy), 'unknown' for the rest"
        )
    inside = isinstance(getattr(model, "norm", None), FeatureNorm)
    if spec.normalisation == INSIDE_MODEL and not inside:
        raise ExportSetupError(
            "the feature spec says the model normalises its input, but it holds no FeatureNorm"
        )
    return spec


def check_options(opts: ExportOptions) -> list[str]:
    """Notes on options some requested targets ignore; ExportSetupError for one that none of them uses."""
    given = {"batch": opts.batch != 1, "sensitivity": opts.sensitivity, "static_int8": opts.static_int8}
    given["qat_epochs"] = opts.qat_epochs > 0
    asked = "/".join(opts.precisions)
    if given["qat_epochs"] and not opts.static_int8:
        raise ExportSetupError("--qat-epochs fine-tunes the full-integer file: add --static-int8")
    if given["qat_epochs"] and "int8" not in opts.precisions:
        raise ExportSetupError(f"--qat-epochs fine-tunes the int8 file: --precision {asked} makes none")
    notes = []
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
    model: torch.nn.Module, deploy: torch.nn.Module, x: np.ndarray, source: str = "eval.npz"
) -> tuple[np.ndarray, float, float]:
    """The trained model's logits on ``x``, and how far the folded model is from them (absolute, and
    the logit scale the tolerance is relative to); ExportSetupError where either is unusable. ``source``
    names the graphs ``x`` in messages."""
    with torch.no_grad():
        reference = model(torch.as_tensor(x)).numpy()
        folded = deploy(torch.as_tensor(x)).numpy()
    if not np.isfinite(reference).all():
        raise ExportSetupError(
            f"the trained model's logits on {source} hold NaN/Inf: the checkpoint cannot be a reference"
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
    spec: FeatureSpec,
    calibration: np.ndarray,
    eval_data: tuple[np.ndarray, np.ndarray, dict],
    out: Path,
    opts: ExportOptions,
    log: Callable[[str], None],
    last_files: Callable[[Path], None] | None = None,
) -> dict:
    deploy = fold_model(model)
    x, y, record = eval_data
    source = record["kind"] if "sha256" in record else "eval.npz"
    reference, fold_diff, scale = _reference(model, deploy, x, source)
    held = _Heldout(x, y, reference, record)
    made = [p for p in opts.precisions if any(p in TARGETS[t].precisions for t in opts.targets)]
    log(bar_said(len(y), record["kind"], made))
    arrays = None
    if isinstance(deploy, DeployLGrIN):
        forms = {t: TARGETS[t].graph_form for t in opts.targets}
        log(graph_cost_text(deploy.folded(), forms))
        try:
            arrays = require_paper_configuration(deploy.folded())
        except FoldError as e:
            log(f"note: {e}")
    ctx = ExportContext(
        deploy=deploy,
        calibration=calibration,
        batch=opts.batch,
        arrays=arrays,
        static_int8=opts.static_int8,
        qat_epochs=opts.qat_epochs,
    )
    earlier = _read_manifest(out)
    same = earlier if _same_checkpoint(earlier, checkpoint, cfg) else None
    stage = make_stage(out)
    try:
        folders = _Folders(stage, stage / WORK_DIR, out)
        folders.work.mkdir()
        job = _Job(ctx, folders, held, opts, log, spec, same, _unchanged(out, same) if same else [])
        with interrupt_between_steps():
            for name in opts.targets:
                _export_target(job, TARGETS[name])
            shutil.rmtree(folders.work)
            manifest = _finish(job, checkpoint, cfg, (fold_diff, scale), len(calibration))
        if manifest["artifacts"] or earlier is None:
            if last_files is not None:
                last_files(stage)
            swap_in(stage, out)
        else:
            log(f"nothing verified and nothing earlier kept: the earlier export in {out} is unchanged")
        return manifest
    finally:
        shutil.rmtree(stage, ignore_errors=True)  # a discarded stage, or the earlier export's contents
        if ctx.scratch is not None:
            shutil.rmtree(ctx.scratch, ignore_errors=True)


def _finish(job: _Job, checkpoint: Path, cfg: dict, fold: tuple[float, float], calibration_n: int) -> dict:
    """Complete the stage: the earlier files this run keeps, samples.npz, and the manifest (last)."""
    results, stage, out, held = job.results, job.folders.stage, job.folders.out, job.held
    placed = {(a["target"], a["precision"]) for a in results.artifacts}
    skipped_now = {s["target"] for s in results.skipped}
    kept_artifacts = keep_earlier(out, stage, job.unchanged, placed)
    kept_skipped = []
    if job.earlier is not None:
        kept_skipped = [
            s
            for s in job.earlier.get("skipped", [])
            if s.get("target") not in skipped_now and (s.get("target"), s.get("precision")) not in placed
        ]
        _keep_reports(out, stage, job.written)
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
    for a in kept_artifacts:  # exported before artifacts carried the spec: say so, do not pretend
        a.setdefault("feature_spec", "not inside: exported before artifacts carried one; export it again")
        _verified_on(a, job.earlier, held.record)
    write_samples(stage, held.x, held.y, cfg, results.sample_logits, job.spec)
    manifest = _manifest(checkpoint, cfg, job.spec, held, *fold, calibration_n, results)
    write_json(stage / MANIFEST, manifest)
    return manifest


def _verified_on(entry: dict, earlier: dict | None, record: dict) -> None:
    """Mark a kept entry verified on other graphs than this run's (``record``) with the earlier export's
    record of them (``verified_on``), so the manifest never claims this run's data verified it."""
    then = entry.get("verified_on", earlier.get("eval_data") if earlier else None)
    if then == record:
        entry.pop("verified_on", None)
    else:
        entry["verified_on"] = then if isinstance(then, dict) else "unknown (an earlier export's graphs)"


def _export_target(job: _Job, target: Target) -> None:
    """Every requested precision of ``target``, then its sensitivity report and follow-up if asked."""
    ctx, opts, results, log = job.ctx, job.opts, job.results, job.log
    for precision in opts.precisions:
        if precision in target.precisions:
            _export_artifact(job, target, precision)
            step_done()
    if opts.sensitivity and target.sensitivity and "int8" in opts.precisions:
        log(f"sensitivity {target.name}/int8: quantising each node alone (training graphs)")
        rows = target.sensitivity(ctx)
        name = f"sensitivity_{target.name}.json"
        job.written.add(name)
        write_json(job.folders.stage / name, rows)
        from lgrin_edge.export.sensitivity import NodeCost, format_report

        log(format_report([NodeCost(**r) for r in rows]))
    follow = target.follow_up
    step_done()
    if follow is not None and follow.precision in opts.precisions:
        made, not_made = _follow_up(job, target, follow)
        step_done()
        results.artifacts.extend({**m, "feature_spec": spec_place(m.get("path", ""))} for m in made)
        for e in not_made:
            (results.failed if e.get("verified") is False else results.skipped).append(e)


def _follow_up(job: _Job, target: Target, follow: FollowUp) -> tuple[list[dict], list[dict]]:
    """The follow-up artifact of ``target``, from its file verified in this run (if one was); its
    identity and file are its row of the target table."""
    wanted = (target.name, follow.precision)
    what = EntryId(target.name, follow.precision, follow.artifact)
    source = next((a for a in job.results.artifacts if (a["target"], a["precision"]) == wanted), None)
    if source is None:
        return [], [what.skipped(f"no verified {target.name}/{follow.precision} file to start from")]
    held, folders = job.held, job.folders
    job.written.add(follow.file)
    call = FollowUpCall(
        what, follow.file, source, out=folders.stage, work=folders.work, named=folders.out, x=held.x,
        reference=held.reference, y=held.y, log=job.log,
    )  # fmt: skip
    try:
        return follow.run(call)
    except Exception as e:  # one runtime's failure costs its own file, never the rest of the export
        error, kept = f"{type(e).__name__}: {e}", "no file written"
        job.log(f"  {target.name} ({follow.artifact}) FAILED ({kept}): {error}")
        return [], [what.failed(follow.file, kept, error)]


def _export_artifact(job: _Job, target: Target, precision: str) -> None:
    """Export one file into the work folder, run it in its runtime, and move it into the stage if it
    verified."""
    ctx, held, opts, results, log = job.ctx, job.held, job.opts, job.results, job.log
    what = EntryId(target.name, precision)
    ok, reason = target.status()
    if not ok:
        results.skipped.append(what.skipped(reason))
        log(f"skip {target.name}/{precision}: {reason}")
        return
    name = target.files[precision]
    job.written.add(name)
    path = job.folders.work / name
    path.parent.mkdir(parents=True, exist_ok=True)
    log(f"export {target.name}/{precision} -> {job.folders.out / name}")
    start = time.time()
    earlier = any((a["target"], a["precision"]) == (target.name, precision) for a in job.unchanged)
    kept = "the earlier file is kept" if earlier else "no file written"
    try:
        info = target.export(ctx, precision, path)
        bundle = _bundle(path, name, info.pop("bundle", ()))
        for line in info.pop("log", ()):  # what the exporter did that a user should read (not the manifest)
            log(f"  {line}")
        place_spec = embed_spec(path, job.spec)
        runner = target.load(path, opts.threads)
        logits = np.asarray(runner(held.x), dtype=np.float32)
        facts = {**runner.facts(), **_reproduces(target, path, logits, held.x)}
        info = {**info, **facts}
        if facts:
            log("  runtime: " + ", ".join(f"{k} {v}" for k, v in facts.items()))
    except Exception as e:
        error = f"{type(e).__name__}: {e}"
        results.failed.append(what.failed(name, kept, error))
        log(f"  FAILED ({kept}): {error}")
        return
    result = compare(logits, held.reference, held.y, precision)
    seconds = round(time.time() - start, 2)
    more = {"bundle": bundle} if bundle else {}
    record = what.record(
        name, path, target.runtime, result, seconds=seconds, feature_spec=place_spec, info=info, **more
    )
    if not result["verified"]:
        if opts.keep_unverified:
            (job.folders.stage / UNVERIFIED_DIR).mkdir(exist_ok=True)
            place(path, job.folders.stage / UNVERIFIED_DIR / path.name)
            record["path"] = f"{UNVERIFIED_DIR}/{path.name}"
            record.pop("bundle", None)
        results.failed.append({**record, "kept": kept})
        log(
            f"  NOT VERIFIED ({kept}): top-1 agreement {result['top1_agreement']:.4f} "
            f"({flips_said(result, len(held.y))})"
        )
        return
    for file in (name, *bundle):
        (job.folders.stage / file).parent.mkdir(parents=True, exist_ok=True)
        place(job.folders.work / file, job.folders.stage / file)
    results.artifacts.append(record)
    if target.sample_logits:
        results.sample_logits[target.sample_logits] = logits


def _reproduces(target: Target, path: Path, logits: np.ndarray, x: np.ndarray) -> dict:
    """Where ``target`` runs another target's file format (``Target.same_as``), how its logits compare
    with that target's runtime on the same file: bit-identical is what the format promises."""
    if target.same_as is None:
        return {}
    theirs = np.asarray(TARGETS[target.same_as].load(path, 1)(x), dtype=np.float32)
    same = np.array_equal(logits.view(np.uint32), theirs.view(np.uint32))
    diff = float(np.max(np.abs(logits - theirs))) if len(x) else 0.0
    return {
        f"same_as_{target.same_as}": f"bit-identical on {len(x)} graphs"
        if same
        else f"max abs diff {diff:.3g}"
    }


def _bundle(path: Path, name: str, files: Sequence[str]) -> dict[str, str]:
    """The files an exporter wrote beside ``path`` (named ``name`` in the export folder) that belong to
    its artifact, as export-folder path -> sha256 (the web target's page, runtime and .wasm files)."""
    folder = name.rpartition("/")[0]
    return {f"{folder}/{f}" if folder else f: sha256(path.parent / f) for f in files}


def _same_checkpoint(earlier: dict | None, checkpoint: Path, cfg: dict) -> bool:
    """Whether the earlier export in the folder is of this very checkpoint: the same run folder and the
    same weights and data (a manifest that did not record them counts as another checkpoint)."""
    return (
        earlier is not None
        and earlier.get("checkpoint") == str(checkpoint)
        and bool(cfg.get("files"))
        and earlier.get("checkpoint_files") == cfg.get("files")
    )


def _manifest(
    checkpoint: Path,
    cfg: dict,
    spec: FeatureSpec,
    held: _Heldout,
    fold_diff: float,
    scale: float,
    calibration_n: int,
    results: _Results,
) -> dict:
    return {
        "lgrin_edge": __version__,
        "checkpoint": str(checkpoint),
        # sha256 of the run's weights and data (config.json's): a run retrained in the same folder is
        # another checkpoint, whose export keeps none of the earlier one's files
        "checkpoint_files": cfg.get("files", {}),
        "model": {
            "name": cfg["model"],
            "num_nodes": int(held.x.shape[1]),
            "num_features": int(held.x.shape[2]),
            "num_classes": int(held.reference.shape[1]),
            "classes": cfg.get("classes", []),
            "config": cfg["config"],
        },
        NPZ_KEY: spec.to_dict(),
        "eval_data": held.record,
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


def _own_path(path: object) -> bool:
    """``path`` names a file inside the export folder, directly or in one subfolder of it (the web
    bundle's): a manifest is data, not a command, so nothing else is followed."""
    if not isinstance(path, str) or "\\" in path:
        return False
    parts = path.split("/")
    return len(parts) <= 2 and all(p not in ("", ".", "..") for p in parts)


def _unchanged(out: Path, earlier: dict) -> list[dict]:
    """The earlier manifest's verified entries whose files in ``out`` are all unchanged (same sha256)."""
    entries = earlier.get("artifacts")
    return [
        a
        for a in (entries if isinstance(entries, list) else [])
        if isinstance(a, dict)
        and a.get("verified")
        and _own_path(a.get("path"))
        and all(
            _own_path(name) and (out / name).is_file() and sha256(out / name) == digest
            for name, digest in entry_files(a).items()
        )
    ]


def _carry(source: Path, target: Path) -> None:
    """Put an earlier export's file into the stage: a hard link (no copy of the bytes), else a copy."""
    if target.exists():
        return
    target.parent.mkdir(exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def keep_earlier(out: Path, stage: Path, earlier: list[dict], placed: set[tuple[str, str]]) -> list[dict]:
    """The earlier entries this run did not replace (other targets, or artifacts that failed now and so
    keep their earlier file), their files carried into ``stage`` and checked there: exporting one target
    at a time builds up one manifest without ever listing a stale artifact."""
    kept: list[dict] = []
    for a in earlier:
        if (a.get("target"), a.get("precision")) in placed:
            continue
        files = entry_files(a)
        for name in files:
            _carry(out / name, stage / name)
        if all(sha256(stage / name) == digest for name, digest in files.items()):
            kept.append(a)
        else:  # changed since the run began: not part of the new export
            for name in set(files) - {n for k in kept for n in entry_files(k)}:
                (stage / name).unlink(missing_ok=True)
    return kept


def _keep_reports(out: Path, stage: Path, written: set[str]) -> None:
    """The earlier export's sensitivity reports and unverified files (same checkpoint) that this run
    did not make again: nothing an export wrote is lost to a later export of other targets."""
    for report in out.glob("sensitivity_*.json"):
        if report.name not in written and report.is_file():
            _carry(report, stage / report.name)
    unverified = out / UNVERIFIED_DIR
    for path in sorted(unverified.iterdir()) if unverified.is_dir() else []:
        if path.name not in written and path.is_file() and not path.is_symlink():
            _carry(path, stage / UNVERIFIED_DIR / path.name)


def earlier_sample_logits(out: Path, x: np.ndarray, key: str) -> np.ndarray | None:
    """A target's logits under ``key`` in an earlier samples.npz of the same held-out graphs, if any."""
    try:
        with np.load(out / SAMPLES_FILE, allow_pickle=False) as f:
            same = key in f.files and np.array_equal(f["x"], x[: len(f["x"])])
            return np.asarray(f[key]) if same else None
    except (OSError, ValueError, KeyError):
        return None


def write_samples(
    out: Path,
    x: np.ndarray,
    y: np.ndarray,
    cfg: dict,
    sample_logits: dict[str, np.ndarray],
    spec: FeatureSpec,
) -> None:
    """A few held-out graphs for on-device demos and tests (the Android demo bundles them), with the
    logits of the targets whose on-device build must reproduce them (``Target.sample_logits``) and the
    feature spec (its JSON, one string)."""
    n = min(SAMPLES, len(y))
    arrays = {"x": x[:n], "y": y[:n], "classes": np.array(cfg.get("classes", []), dtype=str)}
    arrays[NPZ_KEY] = np.array([spec.to_json()], dtype=str)
    arrays.update({key: logits[:n] for key, logits in sample_logits.items()})
    write_npz(out / SAMPLES_FILE, **arrays)
