// Scalar evaluation with C semantics (see evaluate.h). Integer arithmetic is done on uint64_t so
// that wrapping never is undefined behaviour here; floats are computed in double and rounded to
// the dtype, which gives the correctly rounded f32 / f16 / bf16 result for + - * / since double
// has more than twice their precision.
#include "taskmap/arith/evaluate.h"

#include <bit>
#include <cmath>
#include <limits>
#include <sstream>

#include "taskmap/error.h"

namespace taskmap::arith {
namespace {

using ir::BinaryOp;
using ir::DType;
using ir::ScalarKind;
using ir::UnaryOp;

// Significand bits (with the implicit one) and exponent range in frexp's convention
// (value = m * 2^e with 0.5 <= |m| < 1): normal numbers have min_exp <= e <= max_exp.
struct FloatFormat {
  int precision;
  int min_exp;
  int max_exp;
};

FloatFormat float_format(DType dtype) {
  switch (dtype.kind()) {
    case ScalarKind::f64:
      return {53, -1021, 1024};
    case ScalarKind::f32:
      return {24, -125, 128};
    case ScalarKind::f16:
      return {11, -13, 16};
    case ScalarKind::bf16:
      return {8, -125, 128};
    default:
      TM_UNREACHABLE() << "not a float dtype: " << dtype.name();
  }
  return {};
}

// An int64 converted to a float format with one rounding (ties to even), as C does; going
// through double first could round twice.
double int_to_float(int64_t value, DType dtype) {
  const FloatFormat format = float_format(dtype);
  const uint64_t magnitude = value < 0 ? 0 - static_cast<uint64_t>(value) : value;
  const int bits = 64 - std::countl_zero(magnitude);
  double result = 0;
  if (bits <= format.precision) {
    result = static_cast<double>(magnitude);
  } else {
    const int shift = bits - format.precision;
    uint64_t q = magnitude >> shift;
    const uint64_t rem = magnitude & ((uint64_t{1} << shift) - 1);
    const uint64_t half = uint64_t{1} << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) ++q;
    result = std::ldexp(static_cast<double>(q), shift);
  }
  return round_float(value < 0 ? -result : result, dtype);
}

[[noreturn]] void division_by_zero() {
  throw UserError("division by zero");
}

int64_t int_binary(BinaryOp op, int64_t a, int64_t b, DType dtype) {
  const uint64_t ua = static_cast<uint64_t>(a);
  const uint64_t ub = static_cast<uint64_t>(b);
  switch (op) {
    case BinaryOp::add:
      return wrap_int(static_cast<int64_t>(ua + ub), dtype);
    case BinaryOp::sub:
      return wrap_int(static_cast<int64_t>(ua - ub), dtype);
    case BinaryOp::mul:
      return wrap_int(static_cast<int64_t>(ua * ub), dtype);
    case BinaryOp::div:
      if (b == 0) division_by_zero();
      // INT64_MIN / -1 overflows: the wrapped result is the negation.
      return wrap_int(b == -1 ? static_cast<int64_t>(0 - ua) : a / b, dtype);
    case BinaryOp::mod:
      if (b == 0) division_by_zero();
      return b == -1 ? 0 : wrap_int(a % b, dtype);
    case BinaryOp::min:
      return std::min(a, b);
    case BinaryOp::max:
      return std::max(a, b);
    case BinaryOp::bit_and:
      return a & b;
    case BinaryOp::bit_or:
      return a | b;
    case BinaryOp::bit_xor:
      return wrap_int(a ^ b, dtype);
    case BinaryOp::shl:
    case BinaryOp::shr: {
      // C promotes narrower operands to int, so the legal shift range is at least 32.
      const int width = std::max(dtype.bits(), 32);
      TM_USER_CHECK(b >= 0 && b < width)
          << "shift amount out of range: " << b << " for " << dtype.name();
      if (op == BinaryOp::shl) return wrap_int(static_cast<int64_t>(ua << b), dtype);
      return a >> b;  // arithmetic shift: a is sign-extended already
    }
    default:
      TM_UNREACHABLE() << "not an integer arithmetic op: " << ir::binary_op_name(op);
  }
  return 0;
}

double float_binary(BinaryOp op, double a, double b) {
  switch (op) {
    case BinaryOp::add:
      return a + b;
    case BinaryOp::sub:
      return a - b;
    case BinaryOp::mul:
      return a * b;
    case BinaryOp::div:
      return a / b;
    case BinaryOp::mod:
      return std::fmod(a, b);
    // std::min / std::max: the first operand wins ties and NaN comparisons.
    case BinaryOp::min:
      return b < a ? b : a;
    case BinaryOp::max:
      return a < b ? b : a;
    default:
      TM_USER_ERROR() << "operator " << ir::binary_op_name(op) << " is not defined on floats";
  }
  return 0;
}

bool compare(BinaryOp op, const Value& a, const Value& b) {
  if (a.is_float()) {
    switch (op) {
      case BinaryOp::lt:
        return a.f < b.f;
      case BinaryOp::le:
        return a.f <= b.f;
      case BinaryOp::eq:
        return a.f == b.f;
      default:
        return a.f != b.f;
    }
  }
  switch (op) {
    case BinaryOp::lt:
      return a.i < b.i;
    case BinaryOp::le:
      return a.i <= b.i;
    case BinaryOp::eq:
      return a.i == b.i;
    default:
      return a.i != b.i;
  }
}

}  // namespace

