#!/usr/bin/env bash
# All tests: install dependencies, build (release), run every CTest label, then the unit tests
# again under AddressSanitizer + UndefinedBehaviorSanitizer.
#   TASKMAP_SKIP_ASAN=1   skip the sanitizer build (faster local runs)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
jobs=$(nproc)

echo "== format check"
bash scripts/check_format.sh

echo "== release build"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"

echo "== tests (labels: unit passes codegen ops errors)"
ctest --preset release -j "$jobs"

if [ "${TASKMAP_SKIP_ASAN:-0}" != "1" ]; then
  echo "== asan + ubsan build, unit tests"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j "$jobs" --target unit_suite
  ASAN_OPTIONS=detect_leaks=1 ctest --preset asan -j "$jobs"
fi
