#pragma once
// Evaluation of scalar expressions on concrete values, with the semantics of the generated C++:
// integer results wrap to the dtype's width, `/` truncates toward zero, `%` takes the sign of the
// dividend, floats are computed in double and rounded to the dtype's precision. The same scalar
// operations serve constant folding in the simplifier and the reference evaluation of tests.
//
// Requires: scalar (one-lane) integer, bool or float expressions made of constants, variables,
// Binary, Unary, Select and Cast. Anything else (loads, calls, vectors) is a UserError.
// Guarantees: integer division or modulo by zero and shifts by a negative amount or by the width
// or more are UserErrors ("division by zero", "shift amount out of range"); nothing here has
// undefined behaviour in the compiler itself.
#include <cstdint>
#include <string>
#include <unordered_map>

#include "taskmap/ir/expr.h"

namespace taskmap::arith {

// One scalar value. Integers and bools live in `i` (bools are 0 or 1, integers are already
// wrapped to the dtype's width), floats in `f` (already rounded to the dtype's precision).
struct Value {
  ir::DType dtype = ir::index_dtype;
  int64_t i = 0;
  double f = 0;

  static Value of_int(int64_t value, ir::DType dtype = ir::index_dtype);  // wraps to the width
  static Value of_float(double value, ir::DType dtype = ir::f32);         // rounds to the dtype
  static Value of_bool(bool value);
  // A value of any scalar dtype from a double (truncating for integers, like a C cast).
  static Value of_number(double value, ir::DType dtype);

  bool is_float() const { return dtype.is_float(); }
  bool as_bool() const { return is_float() ? f != 0 : i != 0; }
  double as_double() const { return is_float() ? f : static_cast<double>(i); }
  std::string str() const;  // "42", "1.5", "true"
  // Same dtype and same value; NaN equals NaN, +0.0 differs from -0.0.
  bool identical(const Value& other) const;
};

// Values of variables, keyed by the variable (identity; a Var converts to its Expr key).
using Env = std::unordered_map<ir::Expr, Value, ir::VarHash, ir::VarEqual>;

// The value of `e` with each variable taken from `env` (by identity). A free variable missing
// from `env` is a UserError naming it. (Not `evaluate`: ir::evaluate makes an Evaluate statement
// and argument-dependent lookup would find both.)
Value evaluate_scalar(const ir::Expr& e, const Env& env = {});

// The scalar operations themselves. Operands of a binary operation have the same dtype (the
// result of a comparison or logical operation is bool); `to` in cast_value is a scalar dtype.
Value binary_value(ir::BinaryOp op, const Value& a, const Value& b);
Value unary_value(ir::UnaryOp op, const Value& a);
Value cast_value(ir::DType to, const Value& v);

// Rounds `value` to the nearest representable value of float dtype `dtype` (ties to even,
// overflow to infinity, subnormals kept), as a C conversion to that type does.
double round_float(double value, ir::DType dtype);
// The smallest and largest values of integer or bool dtype `dtype`.
int64_t dtype_min(ir::DType dtype);
int64_t dtype_max(ir::DType dtype);

}  // namespace taskmap::arith
