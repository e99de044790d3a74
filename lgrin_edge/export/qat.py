"""Quantisation-aware fine-tuning of the full-integer ``.tflite`` (export ``--qat-epochs N``).

The weights are fine-tuned by distillation: the module runs with int8 fake quantisation (weights per
output channel, as the converter stores them; every activation at the scale the post-training recipe
calibrated on the training graphs, frozen) and Adam lowers the mean squared difference between its
logits and the float module's on the training graphs (the calibration set; labels are not used, and the
held-out graphs the export verifies on never are). The fine-tuned weights then go through the ordinary
post-training recipe (tflite_static.convert), so its calibration, its fallback and its converter are the
same code for both. Everything is seeded and in a fixed order: the same inputs give the same file.

Activation scales stay frozen because the ones the fake quantisers would learn (moving min/max) are wider
than the histogram calibration's: on a small L-GrIN, fine-tuning with them ended at a 0.48 logit error
where the post-training file has 0.04.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from lgrin_edge.export.tflite_static import CALIBRATION_CHUNK, base_quantizer, capture, observe

# Small steps: the training graphs are few (BasicMotions has 34), and the file must generalise to graphs
# it never saw. Measured with 5 epochs on the BasicMotions 30-epoch model (held-out logit error, 40
# graphs): post-training 0.122, lr 3e-5 0.083, lr 1e-4 0.128 (and one training graph flipped), 10 epochs
# at 1e-4 one held-out graph flipped; on JapaneseVowels (20 epochs) 0.035 -> 0.029 (3e-5), 0.031 (1e-4).
QAT_LR = 3e-5
QAT_BATCH = 16  # graphs per step
QAT_SEED = 0  # the order the training graphs are visited in


@dataclass(frozen=True)
class FineTuning:
    """What the fine-tuning did: its settings and the distillation loss (mean squared logit difference
    to the float module on the training graphs) before the first step and after each epoch."""

    epochs: int
    lr: float
    batch: int
    losses: tuple[float, ...]

    def manifest(self) -> dict:
        return {
            "epochs": self.epochs,
            "lr": self.lr,
            "batch": self.batch,
            "seed": QAT_SEED,
            "loss": "mean squared logit difference to the float module, fake-quantised int8",
            "loss_before": round(self.losses[0], 6),
            "loss_after": round(self.losses[-1], 6),
        }


def _qat_quantizer() -> Any:
    """The post-training recipe's quantizer with fake quantisers in place of its observers."""
    from litert_torch.quantize import pt2e_quantizer

    config = pt2e_quantizer.get_symmetric_quantization_config(is_per_channel=True, is_qat=True)
    # is_qat in the config only adds litert-torch's conv + batch-norm patterns, whose annotation fails
    # on this torch version and which L-GrIN does not have; prepare_qat_pt2e makes it QAT regardless.
    return pt2e_quantizer.PT2EQuantizer().set_global(dataclasses.replace(config, is_qat=False))


def _weight_quantisers(graph: Any) -> set[str]:
    """The fake quantisers of constant operands (weights): they keep following the weights."""
    return {
        n.target
        for n in graph.graph.nodes
        if n.op == "call_module" and n.args and getattr(n.args[0], "op", None) == "get_attr"
    }


def _fake_quantised(module: nn.Module, calibration: np.ndarray, example: torch.Tensor) -> tuple[Any, int]:
    """``module``'s graph with int8 fake quantisation, its activation scales those of the post-training
    recipe's calibration, frozen; and the batch its graph runs in (0: any)."""
    from torchao.quantization.pt2e import quantize_pt2e

    graph, chunk = capture(module, calibration, example)
    calibrated = quantize_pt2e.prepare_pt2e(copy.deepcopy(graph), base_quantizer())
    observe(calibrated, calibration, chunk, example)
    trained = quantize_pt2e.prepare_qat_pt2e(graph, _qat_quantizer())
    # Both graphs are annotated by the same patterns, so their quantisers carry the same names.
    quantisers = dict(trained.named_modules())
    weights = _weight_quantisers(trained)
    for name, observer in calibrated.named_modules():
        fake = quantisers.get(name)
        if (
            name in weights
            or not hasattr(observer, "calculate_qparams")
            or not hasattr(fake, "disable_observer")
        ):
            continue
        # The fused fake quantiser derives its scale from its observer's range even with the observer
        # off, so the calibrated scale goes in as the range it stands for.
        scale, zero_point = (float(v) for v in observer.calculate_qparams())
        fake.activation_post_process.min_val.copy_(torch.tensor((fake.quant_min - zero_point) * scale))
        fake.activation_post_process.max_val.copy_(torch.tensor((fake.quant_max - zero_point) * scale))
        fake.disable_observer()
    return trained, 0 if chunk == CALIBRATION_CHUNK else chunk


def _batches(n: int, size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """One epoch's batches of indices into ``n`` graphs, shuffled; all of ``size`` graphs (the last
    wraps around) so a fixed-batch graph runs them too."""
    order = rng.permutation(n)
    return [order[(start + np.arange(size)) % n] for start in range(0, n, size)]


def fine_tuned(
    module: nn.Module, calibration: np.ndarray, example: torch.Tensor, epochs: int, lr: float = QAT_LR
) -> tuple[nn.Module, FineTuning]:
    """A copy of ``module`` whose weights were fine-tuned for ``epochs`` passes over ``calibration``
    (module docstring), and the record of it."""
    # The captured graph shares its parameters with the module it was captured from: train a copy's.
    tuned = copy.deepcopy(module).eval()
    graph, fixed = _fake_quantised(tuned, calibration, example)
    x = torch.from_numpy(np.ascontiguousarray(calibration))
    with torch.no_grad():
        reference = module(x)
    size = fixed or min(QAT_BATCH, len(calibration))
    rng = np.random.default_rng(QAT_SEED)
    params = [p for p in graph.parameters() if p.requires_grad]
    optimiser = torch.optim.Adam(params, lr=lr)
    losses = [_loss(graph, x, reference, size)]
    for _ in range(epochs):
        for batch in _batches(len(calibration), size, rng):
            loss = nn.functional.mse_loss(graph(x[batch]), reference[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        losses.append(_loss(graph, x, reference, size))
    state = graph.state_dict()
    tuned.load_state_dict({name: state[name] for name in tuned.state_dict()})
    return tuned, FineTuning(epochs, lr, size, tuple(losses))


def _loss(graph: Any, x: torch.Tensor, reference: torch.Tensor, size: int) -> float:
    """The distillation loss over every training graph (in batches of ``size``)."""
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(x), size):
            batch = (start + np.arange(size)) % len(x)
            keep = min(size, len(x) - start)  # a wrapped-around batch counts its own graphs once
            diff = graph(x[batch])[:keep] - reference[batch][:keep]
            total += float((diff**2).sum())
    return total / reference.numel()
