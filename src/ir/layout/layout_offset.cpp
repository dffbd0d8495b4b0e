// The symbolic offset of a layout: the index arithmetic that flatten_tensor_index writes in
// place of a multi-dimensional access. It mirrors offset_of() in layout.cpp term by term, folding
// constants and dropping trivial operations (division by an extent-1 inner dim, a local layout's
// zero offset), but is otherwise unsimplified.
#include "ir/layout/layout_node.h"
#include "ir/mapping/index_arith.h"
#include "taskmap/error.h"
#include "taskmap/ir/expr.h"
#include "taskmap/ir/layout.h"

namespace taskmap::ir {
namespace {

Expr symbolic_offset(const LayoutNode& node, const std::vector<Expr>& index) {
  switch (node.kind) {
    case LayoutKind::strided: {
      Expr offset = int_imm(0);
      for (size_t i = 0; i < index.size(); ++i) {
        offset = fold_add(offset, fold_mul(index[i], int_imm(node.strides[i])));
      }
      return offset;
    }
    case LayoutKind::local:
      return int_imm(0);
    case LayoutKind::compose: {
      const std::vector<int64_t>& inner_shape = node.rhs.shape();
      std::vector<Expr> outer_index, inner_index;
      for (size_t i = 0; i < index.size(); ++i) {
        outer_index.push_back(fold_div(index[i], int_imm(inner_shape[i])));
        inner_index.push_back(fold_mod(index[i], int_imm(inner_shape[i])));
      }
      return fold_add(
          fold_mul(symbolic_offset(*node.lhs.node(), outer_index), int_imm(node.rhs.size())),
          symbolic_offset(*node.rhs.node(), inner_index));
    }
    case LayoutKind::concat: {
      const auto split = index.begin() + node.lhs.rank();
      return fold_add(fold_mul(symbolic_offset(*node.lhs.node(), {index.begin(), split}),
                               int_imm(node.rhs.size())),
                      symbolic_offset(*node.rhs.node(), {split, index.end()}));
    }
    case LayoutKind::swizzle: {
      Expr shifted = index[node.regards_dim];
      if (node.log_step != 0) shifted = binary(BinaryOp::shr, shifted, int_imm(node.log_step));
      std::vector<Expr> swizzled = index;
      swizzled[node.dim] = binary(BinaryOp::bit_xor, index[node.dim],
                                  fold_mod(shifted, int_imm(node.shape[node.dim])));
      return symbolic_offset(*node.lhs.node(), swizzled);
    }
  }
  TM_UNREACHABLE() << "unknown layout kind";
}

}  // namespace

Expr Layout::offset(const std::vector<Expr>& index) const {
  TM_ASSERT(defined()) << "offset() of an undefined layout";
  TM_USER_CHECK(static_cast<int>(index.size()) == rank())
      << "layout " << str() << " takes " << rank() << " indices, got " << index.size();
  for (const Expr& e : index) {
    TM_USER_CHECK(e.defined() && e.dtype().is_int() && !e.dtype().is_vector())
        << "the indices of layout " << str() << " must be scalar integers";
  }
  return symbolic_offset(*node_, index);
}

}  // namespace taskmap::ir
