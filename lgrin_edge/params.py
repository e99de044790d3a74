"""Parameter counts of every model for the paper's dataset configurations, beside the paper's figures.

Example: python -m lgrin_edge.params
"""

from __future__ import annotations

import sys

from lgrin_edge.cli import Parser, run
from lgrin_edge.models import count_parameters, create_model

# (name, M, P, C, paper's L-GrIN count)
CONFIGS = (
    ("RML / eNTERFACE (video)", 90, 136, 6, "~120K"),
    ("RAVDESS (video)", 90, 136, 8, "-"),
    ("IEMOCAP (speech)", 120, 35, 4, "~92K"),
    ("MPI (mocap)", 120, 72, 11, "~110K"),
)
MODELS = (
    ("lgrin", {}),
    ("gcn", {}),
    ("blstm", {}),
    ("senet", {"preset": "compact"}),
    ("senet", {"preset": "paper"}),
)


def table() -> str:
    heads = [
        "configuration (M, P, C)",
        "L-GrIN",
        "paper L-GrIN",
        "GCN",
        "BLSTM",
        "SENet compact",
        "SENet paper",
    ]
    rows = []
    for label, m, p, c, paper in CONFIGS:
        counts = [
            count_parameters(create_model(name, num_nodes=m, in_features=p, num_classes=c, **opts))
            for name, opts in MODELS
        ]
        rows.append([f"{label} ({m}, {p}, {c})", f"{counts[0]:,}", paper] + [f"{n:,}" for n in counts[1:]])
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _main(argv: list[str] | None = None) -> int:
    Parser(prog="python -m lgrin_edge.params", description=__doc__).parse_args(argv)
    print(table())
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command: exit code 0 on success; problems are one line on stderr (lgrin_edge.cli.run)."""
    return run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
