// Data layouts: factories (which check their preconditions), queries, the concrete offset
// interpreter and the text form. The symbolic offset lives in layout_offset.cpp and the
// mapping-mirroring register layout in mirror_layout.cpp.
#include "taskmap/ir/layout.h"

#include <algorithm>

#include "ir/layout/layout_node.h"
#include "ir/mapping/index_arith.h"
#include "ir/mapping/join.h"
#include "taskmap/error.h"

namespace taskmap::ir {
namespace {

std::vector<int64_t> row_major_strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

std::vector<int64_t> column_major_strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t i = 1; i < shape.size(); ++i) strides[i] = strides[i - 1] * shape[i - 1];
  return strides;
}

// Strided layouts accept empty dims, so that empty tensors have a layout; other kinds do not.
void check_extents(const char* name, const std::vector<int64_t>& shape, bool allow_zero) {
  for (size_t i = 0; i < shape.size(); ++i) {
    TM_USER_CHECK(shape[i] > 0 || (allow_zero && shape[i] == 0))
        << name << "(" << join(shape) << "): extent " << shape[i] << " of dim " << i
        << (allow_zero ? " must not be negative" : " must be positive");
  }
}

int64_t checked_product(const std::string& what, int64_t a, int64_t b) {
  std::optional<int64_t> product = checked_mul(a, b);
  TM_USER_CHECK(product) << what << " is too large (its size overflows a 64-bit integer)";
  return *product;
}

bool is_compose(const Layout& layout) {
  return layout.node()->kind == LayoutKind::compose;
}

// offset() without the argument checks, over a span of `rank` indices.
int64_t offset_of(const LayoutNode& node, const int64_t* index) {
  switch (node.kind) {
    case LayoutKind::strided: {
      int64_t offset = 0;
      for (size_t i = 0; i < node.shape.size(); ++i) offset += index[i] * node.strides[i];
      return offset;
    }
    case LayoutKind::local:
      return 0;
    case LayoutKind::compose: {
      const std::vector<int64_t>& inner_shape = node.rhs.shape();
      std::vector<int64_t> outer_index(inner_shape.size()), inner_index(inner_shape.size());
      for (size_t i = 0; i < inner_shape.size(); ++i) {
        outer_index[i] = index[i] / inner_shape[i];
        inner_index[i] = index[i] % inner_shape[i];
      }
      return offset_of(*node.lhs.node(), outer_index.data()) * node.rhs.size() +
             offset_of(*node.rhs.node(), inner_index.data());
    }
    case LayoutKind::concat:
      return offset_of(*node.lhs.node(), index) * node.rhs.size() +
             offset_of(*node.rhs.node(), index + node.lhs.rank());
    case LayoutKind::swizzle: {
      std::vector<int64_t> swizzled(index, index + node.shape.size());
      swizzled[node.dim] ^= (index[node.regards_dim] >> node.log_step) % node.shape[node.dim];
      return offset_of(*node.lhs.node(), swizzled.data());
    }
  }
  TM_UNREACHABLE() << "unknown layout kind";
}

}  // namespace

Layout make_layout(std::shared_ptr<const LayoutNode> node) {
  return Layout(std::move(node));
}

// ---- factories --------------------------------------------------------------------------------

Layout Layout::strided(std::vector<int64_t> shape, std::vector<int64_t> strides) {
  check_extents("strided", shape, true);
  TM_USER_CHECK(strides.size() == shape.size())
      << "strided([" << join(shape) << "], [" << join(strides) << "]): got " << strides.size()
      << " strides for " << shape.size() << " dims";
  const std::string text = "strided([" + join(shape) + "], [" + join(strides) + "])";
  auto node = std::make_shared<LayoutNode>();
  node->kind = LayoutKind::strided;
  // size = Σ (n_i - 1) · stride_i + 1: one past the largest offset.
  int64_t last = 0;
  for (size_t i = 0; i < shape.size(); ++i) {
    TM_USER_CHECK(strides[i] >= 0) << text << ": stride " << strides[i] << " must not be negative";
    std::optional<int64_t> sum =
        checked_add(last, checked_product(text, std::max<int64_t>(shape[i] - 1, 0), strides[i]));
    TM_USER_CHECK(sum) << text << " is too large (its size overflows a 64-bit integer)";
    last = *sum;
  }
  TM_USER_CHECK(last < INT64_MAX) << text << " is too large (its size overflows a 64-bit integer)";
  const bool empty = std::find(shape.begin(), shape.end(), 0) != shape.end();
  node->size = empty ? 0 : last + 1;
  node->shape = std::move(shape);
  node->strides = std::move(strides);
  return make_layout(std::move(node));
}

Layout Layout::row_major(std::vector<int64_t> shape) {
  check_extents("row_major", shape, true);
  int64_t size = 1;
  for (int64_t extent : shape)
    size = checked_product("row_major(" + join(shape) + ")", size, extent);
  std::vector<int64_t> strides = row_major_strides(shape);
  return strided(std::move(shape), std::move(strides));
}

Layout Layout::column_major(std::vector<int64_t> shape) {
  check_extents("column_major", shape, true);
  int64_t size = 1;
  for (int64_t extent : shape) {
    size = checked_product("column_major(" + join(shape) + ")", size, extent);
  }
  std::vector<int64_t> strides = column_major_strides(shape);
  return strided(std::move(shape), std::move(strides));
}

Layout Layout::local(std::vector<int64_t> shape) {
  check_extents("local", shape, false);
  auto node = std::make_shared<LayoutNode>();
  node->kind = LayoutKind::local;
  node->shape = std::move(shape);
  node->size = 1;
  return make_layout(std::move(node));
}

