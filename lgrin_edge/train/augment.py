"""Training-time augmentation of graphs (B, M, P) that respects what a node sequence is.

Every transform keeps the graph's shape and its meaning as a sequence of frames: small noise on each
feature, a per-graph gain on each feature around the training mean, a cyclic shift of the node order
(graphs of short sequences are cyclically padded, so a shift only moves where the loop starts), and a
smooth random time warp (frames resampled at a locally faster or slower pace). Strengths are in units
of each feature's training standard deviation, so they fit any corpus.
"""

from __future__ import annotations

import torch

AUGMENTS = ("jitter", "scale", "shift", "warp")

JITTER_STD = 0.03  # noise, in feature standard deviations
SCALE_STD = 0.1  # per-graph, per-feature gain around 1
WARP_STD = 0.25  # log-speed deviation of the time warp
WARP_KNOTS = 4  # the warp's speed varies smoothly through this many random knots


def check_augments(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """``names`` in :data:`AUGMENTS`' order; ValueError naming any unknown one."""
    unknown = sorted(set(names) - set(AUGMENTS))
    if unknown:
        raise ValueError(f"unknown augmentation(s) {', '.join(unknown)}; choose from {', '.join(AUGMENTS)}")
    return tuple(n for n in AUGMENTS if n in names)


class Augmenter:
    """Applies the named transforms (a subset of :data:`AUGMENTS`) to each training batch."""

    def __init__(self, names: tuple[str, ...] | list[str], x_train: torch.Tensor, seed: int) -> None:
        self.names = check_augments(names)  # a fixed order, whatever the user's
        flat = x_train.reshape(-1, x_train.shape[-1]).double()
        self.mean = flat.mean(0).float()
        self.std = flat.std(0).nan_to_num(0.0).clamp_min(1e-12).float()
        self.gen = torch.Generator().manual_seed(int(seed) + 7919)  # its own stream: batching is unchanged

    def __bool__(self) -> bool:
        return bool(self.names)

    def _randn(self, *shape: int, device: torch.device) -> torch.Tensor:
        return torch.randn(*shape, generator=self.gen).to(device)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        b, m, p = x.shape
        dev = x.device
        if "shift" in self.names and m > 1:
            k = torch.randint(0, m, (b, 1), generator=self.gen).to(dev)
            idx = (torch.arange(m, device=dev)[None, :] + k) % m
            x = torch.gather(x, 1, idx[:, :, None].expand(b, m, p))
        if "warp" in self.names and m > 2:
            x = self._warp(x)
        if "scale" in self.names:
            mean = self.mean.to(dev)
            x = mean + (x - mean) * (1.0 + SCALE_STD * self._randn(b, 1, p, device=dev))
        if "jitter" in self.names:
            x = x + JITTER_STD * self.std.to(dev) * self._randn(b, m, p, device=dev)
        return x

    def _warp(self, x: torch.Tensor) -> torch.Tensor:
        """Resample each graph's nodes at a smoothly varying pace (linear interpolation between frames)."""
        b, m, p = x.shape
        dev = x.device
        knots = self._randn(b, 1, WARP_KNOTS, device=dev)
        speed = torch.exp(WARP_STD * torch.nn.functional.interpolate(knots, size=m - 1, mode="linear"))[:, 0]
        pos = torch.cat([torch.zeros(b, 1, device=dev), speed.cumsum(1)], dim=1)
        pos = pos / pos[:, -1:] * (m - 1)  # first and last frame stay in place
        lo = pos.floor().long().clamp(0, m - 2)
        w = (pos - lo)[:, :, None]
        gather = lambda i: torch.gather(x, 1, i[:, :, None].expand(b, m, p))  # noqa: E731
        return gather(lo) * (1 - w) + gather(lo + 1) * w
