"""A small synthetic sequence dataset for fast tests (not for measuring anything)."""

from __future__ import annotations

import numpy as np

from lgrin_edge.data.dataset import SequenceDataset, pad_sequences


def make_synthetic(
    n: int = 96,
    num_classes: int = 3,
    num_features: int = 8,
    min_len: int = 10,
    max_len: int = 24,
    seed: int = 0,
    with_groups: bool = False,
    with_test_split: bool = False,
) -> SequenceDataset:
    """Class c is a sinusoid of frequency (c + 1) per feature with random phase, plus noise."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % num_classes
    seqs = []
    for c in y:
        t = rng.integers(min_len, max_len + 1)
        phase = rng.uniform(0, 2 * np.pi, num_features)
        steps = np.arange(t)[:, None] / max_len * 2 * np.pi
        seqs.append(np.sin((c + 1) * steps + phase) + 0.3 * rng.standard_normal((t, num_features)))
    x, lengths = pad_sequences([s.astype(np.float32) for s in seqs])
    return SequenceDataset(
        name="synthetic",
        x=x,
        lengths=lengths,
        y=y.astype(np.int64),
        classes=[f"class{c}" for c in range(num_classes)],
        groups=(np.arange(n) // max(num_classes, 1) % 8).astype(np.int64) if with_groups else None,
        is_test=(np.arange(n) % 4 == 0) if with_test_split else None,
        description="synthetic sinusoids (tests only)",
    )
