"""Training-time augmentation of graphs (B, M, P) that respects what a node sequence is.

Every transform keeps the graph's shape and its meaning as a sequence of frames: small noise on each
feature, a per-graph gain on each feature around the training mean, a cyclic shift of the node order
(graphs of short sequences are cyclically padded, so a shift moves where the loop starts), and a smooth
random time warp (frames resampled at a locally faster or slower pace). Strengths are in units of each
feature's training standard deviation, so they fit any corpus.

Shifts apply only where the class cannot depend on where a frame sits (:func:`shift_check`): where the
training graphs' loops differ (data/graph.py graph_loops: sequences of different lengths, so node i is
no particular moment), or where a description blind to cyclic shifts (the magnitude of each feature's
DFT along the nodes) tells the training graphs' classes apart clearly better than their aligned values
(1-nearest-neighbour, leave-one-out, paired). Otherwise, on aligned recordings, a shift would join a
graph's end to its start and move every frame away from where it sits in the recording, which is what
their classes differ in (docs/model.md, "Shifts only where position carries no class").
"""

from __future__ import annotations

import numpy as np
import torch

AUGMENTS = ("jitter", "scale", "shift", "warp")
SHIFT_CHECK_GRAPHS = 2000  # shift_check compares this many training graphs at most (N^2 distances)

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


def _loo_1nn(features: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per graph, whether its nearest neighbour (Euclidean) among the others in ``features`` (N, D)
    has its label: leave-one-out 1-NN, (N,) bool."""
    f = features.reshape(len(features), -1).astype(np.float64)
    sq = (f * f).sum(1)
    dist = sq[:, None] + sq[None, :] - 2.0 * f @ f.T
    np.fill_diagonal(dist, np.inf)
    return labels[dist.argmin(1)] == labels


def shift_check(x: np.ndarray, y: np.ndarray | None, loops: np.ndarray, seed: int) -> tuple[bool, str]:
    """Whether cyclic shifts of training graphs x (N, M, P) with labels y and loop lengths ``loops``
    leave their classes alone, and the sentence saying why (see the module's docstring); without
    labels, only where the loops differ (and no sentence then)."""
    if (loops != loops[0]).any():
        return True, "the sequences' lengths differ, so a node is no particular moment"
    if y is None:
        return False, ""
    if len(x) > SHIFT_CHECK_GRAPHS:  # a fixed sample keeps the N^2 distances small
        pick = np.random.default_rng(seed).choice(len(x), SHIFT_CHECK_GRAPHS, replace=False)
        x, y = x[pick], y[pick]
    if len(x) < 3:
        return False, "too few training graphs to tell whether position carries the class"
    z = (x - x.mean((0, 1))) / (x.std((0, 1)) + 1e-12)
    aligned, blind = _loo_1nn(z, y), _loo_1nn(np.abs(np.fft.rfft(z, axis=1)), y)
    # Paired: graphs only the shift-blind description gets right against those only the aligned one
    # does; shifts need the former ahead by more than one standard deviation of that difference
    # (sqrt of the discordant count), so a few graphs' noise on a small training set decides nothing.
    gain = int((blind & ~aligned).sum()) - int((aligned & ~blind).sum())
    clearly = gain > np.sqrt(int((blind != aligned).sum()))
    verdict = "clearly better than" if clearly else "no better than"
    why = (
        f"a shift-blind description (|DFT| along the nodes) tells the {len(y)} training graphs' classes "
        f"apart {verdict} their aligned values (nearest neighbour, leave-one-out: {blind.mean():.3f} vs "
        f"{aligned.mean():.3f})"
    )
    return bool(clearly), why


class Augmenter:
    """Applies the named transforms (a subset of :data:`AUGMENTS`) to each training batch."""

    def __init__(
        self,
        names: tuple[str, ...] | list[str],
        x_train: torch.Tensor,
        seed: int,
        loops: np.ndarray | None = None,
        y_train: torch.Tensor | None = None,
    ) -> None:
        """``loops``: each training graph's loop length (data/graph.py graph_loops; None: M for every
        graph); "shift" moves graphs only where :func:`shift_check` on them and ``y_train`` allows it
        (without labels, only where the loops differ). ``shift_reason`` says why, once decided."""
        self.names = check_augments(names)  # a fixed order, whatever the user's
        flat = x_train.reshape(-1, x_train.shape[-1]).double()
        self.mean = flat.mean(0).float()
        self.std = flat.std(0).nan_to_num(0.0).clamp_min(1e-12).float()
        self.gen = torch.Generator().manual_seed(int(seed) + 7919)  # its own stream: batching is unchanged
        m = x_train.shape[1]
        loops = np.full(len(x_train), m) if loops is None else np.asarray(loops)
        if loops.shape != (len(x_train),):
            raise ValueError(f"loops must hold one length per training graph ({len(x_train)})")
        self.shifts, self.shift_reason = False, ""
        if "shift" in self.names and m > 1:
            labels = None if y_train is None else y_train.detach().cpu().numpy()
            self.shifts, self.shift_reason = shift_check(x_train.detach().cpu().numpy(), labels, loops, seed)

    def __bool__(self) -> bool:
        return bool(self.names)

    def _randn(self, *shape: int, device: torch.device) -> torch.Tensor:
        return torch.randn(*shape, generator=self.gen).to(device)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The batch x (B, M, P) of training graphs, transformed."""
        b, m, p = x.shape
        dev = x.device
        if self.shifts:
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
