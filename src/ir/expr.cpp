// Expression factories: every node is checked here, once, so passes can trust the IR.
#include "taskmap/ir/expr.h"

#include <cmath>

#include "taskmap/error.h"
#include "taskmap/ir/primitive.h"

namespace taskmap::ir {

// ---- handles ------------------------------------------------------------------------------

Expr::Expr(int value) : Expr(int_imm(value)) {}
Expr::Expr(int64_t value) : Expr(int_imm(value)) {}
Expr::Expr(float value) : Expr(float_imm(value, f32)) {}
Expr::Expr(double value) : Expr(float_imm(value, f64)) {}

Var::Var(std::shared_ptr<const VarNode> node) : Expr(std::move(node)) {}
Var Var::from(const Expr& e) {
  TM_ASSERT(e.as<VarNode>()) << "expected a variable, got a "
                             << (e.defined() ? node_kind_name(e.kind()) : "null expression");
  return Var(std::static_pointer_cast<const VarNode>(e.ptr()));
}

const VarNode* Var::operator->() const {
  return static_cast<const VarNode*>(get());
}
const std::string& Var::name() const {
  return (*this)->name;
}

// ---- names --------------------------------------------------------------------------------

const char* binary_op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::add:
      return "+";
    case BinaryOp::sub:
      return "-";
    case BinaryOp::mul:
      return "*";
    case BinaryOp::div:
      return "/";
    case BinaryOp::mod:
      return "%";
    case BinaryOp::min:
      return "min";
    case BinaryOp::max:
      return "max";
    case BinaryOp::bit_and:
      return "&";
    case BinaryOp::bit_or:
      return "|";
    case BinaryOp::bit_xor:
      return "^";
    case BinaryOp::shl:
      return "<<";
    case BinaryOp::shr:
      return ">>";
    case BinaryOp::lt:
      return "<";
    case BinaryOp::le:
      return "<=";
    case BinaryOp::eq:
      return "==";
    case BinaryOp::ne:
      return "!=";
    case BinaryOp::logical_and:
      return "&&";
    case BinaryOp::logical_or:
      return "||";
  }
  return "?";
}

bool is_comparison(BinaryOp op) {
  return op == BinaryOp::lt || op == BinaryOp::le || op == BinaryOp::eq || op == BinaryOp::ne;
}

const char* unary_op_name(UnaryOp op) {
  switch (op) {
    case UnaryOp::neg:
      return "-";
    case UnaryOp::logical_not:
      return "!";
    case UnaryOp::bit_not:
      return "~";
  }
  return "?";
}

const char* reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
      return "sum";
    case ReduceOp::prod:
      return "prod";
    case ReduceOp::max:
      return "max";
    case ReduceOp::min:
      return "min";
    case ReduceOp::mean:
      return "mean";
    case ReduceOp::argmax:
      return "argmax";
    case ReduceOp::argmin:
      return "argmin";
  }
  return "?";
}

// ---- constants and variables --------------------------------------------------------------

Expr int_imm(int64_t value, DType dtype) {
  TM_USER_CHECK(!dtype.is_float() && !dtype.is_vector())
      << "int_imm of dtype " << dtype.name() << "; use float_imm for floating-point constants";
  // Wraps like a C conversion; the simplifier relies on it when it folds narrow arithmetic
  // (`x - 128` in i8 is `x + (-128)`).
  value = wrap_int(value, dtype);
  return Expr(std::make_shared<IntImmNode>(dtype, value));
}

Expr float_imm(double value, DType dtype) {
  TM_USER_CHECK(dtype.is_float() && !dtype.is_vector())
      << "float_imm of dtype " << dtype.name() << "; use int_imm for integers";
  if (dtype == f32) value = static_cast<double>(static_cast<float>(value));
  return Expr(std::make_shared<FloatImmNode>(dtype, value));
}

Expr bool_imm(bool value) {
  return int_imm(value ? 1 : 0, boolean);
}

