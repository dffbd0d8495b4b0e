#pragma once
// A content hash for cache keys: XXH3-128 over a list of strings, written as 32 lowercase hex
// characters. Each part is hashed with its length, so ("ab", "c") and ("a", "bc") differ.
// Not cryptographic: it guards against accidental collisions, not against an attacker.
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace taskmap::build {

std::string content_hash(std::initializer_list<std::string_view> parts);
std::string content_hash(const std::vector<std::string>& parts);

}  // namespace taskmap::build
