"""The feature spec inside every exported artifact: read back by each format's own readers and by
``lgrin_edge.inspect`` from the file alone; adding it keeps every byte and result of the exporter."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from lgrin_edge.checkpoint import CONFIG, CONFIG_SHA256, config_digest
from lgrin_edge.deploy.folded import FoldedLGrIN
from lgrin_edge.export import c_runtime as cr
from lgrin_edge.export.pipeline import run_export
from lgrin_edge.export.targets import TARGETS
from lgrin_edge.inspect import main as inspect_main
from lgrin_edge.spec import KEY, NPZ_KEY, UNKNOWN, FeatureSpec


def _ready(target: str) -> None:
    ok, reason = TARGETS[target].status()
    if not ok:
        pytest.skip(f"{target} cannot run here: {reason}")


@pytest.fixture(scope="module")
def exported(tiny_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    manifest = run_export(
        tiny_run, list(TARGETS), ["fp32", "int8"], out, calibration_n=64, log=lambda *_: None
    )
    return out, manifest


def _files(manifest: dict, precision: str | None = None) -> list[str]:
    return [a["path"] for a in manifest["artifacts"] if precision in (None, a["precision"])]


def _inspect_json(path: Path, capsys) -> dict:
    assert inspect_main([str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_each_int8_artifact_alone_gives_the_full_spec(exported, tiny_run, tmp_path, capsys):
    out, manifest = exported
    want = json.loads((tiny_run / CONFIG).read_text())[NPZ_KEY]
    assert manifest[NPZ_KEY] == want
    names = sorted(set(_files(manifest, "int8")))
    for target in TARGETS.values():  # every int8 file of a target that runs here was exported
        if "int8" in target.precisions and target.status()[0]:
            assert target.files["int8"] in names
    for name in [*names, "samples.npz", "manifest.json"]:
        alone = tmp_path / name.replace(".", "_").replace("/", "-")  # a file copied out of its folder
        alone.mkdir()
        file = alone / Path(name).name
        shutil.copy(out / name, file)
        assert _inspect_json(file, capsys) == want, name
        assert inspect_main([str(file)]) == 0
        text = capsys.readouterr().out
        assert f"M = {want['graph']['num_nodes']} nodes" in text and "classes        C = 3" in text
    for a in manifest["artifacts"]:
        assert a["feature_spec"].startswith(("metadata_props", "Model.metadata", "named data", "the feature"))


def test_onnx_metadata_props_are_set(exported):
    _ready("onnx")
    import onnx
    import onnxruntime as ort

    out, manifest = exported
    text = FeatureSpec.from_dict(manifest[NPZ_KEY]).to_json()
    onnx_files = [p for p in _files(manifest) if p.endswith(".onnx")]
    assert {"model_fp32.onnx", "model_int8.onnx", "model_trt_int8.onnx"} <= set(onnx_files)
    for name in onnx_files:
        model = onnx.load(str(out / name))
        onnx.checker.check_model(model)
        assert {p.key: p.value for p in model.metadata_props} == {KEY: text}, name
        meta = ort.InferenceSession(str(out / name), providers=["CPUExecutionProvider"]).get_modelmeta()
        assert meta.custom_metadata_map[KEY] == text


def test_tflite_metadata_is_found_by_name_in_litert(exported):
    _ready("tflite")
    from ai_edge_litert.tools import flatbuffer_utils

    out, manifest = exported
    text = FeatureSpec.from_dict(manifest[NPZ_KEY]).to_json()
    for name in ("model_fp32.tflite", "model_int8.tflite"):
        model = flatbuffer_utils.read_model_from_bytearray(bytearray((out / name).read_bytes()))
        entries = {m.name.decode() if isinstance(m.name, bytes) else m.name: m.buffer for m in model.metadata}
        assert bytes(model.buffers[entries[KEY]].data).decode() == text
        assert "min_runtime_version" in entries  # the converter's own entries are kept


def test_pte_named_data_holds_the_spec(exported):
    _ready("executorch")
    from executorch.exir._serialize._program import deserialize_pte_binary

    out, manifest = exported
    text = FeatureSpec.from_dict(manifest[NPZ_KEY]).to_json()
    for name in ("model_fp32.pte", "model_int8.pte"):
        named = deserialize_pte_binary((out / name).read_bytes()).named_data
        entry = named.pte_data[KEY]
        assert bytes(named.buffers[entry.buffer_index]).decode() == text


def test_lgrn_spec_comes_back_through_the_c_api(exported):
    _ready("c")
    out, manifest = exported
    assert (
        cr.CModel(out / "model_int8.lgrn").feature_spec == FeatureSpec.from_dict(manifest[NPZ_KEY]).to_json()
    )


def test_samples_npz_carries_the_spec_without_pickle(exported):
    out, manifest = exported
    with np.load(out / "samples.npz", allow_pickle=False) as f:
        assert FeatureSpec.from_json(str(f[NPZ_KEY][0])).to_dict() == manifest[NPZ_KEY]


def test_adding_metadata_keeps_every_onnx_byte(exported, tmp_path):
    _ready("onnx")
    import onnx

    from lgrin_edge.export.onnx_export import OnnxModel
    from lgrin_edge.export.onnx_graph import add_metadata

    out, _ = exported
    path = tmp_path / "m.onnx"
    shutil.copy(out / "model_int8.onnx", path)
    before = path.read_bytes()
    add_metadata(path, "other", "value")
    assert path.read_bytes().startswith(before)
    assert {p.key for p in onnx.load(str(path)).metadata_props} == {KEY, "other"}
    x = np.load(out / "samples.npz")["x"]
    np.testing.assert_array_equal(OnnxModel(path)(x), OnnxModel(out / "model_int8.onnx")(x))
    with pytest.raises(Exception, match="already holds metadata 'other'"):
        add_metadata(path, "other", "again")


def test_adding_metadata_keeps_every_tflite_byte_and_result(exported):
    _ready("tflite")
    from ai_edge_litert import schema_py_generated as schema

    from lgrin_edge.export.tflite import TFLiteError, TFLiteModel, with_metadata

    out, _ = exported
    for name in ("model_fp32.tflite", "model_int8.tflite"):
        before = (out / name).read_bytes()
        after = with_metadata(before, "other", b"\x00\x01 bytes")
        assert after.endswith(before) and (len(after) - len(before)) % 64 == 0
        model = schema.Model.GetRootAs(after, 0)
        names = [model.Metadata(i).Name() for i in range(model.MetadataLength())]
        assert names[-2:] == [KEY.encode(), b"other"]
        last = model.Buffers(model.Metadata(model.MetadataLength() - 1).Buffer())
        assert last.DataAsNumpy().tobytes() == b"\x00\x01 bytes"
        path = out.parent / f"other_{name}"
        path.write_bytes(after)
        x = np.load(out / "samples.npz")["x"]
        np.testing.assert_array_equal(TFLiteModel(path)(x), TFLiteModel(out / name)(x))
        with pytest.raises(TFLiteError, match="already holds metadata"):
            with_metadata(after, KEY, b"{}")


def test_adding_named_data_keeps_the_program_and_its_results(exported, tmp_path):
    _ready("executorch")
    from executorch.exir._serialize._program import deserialize_pte_binary

    from lgrin_edge.export.executorch import ExecuTorchError, ExecuTorchModel, add_named_data

    out, _ = exported
    path = tmp_path / "m.pte"
    shutil.copy(out / "model_int8.pte", path)
    add_named_data(path, "other", b"value")
    before, after = (
        deserialize_pte_binary((out / "model_int8.pte").read_bytes()),
        deserialize_pte_binary(path.read_bytes()),
    )
    assert after.program == before.program
    assert list(after.named_data.pte_data)[-2:] == [KEY, "other"]
    x = np.load(out / "samples.npz")["x"]
    np.testing.assert_array_equal(ExecuTorchModel(path)(x), ExecuTorchModel(out / "model_int8.pte")(x))
    with pytest.raises(ExecuTorchError, match="already holds named data"):
        add_named_data(path, KEY, b"{}")


def test_lgrn_with_a_spec_has_the_same_payload_and_logits(tmp_path):
    _ready("c")
    model, mean, std = FoldedLGrIN.random(7, 3, 4, eta=(8, 4), L=1, seed=3)
    rng = np.random.default_rng(3)
    cal = (mean + std * rng.normal(size=(16, 7, 3))).astype(np.float32)
    plain = cr.encode_model(model, cal)
    for text in ("{}", "{" + "x" * 5 + "}", "é" * 7):  # every padding length, UTF-8 beyond ASCII
        carried = cr.with_feature_spec(plain, text)
        assert carried[52 : len(plain)] == plain[52:] and carried[16:48] == plain[16:48]
        assert len(carried) % 4 == 0 and carried[4:8] == b"\x05\x00\x00\x00"
        assert cr.without_feature_spec(carried) == plain  # the inverse, byte for byte
        (tmp_path / "a.lgrn").write_bytes(plain)
        (tmp_path / "b.lgrn").write_bytes(carried)
        x = (mean + std * rng.normal(size=(5, 7, 3))).astype(np.float32)
        a, b = cr.CModel(tmp_path / "a.lgrn"), cr.CModel(tmp_path / "b.lgrn")
        np.testing.assert_array_equal(a(x), b(x))
        assert a.feature_spec is None and b.feature_spec == text
    with pytest.raises(ValueError, match="version-4 model file without one"):
        cr.with_feature_spec(carried, "{}")
    with pytest.raises(ValueError, match="out of a version-5 model file"):
        cr.without_feature_spec(plain)
    with pytest.raises(ValueError, match="without NUL"):
        cr.with_feature_spec(plain, "a\x00b")


def test_a_checkpoint_without_a_spec_exports_one_of_what_it_knows(tiny_run, tmp_path, capsys):
    _ready("c")
    run = tmp_path / "old"
    shutil.copytree(tiny_run, run)
    cfg = json.loads((run / CONFIG).read_text())
    del cfg[NPZ_KEY]  # as training wrote config.json before runs recorded a spec
    cfg[CONFIG_SHA256] = config_digest(cfg)
    (run / CONFIG).write_text(json.dumps(cfg))
    lines: list[str] = []
    manifest = run_export(run, ["c"], ["int8"], tmp_path / "dist", calibration_n=64, log=lines.append)
    assert any("records no feature spec" in line for line in lines)
    spec = manifest[NPZ_KEY]
    assert spec["graph"]["num_nodes"] == cfg["num_nodes"] and spec["classes"] == cfg["classes"]
    assert spec["graph"]["longer"] == cfg["long_policy"] and spec["normalisation"] == "inside-model"
    assert spec["extractor"]["id"] == UNKNOWN and spec["input"]["sample_rate_hz"] == UNKNOWN
    assert [f["name"] for f in spec["features"]] == [UNKNOWN] * cfg["config"]["in_features"]
    assert _inspect_json(tmp_path / "dist" / "model_int8.lgrn", capsys) == spec
