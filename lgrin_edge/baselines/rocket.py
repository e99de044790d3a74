"""One of aeon's convolution classifiers (:data:`BASELINES`) behind one small class: fit, logits, save and
load. A fitted classifier is aeon's three steps (its transform, a scaler, a ridge classifier); saved, it is
their fitted arrays in a safetensors file and a JSON layout of the rest (state.py): no pickle.

aeon's classifiers take equal-length input only, so sequences go in as the dataset holds them: zero-padded
after their end to the longest (SequenceDataset's padding), at least 9 steps (the kernels' length); a
sequence of another length at prediction is zero-padded or cut to the fitted length.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lgrin_edge.baselines import BASELINES, FITTED
from lgrin_edge.baselines.state import Layout, fitted_state, restore

MIN_STEPS = 9  # aeon's kernels span 9 steps
STEP_NAMES = ("transform", "scale", "classify")
HYDRA_INTERNAL = "transform_internal"  # Hydra's random kernels: an object inside its transform


@contextlib.contextmanager
def torch_threads_kept() -> Iterator[None]:
    """aeon's Hydra sets torch's thread count to its n_jobs and leaves it so: put it back afterwards, so a
    baseline fitted in a process does not change how that process trains or times anything else."""
    import torch

    threads = torch.get_num_threads()
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def as_collection(x: np.ndarray, steps: int) -> np.ndarray:
    """(N, T, P) zero-padded sequences -> aeon's (N, P, steps) float32, zero-padded or cut to ``steps``."""
    out = np.zeros((x.shape[0], x.shape[2], steps), dtype=np.float32)
    keep = min(steps, x.shape[1])
    out[:, :, :keep] = np.transpose(x[:, :keep], (0, 2, 1))
    return out


def _classifier(name: str, seed: int) -> Any:
    """aeon's classifier for ``name`` with its defaults, one thread, seeded."""
    from aeon.classification import convolution_based

    return getattr(convolution_based, BASELINES[name][0])(n_jobs=1, random_state=seed)


def _empty_steps(name: str) -> list[Any]:
    """Unfitted objects of the classes ``name``'s three steps are, for :func:`restore` to fill."""
    from aeon.transformations.collection import convolution_based as transforms
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.preprocessing import StandardScaler

    if name == "hydra":
        from aeon.classification.convolution_based._hydra import _SparseScaler

        return [transforms.HydraTransformer(), _SparseScaler(), RidgeClassifierCV()]
    transform = transforms.MiniRocket() if name == "minirocket" else transforms.MultiRocket()
    return [transform, StandardScaler(), RidgeClassifierCV()]


def _hydra_internal(layout: Layout, arrays: dict[str, np.ndarray], steps: int, channels: int) -> Any:
    """Hydra's kernels object, built for the fitted shape (without touching torch's random state) and
    then given the saved kernels."""
    import torch
    from aeon.transformations.collection.convolution_based._hydra import _HydraInternal

    k, g = layout["k"]["value"], layout["g"]["value"]
    with torch.random.fork_rng():
        internal = _HydraInternal(steps, channels, k=k, g=g)
    restore(internal, layout, arrays)
    return internal


@dataclass
class Rocket:
    """A fitted baseline: aeon's pipeline, the number of steps it was fitted on, the dataset's classes."""

    name: str
    pipeline: Any  # sklearn Pipeline: transform, scaler, ridge classifier
    steps: int
    num_classes: int

    @classmethod
    def fit(cls, name: str, x: np.ndarray, y: np.ndarray, num_classes: int, seed: int) -> Rocket:
        """Fit ``name`` with aeon's defaults on (N, T, P) zero-padded sequences ``x`` with labels ``y``."""
        steps = max(MIN_STEPS, x.shape[1])
        with torch_threads_kept():
            clf = _classifier(name, seed).fit(as_collection(x, steps), y)
        return cls(name, clf.clf_ if name == "hydra" else clf.pipeline_, steps, num_classes)

    def logits(self, x: np.ndarray) -> np.ndarray:
        """(N, C) ridge decision values (-inf for a class without training samples)."""
        with torch_threads_kept():
            scores = self.pipeline.decision_function(as_collection(x, self.steps))
        scores = np.asarray(scores, dtype=np.float64)
        if scores.ndim == 1:  # two classes: one score, positive for the second
            scores = np.stack([-scores, scores], axis=1)
        out = np.full((len(scores), self.num_classes), -np.inf)
        out[:, np.asarray(self.pipeline[-1].classes_, dtype=np.int64)] = scores
        return out

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.logits(x).argmax(1)

    def state(self) -> tuple[dict[str, np.ndarray], Layout]:
        """The fitted arrays by key and the layout that puts them back."""
        arrays: dict[str, np.ndarray] = {}
        layout = {
            label: fitted_state(step, label, arrays)
            for label, step in zip(STEP_NAMES, self.pipeline, strict=True)
        }
        internal = getattr(self.pipeline[0], "_hydra", None)
        if internal is not None:
            layout[HYDRA_INTERNAL] = fitted_state(internal, HYDRA_INTERNAL, arrays, skip=("training",))
        return arrays, layout

    def size(self) -> dict[str, int]:
        """How many fitted values the saved arrays hold, and their bytes."""
        arrays = self.state()[0].values()
        return {"fitted_values": sum(a.size for a in arrays), "fitted_bytes": sum(a.nbytes for a in arrays)}

    def save(self, folder: Path) -> dict:
        """Write the fitted arrays to ``folder``/model.safetensors; returns config.json's "config"."""
        from safetensors.numpy import save_file

        from lgrin_edge.atomic import atomic_path

        arrays, layout = self.state()
        with atomic_path(folder / FITTED) as tmp:
            save_file(arrays, str(tmp), metadata={"format_version": "1"})
        channels = int(self.pipeline[0].metadata_["n_channels"])
        return {"steps": self.steps, "channels": channels, "num_classes": self.num_classes, "layout": layout}

    @classmethod
    def load(cls, name: str, config: dict, path: Path) -> Rocket:
        """The baseline ``name`` from its config.json "config" and model.safetensors at ``path``."""
        from safetensors.numpy import load_file
        from sklearn.pipeline import make_pipeline

        arrays, layout = load_file(str(path)), config["layout"]
        steps = _empty_steps(name)
        for label, step in zip(STEP_NAMES, steps, strict=True):
            restore(step, layout[label], arrays)
        steps[0]._n_jobs = 1  # aeon's transforms read their thread count from here
        if HYDRA_INTERNAL in layout:
            steps[0]._hydra = _hydra_internal(
                layout[HYDRA_INTERNAL], arrays, config["steps"], config["channels"]
            )
        return cls(name, make_pipeline(*steps), int(config["steps"]), int(config["num_classes"]))
