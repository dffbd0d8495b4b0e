#!/usr/bin/env bash
# Regenerates docs/onnx-conformance.md: runs every ONNX node and simple test of Debian's
# libonnx-testdata through taskmap and writes the per-operator table. Extra arguments go to the
# driver (for example --filter '^test_conv').
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target taskmap-conformance
mkdir -p docs
./build/release/tools/onnx_conformance/taskmap-conformance \
  --excluded tests/onnx/excluded.txt --report docs/onnx-conformance.md "$@"