Expr make_const(DType dtype, double value) {
  TM_USER_CHECK(!dtype.is_vector()) << "make_const of vector dtype " << dtype.name();
  if (dtype.is_float()) return float_imm(value, dtype);
  // A double outside int64's range would make the cast undefined; int_imm checks narrower types.
  TM_USER_CHECK(std::isfinite(value) && value >= -9.2e18 && value <= 9.2e18)
      << "constant " << value << " does not fit in " << dtype.name();
  return int_imm(static_cast<int64_t>(value), dtype);
}

Var var(std::string name, Type type) {
  TM_USER_CHECK(!name.empty()) << "a variable needs a name";
  TM_USER_CHECK(!type.is_void()) << "variable '" << name << "' cannot have type void";
  return Var(std::make_shared<VarNode>(std::move(name), std::move(type)));
}

// ---- arithmetic ---------------------------------------------------------------------------

const int64_t* as_const_int(const Expr& e) {
  const auto* imm = e.as<IntImmNode>();
  return imm ? &imm->value : nullptr;
}

bool is_const_int(const Expr& e, int64_t value) {
  const int64_t* v = as_const_int(e);
  return v && *v == value;
}

namespace {

bool is_constant(const Expr& e) {
  return e.as<IntImmNode>() || e.as<FloatImmNode>();
}

// Converts a constant operand to `dtype` so mixed literals read naturally (`x * 2` for f32 x).
Expr adapt_constant(const Expr& c, DType dtype) {
  if (const auto* i = c.as<IntImmNode>()) {
    if (dtype.is_float()) return float_imm(static_cast<double>(i->value), dtype);
    return int_imm(i->value, dtype);
  }
  const auto* f = c.as<FloatImmNode>();
  if (dtype.is_float()) return float_imm(f->value, dtype);
  TM_USER_CHECK(std::floor(f->value) == f->value)
      << "the constant " << f->value << " cannot be used as a " << dtype.name();
  return int_imm(static_cast<int64_t>(f->value), dtype);
}

void unify_operands(BinaryOp op, Expr& a, Expr& b) {
  TM_USER_CHECK(a.defined() && b.defined())
      << "operand of '" << binary_op_name(op) << "' is undefined";
  TM_USER_CHECK(a.type().is_scalar() && b.type().is_scalar())
      << "operands of '" << binary_op_name(op) << "' must be scalars or vectors, got "
      << a.type().str() << " and " << b.type().str();
  if (a.dtype() == b.dtype()) return;
  if (is_constant(b) && !b.dtype().is_vector() && !a.dtype().is_vector()) {
    b = adapt_constant(b, a.dtype());
  } else if (is_constant(a) && !a.dtype().is_vector() && !b.dtype().is_vector()) {
    a = adapt_constant(a, b.dtype());
  }
  TM_USER_CHECK(a.dtype() == b.dtype())
      << "operands of '" << binary_op_name(op) << "' have different dtypes: " << a.dtype().name()
      << " and " << b.dtype().name() << " (insert a cast)";
}

}  // namespace

Expr binary(BinaryOp op, Expr a, Expr b) {
  unify_operands(op, a, b);
  DType dtype = a.dtype();
  DType result = dtype;
  switch (op) {
    case BinaryOp::add:
    case BinaryOp::sub:
    case BinaryOp::mul:
    case BinaryOp::div:
    case BinaryOp::mod:
    case BinaryOp::min:
    case BinaryOp::max:
      TM_USER_CHECK(!dtype.is_bool())
          << "arithmetic '" << binary_op_name(op) << "' on bool operands";
      break;
    case BinaryOp::bit_and:
    case BinaryOp::bit_or:
    case BinaryOp::bit_xor:
    case BinaryOp::shl:
    case BinaryOp::shr:
      TM_USER_CHECK(dtype.is_int() ||
                    (dtype.is_bool() && op != BinaryOp::shl && op != BinaryOp::shr))
          << "bitwise '" << binary_op_name(op) << "' needs integer operands, got " << dtype.name();
      break;
    case BinaryOp::lt:
    case BinaryOp::le:
    case BinaryOp::eq:
    case BinaryOp::ne:
      result = boolean.with_lanes(dtype.lanes());
      break;
    case BinaryOp::logical_and:
    case BinaryOp::logical_or:
      TM_USER_CHECK(dtype.is_bool())
          << "logical '" << binary_op_name(op) << "' needs bool operands, got " << dtype.name();
      break;
  }
  return Expr(std::make_shared<BinaryNode>(result, op, std::move(a), std::move(b)));
}

