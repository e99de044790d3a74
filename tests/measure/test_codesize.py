"""Code bytes as export/ci.sh counts them (lgrin_edge/measure/codesize.py)."""

import pytest

from lgrin_edge.measure import codesize


@pytest.mark.skipif(codesize.missing("x86-64") is not None, reason=str(codesize.missing("x86-64")))
def test_parts_are_measured_and_add_up():
    speech, inputs = (codesize.text_bytes(p, "x86-64") for p in ("speech", "input"))
    assert speech and inputs and speech > inputs > 1000  # the speech front-end is the larger one
    assert codesize.sizes("speech", "input")["code_bytes_x86_64"] == speech + inputs


def test_a_missing_compiler_is_named_not_measured(monkeypatch):
    monkeypatch.setitem(codesize.TARGETS, "cortex-m4", (("no-such-cc-14",), ("-Os",)))
    codesize.text_bytes.cache_clear()
    try:
        assert "no cortex-m4 compiler (no-such-cc-14)" in str(codesize.missing("cortex-m4"))
        assert codesize.sizes("input")["code_bytes_cortex_m4"] is None
    finally:
        codesize.text_bytes.cache_clear()