double round_float(double value, DType dtype) {
  if (dtype.kind() == ScalarKind::f64 || !std::isfinite(value) || value == 0) return value;
  const FloatFormat format = float_format(dtype);
  int exponent = 0;
  std::frexp(value, &exponent);
  // The spacing of representable values around `value` is 2^quantum; below the normal range it
  // stays at the subnormal spacing.
  const int quantum = std::max(exponent, format.min_exp) - format.precision;
  const double rounded = std::ldexp(std::nearbyint(std::ldexp(value, -quantum)), quantum);
  if (std::fabs(rounded) >= std::ldexp(1.0, format.max_exp)) {
    return std::copysign(std::numeric_limits<double>::infinity(), value);
  }
  return rounded;
}

int64_t dtype_min(DType dtype) {
  if (dtype.is_bool() || !dtype.is_signed()) return 0;
  return dtype.bits() >= 64 ? std::numeric_limits<int64_t>::min()
                            : -(int64_t{1} << (dtype.bits() - 1));
}

int64_t dtype_max(DType dtype) {
  if (dtype.is_bool()) return 1;
  const int bits = dtype.is_signed() ? dtype.bits() - 1 : dtype.bits();
  return bits >= 63 ? std::numeric_limits<int64_t>::max() : (int64_t{1} << bits) - 1;
}

Value Value::of_int(int64_t value, DType dtype) {
  TM_ASSERT(!dtype.is_float() && !dtype.is_vector()) << "of_int with " << dtype.name();
  return Value{dtype, wrap_int(value, dtype), 0};
}

Value Value::of_float(double value, DType dtype) {
  TM_ASSERT(dtype.is_float() && !dtype.is_vector()) << "of_float with " << dtype.name();
  return Value{dtype, 0, round_float(value, dtype)};
}

Value Value::of_bool(bool value) {
  return Value{ir::boolean, value ? 1 : 0, 0};
}

Value Value::of_number(double value, DType dtype) {
  if (dtype.is_float()) return of_float(value, dtype);
  if (dtype.is_bool()) return of_bool(value != 0);
  // C converts by truncation and leaves out-of-range values undefined.
  const double truncated = std::trunc(value);
  TM_USER_CHECK(std::isfinite(value) && truncated >= static_cast<double>(dtype_min(dtype)) &&
                truncated <= static_cast<double>(dtype_max(dtype)) &&
                truncated < 9223372036854775808.0)
      << "float to integer conversion out of range: " << value << " to " << dtype.name();
  return of_int(static_cast<int64_t>(truncated), dtype);
}

std::string Value::str() const {
  if (dtype.is_bool()) return i ? "true" : "false";
  if (!is_float()) return std::to_string(i);
  std::ostringstream os;
  os.precision(17);
  os << f;
  return os.str();
}

