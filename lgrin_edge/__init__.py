"""lgrin-edge: L-GrIN (learnable graph inception network) from training to the edge."""

__version__ = "0.1.0"

from lgrin_edge.models import MODEL_NAMES, create_model

__all__ = ["MODEL_NAMES", "__version__", "create_model"]
