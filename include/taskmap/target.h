#pragma once
// What CPU code is built for (DESIGN.md, "Target"): an x86-64 ISA level, the number of cores and
// the cache sizes. Schedule spaces are functions of the target, and code generation and the build
// driver take the ISA from it, never from the machine they run on.
//
// The text form is "cpu:<isa>,cores=<n>,l1d=<size>,l2=<size>,l3=<size>", sizes in bytes with an
// optional k/m/g suffix (powers of 1024). parse() starts from host() and overrides the fields it
// is given, so "cpu" is the host and "cpu:avx2" is the host limited to AVX2; str() always writes
// every field, so parse(t.str()) == t.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace taskmap {

struct CpuTarget {
  enum class Isa {
    generic,  // x86-64 baseline (SSE2): 16-byte vectors
    avx2,     // x86-64-v3 (AVX2, FMA): 32-byte vectors
    avx512,   // x86-64-v4 (AVX-512 F/BW/DQ/VL): 64-byte vectors
  };

  Isa isa = Isa::generic;
  int cores = 1;  // logical CPUs this process may run on
  int64_t l1d_bytes = 32 * 1024;
  int64_t l2_bytes = 1024 * 1024;
  int64_t l3_bytes = 8 * 1024 * 1024;

  // The widest native vector in bytes: 64, 32 or 16.
  int vector_bytes() const;
  // The compiler flags that select the ISA: "-march=x86-64-v4" and friends.
  std::vector<std::string> isa_flags() const;
  // "cpu:avx512,cores=2,l1d=48k,l2=2m,l3=32m".
  std::string str() const;

  // The machine this process runs on. Fields that cannot be read fall back to the defaults above.
  static CpuTarget host();
  // Parses the text form (see the top of this file); a malformed string is a UserError naming
  // the string and the part that is wrong.
  static CpuTarget parse(std::string_view text);

  bool operator==(const CpuTarget&) const = default;
};

// "generic", "avx2", "avx512".
const char* isa_name(CpuTarget::Isa isa);

// What CUDA code is built for: the compute capability (which NVRTC compiles a cubin for) and the
// limits the schedule spaces respect. Read from a device, or given, so that code can be built on
// a machine without a GPU.
//
// The text form is "cuda:sm_<XY>[a][,sms=<n>][,smem=<bytes>][,regs=<n>]". parse() starts from the
// figures of the usual data-center part of that architecture (sm_80: A100, sm_90: H100 SXM; see
// cuda_target.cpp) and overrides the fields it is given; "cuda" alone is the first device, or a
// UserError when there is none. str() writes every field, so parse(t.str()) == t.
struct CudaTarget {
  int sm = 90;                        // compute capability, major * 10 + minor
  bool arch_specific = false;         // "sm_90a": features of exactly this architecture (wgmma)
  int sm_count = 132;                 // streaming multiprocessors
  int64_t shared_per_block = 232448;  // bytes of shared memory one block may opt in to
  int registers_per_block = 65536;    // 32-bit registers one block may use
  int max_threads_per_block = 1024;
  int warp_size = 32;

  // "sm_90", "sm_90a": NVRTC's --gpu-architecture for a cubin.
  std::string arch() const;
  // "cuda:sm_90,sms=132,smem=227k,regs=65536".
  std::string str() const;

  // The figures of device `ordinal` read through the CUDA driver; nullopt (and *why_not set when
  // given) when there is no driver or no such device.
  static std::optional<CudaTarget> device(int ordinal = 0, std::string* why_not = nullptr);
  // Parses the text form (see above); a malformed string, an architecture NVRTC cannot build for
  // (below sm_75) or "cuda" without a device is a UserError naming the string.
  static CudaTarget parse(std::string_view text);

  bool operator==(const CudaTarget&) const = default;
};

}  // namespace taskmap
