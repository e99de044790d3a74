"""Verification of an artifact in its own runtime against the PyTorch fp32 model, the manifest entries
that record it (:class:`EntryId`: every entry of manifest.json's artifacts, failed and skipped lists), and
what the verdict rests on: how many graphs, how many top-1 flips the bar allows (:func:`allowed_flips`).

The graphs are the checkpoint's held-out ones or the user's own (``--verify-data``, :func:`load_verify_data`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lgrin_edge.atomic import file_sha256
from lgrin_edge.cli import UserError
from lgrin_edge.data.npz import npz_arrays
from lgrin_edge.export.tolerances import VERIFY

# What --verify-data takes, for its help and its error messages.
VERIFY_DATA_FORMAT = "an .npz with x (N, M, P) float32 graphs and y (N,) integer class indices"


@dataclass(frozen=True)
class EntryId:
    """Which file a manifest entry is about: a target's file of one precision, or (``artifact``) what a
    follow-up made or checked from it (targets.FollowUp). Each builder gives its kind of entry the same
    keys in the same order, whoever builds it."""

    target: str
    precision: str
    artifact: str | None = None

    def _head(self) -> dict:
        head = {"target": self.target, "precision": self.precision}
        return head if self.artifact is None else {**head, "artifact": self.artifact}

    def skipped(self, reason: str, **more: object) -> dict:
        """Not made here, and why; ``more``: how to make it elsewhere (a build command)."""
        return {**self._head(), "reason": reason, **more}

    def failed(self, path: str, kept: str, error: str) -> dict:
        """Its exporter or runtime raised ``error``; ``kept`` says what stays of ``path``."""
        return {**self._head(), "path": path, "verified": False, "kept": kept, "error": error}

    def record(self, path: str, file: Path, runtime: str, result: dict, **more: object) -> dict:
        """``file`` (named ``path`` in the export folder) run in ``runtime`` and compared (``result``,
        :func:`compare`); ``more``: what else is known of it. Add ``kept`` where it did not verify."""
        size, digest = file.stat().st_size, file_sha256(file)
        return {
            **self._head(),
            "path": path,
            "bytes": size,
            "sha256": digest,
            "runtime": runtime,
            **result,
            **more,
        }


def allowed_flips(n: int, min_agreement: float) -> int:
    """The most graphs of ``n`` whose top-1 class may differ from the reference while the agreement
    (n - flips) / n still reaches ``min_agreement``: floor((1 - min_agreement) n), settled with the very
    division the agreement is (so 1 - 0.99 rounding in floats never moves the count by one); -1 where
    not even full agreement meets it."""
    flips = min(n, max(0, int(np.floor((1.0 - min_agreement) * n))))
    while flips >= 0 and (n - flips) / n < min_agreement:
        flips -= 1
    while flips < n and (n - flips - 1) / n >= min_agreement:
        flips += 1
    return flips


def compare(logits: np.ndarray, reference: np.ndarray, y: np.ndarray, precision: str) -> dict:
    """Agreement (and ``flips``: graphs whose top-1 class changed, ``flips_allowed`` by the bar), logit
    error and accuracy of ``logits`` versus the fp32 reference; ``verified`` flag."""
    if logits.shape != reference.shape:
        raise ValueError(f"runtime returned logits of shape {logits.shape}, expected {reference.shape}")
    if not len(reference):
        raise ValueError("no graphs to verify on")
    finite = bool(np.isfinite(logits).all())
    same = logits.argmax(1) == reference.argmax(1)
    flips = int(len(same) - np.count_nonzero(same))
    diff = float(np.max(np.abs(logits - reference))) if finite else float("inf")
    tol = VERIFY[precision]
    allowed = allowed_flips(len(same), tol["min_agreement"])
    # Written so that NaN fails: a comparison with NaN is False.
    ok = finite and flips <= allowed and diff <= tol.get("max_abs_diff", float("inf"))
    return {
        "verified": bool(ok),
        "top1_agreement": float(np.mean(same)),
        "flips": flips,
        "flips_allowed": allowed,
        "max_abs_diff": diff,
        "accuracy": float(np.mean(logits.argmax(1) == y)),
        "tolerance": tol,
    }


def flips_said(result: dict, n: int) -> str:
    """A failed artifact's top-1 flips on the ``n`` graphs against what its bar allows, for its line."""
    return f"{result['flips']} of {n} graphs flipped, the bar allows {result['flips_allowed']}"


