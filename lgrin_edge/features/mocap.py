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

from lgrin_edge.spec import UNKNOWN, FeatureSpec, Named

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
    joints, channels, i = _parse_hierarchy(path, lines)
    n_frames, frame_time, i = _parse_motion_header(path, lines, i)
    data = _parse_frames(path, lines[i:], n_frames, len(channels))
    return BVH(joints=joints, channels=channels, frames=data, frame_time=frame_time)


def _malformed(path: str, msg: str, lineno: int | None = None) -> FeatureError:
    """The error for a malformed file; ``lineno`` counts from 0."""
    where = f" (line {lineno + 1})" if lineno is not None else ""
    return FeatureError(f"malformed BVH {path}{where}: {msg}")


def _parse_hierarchy(path: str, lines: list[str]) -> tuple[list[str], list[str], int]:
    """The joints and their channels (``Joint.Xrotation``) of the HIERARCHY section, and the index of the
    line after its MOTION keyword."""
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines) or lines[i].strip().upper() != "HIERARCHY":
        raise _malformed(path, "does not start with HIERARCHY")
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
                raise _malformed(path, f"{tok[0]} without a name", i - 1)
            current = " ".join(tok[1:])
            joints.append(current)
        elif head == "END":  # "End Site": a leaf with an offset and no channels
            current = None
        elif head == "{":
            stack.append(current or "")
        elif head == "}":
            if not stack:
                raise _malformed(path, "unbalanced '}'", i - 1)
            stack.pop()
        elif head == "CHANNELS":
            channels.extend(_channel_names(path, tok, current, i - 1))
        elif head == "OFFSET":
            pass
        elif head == "MOTION":
            break
        else:
            raise _malformed(path, f"unexpected token {tok[0]!r} in HIERARCHY", i - 1)
    else:
        raise _malformed(path, "no MOTION section")
    if stack:
        raise _malformed(path, "unbalanced '{' in HIERARCHY")
    if not channels:
        raise _malformed(path, "no CHANNELS in HIERARCHY")
    return joints, channels, i


def _channel_names(path: str, tok: list[str], joint: str | None, lineno: int) -> list[str]:
    """``Joint.channel`` names of one ``CHANNELS n name...`` line of ``joint``."""
    if joint is None:
        raise _malformed(path, "CHANNELS outside a joint", lineno)
    try:
        n = int(tok[1])
    except (IndexError, ValueError):
        raise _malformed(path, "CHANNELS without a count", lineno) from None
    names = tok[2:]
    if len(names) != n:
        raise _malformed(path, f"CHANNELS announces {n} names, lists {len(names)}", lineno)
    return [f"{joint}.{c}" for c in names]


def _parse_motion_header(path: str, lines: list[str], i: int) -> tuple[int, float, int]:
    """``Frames:`` and ``Frame Time:`` from line ``i`` on, and the index of the line after them."""
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
                raise _malformed(path, f"expected 'Frames:' / 'Frame Time:', got {s[:40]!r}", i - 1)
        except ValueError:
            raise _malformed(path, f"bad number in {s[:40]!r}", i - 1) from None
    if n_frames is None or frame_time is None:
        raise _malformed(path, "MOTION lacks 'Frames:' or 'Frame Time:'")
    return n_frames, frame_time, i


def _parse_frames(path: str, lines: list[str], n_frames: int, n_channels: int) -> np.ndarray:
    """The (n_frames, n_channels) float32 motion rows; blank lines skipped, lines past n_frames ignored."""
    rows = [ln for ln in lines if ln.strip()]
    if n_frames == 0 or not rows:
        raise FeatureError(f"empty BVH motion (0 frames): {path}")
    if len(rows) < n_frames:
        raise _malformed(path, f"header announces {n_frames} frames, file holds {len(rows)} (truncated?)")
    values = [r.split() for r in rows[:n_frames]]
    widths = sorted({len(v) for v in values})
    if widths != [n_channels]:
        raise _malformed(path, f"motion rows have {widths} values, hierarchy declares {n_channels} channels")
    try:
        return np.array(values, dtype=np.float32)
    except ValueError as exc:
        raise _malformed(path, f"non-numeric motion value: {exc}") from None


def feature_spec(bvh: BVH, expect_channels: int | None) -> FeatureSpec:
    """The spec of raw BVH channels (those of the first file, ``bvh``): rotations in degrees (the BVH
    convention), positions in the file's length unit, which BVH does not declare."""

    def unit(channel: str) -> str:
        return "degree" if channel.endswith("rotation") else UNKNOWN

    channels = tuple(Named(c, unit(c)) for c in bvh.channels)
    rate = 1 / bvh.frame_time if bvh.frame_time > 0 else UNKNOWN
    return FeatureSpec(
        extractor_id="bvh-mocap",
        extractor_version="1",
        params={
            "channels": "as in the file, unprocessed",
            "expect_channels": expect_channels or UNKNOWN,
            "joints": bvh.joints,
            "frame_time_s": bvh.frame_time,
        },
        features=channels,
        input_kind="motion",
        sample_rate_hz=rate,
        channels=channels,
        frame_rate_hz=rate,
    )


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
