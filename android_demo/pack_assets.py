#!/usr/bin/env python3
"""Put an export folder's int8 models and test samples into the Android demo's assets.

    python android_demo/pack_assets.py --dist dist/jv [--out DIR] [--require tflite,c] [--limit N]

Reads ``manifest.json`` and ``samples.npz`` from the export folder, checks every model file against the
manifest (size and sha256, and that the export verified it), and writes into ``--out`` (default: the app's
``app/src/main/assets/lgrin``):

* the int8 ``.tflite`` and C-runtime model files, under the names the manifest gives;
* ``samples.bin``: the held-out samples in the little-endian format below;
* ``demo.properties``: file names, their sha256 (the app checks them again when it loads), model sizes,
  and the export's tolerance for reproducing the reference logits on the device.

samples.bin (all integers unsigned 32-bit little-endian unless noted)::

    magic "LGSAMPL1" | flags (bit 0: reference logits present) | N | M | P | C
    C x (u16 length, UTF-8 class name)
    N x (i32 label, f32[M*P] graph row-major, f32[C] reference logits if flag bit 0)

The output folder is replaced as a whole, so stale models never linger; it may only be new, empty, or an
earlier output of this script (anything else is refused, as is a folder inside or around ``--dist``).
Standard library + numpy only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile
from pathlib import Path

import numpy as np

MAGIC = b"LGSAMPL1"
FLAG_REFERENCE_LOGITS = 1
DEFAULT_OUT = Path(__file__).resolve().parent / "app" / "src" / "main" / "assets" / "lgrin"
BACKENDS = {"tflite": "LiteRT (int8 .tflite)", "c": "C99 runtime via JNI"}


class PackError(Exception):
    """A problem with the export folder, reported to the user without a traceback."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_manifest(dist: Path) -> dict:
    path = dist / "manifest.json"
    if not dist.is_dir():
        raise PackError(f"export folder {dist} does not exist; run `python -m lgrin_edge.export` first")
    if not path.is_file():
        raise PackError(
            f"{path} is missing: {dist} is not an export folder (run `python -m lgrin_edge.export`)"
        )
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise PackError(f"{path} is not valid JSON: {e}") from None
    for key in ("artifacts", "model"):
        if key not in manifest:
            raise PackError(f"{path} has no '{key}' entry")
    for key in ("num_nodes", "num_features", "num_classes"):
        if not isinstance(manifest["model"].get(key), int):
            raise PackError(f"{path}: model.{key} is missing or not an integer")
    return manifest


HEADER = "# written by android_demo/pack_assets.py"
OWN_SUFFIXES = (".tflite", ".lgrn", ".bin", ".properties")


def check_out(dist: Path, out: Path) -> None:
    """Refuse an output folder whose replacement would destroy something this script did not write."""
    d, o = dist.resolve(), out.resolve()
    if o == d or d in o.parents or o in d.parents:
        raise PackError(f"--out {out} overlaps the export folder {dist}; choose a separate assets folder")
    if not out.exists():
        return
    if not out.is_dir():
        raise PackError(f"--out {out} exists and is not a folder")
    entries = list(out.iterdir())
    if not entries:
        return
    props = out / "demo.properties"
    ours = props.is_file() and props.read_text(errors="replace").startswith(HEADER)
    foreign = [e.name for e in entries if not (e.is_file() and e.suffix in OWN_SUFFIXES)]
    if not ours or foreign:
        raise PackError(
            f"--out {out} holds files this script did not write "
            f"({', '.join(sorted(foreign or [e.name for e in entries])[:3])}); choose another folder"
        )


