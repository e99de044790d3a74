"""Run a modality's extractor over corpus items (with cache and progress bar) and write the npz file."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from lgrin_edge.optional import first_missing
from lgrin_edge.spec import UNKNOWN, FeatureSpec, Named

from . import face, mocap, speech
from .cache import FeatureCache
from .common import FeatureError, Item, MissingPackage
from .npz_writer import write_dataset_npz

log = logging.getLogger(__name__)

MODALITIES = ("speech", "video", "openface", "mocap")
# The optional packages each modality's extractor imports (OpenFace CSVs and BVH need none; speech:
# speech.EXTRACTOR_PACKAGES, by extractor).
PACKAGES = {"video": ("mediapipe", "cv2")}


def check_packages(modality: str, extractor: str = speech.DEFAULT_EXTRACTOR) -> None:
    """Before any extraction: :class:`MissingPackage` naming the first absent package ``modality`` (with
    ``extractor`` for speech) needs."""
    needs = speech.EXTRACTOR_PACKAGES[extractor] if modality == "speech" else PACKAGES.get(modality, ())
    why = first_missing(*needs)
    if why:
        raise MissingPackage(why)


def check_classes(labels: Sequence[str], where: str) -> None:
    """A dataset needs samples of at least two classes; ``where`` names what was looked at."""
    present = sorted(set(labels))
    if len(present) < 2:
        found = f"files of one class only ({present[0]!r})" if present else "no labelled files"
        raise FeatureError(f"{where} holds {found}; a dataset needs at least 2 classes")


@dataclass
class ExtractOptions:
    """Extractor settings: ``speech_extractor`` (speech.EXTRACTORS), ``no_face`` policy and ``face_model``
    (video), ``min_confidence`` (OpenFace), ``expect_channels`` (mocap), ``max_frames`` (truncate long
    sequences; None keeps all frames)."""

    speech_extractor: str = speech.DEFAULT_EXTRACTOR
    no_face: str = "carry"
    face_model: str | None = None
    min_confidence: float = 0.0
    expect_channels: int | None = mocap.MVN_CHANNELS
    max_frames: int | None = None


@dataclass
class Result:
    """Features of the items that were kept, and the (path, reason) of those skipped."""

    seqs: list[np.ndarray]
    items: list[Item]
    feature_names: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    spec: FeatureSpec | None = None  # what the features are (lgrin_edge/spec.py), without classes


def _extractor(
    modality: str, opts: ExtractOptions
) -> tuple[Callable[[str], np.ndarray], dict[str, Any], Callable[[np.ndarray, str], np.ndarray], list[str]]:
    """(raw extractor, cache config, post-processing of cached raw output, feature names)."""
    if modality == "speech" and opts.speech_extractor == "lgrin-speech":
        return speech.lgrin_frames, speech.lgrin_config(), lambda a, p: a, speech.lgrin_names()
    if modality == "speech":
        return speech.is09_frames, speech.speech_config(), lambda a, p: a, speech.feature_names()
    if modality in ("video", "openface"):
        if modality == "video":
            model = opts.face_model

            def raw(p: str) -> np.ndarray:
                return face.video_landmarks(p, model)

            cfg = face.video_config(model)
        else:
            conf = opts.min_confidence

            def raw(p: str) -> np.ndarray:
                return face.read_openface_csv(p, conf)

            cfg = face.openface_config(conf)
        policy = opts.no_face
        if policy not in face.MISSING_POLICIES:
            raise ValueError(f"unknown no-face policy {policy!r}; choose from {face.MISSING_POLICIES}")
        return raw, cfg, lambda a, p: face.apply_missing_policy(a, policy, p), face.feature_names()
    if modality == "mocap":
        exp = opts.expect_channels

        def raw_bvh(p: str) -> np.ndarray:
            return mocap.bvh_features(p, exp)

        return raw_bvh, mocap.mocap_config(exp), lambda a, p: a, []
    raise ValueError(f"unknown modality {modality!r}; choose from {MODALITIES}")


def extract(
    items: Sequence[Item],
    modality: str,
    *,
    options: ExtractOptions | None = None,
    cache: FeatureCache | None = None,
    skip_bad: bool = False,
    progress: bool = True,
) -> Result:
    """Per-frame features for every item: raw extractor output (cached) -> no-face policy -> truncation
    -> per-file constant columns. A bad file raises :class:`FeatureError`, or is skipped and reported
    with ``skip_bad``."""
    from tqdm.auto import tqdm

    opts = options or ExtractOptions()
    raw, cfg, post, names = _extractor(modality, opts)
    cache = cache or FeatureCache(None)
    res = Result(seqs=[], items=[], feature_names=names)
    for it in tqdm(items, desc=f"{modality} features", unit="file", disable=not progress):
        try:
            if not os.path.exists(it.path):
                raise FeatureError(f"missing input: {it.path}")
            arr = post(cache.get_or_compute(it.path, cfg, raw), it.path)
            if arr.shape[0] == 0:
                raise FeatureError(f"no frames left after feature extraction: {it.path}")
        except FeatureError as exc:
            if not skip_bad:
                raise
            log.warning("skipping %s", exc)
            res.skipped.append((it.path, str(exc)))
            continue
        if opts.max_frames is not None:
            arr = arr[: opts.max_frames]
        res.seqs.append(speech.with_static(np.asarray(arr, dtype=np.float32), it.static))
        res.items.append(it)
    if not res.items:
        raise FeatureError(
            "no input file produced features" + (f" ({len(res.skipped)} skipped)" if res.skipped else "")
        )
    if res.skipped:
        check_classes(
            [it.label for it in res.items], f"after skipping {len(res.skipped)} bad file(s), the data"
        )
    spec = _spec(modality, opts, res)
    res.feature_names = [f.name for f in spec.features]
    res.spec = spec
    return res


def _spec(modality: str, opts: ExtractOptions, res: Result) -> FeatureSpec:
    """The spec of ``res``'s frames: the modality's extractor, the options that changed the frames, and
    the per-file constant columns appended to every frame."""
    paths = [it.path for it in res.items]
    if modality == "speech" and opts.speech_extractor == "lgrin-speech":
        from lgrin_edge.frontend import SpeechSpec
        from lgrin_edge.spec import speech_frontend_spec

        spec = speech_frontend_spec(SpeechSpec().to_dict(), [])
    elif modality == "speech":
        spec = speech.feature_spec(res.feature_names, {speech.sample_rate(p) for p in paths})
    elif modality == "mocap":
        spec = mocap.feature_spec(mocap.parse_bvh(paths[0]), opts.expect_channels)
    elif modality == "video":
        rates = {face.video_frame_rate(p) for p in paths}
        rate = rates.pop() if len(rates) == 1 and None not in rates else UNKNOWN
        spec = face.feature_spec(
            "video", {**face.video_config(opts.face_model), "no_face": opts.no_face}, rate
        )
    else:
        cfg = {"min_confidence": opts.min_confidence, "no_face": opts.no_face}
        spec = face.feature_spec("openface", cfg)
    n_static = len(res.items[0].static)
    static = (
        [Named("spontaneity", "1 improvised, 0 scripted")]
        if n_static == 1
        else [Named(f"static_{i}") for i in range(n_static)]
    )
    params = {**spec.params, "max_frames": opts.max_frames or "all"}
    if static:
        params["per_file_columns"] = [c.name for c in static]
    return replace(spec, features=spec.features + tuple(static), params=params)


def write_dataset(
    out: str, result: Result, classes: Sequence[str], *, root: str | None = None, modality: str = ""
) -> str:
    """Write ``result`` in the npz dataset format; groups are written when every item has one."""
    index = {c: i for i, c in enumerate(classes)}
    y = [index[it.label] for it in result.items]
    groups = [it.group for it in result.items]
    files = [os.path.relpath(it.path, root) if root else it.path for it in result.items]
    extra: dict[str, Any] = {
        "files": files,
        "feature_names": result.feature_names,
        "modality": [modality],
    }
    spec = result.spec and replace(result.spec, classes=tuple(classes))
    return write_dataset_npz(
        out,
        result.seqs,
        y,
        groups=groups if all(g >= 0 for g in groups) else None,
        classes=list(classes),
        extra=extra,
        spec=spec,
    )
