#pragma once
// IR expressions. Nodes are immutable and reference-counted; they are created only through the
// factories below, which check their operands (a bad operand is a UserError that names the
// operation and the types involved). Handles (Expr, Var) compare by identity with same_as();
// structural comparison lives in equality.h.
//
// Integer division and modulo follow C: `/` truncates toward zero, `%` takes the sign of the
// dividend. The simplifier only applies floor-style rules where bound analysis proves the
// operands non-negative.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "taskmap/ir/node_kinds.h"
#include "taskmap/ir/type.h"

namespace taskmap::ir {

struct ExprNode {
  ExprNode(NodeKind kind, Type type) : kind(kind), type(std::move(type)) {}
  virtual ~ExprNode() = default;
  const NodeKind kind;
  const Type type;
};

class Expr {
 public:
  Expr() = default;
  explicit Expr(std::shared_ptr<const ExprNode> node) : node_(std::move(node)) {}
  // Integer literals become index-typed constants, so `i + 1` reads naturally in templates.
  Expr(int value);      // NOLINT(google-explicit-constructor)
  Expr(int64_t value);  // NOLINT(google-explicit-constructor)
  // Float literals become f32 / f64 constants; in a binary operation a constant takes the other
  // operand's dtype, so `x * 0.5` stays in x's dtype.
  Expr(float value);   // NOLINT(google-explicit-constructor)
  Expr(double value);  // NOLINT(google-explicit-constructor)

  bool defined() const { return node_ != nullptr; }
  const ExprNode* get() const { return node_.get(); }
  const ExprNode* operator->() const { return node_.get(); }
  NodeKind kind() const { return node_->kind; }
  const Type& type() const { return node_->type; }
  DType dtype() const { return node_->type.dtype(); }

  template <typename T>
  const T* as() const {
    return node_ && node_->kind == T::kind_value ? static_cast<const T*>(node_.get()) : nullptr;
  }
  bool same_as(const Expr& other) const { return node_ == other.node_; }
  const std::shared_ptr<const ExprNode>& ptr() const { return node_; }

