"""The folded L-GrIN: the one value every deployed form reads.

Folding makes every input-independent quantity of a trained L-GrIN a constant: relu(A), the 1-hop
neighbour table, the input normalisation as a scale and shift, the pooling weights p. The forms in this
package (numpy reference, int8 quantiser and simulator, torch module, XNNPACK and LiteRT forms) and the
C runtime's model file (export/c_runtime.py) are all made from a :class:`FoldedLGrIN`.

:class:`GraphCost` states what the graph's 1-hop max pool costs in each form (K against the edges) and
warns where one hub row would make a form's cost grow with K x M.

Shapes: M nodes, P input features, C classes, K the largest neighbour count; F_l is the width of the
node features entering layer l (F_0 = P) and eta the widths of a layer's branches.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterator

    from lgrin_edge.models.lgrin import LGrIN

POOLINGS = ("learned", "max", "mean")
# One gather costs about as much as copying this many extra rows (fixed per-operator cost of leaving and
# re-entering the XNNPACK delegate); degree groups are merged while that is cheaper. Measured: 20 rows
# gave 547 gathered rows in 4 groups on BasicMotions (exact groups: 493 rows in 10, slower).
GATHER_COST_ROWS = 20
# What one more run of the XNNPACK form's max pool (a selection product and a max_pool2d) is taken to
# cost, in selected rows: a fixed-width table that is this close to the edges stays one run.
SEGMENT_COST_ROWS = 20


class FoldError(ValueError):
    """The model's configuration cannot be folded into a constant-graph deployment model."""


def neighbour_lists(adj: np.ndarray) -> list[np.ndarray]:
    """Each node's 1-hop neighbours in an (M, M) relu(A): the j with A_ij > 0, ascending. A node with no
    neighbour is its own only one, so its max pool keeps its features (training's neighbour_mask)."""
    return [row if len(row) else np.array([i]) for i, row in enumerate(np.flatnonzero(r > 0) for r in adj)]


def pad_rows(lists: list[np.ndarray] | list[list[int]], width: int) -> np.ndarray:
    """(len(lists), width) int32 table of index lists, each row padded by repeating its first entry,
    which leaves a max over the row unchanged."""
    return np.array([[*row, *[row[0]] * (width - len(row))] for row in lists], np.int32).reshape(-1, width)


def neighbour_table(adj: np.ndarray) -> np.ndarray:
    """(M, K) int32 neighbour table of relu(A): :func:`neighbour_lists` padded to the largest degree K."""
    lists = neighbour_lists(np.asarray(adj))
    return pad_rows(lists, max(len(row) for row in lists))


def degree_groups(degrees: list[int], cost: int = GATHER_COST_ROWS) -> list[tuple[int, int]]:
    """Split nodes sorted by ``degrees`` (ascending) into contiguous groups, each padded to its largest
    degree, minimising gathered rows + ``cost`` per group. Returns (size, degree) per group."""
    n = len(degrees)
    best = [0] + [None] * n  # best[j]: cheapest split of the first j nodes
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(j):
            total = best[i] + (j - i) * degrees[j - 1] + cost
            if best[j] is None or total < best[j]:
                best[j], cut[j] = total, i
    return _split(cut, lambda a, b: degrees[b - 1])


def degree_segments(degrees: list[int], cost: int = SEGMENT_COST_ROWS) -> list[tuple[int, int]]:
    """Split nodes 0..M-1, in their own order, into runs each padded to its own largest degree, minimising
    padded rows + ``cost`` per run. Returns (size, width) per run; [(M, K)] is the fixed-width table.

    Keeping the order lets a form concatenate the runs' max pools as they come (no relabelling); a hub row
    becomes a run of its own instead of setting the width of every row."""
    n = len(degrees)
    best = [0] + [None] * n
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        width = 0
        for i in range(j - 1, -1, -1):
            width = max(width, degrees[i])
            total = best[i] + (j - i) * width + cost
            if best[j] is None or total < best[j]:
                best[j], cut[j] = total, i
    return _split(cut, lambda a, b: max(degrees[a:b]))


def _split(cut: list[int], width) -> list[tuple[int, int]]:
    """(size, width(start, end)) of the runs a dynamic programme's ``cut`` (start of the run ending at j)
    gives, first to last."""
    runs, j = [], len(cut) - 1
    while j > 0:
        runs.append((j - cut[j], int(width(cut[j], j))))
        j = cut[j]
    return runs[::-1]


@dataclass(frozen=True, eq=False)
class Linear:
    """A linear layer y = x @ w.T + b: w (out, in) and b (out,), float32."""

    w: np.ndarray
    b: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "w", np.ascontiguousarray(self.w, np.float32))
        object.__setattr__(self, "b", np.ascontiguousarray(self.b, np.float32))


