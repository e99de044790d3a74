"""The int8 recipes: a spec holds only what its target's exporter honours, and is chosen in one place."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest

from lgrin_edge.export.quant_spec import (
    HONOURS,
    SPECS,
    STATIC_SPECS,
    Activations,
    Calibration,
    FloatPart,
    QuantSpec,
    Recipe,
    Rounding,
    conversion,
    given_or_chosen,
    spec_for,
)


def test_every_recipe_of_the_tables_is_its_targets_and_valid():
    for table in (SPECS, STATIC_SPECS):
        for target, spec in table.items():
            assert spec.target == target
            assert QuantSpec(**{f.name: getattr(spec, f.name) for f in fields(spec)}) == spec
    assert all(spec.activations is Activations.STATIC for spec in STATIC_SPECS.values())
    names = {f.name for f in fields(QuantSpec)}
    assert all(h.fields <= names for kinds in HONOURS.values() for h in kinds.values())


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"target": "tflite", "activations": "static", "weight_bits": 7}, "tflite exporter with static act"),
        (
            {"target": "c", "activations": "static", "equalize_alpha": 0.5},
            "does not honour equalize_alpha=0.5",
        ),
        ({"target": "executorch", "activations": "dynamic", "keep_float": {"classifier"}}, "keep_float"),
        ({"target": "onnx", "activations": "float", "keep_float": {"normalisation"}}, "honour keep_float"),
        (
            {"target": "tflite", "activations": "dynamic", "keep_float": {"normalisation"}},
            "keep normalisation",
        ),
        (
            {"target": "tensorrt", "activations": "float", "weight_bits": 7},
            "tensorrt exporter .* weight_bits",
        ),
        ({"target": "onnx", "activations": "static", "weight_bits": 4}, "weight_bits 7 or 8, not 4"),
        ({"target": "onnx", "activations": "dynamic"}, "onnx has no dynamic int8"),
        (
            {"target": "c", "activations": "static", "weight_rounding": "best"},
            "c weight_rounding must be one",
        ),
        (
            {"target": "onnx", "activations": "float", "equalize_alpha": 1.5},
            r"equalize_alpha must be in \[0, 1\]",
        ),
        ({"target": "coreml", "activations": "float"}, "unknown target 'coreml'"),
    ],
)
def test_a_choice_the_exporter_does_not_honour_is_refused_when_the_spec_is_built(given, message):
    with pytest.raises(ValueError, match=message):
        QuantSpec(**given)


def test_choices_are_enums_not_free_text():
    spec = QuantSpec("tflite", "dynamic", "gptq", 0.5, keep_float={"classifier"})
    assert spec.activations is Activations.DYNAMIC and spec.weight_rounding is Rounding.GPTQ
    assert spec.keep_float == frozenset({FloatPart.CLASSIFIER})
    assert spec == SPECS["tflite"]


def test_the_recipe_is_chosen_by_one_function():
    assert spec_for("onnx") is SPECS["onnx"] and spec_for("onnx", static=True) is STATIC_SPECS["onnx"]
    assert spec_for("c", static=True) is SPECS["c"]  # no static recipe of its own: the default
    with pytest.raises(ValueError, match="no int8 recipe for 'coreml'"):
        spec_for("coreml")
    assert given_or_chosen("executorch", None, True) is STATIC_SPECS["executorch"]
    with pytest.raises(ValueError, match="the tensorrt exporter was given a QuantSpec for onnx"):
        given_or_chosen("tensorrt", SPECS["onnx"], False)
    with pytest.raises(ValueError, match="static=True with a QuantSpec of dynamic"):
        given_or_chosen("tflite", SPECS["tflite"], True)


def test_a_recipe_is_plain_json():
    facts = conversion(Activations.STATIC, Calibration.MIN_MAX, 7, [FloatPart.NORMALISATION])
    recipe = Recipe(**facts, equalize_alpha=0.5, weight_rounding=Rounding.NEAREST).manifest()
    assert (
        json.loads(json.dumps(recipe))
        == recipe
        == {
            "activations": "static",
            "calibration": "min-max",
            "weight_bits": 7,
            "float_parts": ["normalisation"],
            "equalize_alpha": 0.5,
            "weight_rounding": "nearest",
        }
    )
    assert all(type(v) in (str, int, float, list) for v in recipe.values())
