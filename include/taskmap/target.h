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

}  // namespace taskmap
