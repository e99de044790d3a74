"""The one error every exporter raises when a conversion, a quantisation or a built file is wrong.

Each toolchain's own failure (TFLiteError, ExecuTorchError) is an ExportError, so callers catch one
class; a bad request from the user (a checkpoint, an option) is a UserError instead (lgrin_edge.cli).
"""

from __future__ import annotations


class ExportError(RuntimeError):
    """An export or quantisation produced a graph that is wrong or cannot be produced."""
