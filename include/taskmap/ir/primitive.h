#pragma once
// Primitives: the functions and intrinsics a Call may name. Each has a fixed identity (its
// address); code generators spell it per target and dtype.
#include <string>
#include <string_view>
#include <vector>

#include "taskmap/ir/type.h"

namespace taskmap::ir {

class Expr;

enum class PrimitiveResult : uint8_t {
  same_as_first_arg,  // elementwise math: exp(x) has x's type
  explicit_type,      // the caller gives the type (vector loads, broadcasts)
  void_,              // called for its effect (vector stores)
};

struct Primitive {
  std::string name;
  int num_args;  // -1: any
  PrimitiveResult result;
  bool float_only;  // arguments must be floating point
};

// nullptr when no primitive has that name.
const Primitive* find_primitive(std::string_view name);
const std::vector<const Primitive*>& all_primitives();

}  // namespace taskmap::ir
