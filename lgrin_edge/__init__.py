"""lgrin-edge: L-GrIN (learnable graph inception network) from training to the edge."""

from __future__ import annotations

import importlib
import signal
import sys
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

# ``python -m lgrin_edge.<command>``: sys.argv[0] is "-m" while Python locates the command, which imports
# this package first; Ctrl-C from here until lgrin_edge.cli.run takes over (while the command's imports
# load) is one line and exit 130, never a traceback. A library import (anything else) leaves the
# process's signal handling alone, as does a SIGINT that is ignored (a background job) or already handled.
if getattr(sys, "argv", [])[:1] == ["-m"] and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    from lgrin_edge.cli import startup_interrupt

    signal.signal(signal.SIGINT, startup_interrupt)

# Top-level names resolved on first use (PEP 562): the models need torch, and ``import lgrin_edge``
# (for __version__, or a tool that only reads config.json) should not pay for importing it.
_LAZY = {"MODEL_NAMES": "lgrin_edge.models", "create_model": "lgrin_edge.models"}

if TYPE_CHECKING:
    from lgrin_edge.models import MODEL_NAMES, create_model

__all__ = ["MODEL_NAMES", "__version__", "create_model"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'lgrin_edge' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
