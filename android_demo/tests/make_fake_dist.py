#!/usr/bin/env python3
"""Fabricate an export-shaped folder for the demo's own tests (not a model: the model files are random bytes).

    python android_demo/tests/make_fake_dist.py OUT [--samples N] [--nodes M] [--features P] [--classes C]

Writes manifest.json (int8 tflite and c artifacts with correct size and sha256), the two model files and
samples.npz (x, y, logits_c, classes) in the layout the real export writes. The real flow uses the export.
"""

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np


def make(out: Path, n: int = 5, m: int = 8, p: int = 3, c: int = 4, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    artifacts = []
    for target, name, runtime in (
        ("tflite", "model_int8.tflite", "ai-edge-litert"),
        ("c", "model_int8.lgrn", "lgrin C99 runtime"),
    ):
        data = rng.integers(0, 256, size=64 + 16 * c, dtype=np.uint8).tobytes()
        (out / name).write_bytes(data)
        artifacts.append(
            {
                "target": target,
                "precision": "int8",
                "path": name,
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "runtime": runtime,
                "verified": True,
                "top1_agreement": 1.0,
                "max_abs_diff": 0.01,
                "accuracy": 0.5,
            }
        )
    classes = np.array([f"class_{i}" for i in range(c - 1)] + ["naïve"])  # one non-ASCII name
    manifest = {
        "artifacts": artifacts,
        "skipped": [],
        "tolerances": {"c_reproduction": 1e-4},  # an export writes lgrin_edge.export.tolerances' values
        "model": {"num_nodes": m, "num_features": p, "num_classes": c, "classes": classes.tolist()},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    np.savez(
        out / "samples.npz",
        x=rng.standard_normal((n, m, p)).astype(np.float32),
        y=rng.integers(0, c, n).astype(np.int64),
        logits_c=rng.standard_normal((n, c)).astype(np.float32),
        classes=classes,
    )
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--nodes", type=int, default=8)
    ap.add_argument("--features", type=int, default=3)
    ap.add_argument("--classes", type=int, default=4)
    a = ap.parse_args()
    print(make(a.out, a.samples, a.nodes, a.features, a.classes))
