"""fit() keeps freed memory in the process: far fewer page faults per step once warm (glibc only)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from lgrin_edge.models import create_model
from lgrin_edge.train.allocator import retain_freed_memory
from lgrin_edge.train.trainer import adam

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

# Each measurement runs in a fresh process: the pytest process holds threads and heap left by other
# tests (a runtime's worker pool faults pages of its own), which are not the training step's.
_STEPS = """
import resource, sys, torch
from lgrin_edge.models import create_model
from lgrin_edge.train.allocator import retain_freed_memory
from lgrin_edge.train.trainer import adam
if sys.argv[1] == "retain":
    assert retain_freed_memory()
torch.set_num_threads(1)
torch.manual_seed(0)
model = create_model("lgrin", num_nodes=29, in_features=12, num_classes=9)
opt = adam(model, 0.01)
x, y = torch.randn(32, 29, 12), torch.randint(0, 9, (32,))
def step():
    opt.zero_grad(set_to_none=True)
    (torch.nn.functional.cross_entropy(model(x), y) + model.regularization()).backward()
    opt.step()
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


def _faults_per_step(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", _STEPS, mode], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not GLIBC, reason="the setting is glibc's; other C libraries are left alone")
def test_steps_stop_faulting_pages_in():
    assert retain_freed_memory() and retain_freed_memory()  # idempotent
    default, retained = _faults_per_step("default"), _faults_per_step("retain")
    assert retained * 4 < default, (
        f"{retained:.0f} page faults per step with the setting, {default:.0f} without it"
    )


def test_adam_is_fused_for_cpu_float_parameters():
    model = create_model("lgrin", num_nodes=5, in_features=2, num_classes=2)
    assert adam(model, 0.01).defaults["fused"] is True
