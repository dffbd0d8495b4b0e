#!/usr/bin/env bash
# Installs the peers that benchmarks/run.py measures taskmap against, on Debian 12 (bookworm):
#   oneDNN (dnnl_sgemm) and OpenBLAS (cblas_sgemm) for the GEMM comparison, and OpenBLAS built
#   with OpenMP, whose folder /usr/lib/x86_64-linux-gnu/openblas-openmp is what "PyTorch
#   configured" puts on LD_LIBRARY_PATH (see docs/benchmarks.md).
# Idempotent: skips apt entirely when every package is present; creates .venv (torch, onnx,
# onnxruntime) through scripts/install_deps.sh only when it is missing or cannot import them.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  libdnnl-dev          # oneDNN 2.6: dnnl_sgemm (GEMM peer)
  libopenblas-dev      # OpenBLAS 0.3.21: cblas_sgemm (GEMM peer), pthread variant by default
  libopenblas0-openmp  # OpenBLAS on OpenMP: /usr/lib/x86_64-linux-gnu/openblas-openmp (PyTorch configured)
  g++                  # builds benchmarks/gemm_peers.cpp
)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_bench_deps: all ${#packages[@]} packages present"
else
  echo "install_bench_deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import onnxruntime, onnx, torch" 2>/dev/null; then
  echo "install_bench_deps: .venv missing or incomplete, running scripts/install_deps.sh"
  bash scripts/install_deps.sh
fi