@dataclass(frozen=True, eq=False)
class Branch:
    """One graph convolution of relu(A) @ H, a ReLU after each linear: G*conv's MLP, linears of shapes
    (eta, F) and (eta, eta), or the linear projection it replaces, one (eta, F) linear."""

    linears: tuple[Linear, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "linears", tuple(self.linears))

    @property
    def width(self) -> int:
        return int(self.linears[-1].w.shape[0])


@dataclass(frozen=True, eq=False)
class Layer:
    """One graph inception layer: [branch 1 | branch 2 | 1-hop max pool of H] (one branch and no max
    pool without inception)."""

    branches: tuple[Branch, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "branches", tuple(self.branches))


@dataclass(frozen=True, eq=False)
class FoldedLGrIN:
    """A folded L-GrIN; made valid (:meth:`validate`) or not at all. Arrays are float32 and read-only by
    convention: derive a changed model with ``dataclasses.replace``. Values compare by identity (an array
    comparison has no single truth value).

    in_scale, in_shift: (P,), the input normalisation x * in_scale + in_shift.
    adj: (M, M) relu(A), the graph every layer propagates over.
    layers: the graph inception layers, each over the widths of the previous one.
    pooling: "learned" ([max | p-weighted sum | mean] over the nodes), "max" or "mean".
    inception: whether each layer appends the 1-hop max pool of its input.
    pool_p: (M,) node weights of the learned pooling; None for the others.
    classifier: Linear (C, R * F_L), R = 3 for learned pooling, 1 otherwise.
    """

    in_scale: np.ndarray
    in_shift: np.ndarray
    adj: np.ndarray
    layers: tuple[Layer, ...]
    pooling: str
    inception: bool
    pool_p: np.ndarray | None
    classifier: Linear

    def __post_init__(self) -> None:
        for name in ("in_scale", "in_shift", "adj", "pool_p"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, np.ascontiguousarray(getattr(self, name), np.float32))
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "inception", bool(self.inception))
        self.validate()

    @cached_property
    def nbr(self) -> np.ndarray:
        """(M, K) int32 neighbour table of ``adj`` (:func:`neighbour_table`), for the 1-hop max pool."""
        return neighbour_table(self.adj)

    @property
    def M(self) -> int:
        return int(self.adj.shape[0])

    @property
    def P(self) -> int:
        return int(self.in_scale.shape[0])

    @property
    def C(self) -> int:
        return int(self.classifier.b.shape[0])

    @property
    def K(self) -> int:
        return int(self.nbr.shape[1])

    @property
    def L(self) -> int:
        return len(self.layers)

    @property
    def eta(self) -> tuple[int, ...]:
        """The widths of each layer's branches (the same in every layer)."""
        return tuple(br.width for br in self.layers[0].branches)

    @property
    def conv(self) -> str:
        """ "gstar" (two linears per branch) or "linear" (one)."""
        return "gstar" if len(self.layers[0].branches[0].linears) == 2 else "linear"

    @property
    def widths(self) -> tuple[int, ...]:
        """F_0 = P, F_1, ..., F_L: the node-feature width entering each layer and leaving the last."""
        out = [self.P]
        for _ in self.layers:
            out.append(sum(self.eta) + (out[-1] if self.inception else 0))
        return tuple(out)

    @property
    def readout_width(self) -> int:
        """Width of the pooled features the classifier reads."""
        return (3 if self.pooling == "learned" else 1) * self.widths[-1]

    def arrays(self) -> Iterator[tuple[str, np.ndarray]]:
        """(name, array) of every array, named by its path (``layers[0].branches[1].linears[0].w``)."""
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "layers":
                for li, layer in enumerate(value):
                    for bi, br in enumerate(layer.branches):
                        for ni, lin in enumerate(br.linears):
                            key = f"layers[{li}].branches[{bi}].linears[{ni}]"
                            yield from ((f"{key}.w", lin.w), (f"{key}.b", lin.b))
            elif f.name == "classifier":
                yield from (("classifier.w", value.w), ("classifier.b", value.b))
            elif isinstance(value, np.ndarray):
                yield f.name, value

    def expected_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every array's shape as M, P, C, eta and the configuration require."""
        m, p = int(np.shape(self.adj)[0]), int(np.shape(self.in_scale)[0])
        c, eta = int(np.shape(self.classifier.b)[0]), self.eta
        depth = len(self.layers[0].branches[0].linears)
        want = {"in_scale": (p,), "in_shift": (p,), "adj": (m, m)}
        if self.pooling == "learned":
            want["pool_p"] = (m,)
        width = p
        for li in range(self.L):
            for bi, e in enumerate(eta):
                key = f"layers[{li}].branches[{bi}].linears"
                want.update({f"{key}[0].w": (e, width), f"{key}[0].b": (e,)})
                want.update({f"{key}[{n}].w": (e, e) for n in range(1, depth)})
                want.update({f"{key}[{n}].b": (e,) for n in range(1, depth)})
            width = sum(eta) + (width if self.inception else 0)
        want["classifier.w"] = (c, (3 if self.pooling == "learned" else 1) * width)
        want["classifier.b"] = (c,)
        return want

    def validate(self) -> None:
        """Raise ValueError naming the first field whose shape, or value, does not fit the rest."""
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {'|'.join(POOLINGS)}, got {self.pooling!r}")
        if (self.pool_p is None) == (self.pooling == "learned"):
            raise ValueError(
                f"pool_p is given with learned pooling and only with it, got pooling {self.pooling!r}"
            )
        if not self.layers or not self.layers[0].branches:
            raise ValueError(f"expected at least one inception layer with a branch, found {self.L} layers")
        if len({len(layer.branches) for layer in self.layers}) != 1:
            raise ValueError(f"every layer has layer 0's {len(self.layers[0].branches)} branches")
        if {len(br.linears) for layer in self.layers for br in layer.branches} not in ({1}, {2}):
            raise ValueError("every branch holds one linear (linear conv), or every branch two (G*conv)")
        have = dict(self.arrays())
        for key, shape in self.expected_shapes().items():
            if tuple(np.shape(have[key])) != shape:
                raise ValueError(f"{key!r} has shape {tuple(np.shape(have[key]))}, expected {shape}")
            if not np.all(np.isfinite(have[key])):
                raise ValueError(f"{key!r} contains NaN or infinity")

    @classmethod
    def random(
        cls,
        M: int,
        P: int,
        C: int,
        eta: tuple[int, int] = (128, 64),
        L: int = 2,
        seed: int = 0,
        *,
        conv: str = "gstar",
        inception: bool = True,
        pooling: str = "learned",
    ) -> tuple[FoldedLGrIN, np.ndarray, np.ndarray]:
        """A random model with the paper's initialisation (A ~ N(0,1), Xavier weights) and its input law.

        Returns (model, feature_mean, feature_std): inputs drawn as mean + std * N(0, 1) are what the
        folded normalisation expects. The default configuration is the paper's; the draws are fixed by
        ``seed`` (the C runtime's known-answer data comes from them).
        """
        rng = np.random.default_rng(seed)
        mean = rng.normal(0, 2, P).astype(np.float32)
        std = rng.uniform(0.5, 3, P).astype(np.float32)
        adj = np.maximum(rng.normal(0, 1, (M, M)), 0).astype(np.float32)

        def xavier(o: int, i: int) -> np.ndarray:
            lim = np.sqrt(6 / (o + i))
            return rng.uniform(-lim, lim, (o, i)).astype(np.float32)

        layers, width = [], P
        for _ in range(L):
            branches = []
            for e in eta if inception else eta[:1]:
                ws = [xavier(e, width), xavier(e, e)] if conv == "gstar" else [xavier(e, width)]
                bs = [rng.uniform(-0.1, 0.1, e).astype(np.float32) for _ in ws]
                branches.append(Branch(tuple(Linear(w, b) for w, b in zip(ws, bs, strict=True))))
            layers.append(Layer(tuple(branches)))
            width = sum(br.width for br in branches) + (width if inception else 0)
        pool_p = rng.normal(0, 1 / np.sqrt(M), M).astype(np.float32) if pooling == "learned" else None
        readout = (3 if pooling == "learned" else 1) * width
        classifier = Linear(xavier(C, readout), np.zeros(C, np.float32))
        model = cls(1 / std, -mean / std, adj, tuple(layers), pooling, inception, pool_p, classifier)
        return model, mean, std


