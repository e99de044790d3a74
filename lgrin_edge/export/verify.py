"""Verification of an artifact in its own runtime against the PyTorch fp32 model, and the manifest entries
that record it (:class:`EntryId`: every entry of manifest.json's artifacts, failed and skipped lists)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lgrin_edge.atomic import file_sha256
from lgrin_edge.export.tolerances import VERIFY


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


def compare(logits: np.ndarray, reference: np.ndarray, y: np.ndarray, precision: str) -> dict:
    """Agreement, logit error and accuracy of ``logits`` versus the fp32 reference; ``verified`` flag."""
    if logits.shape != reference.shape:
        raise ValueError(f"runtime returned logits of shape {logits.shape}, expected {reference.shape}")
    finite = bool(np.isfinite(logits).all())
    agreement = float(np.mean(logits.argmax(1) == reference.argmax(1)))
    diff = float(np.max(np.abs(logits - reference))) if finite else float("inf")
    tol = VERIFY[precision]
    # Written so that NaN fails: a comparison with NaN is False.
    ok = finite and agreement >= tol["min_agreement"] and diff <= tol.get("max_abs_diff", float("inf"))
    return {
        "verified": bool(ok),
        "top1_agreement": agreement,
        "max_abs_diff": diff,
        "accuracy": float(np.mean(logits.argmax(1) == y)),
        "tolerance": tol,
    }