def bar_said(n: int, kind: str, precisions: Sequence[str]) -> str:
    """What every verdict of an export rests on, said once before the artifacts: ``n`` graphs (``kind``)
    and the top-1 flips (graphs whose class differs from the trained model's) each precision's bar allows."""
    bars: dict[float, list[str]] = {}
    for precision in precisions:
        bars.setdefault(VERIFY[precision]["min_agreement"], []).append(precision)
    said = [
        f"{allowed_flips(n, m)} of them for {'/'.join(names)} (>= {m * 100:g}% agreement)"
        for m, names in bars.items()
    ]
    return (
        f"verifying every artifact on {n} held-out graphs ({kind}): the top-1 class may differ from the "
        f"trained model's on at most {' and '.join(said)}"
    )


class VerifyDataError(UserError):
    """The --verify-data file cannot verify this checkpoint's artifacts."""


def load_verify_data(path: Path, shape: tuple[int, int], classes: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """The user's held-out graphs x (N, M, P) as float32 and labels y (N,) as int64, checked against the
    model's ``shape`` (M, P) and its number of ``classes``, with the manifest's record of them (kind,
    sha256, n). The bytes are read once, so the sha256 is of the very data that was verified on."""
    if not path.is_file():
        raise VerifyDataError(f"--verify-data {path}: {'a folder' if path.is_dir() else 'no such file'}; "
                              f"it takes {VERIFY_DATA_FORMAT}")  # fmt: skip
    data = path.read_bytes()
    arrays = npz_arrays(data, f"--verify-data {path}", VerifyDataError)
    for key in ("x", "y"):
        if key not in arrays:
            raise VerifyDataError(
                f"--verify-data {path} lacks the array {key!r}; it takes {VERIFY_DATA_FORMAT}"
            )
    x, y = arrays["x"], arrays["y"]
    _check_arrays(path, x, y, shape, classes)
    record = {"kind": f"verify-data {path}", "sha256": hashlib.sha256(data).hexdigest(), "n": len(y)}
    return x.astype(np.float32), y.astype(np.int64), record


def _check_arrays(path: Path, x: np.ndarray, y: np.ndarray, shape: tuple[int, int], classes: int) -> None:
    """Refuse, one problem at a time, graphs and labels that cannot verify a model of ``shape`` (M, P)
    and ``classes`` outputs."""
    where = f"--verify-data {path}"
    if x.ndim != 3 or x.shape[1:] != shape:
        raise VerifyDataError(
            f"{where}: x has shape {x.shape}, the checkpoint's model takes graphs (N, {shape[0]}, {shape[1]})"
        )
    if not len(x):
        raise VerifyDataError(f"{where} holds no graphs (x has shape {x.shape})")
    if y.shape != (len(x),):
        raise VerifyDataError(f"{where}: y has shape {y.shape}, expected one label per graph ({len(x)},)")
    if x.dtype.kind != "f":
        raise VerifyDataError(f"{where}: x is {x.dtype}, expected float32 features")
    if y.dtype.kind not in "iu":
        raise VerifyDataError(f"{where}: y is {y.dtype}, expected integer class indices 0..{classes - 1}")
    bad = ~np.isfinite(x).all(axis=(1, 2))
    if bad.any():
        raise VerifyDataError(f"{where}: x holds NaN/Inf values ({int(bad.sum())} of {len(x)} graphs)")
    if not np.isfinite(x.astype(np.float32)).all():
        raise VerifyDataError(f"{where}: x holds values beyond float32's range")
    outside = np.unique(y[(y < 0) | (y >= classes)])
    if len(outside):
        shown = ", ".join(str(v) for v in outside[:5]) + (", ..." if len(outside) > 5 else "")
        raise VerifyDataError(
            f"{where}: y holds labels outside the checkpoint's {classes} classes (0..{classes - 1}): {shown}"
        )