def fold_lgrin(model: LGrIN) -> FoldedLGrIN:
    """The folded form of a trained L-GrIN (its weights copied, on the CPU)."""
    cfg = model.config
    if cfg["adjacency"] == "weighted":
        raise FoldError("adjacency 'weighted' depends on each input, so there is no constant graph to fold")
    if cfg["pooling"] == "sort":
        raise FoldError("sort pooling is data-dependent reordering; deployment supports learned|max|mean")

    def array(t) -> np.ndarray:
        return t.detach().cpu().numpy().copy()

    def linear(fc) -> Linear:
        return Linear(array(fc.weight), array(fc.bias))

    layers = tuple(
        Layer(tuple(Branch(tuple(linear(fc) for fc in _linears(br))) for br in layer.branches))
        for layer in model.layers
    )
    return FoldedLGrIN(
        in_scale=array(model.norm.scale),
        in_shift=array(model.norm.shift),
        adj=array(model.graph().detach().float()),
        layers=layers,
        pooling=cfg["pooling"],
        inception=cfg["inception"],
        pool_p=array(model.pool_p) if cfg["pooling"] == "learned" else None,
        classifier=linear(model.classifier),
    )


def _linears(branch) -> list:
    return [branch.fc1, branch.fc2] if hasattr(branch, "fc1") else [branch.fc]


