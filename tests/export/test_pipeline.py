"""The export CLI end to end on a tiny trained checkpoint, parametrised over THE target table."""

import json
import shutil
import sys

import numpy as np
import pytest

from lgrin_edge.atomic import file_sha256
from lgrin_edge.export.__main__ import main
from lgrin_edge.export.pipeline import ExportOptions, ExportSetupError, check_options, run_export
from lgrin_edge.export.targets import TARGETS
from lgrin_edge.export.tolerances import VERIFY
from lgrin_edge.optional import OPTIONAL

CASES = [(t.name, p) for t in TARGETS.values() for p in t.precisions]


@pytest.fixture(scope="module")
def exported(tiny_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    manifest = run_export(
        tiny_run, list(TARGETS), ["fp32", "int8"], out, calibration_n=64, log=lambda *_: None
    )
    return out, manifest


@pytest.mark.parametrize(("target", "precision"), CASES, ids=[f"{t}-{p}" for t, p in CASES])
def test_each_target_runs_in_its_runtime(exported, target, precision):
    out, manifest = exported
    ok, reason = TARGETS[target].status()
    if not ok:
        pytest.skip(f"{target} cannot run here: {reason}")
    (entry,) = [
        a
        for a in manifest["artifacts"]
        if a["target"] == target
        and a["precision"] == precision
        and a["path"] == TARGETS[target].files[precision]
    ]
    assert "error" not in entry, entry.get("error")
    path = out / entry["path"]
    assert path.stat().st_size == entry["bytes"] > 0
    runner = TARGETS[target].load(path, 1)
    x = np.load(out / "samples.npz")["x"]
    logits = runner(x)
    assert logits.shape == (len(x), 3) and np.isfinite(logits).all()
    assert entry["verified"] and entry["tolerance"] == VERIFY[precision]
    assert entry["top1_agreement"] >= VERIFY[precision]["min_agreement"]
    if precision == "fp32":
        assert entry["max_abs_diff"] <= VERIFY["fp32"]["max_abs_diff"]


def test_manifest_lists_skips_with_reasons(exported):
    _, manifest = exported
    engine = [s for s in manifest["skipped"] if s.get("artifact") == "engine"]
    from lgrin_edge.export.trt_engine import tensorrt_status

    qdq_ok = any(a["target"] == "tensorrt" and a.get("verified") for a in manifest["artifacts"])
    if not tensorrt_status()[0]:
        assert engine and engine[0]["reason"]
        if qdq_ok:  # the build command is offered only for an ONNX that passed verification
            assert "build_engine.py" in engine[0]["build_command"]
    ref = manifest["reference"]
    assert ref["fold_max_abs_diff"] <= 1e-5 * ref["max_abs_logit"]


def test_same_checkpoint_gives_same_bytes(tiny_run, tmp_path):
    a = run_export(
        tiny_run, ["onnx", "c"], ["fp32", "int8"], tmp_path / "a", calibration_n=32, log=lambda *_: None
    )
    b = run_export(
        tiny_run, ["onnx", "c"], ["fp32", "int8"], tmp_path / "b", calibration_n=32, log=lambda *_: None
    )
    assert [x["sha256"] for x in a["artifacts"]] == [x["sha256"] for x in b["artifacts"]]


def test_one_target_at_a_time_builds_one_manifest(tiny_run, tmp_path):
    assert main(["--checkpoint", str(tiny_run), "--target", "onnx", "--out", str(tmp_path)]) == 0
    assert main(["--checkpoint", str(tiny_run), "--target", "c", "--out", str(tmp_path)]) == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert {a["target"] for a in manifest["artifacts"]} == {"onnx", "c"}


def test_a_bundle_is_kept_whole_by_an_export_of_another_target(tiny_run, tmp_path):
    """The web target's page, runtime and .wasm files belong to its entry: a later export of another
    target carries them all; once one of them changed, the entry and its folder are not carried."""
    ok, reason = TARGETS["web"].status()
    if not ok:
        pytest.skip(f"web cannot run here: {reason}")
    assert main(["--checkpoint", str(tiny_run), "--target", "web", "--out", str(tmp_path)]) == 0
    (web,) = json.loads((tmp_path / "manifest.json").read_text())["artifacts"]
    assert "web/index.html" in web["bundle"] and "web/lgrin_simd128.wasm" in web["bundle"]
    assert web["info"]["same_as_c"].startswith("bit-identical")
    assert main(["--checkpoint", str(tiny_run), "--target", "onnx", "--out", str(tmp_path)]) == 0
    kept = [
        a for a in json.loads((tmp_path / "manifest.json").read_text())["artifacts"] if a["target"] == "web"
    ]
    assert kept == [web]
    assert all(
        file_sha256(tmp_path / f) == d for f, d in {web["path"]: web["sha256"], **web["bundle"]}.items()
    )
    (tmp_path / "web" / "index.html").write_text("changed")
    assert main(["--checkpoint", str(tiny_run), "--target", "c", "--out", str(tmp_path)]) == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert "web" not in {a["target"] for a in manifest["artifacts"]} and not (tmp_path / "web").exists()


def test_a_manifest_path_names_a_file_inside_the_export_folder_only():
    from lgrin_edge.export.pipeline import _own_path

    assert _own_path("model_int8.onnx") and _own_path("web/index.html")
    for bad in ("", ".", "..", "../x", "/etc/passwd", "web/../../x", "a/b/c", "web\\x", None, 3):
        assert not _own_path(bad), bad


def test_a_run_retrained_in_the_same_folder_keeps_nothing_of_the_earlier_export(tmp_path):
    """Same run folder, other weights: another checkpoint, so its export keeps none of the earlier files."""
    from lgrin_edge.train import main as train

    run, out = tmp_path / "run", tmp_path / "dist"
    args = [
        "--dataset",
        "synthetic",
        "--epochs",
        "2",
        "--eta",
        "8",
        "4",
        "--out",
        str(run),
        "--device",
        "cpu",
    ]
    assert train(args) == 0
    quiet = {"calibration_n": 16, "log": lambda *_: None}
    first = run_export(run, ["onnx"], ["fp32"], out, **quiet)
    assert first["checkpoint_files"]["model.safetensors"]
    assert {a["target"] for a in run_export(run, ["tensorrt"], ["int8"], out, **quiet)["artifacts"]} == {
        "onnx",
        "tensorrt",
    }
    assert train([*args, "--seed", "1", "--overwrite"]) == 0  # the same folder, other weights
    again = run_export(run, ["tensorrt"], ["int8"], out, **quiet)
    assert {a["target"] for a in again["artifacts"]} == {"tensorrt"}
    assert not (out / "model_fp32.onnx").exists()


def test_bad_inputs_give_clear_errors(tiny_run, tmp_path, capsys):
    assert main(["--checkpoint", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--checkpoint", str(tiny_run), "--target", "coreml"])
    broken = tmp_path / "broken"
    shutil.copytree(tiny_run, broken)
    (broken / "eval.npz").write_bytes(b"PK\x03\x04 truncated")
    assert main(["--checkpoint", str(broken), "--target", "onnx", "--out", str(tmp_path / "o2")]) == 2
    assert "eval.npz is damaged or was replaced" in capsys.readouterr().err
    # /proc takes no new entries even for root, and os.access does not say so: only a real write tells.
    assert main(["--checkpoint", str(tiny_run), "--target", "c", "--out", "/proc/lgrin-export"]) == 2
    assert "cannot create /proc/lgrin-export: /proc is not writable" in capsys.readouterr().err
    readonly = tmp_path / "ro"
    readonly.mkdir()
    readonly.chmod(0o500)
    try:
        code = main(["--checkpoint", str(tiny_run), "--target", "c", "--out", str(readonly / "x")])
        if code == 0:
            pytest.skip("running as root: permission bits do not stop writes (the /proc case above ran)")
        assert "is not writable (permission denied)" in capsys.readouterr().err
    finally:
        readonly.chmod(0o700)


def test_failed_export_leaves_no_partial_file(tiny_run, tmp_path, monkeypatch):
    import lgrin_edge.export.onnx_export as onnx_export

    def explode(*args, **kwargs):
        raise RuntimeError("quantiser crashed")

    monkeypatch.setattr(onnx_export, "quantize_onnx", explode)
    manifest = run_export(tiny_run, ["onnx"], ["int8"], tmp_path, log=lambda *_: None)
    (entry,) = manifest["failed"]
    assert not entry["verified"] and "quantiser crashed" in entry["error"]
    assert entry["kept"] == "no file written" and manifest["artifacts"] == []
    assert not (tmp_path / "model_int8.onnx").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "samples.npz"]


def test_static_int8_option_selects_the_static_recipes(tiny_run, tmp_path):
    default = run_export(tiny_run, ["onnx", "tensorrt"], ["int8"], tmp_path / "w", log=lambda *_: None)
    static = run_export(
        tiny_run, ["onnx", "tensorrt"], ["int8"], tmp_path / "s", log=lambda *_: None, static_int8=True
    )
    for manifest, activations in ((default, "float"), (static, "static")):
        recipes = {a["target"]: a["info"]["recipe"] for a in manifest["artifacts"] + manifest["failed"]}
        assert set(recipes) == {"onnx", "tensorrt"}
        assert all(recipe["activations"] == activations for recipe in recipes.values())
    # What the exporters did, as they report it: onnxruntime's 7-bit weights where its x86 kernels
    # would saturate, the normalisation and the pooled head found in the graph and left in float.
    recipes = {a["target"]: a["info"]["recipe"] for a in static["artifacts"] + static["failed"]}
    assert recipes["onnx"] == {
        "activations": "static",
        "calibration": "min-max",
        "weight_bits": 7,
        "float_parts": ["normalisation", "classifier"],
        "equalize_alpha": 0.5,
        "weight_rounding": "nearest",
    }
    assert recipes["tensorrt"]["weight_bits"] == 8
    weight_only = {a["target"]: a["info"] for a in default["artifacts"]}["tensorrt"]
    assert weight_only["conformance"] == "passed"  # checked once, where the file is made
    assert weight_only["recipe"]["weight_rounding"] == "gptq" and weight_only["recipe"]["float_parts"] == []


def test_every_int8_file_records_the_recipe_its_exporter_reports(exported):
    _, manifest = exported
    int8 = [a for a in manifest["artifacts"] if a["precision"] == "int8" and "artifact" not in a]
    assert int8
    for entry in int8:
        recipe = entry["info"]["recipe"]
        assert set(recipe) == {
            "activations", "calibration", "weight_bits", "float_parts", "equalize_alpha", "weight_rounding"
        }  # fmt: skip
        assert "spec" not in entry["info"]
    recipes = {a["target"]: a["info"]["recipe"] for a in int8}
    if "tflite" in recipes:
        assert recipes["tflite"]["activations"] == "dynamic" and recipes["tflite"]["float_parts"] == [
            "classifier"
        ]
    if "executorch" in recipes:
        assert recipes["executorch"]["float_parts"] == [] and recipes["executorch"]["equalize_alpha"] == 0.5
    assert recipes["c"]["calibration"] == "max-abs" and recipes["c"]["float_parts"] == ["classifier"]


def test_the_engine_build_command_is_printed_once(tiny_run, tmp_path, capsys):
    from lgrin_edge.export.trt_engine import tensorrt_status

    out = tmp_path / "dist"
    assert main(["--checkpoint", str(tiny_run), "--target", "tensorrt", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    # Without TensorRT the skip line of the summary names the command; with it the engine is built.
    assert printed.count("build_engine.py") == (0 if tensorrt_status()[0] else 1)


def test_an_option_no_requested_target_uses_is_refused_before_any_work():
    with pytest.raises(
        ExportSetupError, match="--batch changes nothing for onnx, c; it applies to tflite, executorch"
    ):
        check_options(ExportOptions(["onnx", "c"], ["int8"], batch=4))
    with pytest.raises(ExportSetupError, match="--static-int8 changes nothing for c"):
        check_options(ExportOptions(["c"], ["int8"], static_int8=True))
    with pytest.raises(
        ExportSetupError,
        match="--sensitivity changes nothing for c; it applies to onnx, tensorrt, tflite, executorch",
    ):
        check_options(ExportOptions(["c"], ["int8"], sensitivity=True))


def test_a_precision_no_requested_target_makes_is_refused_or_reported():
    with pytest.raises(ExportSetupError, match="--precision fp32: there is no fp32 file for tensorrt, c"):
        check_options(ExportOptions(["tensorrt", "c"], ["fp32"]))
    assert check_options(ExportOptions(["onnx", "c"], ["fp32"])) == [
        "note: there is no fp32 file for c; skipped"
    ]


def test_an_option_some_requested_targets_ignore_is_reported():
    notes = check_options(ExportOptions(["onnx", "executorch", "c"], ["int8"], batch=4, sensitivity=True))
    assert notes == [
        "note: --batch applies to executorch; ignored by onnx, c",
        "note: --sensitivity applies to onnx, executorch; ignored by c",
    ]
    assert check_options(ExportOptions(list(TARGETS), ["fp32", "int8"])) == []  # defaults: nothing to say


def test_the_table_names_every_file_a_target_writes():
    names = [f for t in TARGETS.values() for f in t.files.values()]
    names += [t.follow_up.file for t in TARGETS.values() if t.follow_up]
    assert len(names) == len(set(names))  # no two targets write the same file
    assert len({t.runtime for t in TARGETS.values()}) == len(TARGETS)
    assert all(" " not in t.runtime for t in TARGETS.values())  # a short id; prose is in t.about


# Each target's optional packages: absent, the target (or its follow-up) is a skip naming the extra.
NEEDS = {
    "onnx": ("onnx", "onnxscript", "onnxruntime"),
    "tensorrt": ("onnx", "onnxscript", "onnxruntime"),
    "tflite": ("litert_torch", "ai_edge_quantizer", "ai_edge_litert"),
    "executorch": ("executorch",),
}
MISSING = [(t, m) for t, modules in NEEDS.items() for m in modules]


@pytest.mark.parametrize(("target", "module"), MISSING, ids=[f"{t}-{m}" for t, m in MISSING])
def test_a_missing_optional_package_is_a_skip_naming_its_extra(monkeypatch, target, module):
    from lgrin_edge.optional import missing

    # What Python sees when it is not installed (its submodules too: an earlier test may have loaded them).
    for name in [module, *(n for n in sys.modules if n.startswith(module + "."))]:
        monkeypatch.setitem(sys.modules, name, None)
    assert TARGETS[target].status() == (False, missing(module))
    assert missing(module).endswith(f"is not installed (pip install 'lgrin-edge[{OPTIONAL[module].extra}]')")


def test_without_tensorrt_the_engine_is_a_skip_with_its_build_command(monkeypatch, tmp_path):
    from lgrin_edge.export.targets import FollowUpCall
    from lgrin_edge.export.verify import EntryId
    from lgrin_edge.optional import missing

    monkeypatch.setitem(sys.modules, "tensorrt", None)
    entry = {"target": "tensorrt", "precision": "int8", "path": "model_trt_int8.onnx"}
    stage, dist = tmp_path / ".dist.partial", tmp_path / "dist"
    follow = TARGETS["tensorrt"].follow_up
    what = EntryId("tensorrt", follow.precision, follow.artifact)
    call = FollowUpCall(
        what, follow.file, entry, stage, stage / "work", dist, None, None, None, lambda _m: None
    )
    made, (skip,) = follow.run(call)
    assert made == [] and skip["reason"] == missing("tensorrt")
    assert (skip["target"], skip["precision"], skip["artifact"]) == ("tensorrt", "int8", "engine")
    assert str(tmp_path / "dist" / "model_trt_int8.onnx") in skip["build_command"]  # never the stage's name


def test_an_export_folder_may_hold_only_what_an_export_writes(exported, tmp_path):
    from lgrin_edge.export.pipeline import EXPORT_LOG, own_files

    out, manifest = exported
    own = own_files(out)
    assert {p.name for p in out.iterdir()} <= own
    tops = {a["path"].split("/")[0] for a in manifest["artifacts"]}  # the web bundle is a folder
    assert tops | {"manifest.json", "samples.npz", EXPORT_LOG} <= own
    assert "notes.txt" not in own
    assert list(out.parent.glob(f".{out.name}.*")) == []  # no stage, lock or holder left beside it
