"""The long-sequence stand-in of issue-sized data: 1,214 accelerometer-like sequences of up to 406 steps,
6 channels, 6 classes, 30 subjects, written as an npz dataset.

    python benchmarks/long_sequences.py /tmp/long.npz
    time python -m lgrin_edge.train --dataset /tmp/long.npz --out runs/long      # 5-fold x 150 epochs
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lgrin_edge.data.synthetic import make_synthetic


def main(argv: list[str] | None = None) -> int:
    out = Path((argv or sys.argv[1:])[0])
    ds = make_synthetic(n=1214, num_classes=6, num_features=6, min_len=120, max_len=406, seed=0)
    groups = np.random.default_rng(1).integers(0, 30, len(ds.y))
    np.savez(out, x=ds.x, lengths=ds.lengths, y=ds.y, groups=groups, classes=np.array(ds.classes))
    print(f"wrote {out}: x {ds.x.shape}, {len(set(groups.tolist()))} subjects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