def checked_artifact(dist: Path, manifest: dict, target: str) -> Path | None:
    """The int8 artifact for a target, checked against the manifest; None if the export skipped it."""
    entries = [a for a in manifest["artifacts"] if a.get("target") == target and a.get("precision") == "int8"]
    if not entries:
        return None
    entry = entries[0]
    missing = [k for k in ("path", "bytes", "sha256") if k not in entry]
    if missing:
        raise PackError(f"manifest.json's {target} int8 entry lacks {', '.join(missing)}: export again")
    path = dist / entry["path"]
    if not path.is_file():
        raise PackError(f"{target} int8 model {path} is listed in manifest.json but the file is missing")
    if path.stat().st_size != entry["bytes"]:
        raise PackError(f"{path}: size {path.stat().st_size} bytes, manifest.json says {entry['bytes']}")
    actual = sha256_of(path)
    if actual != entry["sha256"].lower():
        raise PackError(
            f"{path}: sha256 mismatch (file {actual}, manifest.json {entry['sha256']}); "
            "the file changed after export: export again"
        )
    if not entry.get("verified", False):
        raise PackError(f"{path}: manifest.json says the export could not verify it; not packing it")
    return path


def skip_reason(manifest: dict, target: str) -> str:
    for s in manifest.get("skipped", []):
        if s.get("target") == target and s.get("precision", "int8") == "int8":
            return s.get("reason", "no reason given")
    return "not in manifest.json"


def load_samples(dist: Path, model: dict, limit: int | None):
    path = dist / "samples.npz"
    if not path.is_file():
        raise PackError(f"{path} is missing: the export writes the held-out samples there")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = {"x", "y", "classes"} - set(npz.files)
            if missing:
                raise PackError(f"{path} lacks arrays {sorted(missing)}")
            x = np.asarray(npz["x"], dtype=np.float32)
            y = np.asarray(npz["y"], dtype=np.int64)
            classes = [str(c) for c in npz["classes"]]
            ref = np.asarray(npz["logits_c"], dtype=np.float32) if "logits_c" in npz.files else None
    except PackError:
        raise
    except Exception as e:  # zipfile, numpy and OS errors alike mean a damaged file here
        raise PackError(f"{path} is damaged or truncated ({type(e).__name__}: {e}); export again") from None
    m, p, c = model["num_nodes"], model["num_features"], model["num_classes"]
    if x.ndim != 3 or x.shape[1:] != (m, p):
        raise PackError(f"{path}: x has shape {x.shape}, manifest.json says (N, {m}, {p})")
    if y.shape != (len(x),) or len(classes) != c or (ref is not None and ref.shape != (len(x), c)):
        raise PackError(
            f"{path}: y {y.shape}, classes {len(classes)}, logits_c "
            f"{None if ref is None else ref.shape} do not fit N={len(x)}, C={c}"
        )
    if len(x) == 0:
        raise PackError(f"{path} holds no samples")
    if y.min() < 0 or y.max() >= c:
        raise PackError(f"{path}: labels outside 0..{c - 1}")
    if limit is not None:
        x, y, ref = x[:limit], y[:limit], None if ref is None else ref[:limit]
    return x, y, classes, ref


def encode_samples(x: np.ndarray, y: np.ndarray, classes: list[str], ref: np.ndarray | None) -> bytes:
    n, m, p = x.shape
    flags = FLAG_REFERENCE_LOGITS if ref is not None else 0
    out = [MAGIC, struct.pack("<5I", flags, n, m, p, len(classes))]
    for name in classes:
        raw = name.encode("utf-8")
        out.append(struct.pack("<H", len(raw)) + raw)
    for i in range(n):
        out.append(struct.pack("<i", int(y[i])))
        out.append(x[i].astype("<f4").tobytes())
        if ref is not None:
            out.append(ref[i].astype("<f4").tobytes())
    return b"".join(out)


