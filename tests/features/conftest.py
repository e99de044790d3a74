"""Small synthetic corpora for the feature-pipeline tests (no real corpus is available)."""

from __future__ import annotations

import os
import wave

import numpy as np
import pytest


def write_wav(path: str, seconds: float = 0.6, sr: int = 16000, f0: float = 140.0, seed: int = 0) -> str:
    """A voiced-speech-like 16-bit mono wav: harmonic tone with vibrato, an amplitude envelope and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))) / sr
    voiced = sum(np.sin(k * phase) / k for k in range(1, 6)) * np.hanning(len(t))
    sig = voiced + 0.01 * rng.standard_normal(len(t))
    pcm = np.clip(sig / np.abs(sig).max() * 0.8 * 32767, -32768, 32767).astype("<i2")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())
    return path


def openface_csv(path: str, n: int = 5, success: list[int] | None = None, seed: int = 0) -> str:
    """An OpenFace 2 style CSV (", "-separated header, frame/timestamp/confidence/success, landmarks)."""
    rng = np.random.default_rng(seed)
    success = success if success is not None else [1] * n
    cols = ["frame", "face_id", "timestamp", "confidence", "success"]
    cols += [f"x_{i}" for i in range(68)] + [f"y_{i}" for i in range(68)]
    lines = [", ".join(cols)]
    for f in range(n):
        pts = rng.uniform(100, 400, 136)
        vals = [f + 1, 0, f / 30, 0.98 if success[f] else 0.0, success[f], *np.round(pts, 3)]
        lines.append(", ".join(str(v) for v in vals))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    return path


MVN_JOINTS = [
    "L5", "L3", "T12", "T8", "Neck", "Head", "RightShoulder", "RightUpperArm", "RightForeArm", "RightHand",
    "LeftShoulder", "LeftUpperArm", "LeftForeArm", "LeftHand", "RightUpperLeg", "RightLowerLeg", "RightFoot",
    "RightToe", "LeftUpperLeg", "LeftLowerLeg", "LeftFoot", "LeftToe",
]  # fmt: skip


def write_bvh(path: str, n_frames: int = 6, joints: list[str] | None = None, seed: int = 0) -> str:
    """A BVH file shaped like an Xsens MVN export: Hips root (6 channels) + 22 joints (3 each) = 72."""
    joints = MVN_JOINTS if joints is None else joints
    rng = np.random.default_rng(seed)
    out = ["HIERARCHY", "ROOT Hips", "{", "  OFFSET 0 0 0",
           "  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation"]  # fmt: skip
    # a chain is enough for the parser; the real skeleton branches, which '{'/'}' handle alike
    for j in joints:
        out += [f"JOINT {j}", "{", "  OFFSET 0 1 0", "  CHANNELS 3 Zrotation Xrotation Yrotation"]
    out += ["End Site", "{", "  OFFSET 0 1 0", "}"] + ["}"] * len(joints) + ["}"]
    n_ch = 6 + 3 * len(joints)
    out += ["MOTION", f"Frames: {n_frames}", "Frame Time: 0.008333"]
    data = rng.normal(size=(n_frames, n_ch)).round(4)
    out += [" ".join(str(v) for v in row) for row in data]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write("\n".join(out) + "\n")
    return path


@pytest.fixture
def cache_dir(tmp_path):
    return str(tmp_path / "cache")
