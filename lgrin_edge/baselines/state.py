"""An estimator's fitted attributes as plain arrays and a JSON layout, and back: no pickle either way.

Arrays (numpy, torch tensors) go to a safetensors file under dotted keys; everything else an attribute
holds must be a JSON value (numbers, strings, None) or a tuple, list or dict of such values and arrays.
Anything else is refused, so a file can only ever set numbers and arrays on objects the loader built.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

Layout = dict[str, Any]


def encode(value: Any, key: str, arrays: dict[str, np.ndarray]) -> Layout:
    """The layout entry of ``value``; its arrays are added to ``arrays`` under keys starting ``key``."""
    if isinstance(value, np.ndarray):
        arrays[key] = np.ascontiguousarray(value)
        return {"numpy": key}
    if type(value).__module__ == "torch" and type(value).__name__ == "Tensor":
        arrays[key] = np.ascontiguousarray(value.detach().cpu().numpy())
        return {"torch": key}
    if isinstance(value, tuple | list):
        items = [encode(v, f"{key}.{i}", arrays) for i, v in enumerate(value)]
        return {"seq": type(value).__name__, "items": items}
    if isinstance(value, dict):
        return {"dict": {str(k): encode(v, f"{key}.{k}", arrays) for k, v in value.items()}}
    if isinstance(value, np.generic):
        return {"value": value.item()}
    if value is None or isinstance(value, str | bool | numbers.Number):
        return {"value": value}
    raise TypeError(f"cannot save {key} of type {type(value).__name__} without pickle")


def decode(entry: Layout, arrays: dict[str, np.ndarray]) -> Any:
    """The value ``entry`` describes, its arrays taken from ``arrays``."""
    if "numpy" in entry:
        return arrays[entry["numpy"]]
    if "torch" in entry:
        import torch

        return torch.from_numpy(arrays[entry["torch"]].copy())
    if "seq" in entry:
        items = [decode(e, arrays) for e in entry["items"]]
        return tuple(items) if entry["seq"] == "tuple" else items
    if "dict" in entry:
        return {k: decode(e, arrays) for k, e in entry["dict"].items()}
    return entry["value"]


def fitted_state(obj: object, key: str, arrays: dict[str, np.ndarray], skip: tuple[str, ...] = ()) -> Layout:
    """The layout of ``obj``'s public attributes (what fit set and the options it was built with)."""
    return {
        name: encode(value, f"{key}.{name}", arrays)
        for name, value in vars(obj).items()
        if not name.startswith("_") and name not in skip
    }


def restore(obj: object, layout: Layout, arrays: dict[str, np.ndarray]) -> None:
    """Set the attributes ``layout`` records on ``obj`` (built by the caller, of the class it expects)."""
    for name, entry in layout.items():
        setattr(obj, name, decode(entry, arrays))
