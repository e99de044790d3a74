"""MediaPipe face mesh -> model frames, one frame per video frame, as lgrin_edge/features/face.py makes
them from a video: the 68 iBUG points of :data:`~lgrin_edge.features.face.MESH_TO_IBUG68`, MediaPipe's
image-normalised x times the image width and y times its height (in double, then float32), laid out
``[x_0 .. x_67, y_0 .. y_67]``. export/include/lgrin_input.h (``lgrin_face_frame``) and the Android
demo's LandmarkFrames compute the same; their copies of the table are generated from face.py's by
:func:`c_table` and :func:`java_table` (``python -m tests.frontend.test_landmarks`` rewrites them)."""

from __future__ import annotations

import numpy as np

from lgrin_edge.cli import UserError
from lgrin_edge.features.face import MESH_TO_IBUG68, mesh_to_ibug68, points_to_features

MESH_POINTS = (468, 478)  # the mesh without and with the irises
_PER_LINE = 20


def mesh_frames(mesh: np.ndarray, width: int, height: int) -> np.ndarray:
    """(T, 478 or 468, >= 2) meshes (or one (478 or 468, >= 2) mesh) in image-normalised coordinates of a
    ``width`` x ``height`` image -> (T, 136) float32 frames in pixels."""
    m = np.asarray(mesh)
    if m.ndim == 2:
        m = m[None]
    if m.ndim != 3 or m.shape[1] not in MESH_POINTS or m.shape[2] < 2:
        raise UserError(f"face mesh must be (T, 478 or 468, 2 or 3) landmarks, got shape {np.shape(mesh)}")
    for name, v in (("width", width), ("height", height)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise UserError(f"image {name} must be a whole number of pixels >= 1, got {v!r}")
    xy = mesh_to_ibug68(np.asarray(m[:, :, :2], np.float32))
    if not np.isfinite(xy).all():
        raise UserError("face mesh holds NaN or infinity at one of the 68 points")
    # face.py: (p.x * w, p.y * h) in Python floats (double), then float32
    x = xy[..., 0].astype(np.float64) * int(width)
    y = xy[..., 1].astype(np.float64) * int(height)
    return points_to_features(np.stack([x, y], -1).astype(np.float32))


def _rows(indent: str) -> list[str]:
    items = [f"{v},".ljust(4) for v in MESH_TO_IBUG68.tolist()]
    return [indent + " ".join(items[i : i + _PER_LINE]).rstrip() for i in range(0, len(items), _PER_LINE)]


def c_table() -> str:
    """lgrin_input.c's definition of lgrin_mesh_to_ibug68, from face.py's table."""
    return "\n".join(["const uint16_t lgrin_mesh_to_ibug68[LGRIN_FACE_POINTS] = {", *_rows("    "), "};"])


def java_table() -> str:
    """LandmarkFrames.java's MESH_TO_IBUG68, from face.py's table."""
    return "\n".join(["    private static final int[] MESH_TO_IBUG68 = {", *_rows("        "), "    };"])
