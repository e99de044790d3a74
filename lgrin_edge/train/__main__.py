"""``python -m lgrin_edge.train``: see lgrin_edge/train/cli.py."""

import sys

from lgrin_edge.train.cli import main

if __name__ == "__main__":
    sys.exit(main())
