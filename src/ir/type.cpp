// Types: construction checks and text form.
#include "taskmap/ir/type.h"

#include <numeric>
#include <sstream>

#include "taskmap/error.h"
#include "taskmap/runtime/ndarray.h"

namespace taskmap::ir {

struct TypeNode {
  TypeKind kind = TypeKind::void_;
  DType dtype;
  // The pointee of a pointer type, held in a vector: a Type member would default-construct a
  // void Type, which needs a TypeNode, which needs a Type...
  std::vector<Type> pointee;
  std::vector<int64_t> shape;
  Layout layout;
};

namespace {
std::shared_ptr<const TypeNode> void_node() {
  static const auto node = std::make_shared<const TypeNode>();
  return node;
}

using taskmap::shape_str;
}  // namespace

Type::Type() : node_(void_node()) {}

Type::Type(DType dtype) {
  auto node = std::make_shared<TypeNode>();
  node->kind = TypeKind::scalar;
  node->dtype = dtype;
  node_ = std::move(node);
}

Type Type::void_type() {
  return Type();
}

Type Type::pointer(const Type& pointee) {
  TM_USER_CHECK(!pointee.is_tensor()) << "a pointer to a tensor type is not supported; "
                                      << "point to its element type instead";
  Type t;
  auto node = std::make_shared<TypeNode>();
  node->kind = TypeKind::pointer;
  node->dtype = pointee.is_void() ? DType() : pointee.dtype();
  node->pointee = {pointee};
  t.node_ = std::move(node);
  return t;
}

Type Type::tensor(DType dtype, std::vector<int64_t> shape, Layout layout) {
  for (int64_t n : shape) {
    TM_USER_CHECK(n >= 0) << "tensor shape " << shape_str(shape) << " has a negative extent";
  }
  if (!layout.defined()) layout = Layout::row_major(shape);
  TM_USER_CHECK(layout.shape() == shape)
      << "tensor of shape " << shape_str(shape) << " given a layout of shape "
      << shape_str(layout.shape()) << " (" << layout.str() << ")";
  Type t;
  auto node = std::make_shared<TypeNode>();
  node->kind = TypeKind::tensor;
  node->dtype = dtype;
  node->shape = std::move(shape);
  node->layout = std::move(layout);
  t.node_ = std::move(node);
  return t;
}

TypeKind Type::kind() const {
  return node_->kind;
}
DType Type::dtype() const {
  return node_->dtype;
}

const Type& Type::pointee() const {
  TM_ASSERT(is_pointer()) << "pointee() of " << str();
  return node_->pointee.front();
}
const std::vector<int64_t>& Type::shape() const {
  TM_ASSERT(is_tensor()) << "shape() of " << str();
  return node_->shape;
}
const Layout& Type::layout() const {
  TM_ASSERT(is_tensor()) << "layout() of " << str();
  return node_->layout;
}
int64_t Type::numel() const {
  const auto& s = shape();
  return std::accumulate(s.begin(), s.end(), int64_t{1}, std::multiplies<>());
}

std::string Type::str() const {
  switch (kind()) {
    case TypeKind::void_:
      return "void";
    case TypeKind::scalar:
      return dtype().name();
    case TypeKind::pointer:
      return pointee().str() + "*";
    case TypeKind::tensor: {
      std::string s = dtype().name() + shape_str(shape());
      if (!(layout() == Layout::row_major(shape()))) s += " @ " + layout().str();
      return s;
    }
  }
  TM_UNREACHABLE();
  return {};
}

bool Type::operator==(const Type& other) const {
  if (node_ == other.node_) return true;
  if (kind() != other.kind()) return false;
  switch (kind()) {
    case TypeKind::void_:
      return true;
    case TypeKind::scalar:
      return dtype() == other.dtype();
    case TypeKind::pointer:
      return pointee() == other.pointee();
    case TypeKind::tensor:
      return dtype() == other.dtype() && shape() == other.shape() && layout() == other.layout();
  }
  return false;
}

}  // namespace taskmap::ir
