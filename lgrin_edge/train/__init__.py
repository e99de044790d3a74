"""Training: the command (cli.py), one model fit with validation-based early stopping (trainer.py), and
the evaluation protocols (protocol.py)."""

from lgrin_edge.train.cli import build_parser, main

__all__ = ["build_parser", "main"]
