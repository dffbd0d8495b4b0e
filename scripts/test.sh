#!/usr/bin/env bash
# All tests: install dependencies, build (release), run every CTest label (the ONNX conformance
# run and the models test against ONNX Runtime included), fuzz the ONNX loader for a bounded time,
# then the unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
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

echo "== tests (labels: unit passes codegen ops errors onnx models)"
ctest --preset release -j "$jobs"

echo "== fuzz: the ONNX loader under libFuzzer for ${TASKMAP_FUZZ_SECONDS:-60} s"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$jobs"
corpus=build/fuzz/corpus
mkdir -p "$corpus"
for t in test_add test_if test_conv_with_strides_padding test_constant test_reshape_extended_dims; do
  cp -f /usr/share/libonnx-testdata/data/node/$t/model.onnx "$corpus/$t.onnx"
  cp -f /usr/share/libonnx-testdata/data/node/$t/test_data_set_0/input_0.pb "$corpus/$t.pb" 2>/dev/null || true
done
./build/fuzz/tests/fuzz/onnx_loader_fuzz -max_total_time="${TASKMAP_FUZZ_SECONDS:-60}" \
  -rss_limit_mb=2048 -artifact_prefix=build/fuzz/ "$corpus" 2>&1 | tail -3

if [ "${TASKMAP_SKIP_ASAN:-0}" != "1" ]; then
  echo "== asan + ubsan build, unit tests"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j "$jobs" --target unit_suite
  ASAN_OPTIONS=detect_leaks=1 ctest --preset asan -j "$jobs"
fi
