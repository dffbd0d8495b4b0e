// content_hash: XXH3-128 of length-prefixed parts, as 32 hex characters.
// Requires: libxxhash. Guarantees: the same parts give the same key on every run and machine.
#include "build/content_hash.h"

#include <xxhash.h>

#include <cstdint>
#include <cstdio>

#include "taskmap/error.h"

namespace taskmap::build {
namespace {

template <typename Range>
std::string hash_parts(const Range& parts) {
  XXH3_state_t* state = XXH3_createState();
  TM_ASSERT(state != nullptr) << "XXH3_createState failed";
  XXH3_128bits_reset(state);
  for (std::string_view part : parts) {
    // A fixed-width little-endian length keeps the key independent of the host's endianness.
    uint64_t size = part.size();
    unsigned char size_bytes[8];
    for (int i = 0; i < 8; ++i) size_bytes[i] = static_cast<unsigned char>(size >> (8 * i));
    XXH3_128bits_update(state, size_bytes, sizeof(size_bytes));
    XXH3_128bits_update(state, part.data(), part.size());
  }
  XXH128_hash_t hash = XXH3_128bits_digest(state);
  XXH3_freeState(state);
  char text[33];
  std::snprintf(text, sizeof(text), "%016llx%016llx", static_cast<unsigned long long>(hash.high64),
                static_cast<unsigned long long>(hash.low64));
  return text;
}

}  // namespace

std::string content_hash(std::initializer_list<std::string_view> parts) {
  return hash_parts(parts);
}

std::string content_hash(const std::vector<std::string>& parts) {
  return hash_parts(parts);
}

}  // namespace taskmap::build
