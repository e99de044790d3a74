#!/usr/bin/env bash
# The GPU check on a machine with a CUDA device and torch installed (no registry access needed):
#   bash benchmarks/gpu_check.sh [report folder]
# Writes gpu_check.json and gpu_check.md (default benchmarks/results/gpu); about 6 minutes on one GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] && PY=.venv/bin/python
exec timeout 480 "$PY" benchmarks/gpu_check.py --device cuda --out "${1:-benchmarks/results/gpu}"
