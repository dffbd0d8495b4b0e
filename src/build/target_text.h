#pragma once
// Pieces of the targets' text forms ("cpu:avx512,cores=2,l2=1m", "cuda:sm_90,smem=227k") that
// CpuTarget and CudaTarget share.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace taskmap::build {

// "48k", "2m", "1g" when the size is a whole number of them, else the plain byte count.
std::string size_text(int64_t bytes);
// "<digits>[k|m|g]" (powers of 1024; the suffix only when allow_suffix) as a positive count; -1
// when the text is not one or the count would pass 2^50.
int64_t parse_count(std::string_view text, bool allow_suffix);
// The comma-separated parts of `text`, empty parts kept (so "a,,b" shows its empty part).
std::vector<std::string_view> split_parts(std::string_view text);

// The size in bytes of the level-`level` data (or unified) cache that Linux describes under
// `cache_dir` (/sys/devices/system/cpu/cpu0/cache: index*/level, type, size such as "1024K");
// 0 when it describes none. (glibc's sysconf reads CPUID instead, which some VMs fill in wrong:
// a 32 MiB L3 reported as 320 MiB.)
int64_t sysfs_cache_bytes(const std::string& cache_dir, int level);

}  // namespace taskmap::build
