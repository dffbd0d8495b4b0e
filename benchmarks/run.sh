#!/usr/bin/env bash
# The one command of the benchmark: installs the peers (oneDNN, OpenBLAS, the .venv with torch and
# onnxruntime) when missing, then runs benchmarks/run.py with the arguments given, e.g.
#   bash benchmarks/run.sh                          # all models and GEMMs, 2 threads, 5 rounds
#   bash benchmarks/run.sh --threads 1,2 --markdown /tmp/bench.md
#   bash benchmarks/run.sh --smoke --taskmap build/release/tools/taskmap/taskmap
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/install_deps.sh" >&2
python="$root/.venv/bin/python"
[ -x "$python" ] || python=python3
exec "$python" "$root/benchmarks/run.py" "$@"
