"""Training throughput: graphs/s of one L-GrIN optimisation step (forward, backward, Adam) on a batch of
32 random graphs, at the paper's configurations and the bundled datasets', on 1 and 2 torch threads.

The step is built as fit() builds it (its optimiser, its allocator setting). relu(A) of the N(0, 1)
initial adjacency has K ~ M/2 neighbours per node, so this is the expensive start of training. The
report sets each figure beside the compute floor measured in the same run (three times the forward
multiply-accumulates, at the fp32 GEMM rate of test_floor.py times the threads).
"""

from __future__ import annotations

import pytest
import torch

from lgrin_edge.measure.macs import lgrin_macs
from lgrin_edge.measure.threads import torch_threads
from lgrin_edge.models import create_model, maxpool
from lgrin_edge.params import CONFIGS
from lgrin_edge.train.allocator import retain_freed_memory
from lgrin_edge.train.trainer import adam

BATCH = 32
# (label, M, P, C): the paper's configurations (python -m lgrin_edge.params) and the bundled datasets
CASES = [(label, m, p, c) for label, m, p, c, _ in CONFIGS if not label.startswith("RAVDESS")]
CASES += [("JapaneseVowels (bundled)", 29, 12, 9), ("BasicMotions (bundled)", 100, 6, 4)]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("case", CASES, ids=[c[0].split()[0].strip("/") for c in CASES])
def test_training_step(benchmark, case, threads) -> None:
    label, m, p, c = case
    retain_freed_memory()  # as fit() does
    torch.manual_seed(0)
    config = {"num_nodes": m, "in_features": p, "num_classes": c}
    model = create_model("lgrin", **config)
    opt = adam(model, 0.01)  # the optimiser fit() makes
    x, y = torch.randn(BATCH, m, p), torch.randint(0, c, (BATCH,))

    def step() -> float:
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), y) + model.regularization()
        loss.backward()
        opt.step()
        return float(loss)

    benchmark.extra_info.update(
        kind="training",
        config=label,
        num_nodes=m,
        in_features=p,
        batch=BATCH,
        threads=threads,
        macs=3 * lgrin_macs({**config, "num_classes": c}),
        maxpool=maxpool.backend(),
    )
    benchmark.group = "training throughput"
    with torch_threads(threads):
        # 30 rounds: the median must survive the stalls of a shared machine (one step is 10-80 ms)
        loss = benchmark.pedantic(step, rounds=30, iterations=1, warmup_rounds=3)
    assert torch.isfinite(torch.tensor(loss))