Expr unary(UnaryOp op, Expr a) {
  TM_USER_CHECK(a.defined() && a.type().is_scalar())
      << "operand of unary '" << unary_op_name(op) << "' must be a scalar";
  switch (op) {
    case UnaryOp::neg:
      TM_USER_CHECK(!a.dtype().is_bool()) << "negation of a bool";
      break;
    case UnaryOp::logical_not:
      TM_USER_CHECK(a.dtype().is_bool()) << "'!' needs a bool, got " << a.dtype().name();
      break;
    case UnaryOp::bit_not:
      TM_USER_CHECK(a.dtype().is_int()) << "'~' needs an integer, got " << a.dtype().name();
      break;
  }
  Type type = a.type();
  return Expr(std::make_shared<UnaryNode>(std::move(type), op, std::move(a)));
}

Expr min(Expr a, Expr b) {
  return binary(BinaryOp::min, std::move(a), std::move(b));
}
Expr max(Expr a, Expr b) {
  return binary(BinaryOp::max, std::move(a), std::move(b));
}
Expr eq(Expr a, Expr b) {
  return binary(BinaryOp::eq, std::move(a), std::move(b));
}
Expr ne(Expr a, Expr b) {
  return binary(BinaryOp::ne, std::move(a), std::move(b));
}

Expr operator+(Expr a, Expr b) {
  return binary(BinaryOp::add, std::move(a), std::move(b));
}
Expr operator-(Expr a, Expr b) {
  return binary(BinaryOp::sub, std::move(a), std::move(b));
}
Expr operator*(Expr a, Expr b) {
  return binary(BinaryOp::mul, std::move(a), std::move(b));
}
Expr operator/(Expr a, Expr b) {
  return binary(BinaryOp::div, std::move(a), std::move(b));
}
Expr operator%(Expr a, Expr b) {
  return binary(BinaryOp::mod, std::move(a), std::move(b));
}
Expr operator<(Expr a, Expr b) {
  return binary(BinaryOp::lt, std::move(a), std::move(b));
}
Expr operator<=(Expr a, Expr b) {
  return binary(BinaryOp::le, std::move(a), std::move(b));
}
Expr operator>(Expr a, Expr b) {
  return binary(BinaryOp::lt, std::move(b), std::move(a));
}
Expr operator>=(Expr a, Expr b) {
  return binary(BinaryOp::le, std::move(b), std::move(a));
}
Expr operator&&(Expr a, Expr b) {
  return binary(BinaryOp::logical_and, std::move(a), std::move(b));
}
Expr operator||(Expr a, Expr b) {
  return binary(BinaryOp::logical_or, std::move(a), std::move(b));
}
Expr operator!(Expr a) {
  return unary(UnaryOp::logical_not, std::move(a));
}
Expr operator-(Expr a) {
  return unary(UnaryOp::neg, std::move(a));
}

Expr select(Expr cond, Expr true_value, Expr false_value) {
  TM_USER_CHECK(cond.defined() && cond.dtype().is_bool() && cond.type().is_scalar())
      << "select condition must be a bool"
      << (cond.defined() ? ", got " + cond.type().str() : std::string());
  Expr a = std::move(true_value), b = std::move(false_value);
  unify_operands(BinaryOp::eq, a, b);  // same rules as a binary operation
  Type type = a.type();
  return Expr(
      std::make_shared<SelectNode>(std::move(type), std::move(cond), std::move(a), std::move(b)));
}

