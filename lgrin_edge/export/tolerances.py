"""Every numerical tolerance of the export, in one place, with why it has its value.

The exporters, the verification, the robustness matrix and the tests read these names; the C and Java
tests read C_REPRODUCTION from the files the export and gen_kat.py write (never a number of their own).
"""

from __future__ import annotations

# Folding (relu(A), the neighbour table, p and the normalisation as constants) must not change the
# function: folded and trained logits agree to this, per unit of logit scale (max(1, max |logit|)),
# since fp32 rounding alone reaches 1e-5 absolute once logits exceed ~100.
FOLD = 1e-5

# An fp32 ONNX file must reproduce its PyTorch module this closely in onnxruntime (absolute, on logits)
# before it is written: graph optimisations reorder sums, nothing more.
ONNX_SELF_CHECK = 1e-4

# An artifact is verified when it agrees with PyTorch fp32 on the top-1 class this often over the
# held-out graphs, and (fp32 only) its logits stay this close (absolute). 99% is the int8 promise of the
# README; 1e-3 leaves room for runtimes' fused kernels (XNNPACK, ExecuTorch) on logits of order 10.
VERIFY: dict[str, dict[str, float]] = {
    "fp32": {"min_agreement": 0.99, "max_abs_diff": 1e-3},
    "int8": {"min_agreement": 0.99},
}

# The int8 matrix (python -m lgrin_edge.robustness) also bounds the accuracy change against fp32:
# 0.5 points, i.e. one graph in 200; on the 370 JapaneseVowels test graphs one flipped graph is 0.27.
MAX_ACCURACY_DELTA = 0.005
# ... and asks each target for this mean agreement over all its cells: one cell in the 40 may be at 0.99
# only if the others are near 1 (the int8 promise is a property of the recipe, not of a lucky model).
MIN_MEAN_AGREEMENT = 0.995

# The C runtime built elsewhere must reproduce the logits it is checked against up to this: the same
# integer layers, the float pooling and classifier summed in another order by other compilers and
# kernel families. Read by the C and Java known-answer tests from export/tests/data/kat*.txt (relative
# to 1 + |logit|, written by gen_kat.py) and by the Android demo's JVM test from demo.properties
# (absolute, against the export's own samples.npz logits_c; pack_assets.py copies it from manifest.json).
C_REPRODUCTION = 1e-4

# The speech front-end (lgrin_edge/frontend, export/src/lgrin_frontend.c). C and numpy frames of the same
# audio: worst |C - numpy| per feature, as a fraction of that feature's standard deviation over the audio.
# Both compute in double with the same tables and the same decisions (they differ at ~1e-15 before the
# float32 rounding); 1e-3 still catches any changed step or flipped pitch decision, which moves a feature
# by a sizeable part of its spread.
FRONTEND_PARITY = 1e-3

# Front-end known answers (export/tests/data/frontend/kat.txt): |got - expected| <= FRONTEND_KAT x
# (1 + |expected|) per value, for another compiler, libm or CPU (the ctest on aarch64 under qemu)
# reproducing numpy's float32 frames.
FRONTEND_KAT = 1e-4