def pack(dist: Path, out: Path, require: set[str], limit: int | None) -> dict[str, str]:
    manifest = load_manifest(dist)
    check_out(dist, out)
    models = _models(dist, manifest, require)
    x, y, classes, ref = load_samples(dist, manifest["model"], limit)
    tolerance = manifest.get("tolerances", {}).get("c_reproduction")
    if ref is not None and not isinstance(tolerance, (int, float)):
        raise PackError(f"{dist / 'manifest.json'} gives no c_reproduction tolerance: export again")

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".lgrin-assets-", dir=out.parent))
    try:
        props = _write_assets(staging, dist, models, x, y, classes, ref, tolerance)
        _publish(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return props


def _models(dist: Path, manifest: dict, require: set[str]) -> dict[str, Path]:
    """The verified int8 model of each backend that has one; a missing one is an error where required,
    else a warning (the app disables that backend)."""
    models = {}
    for target in BACKENDS:
        path = checked_artifact(dist, manifest, target)
        if path is None:
            reason = skip_reason(manifest, target)
            if target in require:
                raise PackError(
                    f"no verified int8 '{target}' artifact in {dist / 'manifest.json'} "
                    f"({reason}); the {BACKENDS[target]} backend needs it"
                )
            print(
                f"warning: no int8 {target} model ({reason}): the app disables {BACKENDS[target]}",
                file=sys.stderr,
            )
        else:
            models[target] = path
    if not models:
        raise PackError(f"{dist} has neither an int8 tflite nor an int8 c model")
    return models


def _write_assets(
    staging: Path,
    dist: Path,
    models: dict[str, Path],
    x: np.ndarray,
    y: np.ndarray,
    classes: list[str],
    ref: np.ndarray | None,
    tolerance: float | None,
) -> dict[str, str]:
    """The models, samples.bin and demo.properties (sizes, file names, sha256s, and the tolerance within
    which the on-device C runtime must reproduce the reference logits) into ``staging``."""
    props = {
        "format": "1",
        "num_nodes": str(x.shape[1]),
        "num_features": str(x.shape[2]),
        "num_classes": str(len(classes)),
        "num_samples": str(len(x)),
    }
    for target, src in models.items():
        shutil.copyfile(src, staging / src.name)
        props[f"{target}.file"] = src.name
        props[f"{target}.sha256"] = sha256_of(staging / src.name)
    (staging / "samples.bin").write_bytes(encode_samples(x, y, classes, ref))
    props["samples.file"] = "samples.bin"
    props["samples.sha256"] = sha256_of(staging / "samples.bin")
    if ref is not None:
        props["reference.tolerance"] = repr(float(tolerance))
    lines = [f"{HEADER} from {dist.name}/manifest.json"]
    lines += [f"{k}={v}" for k, v in sorted(props.items())]
    (staging / "demo.properties").write_text("\n".join(lines) + "\n", encoding="ascii")
    return props


def _publish(staging: Path, out: Path) -> None:
    """Give the staged files the umask's permissions and put the folder in ``out``'s place."""
    mask = os.umask(0)
    os.umask(mask)
    for f in staging.iterdir():
        f.chmod(0o666 & ~mask)
    staging.chmod(0o777 & ~mask)  # mkdtemp makes it 0700
    if out.exists():
        # check_out() found only this script's files there: move them aside, then swap.
        old = Path(tempfile.mkdtemp(prefix=".lgrin-assets-old-", dir=out.parent))
        out.rename(old / out.name)
        staging.rename(out)
        shutil.rmtree(old)
    else:
        staging.rename(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dist", type=Path, required=True, help="export folder holding manifest.json")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"assets folder (default {DEFAULT_OUT})")
    ap.add_argument(
        "--require",
        default="tflite,c",
        help="comma-separated backends whose model must be present (default tflite,c)",
    )
    ap.add_argument("--limit", type=int, default=None, help="pack only the first N samples")
    args = ap.parse_args(argv)
    require = {t for t in args.require.split(",") if t}
    unknown = require - set(BACKENDS)
    if unknown:
        ap.error(f"unknown backend(s) {sorted(unknown)}; choose from {sorted(BACKENDS)}")
    if args.limit is not None and args.limit < 1:
        ap.error("--limit must be at least 1")
    try:
        props = pack(args.dist, args.out, require, args.limit)
    except PackError as e:
        print(f"pack_assets: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pack_assets: interrupted; the assets folder is unchanged", file=sys.stderr)
        return 130
    except OSError as e:
        print(f"pack_assets: error: {e.strerror}: {e.filename}", file=sys.stderr)
        return 1
    backends = ", ".join(BACKENDS[t] for t in BACKENDS if f"{t}.file" in props)
    print(
        f"packed {props['num_samples']} samples (M={props['num_nodes']}, P={props['num_features']}, "
        f"C={props['num_classes']}) and models for {backends} into {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
