"""WebModel: a model file run by the WebAssembly runtime in headless Chromium, against the native C one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from lgrin_edge.cli import UserError
from lgrin_edge.export.c_runtime import CModel
from lgrin_edge.web.runner import WebModel


@pytest.fixture(scope="module")
def heldout(jv_dist: Path) -> np.ndarray:
    """Every held-out graph of the checkpoint the export came from (more than one call's worth)."""
    checkpoint = Path(json.loads((jv_dist / "manifest.json").read_text())["checkpoint"])
    with np.load(checkpoint / "eval.npz", allow_pickle=False) as f:
        return f["x"].astype(np.float32)


@pytest.fixture(scope="module")
def native_logits(jv_dist: Path, heldout: np.ndarray) -> np.ndarray:
    return CModel(jv_dist / "model_int8.lgrn")(heldout)


@pytest.fixture(scope="module", params=["simd128", "portable"])
def web_model(request: pytest.FixtureRequest, chromium: None, jv_dist: Path) -> WebModel:
    with WebModel(jv_dist / "web" / "model_int8.lgrn", build=request.param) as model:
        yield model


def test_logits_equal_the_native_runtime(web_model: WebModel, heldout: np.ndarray, native_logits) -> None:
    assert len(heldout) > WebModel.max_batch  # several calls, the last one partial
    logits = web_model(heldout)
    assert logits.dtype == np.float32 and logits.shape == native_logits.shape
    diff = float(np.abs(logits - native_logits).max())
    assert np.array_equal(logits, native_logits), f"{web_model.build}: max abs difference {diff:.3g}"


def test_batches_of_any_size(web_model: WebModel, heldout: np.ndarray, native_logits) -> None:
    assert web_model(heldout[:0]).shape == (0, web_model.num_classes)
    np.testing.assert_array_equal(web_model(heldout[5:6]), native_logits[5:6])
    np.testing.assert_array_equal(web_model(heldout[:3].astype(np.float64)), native_logits[:3])


def test_bad_input_is_one_line(web_model: WebModel, heldout: np.ndarray) -> None:
    for bad in (heldout[:2, :-1], heldout[0], heldout[:2, :, :5]):
        with pytest.raises(ValueError, match=r"^expected input of shape \(batch, 29, 12\), got") as e:
            web_model(bad)
        assert "\n" not in str(e.value)
    nan = heldout[:2].copy()
    nan[1, 0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        web_model(nan)
    np.testing.assert_array_equal(web_model(heldout[:1]), web_model(heldout[:1]))  # still usable


def test_facts(web_model: WebModel, jv_dist: Path) -> None:
    facts = web_model.facts()
    assert facts["browser"] == web_model.browser.version and facts["browser"].startswith("Chromium ")
    assert facts["wasm_build"] == web_model.build in ("simd128", "portable")
    families = web_model.browser.run("async () => globalThis.lgrinWebModel.kernelFamilies()")
    assert facts["kernels"] == web_model.kernels == families[0]  # the best family the build holds
    web = jv_dist / "web"
    want = (web / f"lgrin_{web_model.build}.wasm").stat().st_size + (web / "model_int8.lgrn").stat().st_size
    assert facts["download_bytes"] == want
    assert web_model.precision == "int8" and web_model.input_shape == (29, 12)


def test_auto_build(chromium: None, jv_dist: Path) -> None:
    with WebModel(jv_dist / "web" / "model_int8.lgrn") as model:
        assert model.build == "simd128"  # Chromium validates WebAssembly SIMD
    with pytest.raises(RuntimeError, match="closed"):
        model(np.zeros((1, 29, 12), np.float32))


def test_refuses(chromium: None, jv_dist: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"no lgrin\.js beside"):
        WebModel(jv_dist / "model_int8.lgrn")
    with pytest.raises(UserError, match="does not exist"):
        WebModel(tmp_path / "missing.lgrn")
    with pytest.raises(ValueError, match="build must be one of"):
        WebModel(jv_dist / "web" / "model_int8.lgrn", build="sse")
    web = tmp_path / "web"
    shutil.copytree(jv_dist / "web", web)
    (web / "model_int8.lgrn").write_bytes(b"not a model")
    with pytest.raises(UserError, match=r"^cannot load web model .*model_int8\.lgrn: [^\n]+$"):
        WebModel(web / "model_int8.lgrn")
