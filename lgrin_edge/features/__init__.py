"""Feature pipelines: raw emotion corpora (speech, face video, motion capture) -> npz datasets.

``python -m lgrin_edge.features --help`` lists the corpora; docs/features.md documents layouts,
label mappings and policies. Heavy dependencies (opensmile, mediapipe, opencv) load only when used.
"""

from .cache import FeatureCache, default_cache_dir
from .common import FeatureError, Item
from .corpora import enterface_items, folder_items, iemocap_items, mpi_items, ravdess_items, rml_items
from .npz_writer import pad_sequences, write_dataset_npz
from .pipeline import ExtractOptions, Result, extract, write_dataset

__all__ = [
    "ExtractOptions",
    "FeatureCache",
    "FeatureError",
    "Item",
    "Result",
    "default_cache_dir",
    "enterface_items",
    "extract",
    "folder_items",
    "iemocap_items",
    "mpi_items",
    "pad_sequences",
    "ravdess_items",
    "rml_items",
    "write_dataset",
    "write_dataset_npz",
]
