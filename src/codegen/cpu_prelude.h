#pragma once
// The helpers generated CPU code may use, as C++ text. Code generation asks for pieces by name
// and each source carries only what it uses, so a simple kernel reads as plain C++.
#include <set>
#include <string>

namespace taskmap::codegen {

// Known pieces: "bf16" (the tm_bf16 type), "minmax", "abs", "rsqrt", "sigmoid", "vec_memory"
// (vector loads and stores), "broadcast", "lanewise" (scalar math per lane), "reduce_add",
// "reduce_max" (needs "minmax"), "heap" (tm::HeapArray), "assert" (kernel assertions).
// Returns the #include lines the pieces need.
std::string cpu_prelude_includes(const std::set<std::string>& pieces);
// Returns the definitions of the pieces, in dependency order. Unknown names are InternalErrors.
// Everything is `static` or in an anonymous-linkage form, so libraries never share symbols.
std::string cpu_prelude_definitions(const std::set<std::string>& pieces);

}  // namespace taskmap::codegen
