#!/usr/bin/env bash
# Packs the taskmap CLI for a GPU machine that has no build of it (and no network to install the
# project's dependencies): the stripped binary in DIR/bin, the shared libraries it needs beyond
# glibc, libstdc++, libgcc_s and the CUDA driver in DIR/lib (libprotobuf, libonnx_proto, libgomp,
# ...: whatever ldd shows), and DIR/taskmap, a wrapper that puts DIR/lib first on
# LD_LIBRARY_PATH and runs the binary.
#
# NVRTC and the CUDA driver are not linked: taskmap dlopens libcuda.so.1 and libnvrtc.so.13 (then
# .so.12, .so, or $TASKMAP_NVRTC) at run time. Both come from the GPU machine: the driver is the
# machine's own, and libnvrtc.so.13 alone is over 100 MB. Where the dynamic loader cannot find an
# NVRTC, the wrapper looks in $CUDA_HOME, $CUDA_PATH, /usr/local/cuda* and the NVIDIA wheels of
# python3 (nvidia-cuda-nvrtc) and points TASKMAP_NVRTC at the first it finds. --with-nvrtc copies
# this machine's NVRTC into DIR/lib instead, for a GPU machine that has none.
#
# --with-tests adds the `cuda` label's test executables, stripped, in DIR/tests, and
# DIR/cuda_tests, which runs each of them with the same environment (their CPU reference builds
# kernels with the GPU machine's C++ compiler, which they need there).
#
#   bash scripts/device_bundle.sh build/device            # then: build/device/taskmap --help
#   bash scripts/device_bundle.sh --with-nvrtc /tmp/tm    # NVRTC included (about 110 MB more)
#   bash scripts/device_bundle.sh --with-tests build/device   # then: build/device/cuda_tests
#   TASKMAP_BIN=build/lead/tools/taskmap/taskmap bash scripts/device_bundle.sh build/device
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
with_nvrtc=0
with_tests=0
dir=""
for arg in "$@"; do
  case "$arg" in
    --with-nvrtc) with_nvrtc=1 ;;
    --with-tests) with_tests=1 ;;
    -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "device_bundle.sh: unknown option $arg" >&2; exit 2 ;;
    *) dir="$arg" ;;
  esac
done
if [ -z "$dir" ]; then
  echo "usage: bash scripts/device_bundle.sh [--with-nvrtc] [--with-tests] DIR" >&2
  exit 2
fi
bin="${TASKMAP_BIN:-$root/build/release/tools/taskmap/taskmap}"
if [ ! -x "$bin" ]; then
  echo "device_bundle.sh: no taskmap binary at $bin (build it: cmake --build --preset release --target taskmap)" >&2
  exit 1
fi

rm -rf "${dir:?}/bin" "${dir:?}/lib" "${dir:?}/tests" "${dir:?}/taskmap" "${dir:?}/env.sh" \
  "${dir:?}/cuda_tests"
mkdir -p "$dir/bin" "$dir/lib"
# Stripped: the release binary carries debug information (over 100 MB); the code is the same.
if command -v strip >/dev/null; then
  strip -o "$dir/bin/taskmap" "$bin"
else
  cp "$bin" "$dir/bin/taskmap"
fi
chmod +x "$dir/bin/taskmap"

# Every library ldd resolves (the whole closure), less those every Linux with a CUDA driver has.
skip='^(linux-vdso|ld-linux[^.]*|libc|libm|libpthread|libdl|librt|libutil|libresolv|libgcc_s|libstdc\+\+|libcuda|libnvrtc[^.]*)\.so'
ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' | while read -r name path; do
  if [[ "$name" =~ $skip ]]; then continue; fi
  cp -L "$path" "$dir/lib/$name"
  echo "  lib/$name  (from $path)"
done