Expr cast(Type type, Expr value) {
  TM_USER_CHECK(value.defined()) << "cast of an undefined expression";
  TM_USER_CHECK(type.is_scalar() || type.is_pointer())
      << "cast to " << type.str() << ": only scalar and pointer casts exist";
  TM_USER_CHECK(value.type().is_scalar() == type.is_scalar())
      << "cast from " << value.type().str() << " to " << type.str();
  if (value.type() == type) return value;
  return Expr(std::make_shared<CastNode>(std::move(type), std::move(value)));
}

namespace {

// Checks a buffer access and returns the element type.
DType check_access(const char* what, const Expr& buffer, const std::vector<Expr>& indices) {
  TM_USER_CHECK(buffer.defined()) << what << " of an undefined buffer";
  const Type& t = buffer.type();
  std::string name;
  if (const auto* v = buffer.as<VarNode>()) name = "'" + v->name + "' ";
  if (t.is_tensor()) {
    TM_USER_CHECK(indices.size() == t.shape().size())
        << what << " of tensor " << name << "of type " << t.str() << " with " << indices.size()
        << " indices; it has " << t.shape().size() << " dimensions";
  } else {
    TM_USER_CHECK(t.is_pointer()) << what << " of " << name << "of type " << t.str()
                                  << ": only tensors and pointers can be indexed";
    TM_USER_CHECK(indices.size() == 1)
        << what << " of pointer " << name << "needs exactly one index, got " << indices.size();
  }
  for (const Expr& i : indices) {
    TM_USER_CHECK(i.defined() && i.type().is_scalar() && i.dtype().is_int())
        << what << " of " << name << "with a non-integer index"
        << (i.defined() ? " of type " + i.type().str() : std::string());
  }
  return t.dtype();
}

}  // namespace

Expr load(Expr buffer, std::vector<Expr> indices) {
  DType dtype = check_access("load", buffer, indices);
  return Expr(std::make_shared<LoadNode>(dtype, std::move(buffer), std::move(indices)));
}

Expr address(Expr buffer, std::vector<Expr> indices) {
  DType dtype = check_access("address", buffer, indices);
  return Expr(
      std::make_shared<AddressNode>(Type::pointer(dtype), std::move(buffer), std::move(indices)));
}

Expr call(std::string_view name, std::vector<Expr> args, Type result) {
  const Primitive* p = find_primitive(name);
  TM_USER_CHECK(p) << "call of unknown primitive '" << name << "'";
  TM_USER_CHECK(p->num_args < 0 || static_cast<int>(args.size()) == p->num_args)
      << "primitive '" << name << "' takes " << p->num_args << " arguments, got " << args.size();
  for (size_t i = 0; i < args.size(); ++i) {
    TM_USER_CHECK(args[i].defined()) << "argument " << i << " of '" << name << "' is undefined";
  }
  if (p->float_only) {
    for (const Expr& a : args) {
      TM_USER_CHECK(a.type().is_scalar() && a.dtype().is_float())
          << "primitive '" << name << "' needs floating-point arguments, got " << a.type().str();
    }
    for (size_t i = 1; i < args.size(); ++i) {
      if (args[i].dtype() != args[0].dtype() && is_constant(args[i])) {
        args[i] = adapt_constant(args[i], args[0].dtype());
      }
      TM_USER_CHECK(args[i].dtype() == args[0].dtype())
          << "arguments of '" << name << "' have different dtypes";
    }
  }
  Type type;
  switch (p->result) {
    case PrimitiveResult::same_as_first_arg:
      type = args.at(0).type();
      break;
    case PrimitiveResult::explicit_type:
      TM_USER_CHECK(!result.is_void()) << "primitive '" << name << "' needs a result type";
      type = result;
      break;
    case PrimitiveResult::void_:
      type = Type::void_type();
      break;
  }
  return Expr(std::make_shared<CallNode>(std::move(type), p, std::move(args)));
}

}  // namespace taskmap::ir
