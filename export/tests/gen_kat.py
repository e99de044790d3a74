"""Regenerate the known-answer data in export/tests/data (run from the repository root).

The expected logits come from numpy: the float32 reference forward and the int8 simulation, never from
the C runtime itself. tests/export/test_c_runtime.py checks that the committed files are current. The
last line of each .txt is the tolerance every reader (the C tests, the Java test, pytest) applies,
relative to 1 + |logit|: lgrin_edge.export.tolerances.C_REPRODUCTION.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from lgrin_edge.deploy import int8, reference
from lgrin_edge.deploy.folded import FoldedLGrIN
from lgrin_edge.export.c_runtime import encode_model
from lgrin_edge.export.tolerances import C_REPRODUCTION
from lgrin_edge.spec import FeatureSpec, Named

KAT_DIMS = {"M": 6, "P": 3, "C": 4, "eta": (5, 3), "L": 2, "seed": 7}
# int8 only, sized for the vector kernels: full and partial row tiles (M = 30), branch widths that are
# and are not multiples of 8 and 16, an input width that is not a multiple of four.
TILE_DIMS = {"M": 30, "P": 7, "C": 5, "eta": (48, 20), "L": 2, "seed": 11, "N": 4}


def kat_spec() -> str:
    """The feature spec kat_spec_int8.lgrn carries (the KAT model's M, P and C; UTF-8 beyond ASCII)."""
    d = KAT_DIMS
    spec = FeatureSpec(
        extractor_id="kat",
        extractor_version="1",
        params={"seed": d["seed"]},
        features=(Named("ax", "m/s²"), Named("ay", "m/s²"), Named("az", "m/s²")),
        input_kind="motion",
        sample_rate_hz=50,
        channels=(Named("ax", "m/s²"), Named("ay", "m/s²"), Named("az", "m/s²")),
        frame_rate_hz=50,
    )
    return spec.for_run(d["M"], "resample", ["calm", "café", "walk", "run"]).to_json()


def kat_files() -> dict[str, bytes]:
    """File name -> content of the known-answer set."""
    d = KAT_DIMS
    model, mean, std = FoldedLGrIN.random(d["M"], d["P"], d["C"], eta=d["eta"], L=d["L"], seed=d["seed"])
    rng = np.random.default_rng(d["seed"] + 1)
    cal = (mean + std * rng.normal(size=(64, d["M"], d["P"]))).astype(np.float32)
    x = (mean + std * rng.normal(size=(1, d["M"], d["P"]))).astype(np.float32)
    want32 = reference.forward(model, x)[0]
    want8 = int8.simulate(int8.quantize(model, cal), x)[0]
    lines = (
        [f"{d['M']} {d['P']} {d['C']}"]
        + [" ".join(f"{v:.9g}" for v in a) for a in (x.ravel(), want32, want8)]
        + [f"{C_REPRODUCTION!r}"]
    )
    t = TILE_DIMS
    t_model, t_mean, t_std = FoldedLGrIN.random(
        t["M"], t["P"], t["C"], eta=t["eta"], L=t["L"], seed=t["seed"]
    )
    rng = np.random.default_rng(t["seed"] + 1)
    t_cal = (t_mean + t_std * rng.normal(size=(64, t["M"], t["P"]))).astype(np.float32)
    t_x = (t_mean + t_std * rng.normal(size=(t["N"], t["M"], t["P"]))).astype(np.float32)
    t_want = int8.simulate(int8.quantize(t_model, t_cal), t_x)
    t_lines = (
        [f"{t['M']} {t['P']} {t['C']} {t['N']}"]
        + [" ".join(f"{v:.9g}" for v in a) for a in (t_x.ravel(), t_want.ravel())]
        + [f"{C_REPRODUCTION!r}"]
    )
    return {
        "kat_fp32.lgrn": encode_model(model, precision="fp32"),
        "kat_int8.lgrn": encode_model(model, cal),
        # the same model, carrying a feature spec (format version 5): the same logits
        "kat_spec_int8.lgrn": encode_model(model, cal, feature_spec=kat_spec()),
        "kat_spec.json": kat_spec().encode(),
        "kat.txt": ("\n".join(lines) + "\n").encode(),
        "kat_tiles_int8.lgrn": encode_model(t_model, t_cal),
        "kat_tiles.txt": ("\n".join(t_lines) + "\n").encode(),
    }


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "data"
    out.mkdir(parents=True, exist_ok=True)
    for name, data in kat_files().items():
        (out / name).write_bytes(data)
        print(out / name, len(data), "bytes")
