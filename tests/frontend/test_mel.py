"""The mel filterbank: the HTK mel scale and its triangles."""

from __future__ import annotations

import math

import numpy as np

from lgrin_edge.frontend.mel import hz_to_mel, triangles


def test_htk_mel_scale():
    assert hz_to_mel(0.0) == 0.0
    assert math.isclose(hz_to_mel(700.0), 2595.0 * math.log10(2.0))


def test_triangles_overlap_to_one_between_the_first_and_last_centre():
    w = triangles(16000, 512, 26, 20.0, 8000.0)
    assert w.shape == (257, 26) and w.max() <= 1.0 and np.all(w.any(axis=0))
    mel = np.array([hz_to_mel(k * 16000 / 512) for k in range(257)])
    edges = np.linspace(hz_to_mel(20.0), hz_to_mel(8000.0), 28)
    inside = (mel >= edges[1]) & (mel <= edges[-2])
    assert np.allclose(w[inside].sum(axis=1), 1.0)  # neighbouring triangles share each bin
    assert np.all(w[mel <= edges[0]] == 0) and np.all(w[mel >= edges[-1]] == 0)