 private:
  std::shared_ptr<const ExprNode> node_;
};

// A variable: identity is the node; the name is for display only.
struct VarNode;
class Var : public Expr {
 public:
  Var() = default;
  explicit Var(std::shared_ptr<const VarNode> node);
  // The variable `e` is; an internal error if `e` is not a Var.
  static Var from(const Expr& e);
  const VarNode* operator->() const;
  const std::string& name() const;
};

struct VarHash {
  size_t operator()(const Expr& v) const { return std::hash<const void*>()(v.get()); }
};
struct VarEqual {
  bool operator()(const Expr& a, const Expr& b) const { return a.same_as(b); }
};

// ---- node structs -------------------------------------------------------------------------

#define TASKMAP_NODE_KIND(name) static constexpr NodeKind kind_value = NodeKind::name;

struct IntImmNode : ExprNode {
  TASKMAP_NODE_KIND(IntImm)
  IntImmNode(DType dtype, int64_t value) : ExprNode(kind_value, dtype), value(value) {}
  const int64_t value;
};

struct FloatImmNode : ExprNode {
  TASKMAP_NODE_KIND(FloatImm)
  FloatImmNode(DType dtype, double value) : ExprNode(kind_value, dtype), value(value) {}
  const double value;
};

struct VarNode : ExprNode {
  TASKMAP_NODE_KIND(Var)
  VarNode(std::string name, Type type)
      : ExprNode(kind_value, std::move(type)), name(std::move(name)) {}
  const std::string name;
};

enum class BinaryOp : uint8_t {
  add,
  sub,
  mul,
  div,
  mod,
  min,
  max,  // arithmetic
  bit_and,
  bit_or,
  bit_xor,
  shl,
  shr,  // integers only
  lt,
  le,
  eq,
  ne,  // comparisons: bool result
  logical_and,
  logical_or,  // bools only
};
const char* binary_op_name(BinaryOp op);  // "+", "<", "min", "&&", ...
bool is_comparison(BinaryOp op);

struct BinaryNode : ExprNode {
  TASKMAP_NODE_KIND(Binary)
  BinaryNode(Type type, BinaryOp op, Expr a, Expr b)
      : ExprNode(kind_value, std::move(type)), op(op), a(std::move(a)), b(std::move(b)) {}
  const BinaryOp op;
  const Expr a, b;
};

enum class UnaryOp : uint8_t { neg, logical_not, bit_not };
const char* unary_op_name(UnaryOp op);

struct UnaryNode : ExprNode {
  TASKMAP_NODE_KIND(Unary)
  UnaryNode(Type type, UnaryOp op, Expr a)
      : ExprNode(kind_value, std::move(type)), op(op), a(std::move(a)) {}
  const UnaryOp op;
  const Expr a;
};

struct SelectNode : ExprNode {
  TASKMAP_NODE_KIND(Select)
  SelectNode(Type type, Expr cond, Expr t, Expr f)
      : ExprNode(kind_value, std::move(type)),
        cond(std::move(cond)),
        true_value(std::move(t)),
        false_value(std::move(f)) {}
  const Expr cond, true_value, false_value;
};

struct CastNode : ExprNode {
  TASKMAP_NODE_KIND(Cast)
  CastNode(Type type, Expr value)
      : ExprNode(kind_value, std::move(type)), value(std::move(value)) {}
  const Expr value;
};

// One element of a tensor (multi-dimensional indices) or of a pointer (one index).
struct LoadNode : ExprNode {
  TASKMAP_NODE_KIND(Load)
  LoadNode(Type type, Expr buffer, std::vector<Expr> indices)
      : ExprNode(kind_value, std::move(type)),
        buffer(std::move(buffer)),
        indices(std::move(indices)) {}
  const Expr buffer;
  const std::vector<Expr> indices;
};

// The address of one element: a pointer to the element type. Fusion treats a tensor whose address
// is taken as opaque.
struct AddressNode : ExprNode {
  TASKMAP_NODE_KIND(Address)
  AddressNode(Type type, Expr buffer, std::vector<Expr> indices)
      : ExprNode(kind_value, std::move(type)),
        buffer(std::move(buffer)),
        indices(std::move(indices)) {}
  const Expr buffer;
  const std::vector<Expr> indices;
};

struct Primitive;
struct CallNode : ExprNode {
  TASKMAP_NODE_KIND(Call)
  CallNode(Type type, const Primitive* callee, std::vector<Expr> args)
      : ExprNode(kind_value, std::move(type)), callee(callee), args(std::move(args)) {}
  const Primitive* const callee;
  const std::vector<Expr> args;
};

// A tensor of a compute definition: element `axes` of it is `value` (hidet's GridCompute).
// Its type is a row-major tensor type. It appears only inside Tasks, never in scheduled code.
struct ComputeNode : ExprNode {
  TASKMAP_NODE_KIND(Compute)
  ComputeNode(Type type, std::string name, std::vector<Var> axes, Expr value)
      : ExprNode(kind_value, std::move(type)),
        name(std::move(name)),
        axes(std::move(axes)),
        value(std::move(value)) {}
  const std::string name;
  const std::vector<Var> axes;
  const Expr value;
};

enum class ReduceOp : uint8_t { sum, prod, max, min, mean, argmax, argmin };
const char* reduce_op_name(ReduceOp op);

// A reduction of `value` over `axes` (extents given), embedded in a Compute value. Its type is the
// accumulation dtype, or i64 for argmax / argmin (the row-major position over the reduce axes).
struct ReduceNode : ExprNode {
  TASKMAP_NODE_KIND(Reduce)
  ReduceNode(Type type, ReduceOp op, std::vector<Var> axes, std::vector<int64_t> extents,
             Expr value, DType accumulate)
      : ExprNode(kind_value, std::move(type)),
        op(op),
        axes(std::move(axes)),
        extents(std::move(extents)),
        value(std::move(value)),
        accumulate(accumulate) {}
  const ReduceOp op;
  const std::vector<Var> axes;
  const std::vector<int64_t> extents;
  const Expr value;
  const DType accumulate;
};

#undef TASKMAP_NODE_KIND

// ---- factories ----------------------------------------------------------------------------

// Integer constants wrap to the dtype's width like a C conversion: int_imm(300, i8) is 44.
Expr int_imm(int64_t value, DType dtype = index_dtype);
Expr float_imm(double value, DType dtype = f32);
Expr bool_imm(bool value);
// A constant of any dtype: float_imm for floats, int_imm otherwise.
Expr make_const(DType dtype, double value);
Var var(std::string name, Type type = index_dtype);

// Binary operations. Operands must have the same dtype, except that a constant operand is
// converted to the other operand's dtype (so `x + 1` works for any numeric x).
Expr binary(BinaryOp op, Expr a, Expr b);
Expr unary(UnaryOp op, Expr a);
Expr min(Expr a, Expr b);
Expr max(Expr a, Expr b);
Expr eq(Expr a, Expr b);
Expr ne(Expr a, Expr b);
Expr select(Expr cond, Expr true_value, Expr false_value);
Expr cast(Type type, Expr value);  // returns `value` itself when the type already matches
Expr load(Expr buffer, std::vector<Expr> indices);
Expr address(Expr buffer, std::vector<Expr> indices);
// Calls a primitive by name (primitive.h lists them). `result` is needed only by primitives whose
// result type is not implied by their arguments (vector loads).
Expr call(std::string_view primitive, std::vector<Expr> args, Type result = {});

Expr operator+(Expr a, Expr b);
Expr operator-(Expr a, Expr b);
Expr operator*(Expr a, Expr b);
Expr operator/(Expr a, Expr b);
Expr operator%(Expr a, Expr b);
Expr operator<(Expr a, Expr b);
Expr operator<=(Expr a, Expr b);
Expr operator>(Expr a, Expr b);
Expr operator>=(Expr a, Expr b);
Expr operator&&(Expr a, Expr b);
Expr operator||(Expr a, Expr b);
Expr operator!(Expr a);
Expr operator-(Expr a);

// Value of an integer constant, if `e` is one.
const int64_t* as_const_int(const Expr& e);
bool is_const_int(const Expr& e, int64_t value);

}  // namespace taskmap::ir
