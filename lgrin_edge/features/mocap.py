"""Motion capture: BVH export of an Xsens MVN recording -> raw channels per frame (P = 72).

An MVN skeleton has 23 segments: the root (pelvis/hips) with 6 channels (3 positions + 3 Euler angles)
and 22 joints with 3 Euler angles each, so a BVH export carries 6 + 22 * 3 = 72 channels per frame:
the paper's "Euler angles from 22 joints and additional location information of the reference point".
The channels are used as they are in the file (order and units), without preprocessing, as in the paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .common import FeatureError, check_input_file

MVN_CHANNELS = 72


@dataclass
class BVH:
    """Parsed BVH motion: channel names (``Joint.Xrotation``), (T, C) float32 frames, seconds per frame."""

    joints: list[str]
    channels: list[str]
    frames: np.ndarray
    frame_time: float


def parse_bvh(path: str) -> BVH:
    """Parse a BVH file (HIERARCHY + MOTION); raises :class:`FeatureError` naming the file if malformed."""
    check_input_file(path)
    try:
        with open(path, encoding="utf-8", errors="strict") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise FeatureError(f"unreadable BVH file {path}: {exc}") from exc
    lines = text.splitlines()

    def fail(msg: str, lineno: int | None = None) -> FeatureError:
        where = f" (line {lineno + 1})" if lineno is not None else ""
        return FeatureError(f"malformed BVH {path}{where}: {msg}")

    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines) or lines[i].strip().upper() != "HIERARCHY":
        raise fail("does not start with HIERARCHY")
    joints: list[str] = []
    channels: list[str] = []
    stack: list[str] = []
    current: str | None = None
    i += 1
    while i < len(lines):
        tok = lines[i].split()
        i += 1
        if not tok:
            continue
        head = tok[0].upper()
        if head in ("ROOT", "JOINT"):
            if len(tok) < 2:
                raise fail(f"{tok[0]} without a name", i - 1)
            current = " ".join(tok[1:])
            joints.append(current)
        elif head == "END":  # "End Site": a leaf with an offset and no channels
            current = None
        elif head == "{":
            stack.append(current or "")
        elif head == "}":
            if not stack:
                raise fail("unbalanced '}'", i - 1)
            stack.pop()
        elif head == "CHANNELS":
            if current is None:
                raise fail("CHANNELS outside a joint", i - 1)
            try:
                n = int(tok[1])
            except (IndexError, ValueError):
                raise fail("CHANNELS without a count", i - 1) from None
            names = tok[2:]
            if len(names) != n:
                raise fail(f"CHANNELS announces {n} names, lists {len(names)}", i - 1)
            channels.extend(f"{current}.{c}" for c in names)
        elif head == "OFFSET":
            pass
        elif head == "MOTION":
            break
        else:
            raise fail(f"unexpected token {tok[0]!r} in HIERARCHY", i - 1)
    else:
        raise fail("no MOTION section")
    if stack:
        raise fail("unbalanced '{' in HIERARCHY")
    if not channels:
        raise fail("no CHANNELS in HIERARCHY")
    n_frames = frame_time = None
    while i < len(lines) and (n_frames is None or frame_time is None):
        s = lines[i].strip()
        i += 1
        if not s:
            continue
        key, _, val = s.partition(":")
        try:
            if key.strip().lower() == "frames":
                n_frames = int(val)
            elif key.strip().lower() == "frame time":
                frame_time = float(val)
            else:
                raise fail(f"expected 'Frames:' / 'Frame Time:', got {s[:40]!r}", i - 1)
        except ValueError:
            raise fail(f"bad number in {s[:40]!r}", i - 1) from None
    if n_frames is None or frame_time is None:
        raise fail("MOTION lacks 'Frames:' or 'Frame Time:'")
    rows = [ln for ln in lines[i:] if ln.strip()]
    if n_frames == 0 or not rows:
        raise FeatureError(f"empty BVH motion (0 frames): {path}")
    if len(rows) < n_frames:
        raise fail(f"header announces {n_frames} frames, file holds {len(rows)} (truncated?)")
    values = [r.split() for r in rows[:n_frames]]
    widths = sorted({len(v) for v in values})
    if widths != [len(channels)]:
        raise fail(f"motion rows have {widths} values, hierarchy declares {len(channels)} channels")
    try:
        data = np.array(values, dtype=np.float32)
    except ValueError as exc:
        raise fail(f"non-numeric motion value: {exc}") from None
    return BVH(joints=joints, channels=channels, frames=data, frame_time=frame_time)


def mocap_config(expect_channels: int | None) -> dict[str, Any]:
    return {"extractor": "bvh_channels", "expect": expect_channels, "v": 1}


def bvh_features(path: str, expect_channels: int | None = MVN_CHANNELS) -> np.ndarray:
    """(T, C) float32 raw BVH channels; checks C == ``expect_channels`` (72 for Xsens MVN) unless None."""
    bvh = parse_bvh(path)
    if expect_channels is not None and bvh.frames.shape[1] != expect_channels:
        raise FeatureError(
            f"{path} has {bvh.frames.shape[1]} channels ({len(bvh.joints)} joints), expected "
            f"{expect_channels} (Xsens MVN: root position + rotation and 22 joint rotations)"
        )
    return bvh.frames
