import subprocess
import sys
from pathlib import Path

import pytest

import lgrin_edge

ROOT = Path(__file__).resolve().parents[1]


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_importing_the_package_does_not_import_torch():
    done = run("import lgrin_edge, sys; print(lgrin_edge.__version__); assert 'torch' not in sys.modules")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == lgrin_edge.__version__


def test_top_level_names_load_on_first_use():
    done = run(
        "import sys, lgrin_edge; names = lgrin_edge.MODEL_NAMES; assert 'torch' in sys.modules; "
        "from lgrin_edge import create_model; print(names, create_model('gcn', num_nodes=3, in_features=2, "
        "num_classes=2).name)"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "('lgrin', 'blstm', 'senet', 'gcn') gcn"


def test_unknown_attributes_still_raise():
    with pytest.raises(AttributeError, match="no attribute 'create_modle'"):
        lgrin_edge.create_modle  # noqa: B018
    assert {"MODEL_NAMES", "create_model", "__version__"} <= set(dir(lgrin_edge))
