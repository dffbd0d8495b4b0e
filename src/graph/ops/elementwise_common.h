#pragma once
// Helpers of the elementwise operator family: dtype checks, unary and binary operator factories,
// half-precision math computed in f32.
#include <functional>
#include <string>
#include <vector>

#include "graph/ops/op_util.h"

namespace taskmap::graph::ops {

// The dtypes an operator input accepts; anything else is a "not supported" UserError.
enum class Accepts {
  floats,          // f64 f32 f16 bf16
  signed_numbers,  // floats and signed integers
  numbers,         // floats and integers
  ints,            // integers
  bools,           // bool
  all,             // every dtype
};
void check_dtype(const OpContext& ctx, int input, Accepts accepts);

// A constant of x's dtype.
ir::Expr like(const ir::Expr& x, double value);

// fn(args) evaluated in f32 when args[0] is f16 or bf16 (every arg is widened), the result cast
// back to that dtype when it is f32; otherwise fn(args) as is.
ir::Expr in_f32(const std::vector<ir::Expr>& args,
                const std::function<ir::Expr(const std::vector<ir::Expr>&)>& fn);

using UnaryFn = std::function<ir::Expr(const OpContext&, const ir::Expr&)>;
using BinaryFn = std::function<ir::Expr(const OpContext&, const ir::Expr&, const ir::Expr&)>;

// out = fn(ctx, x) over input 0; half floats are computed in f32.
OpDef unary_op(std::string type, Accepts accepts, UnaryFn fn);

// The compute out = fn(a, b) over inputs 0 and 1 with NumPy broadcasting, or before opset 7 the
// legacy form (attribute broadcast=1: B's dims match A's from `axis`).
ir::Expr broadcast_binary(const OpContext& ctx, const std::string& name,
                          const std::function<ir::Expr(const ir::Expr&, const ir::Expr&)>& fn);

// A binary operator whose inputs share one dtype.
OpDef binary_op(std::string type, Accepts accepts, BinaryFn fn);

// Sub-registrations, one per file.
void register_math_ops(std::vector<OpDef>& defs);        // elementwise_math.cpp
void register_activation_ops(std::vector<OpDef>& defs);  // elementwise_activation.cpp
void register_binary_ops(std::vector<OpDef>& defs);      // elementwise_binary.cpp
void register_cast_ops(std::vector<OpDef>& defs);        // elementwise_cast.cpp

}  // namespace taskmap::graph::ops
