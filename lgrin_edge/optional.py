"""Optional dependencies: which extra installs each module, and the one line that says one is missing.

Every command that can reach an optional package asks here first (:func:`installed`) and, where it is
absent, skips that part with :func:`missing` as its reason: "<package> is not installed (pip install
'lgrin-edge[EXTRA]')". Nothing optional is imported at module level anywhere in the package.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass


@dataclass(frozen=True)
class Extra:
    """One optional top-level module: the distribution that provides it and the extra that installs it."""

    module: str
    package: str
    extra: str


_TABLE = (
    Extra("onnx", "onnx", "export"),
    Extra("onnxscript", "onnxscript", "export"),
    Extra("onnxruntime", "onnxruntime", "export"),
    Extra("litert_torch", "litert-torch", "export"),
    Extra("ai_edge_litert", "ai-edge-litert", "export"),
    Extra("ai_edge_quantizer", "ai-edge-quantizer", "export"),
    Extra("executorch", "executorch", "executorch"),
    Extra("tflite_micro", "tflite-micro", "micro"),
    Extra("tensorrt", "tensorrt", "tensorrt"),
    Extra("ray", "ray", "ray"),
    Extra("tensorboard", "tensorboard", "tensorboard"),
    Extra("opensmile", "opensmile", "speech"),
    Extra("soundfile", "soundfile", "speech"),
    Extra("mediapipe", "mediapipe", "video"),
    Extra("cv2", "opencv-contrib-python", "video"),
    Extra("sounddevice", "sounddevice", "live"),
)
OPTIONAL = {o.module: o for o in _TABLE}


def installed(module: str) -> bool:
    """Whether ``module`` can be found, without importing it (a broken or hidden install counts as absent)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def install_hint(module: str) -> str:
    """The command that installs ``module``: the project's extra where it is one of the table's."""
    entry = OPTIONAL.get(module.partition(".")[0])
    return f"pip install 'lgrin-edge[{entry.extra}]'" if entry else f"pip install {module}"


def missing(module: str) -> str:
    """The reason line for an absent ``module``: "<package> is not installed (pip install ...)"."""
    entry = OPTIONAL.get(module.partition(".")[0])
    package = entry.package if entry else module
    return f"{package} is not installed ({install_hint(module)})"


def first_missing(*modules: str) -> str | None:
    """:func:`missing` of the first of ``modules`` that is not installed, None when all are."""
    return next((missing(m) for m in modules if not installed(m)), None)
