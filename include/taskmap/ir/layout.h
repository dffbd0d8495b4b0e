#pragma once
// Data layouts: a closed algebra of values that map a multi-dimensional index to a storage
// offset (DESIGN.md, "Data layout"; reference/hidet-design.md §2.6).
//
//   row_major(s), column_major(s), strided(s, strides)   offset = Σ idx_i · stride_i
//   local(s)                                              a dim spread over workers: size 1, offset
//   0 outer * inner   (same rank; tiling)                   shape = outer.shape ⊙ inner.shape,
//        offset = outer(idx / inner.shape) · inner.size + inner(idx % inner.shape)
//   concat(lhs, rhs)  (rank adds)                         offset = lhs(idx_l) · rhs.size +
//   rhs(idx_r) swizzle(dim, regards, log_step)                       idx[dim] ^= (idx[regards] >>
//   log_step) % shape[dim]
//
// Preconditions are checked when a layout is built (user errors): positive extents (strided
// layouts also accept 0, for empty tensors: their size is 0), equal ranks for composition,
// power-of-two extent for a swizzled dim. Each layout's offsets for in-range indices lie in [0,
// size).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace taskmap::ir {

class Expr;
class TaskMapping;
struct LayoutNode;

class Layout {
 public:
  // The empty layout: "row-major over the tensor's shape", used by TensorType when none is given.
  Layout() = default;

  static Layout row_major(std::vector<int64_t> shape);
  static Layout column_major(std::vector<int64_t> shape);
  static Layout strided(std::vector<int64_t> shape, std::vector<int64_t> strides);
  static Layout local(std::vector<int64_t> shape);
  // Register layout that mirrors a mapping: local() for its spatial factors, row_major() (or
  // column_major() for column-ordered repeats) for its repeat factors. Each worker's tasks land
  // at offsets 0..k-1 in the order the mapping gives them.
  static Layout mirror(const TaskMapping& mapping);

  Layout operator*(const Layout& inner) const;  // composition (tiling)
  Layout concat(const Layout& rhs) const;
  Layout swizzle(int dim, int regards_dim, int log_step = 0) const;

  bool defined() const { return node_ != nullptr; }
  int rank() const;
  const std::vector<int64_t>& shape() const;
  int64_t size() const;  // number of storage elements

  int64_t offset(const std::vector<int64_t>& index) const;
  Expr offset(const std::vector<Expr>& index) const;  // index arithmetic, unsimplified

  // Text form that reads like the factories: "local(4, 8) * row_major(2, 2)".
  std::string str() const;
  bool operator==(const Layout& other) const;  // structural

  const LayoutNode* node() const { return node_.get(); }

 private:
  explicit Layout(std::shared_ptr<const LayoutNode> node) : node_(std::move(node)) {}
  std::shared_ptr<const LayoutNode> node_;
  friend struct LayoutNode;
  friend Layout make_layout(std::shared_ptr<const LayoutNode>);
};

}  // namespace taskmap::ir