Layout Layout::operator*(const Layout& inner) const {
  TM_USER_CHECK(defined() && inner.defined()) << "cannot compose an undefined layout";
  TM_USER_CHECK(rank() == inner.rank())
      << "cannot compose layout " << str() << " with " << inner.str() << ": ranks differ ("
      << rank() << " vs " << inner.rank() << ")";
  const std::string text = "layout " + str() + " * " + inner.str();
  auto node = std::make_shared<LayoutNode>();
  node->kind = LayoutKind::compose;
  for (int i = 0; i < rank(); ++i) {
    node->shape.push_back(checked_product(text, shape()[i], inner.shape()[i]));
  }
  node->size = checked_product(text, size(), inner.size());
  node->lhs = *this;
  node->rhs = inner;
  return make_layout(std::move(node));
}

Layout Layout::concat(const Layout& rhs) const {
  TM_USER_CHECK(defined() && rhs.defined()) << "cannot concatenate an undefined layout";
  auto node = std::make_shared<LayoutNode>();
  node->kind = LayoutKind::concat;
  node->shape = shape();
  node->shape.insert(node->shape.end(), rhs.shape().begin(), rhs.shape().end());
  node->size =
      checked_product("layout concat(" + str() + ", " + rhs.str() + ")", size(), rhs.size());
  node->lhs = *this;
  node->rhs = rhs;
  return make_layout(std::move(node));
}

Layout Layout::swizzle(int dim, int regards_dim, int log_step) const {
  TM_USER_CHECK(defined()) << "cannot swizzle an undefined layout";
  const std::string text = str() + ".swizzle(" + std::to_string(dim) + ", " +
                           std::to_string(regards_dim) + ", " + std::to_string(log_step) + ")";
  TM_USER_CHECK(dim >= 0 && dim < rank() && regards_dim >= 0 && regards_dim < rank())
      << text << ": dims must lie in 0.." << rank() - 1;
  // Swizzling a dim by itself is not a permutation (x ^ x == 0 when log_step is 0).
  TM_USER_CHECK(dim != regards_dim) << text << ": a dim cannot be swizzled by itself";
  TM_USER_CHECK(log_step >= 0 && log_step < 63) << text << ": log_step must lie in 0..62";
  const int64_t extent = shape()[dim];
  // The xor stays inside [0, extent) only for a power-of-two extent.
  TM_USER_CHECK(extent > 0 && (extent & (extent - 1)) == 0)
      << text << ": the swizzled dim has extent " << extent << ", which is not a power of two";
  auto node = std::make_shared<LayoutNode>();
  node->kind = LayoutKind::swizzle;
  node->shape = shape();
  node->size = size();
  node->lhs = *this;
  node->dim = dim;
  node->regards_dim = regards_dim;
  node->log_step = log_step;
  return make_layout(std::move(node));
}

// ---- queries ----------------------------------------------------------------------------------

int Layout::rank() const {
  TM_ASSERT(defined()) << "rank() of an undefined layout";
  return static_cast<int>(node_->shape.size());
}

const std::vector<int64_t>& Layout::shape() const {
  TM_ASSERT(defined()) << "shape() of an undefined layout";
  return node_->shape;
}

int64_t Layout::size() const {
  TM_ASSERT(defined()) << "size() of an undefined layout";
  return node_->size;
}

int64_t Layout::offset(const std::vector<int64_t>& index) const {
  TM_ASSERT(defined()) << "offset() of an undefined layout";
  TM_USER_CHECK(static_cast<int>(index.size()) == rank())
      << "layout " << str() << " takes " << rank() << " indices, got " << index.size();
  for (int i = 0; i < rank(); ++i) {
    TM_USER_CHECK(index[i] >= 0 && index[i] < shape()[i])
        << "index (" << join(index) << ") is out of range for layout " << str() << " of shape ("
        << join(shape()) << ")";
  }
  return offset_of(*node_, index.data());
}

std::string Layout::str() const {
  if (!defined()) return "<default layout>";
  const LayoutNode& n = *node_;
  switch (n.kind) {
    case LayoutKind::strided:
      if (n.strides == row_major_strides(n.shape)) return "row_major(" + join(n.shape) + ")";
      if (n.strides == column_major_strides(n.shape)) return "column_major(" + join(n.shape) + ")";
      return "strided([" + join(n.shape) + "], [" + join(n.strides) + "])";
    case LayoutKind::local:
      return "local(" + join(n.shape) + ")";
    case LayoutKind::compose: {
      // Composition is associative in value; parentheses keep the printed tree exact.
      const std::string inner = is_compose(n.rhs) ? "(" + n.rhs.str() + ")" : n.rhs.str();
      return n.lhs.str() + " * " + inner;
    }
    case LayoutKind::concat:
      return "concat(" + n.lhs.str() + ", " + n.rhs.str() + ")";
    case LayoutKind::swizzle: {
      const std::string base = is_compose(n.lhs) ? "(" + n.lhs.str() + ")" : n.lhs.str();
      std::string args = std::to_string(n.dim) + ", " + std::to_string(n.regards_dim);
      if (n.log_step != 0) args += ", " + std::to_string(n.log_step);
      return base + ".swizzle(" + args + ")";
    }
  }
  TM_UNREACHABLE() << "unknown layout kind";
}

bool Layout::operator==(const Layout& other) const {
  if (node_ == other.node_) return true;
  if (!defined() || !other.defined()) return false;
  const LayoutNode& a = *node_;
  const LayoutNode& b = *other.node_;
  return a.kind == b.kind && a.shape == b.shape && a.size == b.size && a.strides == b.strides &&
         a.lhs == b.lhs && a.rhs == b.rhs && a.dim == b.dim && a.regards_dim == b.regards_dim &&
         a.log_step == b.log_step;
}

}  // namespace taskmap::ir
