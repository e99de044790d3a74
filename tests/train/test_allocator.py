"""fit() keeps freed memory in the process: no page faults per step once warm (glibc only)."""

from __future__ import annotations

import platform
import resource

import pytest
import torch

from lgrin_edge.models import create_model
from lgrin_edge.train.allocator import retain_freed_memory
from lgrin_edge.train.trainer import adam

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="the setting is glibc's; other C libraries are left alone")
def test_steps_stop_faulting_pages_in():
    assert retain_freed_memory() and retain_freed_memory()  # idempotent
    torch.manual_seed(0)
    model = create_model("lgrin", num_nodes=29, in_features=12, num_classes=9)
    opt = adam(model, 0.01)
    x, y = torch.randn(32, 29, 12), torch.randint(0, 9, (32,))

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        (torch.nn.functional.cross_entropy(model(x), y) + model.regularization()).backward()
        opt.step()

    for _ in range(3):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        step()
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10
    assert faults < 100, f"{faults:.0f} page faults per step (about 1,700 without the setting)"


def test_adam_is_fused_for_cpu_float_parameters():
    model = create_model("lgrin", num_nodes=5, in_features=2, num_classes=2)
    assert adam(model, 0.01).defaults["fused"] is True
