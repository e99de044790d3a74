"""Regenerate the known-answer data in export/tests/data (run from the repository root).

The expected logits come from numpy: the float32 reference forward and the int8 simulation, never from
the C runtime itself. tests/export/test_c_runtime.py checks that the committed files are current.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from lgrin_edge.export.c_runtime import (
    encode_model,
    quantize,
    random_folded_arrays,
    reference_forward,
    simulate_int8,
)

KAT_DIMS = {"M": 6, "P": 3, "C": 4, "eta": (5, 3), "L": 2, "seed": 7}


def kat_files() -> dict[str, bytes]:
    """File name -> content of the known-answer set."""
    d = KAT_DIMS
    arrays, mean, std = random_folded_arrays(d["M"], d["P"], d["C"], eta=d["eta"], L=d["L"], seed=d["seed"])
    rng = np.random.default_rng(d["seed"] + 1)
    cal = (mean + std * rng.normal(size=(64, d["M"], d["P"]))).astype(np.float32)
    x = (mean + std * rng.normal(size=(1, d["M"], d["P"]))).astype(np.float32)
    want32 = reference_forward(arrays, x)[0]
    want8 = simulate_int8(quantize(arrays, cal), x)[0]
    lines = [f"{d['M']} {d['P']} {d['C']}"] + [
        " ".join(f"{v:.9g}" for v in a) for a in (x.ravel(), want32, want8)
    ]
    return {
        "kat_fp32.lgrn": encode_model(arrays, precision="fp32"),
        "kat_int8.lgrn": encode_model(arrays, cal),
        "kat.txt": ("\n".join(lines) + "\n").encode(),
    }


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "data"
    out.mkdir(parents=True, exist_ok=True)
    for name, data in kat_files().items():
        (out / name).write_bytes(data)
        print(out / name, len(data), "bytes")
