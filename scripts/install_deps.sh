#!/usr/bin/env bash
# Installs what taskmap needs to build and test on Debian 12 (bookworm). Skips apt entirely when
# every package is already present, so repeated runs are fast and work offline.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake ninja-build g++        # build
  libgtest-dev                 # tests (GoogleTest)
  libcli11-dev                 # command line of the taskmap CLI
  nlohmann-json3-dev           # manifests and caches
  libxxhash-dev                # content hashes of the kernel cache
  clang-format clang-tidy      # formatting and lint checks
  libonnx-dev libprotobuf-dev  # ONNX models: the generated protobuf classes
  libonnx-testdata             # the ONNX backend test data (conformance suite)
  clang libclang-rt-14-dev     # the libFuzzer target for the ONNX loader
  python3-venv python3-numpy python3-torch python3-torchvision python3-onnx  # models test
  libdnnl-dev libopenblas-dev  # GEMM peers of benchmarks/ (its smoke test runs in CI)
  libopenblas0-openmp          # its folder is the "PyTorch configured" peer's BLAS (benchmarks/)
)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#packages[@]} packages present"
else
  echo "install_deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

# ONNX Runtime, the reference of the models test, comes from PyPI into a virtual environment that
# also sees Debian's torch and numpy (numpy stays 1.x: Debian's torch is built against it).
venv=.venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import onnxruntime" 2>/dev/null; then
  echo "install_deps: creating $venv with onnxruntime"
  /usr/bin/python3 -m venv --system-site-packages "$venv"
  "$venv/bin/pip" install -q "onnxruntime>=1.17" "numpy<2"
fi
