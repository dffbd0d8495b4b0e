#!/usr/bin/env bash
# The main job: install dependencies, build taskmap (release), compile and run the demo kernels.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target taskmap
./build/release/tools/taskmap/taskmap demo "$@"