bool Value::identical(const Value& other) const {
  if (!(dtype == other.dtype)) return false;
  if (!is_float()) return i == other.i;
  if (std::isnan(f) || std::isnan(other.f)) return std::isnan(f) && std::isnan(other.f);
  return f == other.f && std::signbit(f) == std::signbit(other.f);
}

Value binary_value(BinaryOp op, const Value& a, const Value& b) {
  TM_ASSERT(a.dtype == b.dtype) << "operands of " << ir::binary_op_name(op)
                                << " differ: " << a.dtype.name() << " and " << b.dtype.name();
  switch (op) {
    case BinaryOp::lt:
    case BinaryOp::le:
    case BinaryOp::eq:
    case BinaryOp::ne:
      return Value::of_bool(compare(op, a, b));
    case BinaryOp::logical_and:
      return Value::of_bool(a.as_bool() && b.as_bool());
    case BinaryOp::logical_or:
      return Value::of_bool(a.as_bool() || b.as_bool());
    default:
      break;
  }
  if (a.is_float()) return Value::of_float(float_binary(op, a.f, b.f), a.dtype);
  return Value{a.dtype, int_binary(op, a.i, b.i, a.dtype), 0};
}

Value unary_value(UnaryOp op, const Value& a) {
  switch (op) {
    case UnaryOp::neg:
      if (a.is_float()) return Value{a.dtype, 0, -a.f};
      return Value::of_int(static_cast<int64_t>(0 - static_cast<uint64_t>(a.i)), a.dtype);
    case UnaryOp::logical_not:
      return Value::of_bool(!a.as_bool());
    case UnaryOp::bit_not:
      TM_USER_CHECK(!a.is_float()) << "operator ~ is not defined on " << a.dtype.name();
      return Value::of_int(~a.i, a.dtype);
  }
  TM_UNREACHABLE();
  return a;
}

Value cast_value(DType to, const Value& v) {
  TM_USER_CHECK(!to.is_vector()) << "cannot evaluate a cast to " << to.name();
  if (to.is_float()) {
    return Value::of_float(v.is_float() ? v.f : int_to_float(v.i, to), to);
  }
  if (to.is_bool()) return Value::of_bool(v.as_bool());
  if (v.is_float()) return Value::of_number(v.f, to);
  return Value::of_int(v.i, to);
}

Value evaluate_scalar(const ir::Expr& e, const Env& env) {
  TM_USER_CHECK(e.defined()) << "evaluate: undefined expression";
  TM_USER_CHECK(e.type().is_scalar() && !e.dtype().is_vector())
      << "evaluate: not a scalar expression (" << e.type().str() << ")";
  if (const auto* op = e.as<ir::IntImmNode>()) return Value::of_int(op->value, op->type.dtype());
  if (const auto* op = e.as<ir::FloatImmNode>()) {
    return Value::of_float(op->value, op->type.dtype());
  }
  if (e.as<ir::VarNode>()) {
    auto it = env.find(e);
    if (it == env.end()) {
      TM_USER_ERROR() << "evaluate: variable '" << e.as<ir::VarNode>()->name << "' has no value";
    }
    return it->second;
  }
  if (const auto* op = e.as<ir::BinaryNode>()) {
    // && and || short-circuit as in C: the right operand may be guarded by the left one.
    const Value a = evaluate_scalar(op->a, env);
    if (op->op == BinaryOp::logical_and && !a.as_bool()) return Value::of_bool(false);
    if (op->op == BinaryOp::logical_or && a.as_bool()) return Value::of_bool(true);
    return binary_value(op->op, a, evaluate_scalar(op->b, env));
  }
  if (const auto* op = e.as<ir::UnaryNode>())
    return unary_value(op->op, evaluate_scalar(op->a, env));
  if (const auto* op = e.as<ir::SelectNode>()) {
    // Only the chosen branch is evaluated, as with C's `?:`.
    return evaluate_scalar(
        evaluate_scalar(op->cond, env).as_bool() ? op->true_value : op->false_value, env);
  }
  if (const auto* op = e.as<ir::CastNode>()) {
    return cast_value(op->type.dtype(), evaluate_scalar(op->value, env));
  }
  TM_USER_ERROR() << "evaluate: cannot evaluate a " << ir::node_kind_name(e.kind()) << " node";
  return {};
}

}  // namespace taskmap::arith
