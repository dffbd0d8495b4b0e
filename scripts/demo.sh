#!/usr/bin/env bash
# The main job: install dependencies, build taskmap (release), then compile and run the default
# bundled model (built in C++ with seeded weights, saved as ONNX) and print its outputs and time.
# Extra arguments go to `taskmap run` (for example --threads 1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target taskmap
taskmap=./build/release/tools/taskmap/taskmap
model=$($taskmap export --default-name)
mkdir -p build/models
$taskmap export "$model" -o "build/models/$model.onnx"
$taskmap run "build/models/$model.onnx" "$@"