if [ "$with_nvrtc" = 1 ]; then
  nvrtc=$(ldconfig -p | awk '$1 == "libnvrtc.so.13" || $1 == "libnvrtc.so.12" { print $NF; exit }')
  if [ -z "$nvrtc" ]; then
    echo "device_bundle.sh: --with-nvrtc: no libnvrtc.so.13 or .so.12 on this machine" >&2
    exit 1
  fi
  cp -L "$nvrtc" "$dir/lib/$(basename "$nvrtc")"
  # NVRTC loads its builtins library by name at run time.
  for builtins in "$(dirname "$nvrtc")"/libnvrtc-builtins.so.*; do
    case "$builtins" in *.alt.*) continue ;; esac
    [ -e "$builtins" ] && cp -L "$builtins" "$dir/lib/"
  done
  echo "  lib/$(basename "$nvrtc") and its builtins (from $(dirname "$nvrtc"))"
fi

# The environment every program of the bundle runs in (sourced by the wrappers below).
cat >"$dir/env.sh" <<'WRAPPER'
# The bundled libraries first, and an NVRTC (made by scripts/device_bundle.sh).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# NVRTC is dlopened by name; where the loader would not find one, point TASKMAP_NVRTC at one.
if [ -z "${TASKMAP_NVRTC:-}" ] && ! compgen -G "$here/lib/libnvrtc.so.*" >/dev/null &&
  ! { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | grep -Eq '^\s*libnvrtc\.so\.1[23] '; then
  dirs=()
  for d in "${CUDA_HOME:-}" "${CUDA_PATH:-}" /usr/local/cuda /usr/local/cuda-1[0-9]*; do
    [ -n "$d" ] && dirs+=("$d/lib64" "$d/lib" "$d/targets/x86_64-linux/lib")
  done
  if command -v python3 >/dev/null; then
    while IFS= read -r p; do
      dirs+=("$p"/*/lib)
    done < <(python3 -c 'import nvidia; print("\n".join(nvidia.__path__))' 2>/dev/null || true)
  fi
  for version in 13 12; do
    for d in "${dirs[@]}"; do
      if [ -e "$d/libnvrtc.so.$version" ]; then
        export TASKMAP_NVRTC="$d/libnvrtc.so.$version"
        export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$d"
        break 2
      fi
    done
  done
fi
WRAPPER
cat >"$dir/taskmap" <<'WRAPPER'
#!/usr/bin/env bash
# taskmap with the libraries bundled beside it (made by scripts/device_bundle.sh).
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/env.sh"
exec "$here/bin/taskmap" "$@"
WRAPPER
chmod +x "$dir/taskmap"

if [ "$with_tests" = 1 ]; then
  mkdir -p "$dir/tests"
  tests_dir="$(dirname "$bin")/../../tests"
  found=0
  for t in "$tests_dir"/cuda_cuda_*_test; do
    [ -x "$t" ] || continue
    strip -o "$dir/tests/$(basename "$t")" "$t" 2>/dev/null || cp "$t" "$dir/tests/"
    found=$((found + 1))
  done
  if [ "$found" = 0 ]; then
    echo "device_bundle.sh: --with-tests: no cuda test executables in $tests_dir (build them)" >&2
    exit 1
  fi
  cat >"$dir/cuda_tests" <<'WRAPPER'
#!/usr/bin/env bash
# Runs the bundled `cuda` tests (made by scripts/device_bundle.sh); extra arguments go to each
# (--gtest_filter=...). Exit status: the first failing test executable's.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/env.sh"
status=0
for t in "$here"/tests/*_test; do
  echo "== $(basename "$t")"
  "$t" "$@"
  rc=$?
  if [ "$rc" != 0 ] && [ "$status" = 0 ]; then status=$rc; fi
done
exit "$status"
WRAPPER
  chmod +x "$dir/cuda_tests"
  echo "  tests/: $found cuda test executables, the wrapper $dir/cuda_tests"
fi
echo "device_bundle.sh: $dir: $(du -sh "$dir" | cut -f1) (bin/taskmap, $(find "$dir/lib" -type f | wc -l) libraries, the wrapper $dir/taskmap)"
