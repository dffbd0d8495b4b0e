#!/usr/bin/env bash
# Installs what taskmap needs to build and test on Debian 12 (bookworm). Skips apt entirely when
# every package is already present, so repeated runs are fast and work offline.
set -euo pipefail

packages=(
  cmake ninja-build g++        # build
  libgtest-dev                 # tests (GoogleTest)
  libcli11-dev                 # command line of the taskmap CLI
  nlohmann-json3-dev           # manifests and caches
  libxxhash-dev                # content hashes of the kernel cache
  clang-format clang-tidy      # formatting and lint checks
)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#packages[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install_deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
