// CpuTarget: reading the host machine, and the text form "cpu:avx512,cores=2,...".
// Requires: nothing. Guarantees: host() never fails (unknown fields keep their defaults);
// parse(t.str()) == t for every target t.
#include "taskmap/target.h"

#include <sched.h>
#include <unistd.h>

#include "build/target_text.h"
#include "taskmap/error.h"

namespace taskmap {
namespace {

using build::parse_count;
using build::size_text;

constexpr std::string_view kSyntax =
    "expected cpu[:<isa>][,cores=<n>][,l1d=<bytes>][,l2=<bytes>][,l3=<bytes>] with <isa> one of "
    "generic, avx2, avx512 (or x86-64, x86-64-v3, x86-64-v4) and sizes like 32768, 48k, 2m";

CpuTarget::Isa host_isa() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  // The level names test every feature of the level (AVX-512 F/BW/DQ/VL for v4; AVX2, FMA,
  // BMI1/2, F16C, LZCNT, MOVBE for v3), which is exactly what the matching -march assumes.
  if (__builtin_cpu_supports("x86-64-v4")) return CpuTarget::Isa::avx512;
  if (__builtin_cpu_supports("x86-64-v3")) return CpuTarget::Isa::avx2;
#endif
  return CpuTarget::Isa::generic;
}

int host_cores() {
  // The affinity mask is what this process may use (containers, taskset); the online count is
  // the fallback when it cannot be read.
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? static_cast<int>(online) : 1;
}

int64_t sysconf_or(int name, int64_t fallback) {
  long value = sysconf(name);
  return value > 0 ? value : fallback;
}

bool parse_isa(std::string_view name, CpuTarget::Isa* isa) {
  if (name == "generic" || name == "x86-64") {
    *isa = CpuTarget::Isa::generic;
  } else if (name == "avx2" || name == "x86-64-v3") {
    *isa = CpuTarget::Isa::avx2;
  } else if (name == "avx512" || name == "x86-64-v4") {
    *isa = CpuTarget::Isa::avx512;
  } else {
    return false;
  }
  return true;
}

}  // namespace

const char* isa_name(CpuTarget::Isa isa) {
  switch (isa) {
    case CpuTarget::Isa::generic:
      return "generic";
    case CpuTarget::Isa::avx2:
      return "avx2";
    case CpuTarget::Isa::avx512:
      return "avx512";
  }
  TM_UNREACHABLE() << "bad Isa value " << static_cast<int>(isa);
}

int CpuTarget::vector_bytes() const {
  switch (isa) {
    case Isa::generic:
      return 16;
    case Isa::avx2:
      return 32;
    case Isa::avx512:
      return 64;
  }
  TM_UNREACHABLE() << "bad Isa value " << static_cast<int>(isa);
}

std::vector<std::string> CpuTarget::isa_flags() const {
  switch (isa) {
    case Isa::generic:
      return {"-march=x86-64"};
    case Isa::avx2:
      return {"-march=x86-64-v3"};
    // GCC prefers 256-bit vectors on v4 by default; our schedules pick 64-byte vectors for this
    // ISA (vector_bytes()), so let the auto-vectorizer use them too.
    case Isa::avx512:
      return {"-march=x86-64-v4", "-mprefer-vector-width=512"};
  }
  TM_UNREACHABLE() << "bad Isa value " << static_cast<int>(isa);
}

std::string CpuTarget::str() const {
  return std::string("cpu:") + isa_name(isa) + ",cores=" + std::to_string(cores) +
         ",l1d=" + size_text(l1d_bytes) + ",l2=" + size_text(l2_bytes) +
         ",l3=" + size_text(l3_bytes);
}

CpuTarget CpuTarget::host() {
  CpuTarget target;
  target.isa = host_isa();
  target.cores = host_cores();
  // Linux's description of the caches first (what the kernel was told by the firmware or the
  // hypervisor), glibc's CPUID reading where there is none.
  const std::string caches = "/sys/devices/system/cpu/cpu0/cache";
  auto cache = [&](int level, int name, int64_t fallback) {
    const int64_t bytes = build::sysfs_cache_bytes(caches, level);
    return bytes > 0 ? bytes : sysconf_or(name, fallback);
  };
  target.l1d_bytes = cache(1, _SC_LEVEL1_DCACHE_SIZE, target.l1d_bytes);
  target.l2_bytes = cache(2, _SC_LEVEL2_CACHE_SIZE, target.l2_bytes);
  target.l3_bytes = cache(3, _SC_LEVEL3_CACHE_SIZE, target.l3_bytes);
  return target;
}

CpuTarget CpuTarget::parse(std::string_view text) {
  const std::string whole(text);
  TM_USER_CHECK(text.substr(0, 3) == "cpu")
      << "bad CPU target '" << whole << "': it must start with 'cpu'; " << kSyntax;
  std::string_view rest = text.substr(3);
  CpuTarget target = host();
  if (rest.empty()) return target;
  TM_USER_CHECK(rest.front() == ':') << "bad CPU target '" << whole << "': " << kSyntax;
  rest.remove_prefix(1);

  bool first = true;
  while (true) {
    size_t comma = rest.find(',');
    std::string_view part = rest.substr(0, comma);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      TM_USER_CHECK(first && parse_isa(part, &target.isa))
          << "bad CPU target '" << whole << "': unknown part '" << part << "'; " << kSyntax;
    } else {
      std::string_view key = part.substr(0, eq);
      std::string_view value = part.substr(eq + 1);
      int64_t count = parse_count(value, key != "cores");
      TM_USER_CHECK(count > 0) << "bad CPU target '" << whole << "': bad value in '" << part
                               << "'; " << kSyntax;
      if (key == "cores") {
        TM_USER_CHECK(count <= 65536) << "bad CPU target '" << whole << "': too many cores";
        target.cores = static_cast<int>(count);
      } else if (key == "l1d") {
        target.l1d_bytes = count;
      } else if (key == "l2") {
        target.l2_bytes = count;
      } else if (key == "l3") {
        target.l3_bytes = count;
      } else {
        TM_USER_ERROR() << "bad CPU target '" << whole << "': unknown key '" << key << "'; "
                        << kSyntax;
      }
    }
    first = false;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return target;
}

}  // namespace taskmap
