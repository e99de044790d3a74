"""THE target table's context: one recipe choice per export, and the recipe the manifest records."""

from __future__ import annotations

import numpy as np
from torch import nn

from lgrin_edge.export.quant_spec import SPECS, STATIC_SPECS, Activations, Calibration, conversion
from lgrin_edge.export.targets import TARGETS, ExportContext
from tests.export.tiny_model import synthetic, trained_deploy


def test_the_context_chooses_each_targets_recipe_once_for_the_export():
    cal = np.zeros((2, 8, 5), np.float32)
    plain, static = ExportContext(nn.Identity(), cal), ExportContext(nn.Identity(), cal, static_int8=True)
    for name in TARGETS:
        own = TARGETS[name].same_as or name  # the web target writes the c target's file
        assert plain.spec(name) is SPECS[own]
        assert static.spec(name) is STATIC_SPECS.get(own, SPECS[own])
        assert TARGETS[name].honours("static_int8") == (name in STATIC_SPECS)


def test_the_recipe_says_what_the_int8_source_applied_not_what_the_spec_asked():
    facts = {"recipe": conversion(Activations.DYNAMIC, Calibration.NONE)}
    x, y = synthetic(64, seed=0)
    lgrin = ExportContext(trained_deploy(x, y), x)
    assert lgrin.with_recipe(SPECS["executorch"], facts)["recipe"]["equalize_alpha"] == 0.5
    # Range equalisation applies to L-GrIN only: another model's file is made without it.
    baseline = ExportContext(nn.Sequential(nn.Flatten(), nn.Linear(40, 3)), x)
    recipe = baseline.with_recipe(SPECS["executorch"], facts)["recipe"]
    assert recipe["equalize_alpha"] == 0.0 and recipe["weight_rounding"] == "gptq"


def test_every_target_names_the_form_of_its_max_pool():
    from lgrin_edge.deploy.folded import GRAPH_FORMS

    for target in TARGETS.values():
        assert target.graph_form in GRAPH_FORMS