# A form whose max pool reads more than this many neighbour rows per edge is named in a warning.
WARN_FACTOR = 4.0
# A row is a hub when its degree exceeds this many times the median degree.
HUB_FACTOR = 2.0
# The forms of the 1-hop max pool a file computes (export/targets.py: Target.graph_form): the fixed-width
# table (K x M rows), the LiteRT form's degree groups (litert.py), the XNNPACK form's runs (xnnpack.py).
GRAPH_FORMS = ("table", "litert", "xnnpack")


@dataclass(frozen=True)
class GraphCost:
    """The degrees of a folded graph and what its 1-hop max pool costs in each form, in neighbour rows
    read per layer (each F values; the XNNPACK form's rows are dot products over the M nodes, so its
    constants and work are M times its rows). ``edges``, the sum of degrees, is what a max over each
    node's own neighbours reads; a form's rows over the edges is the share it wastes on padding."""

    degrees: tuple[int, ...]
    rows: dict[str, int]

    @classmethod
    def of(cls, adj: np.ndarray) -> GraphCost:
        lists = neighbour_lists(np.asarray(adj))
        degrees = [len(row) for row in lists]
        rest = sorted(len(row) for i, row in enumerate(lists) if row.tolist() != [i])  # self-only: sliced
        rows = {
            "table": max(degrees) * len(degrees),
            "litert": sum(size * width for size, width in degree_groups(rest)),
            "xnnpack": sum(size * width for size, width in degree_segments(degrees)),
        }
        return cls(tuple(degrees), rows)

    @property
    def K(self) -> int:
        return max(self.degrees)

    @property
    def edges(self) -> int:
        return sum(self.degrees)

    @property
    def median(self) -> float:
        return float(np.median(self.degrees))

    def widest(self) -> list[int]:
        """The rows of degree K."""
        return [i for i, d in enumerate(self.degrees) if d == self.K]

    def hubs(self) -> list[int]:
        """The rows of more than HUB_FACTOR x the median degree."""
        return [i for i, d in enumerate(self.degrees) if d > HUB_FACTOR * self.median]

    def to_dict(self) -> dict:
        """The facts as a manifest or metrics.json records them."""
        return {
            "max_degree": self.K,
            "median_degree": self.median,
            "mean_degree": self.edges / len(self.degrees),
            "edges": self.edges,
            "widest_rows": self.widest(),
            "hub_rows": self.hubs(),
            "table_waste": self.rows["table"] / self.edges,
            "max_pool_rows": dict(self.rows),
        }

    def summary(self) -> str:
        return degree_summary(self.to_dict())

    def warning(self, forms: dict[str, str], factor: float = WARN_FACTOR) -> str | None:
        """A warning naming the targets (``forms``: target -> its form of GRAPH_FORMS) whose max pool
        reads more than ``factor`` x the edges, or None."""
        heavy = []
        for name, form in forms.items():
            if self.rows[form] > factor * self.edges:
                heavy.append(f"{name} {self.rows[form] / self.edges:.1f}x")
        if not heavy:
            return None
        why = f"row {self.widest()[0]} has {self.K} neighbours"
        return (
            f"warning: {why} where the median row has {self.median:g}, so the 1-hop max pool reads more "
            f"than {factor:g}x the {self.edges:,} edges ({', '.join(heavy)}) in size and time; "
            "train with --max-degree N to bound it (docs/executorch.md)"
        )


def degree_summary(facts: dict) -> str:
    """One line of :meth:`GraphCost.to_dict`'s facts: K and its rows, the median and mean degree, the hub
    rows, and how much of a K-wide table is padding."""

    def rows(nodes: list[int]) -> str:
        return ", ".join(map(str, nodes[:5])) + (f", ... ({len(nodes)} rows)" if len(nodes) > 5 else "")

    hubs = (
        f"hub rows (> {HUB_FACTOR:g}x the median) {rows(facts['hub_rows'])}"
        if facts["hub_rows"]
        else "no hub"
    )
    return (
        f"graph: K = {facts['max_degree']} neighbours at most (row {rows(facts['widest_rows'])}), median "
        f"degree {facts['median_degree']:g}, mean {facts['mean_degree']:.1f}, {hubs}; a K-wide table "
        f"holds {facts['table_waste']:.1f}x the {facts['edges']:,} edges"
    )


def graph_cost_text(model: FoldedLGrIN, forms: dict[str, str]) -> str:
    """What an export says about the graph: :meth:`GraphCost.summary` and, if any, the warning for the
    targets of ``forms`` (target -> its max pool's form)."""
    cost = GraphCost.of(model.adj)
    warning = cost.warning(forms) if model.inception else None
    return cost.summary() if warning is None else f"{cost.summary()}\n{warning}"
