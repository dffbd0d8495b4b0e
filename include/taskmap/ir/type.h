#pragma once
// IR types: scalars and vectors (a DType), pointers, tensors (dtype, shape, layout) and void.
// A Type is an immutable shared value; compare with ==.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "taskmap/ir/dtype.h"
#include "taskmap/ir/layout.h"

namespace taskmap::ir {

enum class TypeKind : uint8_t { scalar, pointer, tensor, void_ };

struct TypeNode;

class Type {
 public:
  Type();             // void
  Type(DType dtype);  // NOLINT(google-explicit-constructor): a dtype is a scalar type

  static Type void_type();
  static Type pointer(const Type& pointee);
  // A tensor; an undefined `layout` means row_major(shape). The layout's shape must equal `shape`.
  static Type tensor(DType dtype, std::vector<int64_t> shape, Layout layout = {});

  TypeKind kind() const;
  bool is_scalar() const { return kind() == TypeKind::scalar; }
  bool is_pointer() const { return kind() == TypeKind::pointer; }
  bool is_tensor() const { return kind() == TypeKind::tensor; }
  bool is_void() const { return kind() == TypeKind::void_; }

  // scalar: itself; tensor: the element dtype; pointer: the pointee's dtype.
  DType dtype() const;
  const Type& pointee() const;                // pointer only
  const std::vector<int64_t>& shape() const;  // tensor only
  const Layout& layout() const;               // tensor only; always defined
  int64_t numel() const;                      // tensor only

  std::string str() const;
  bool operator==(const Type& other) const;

 private:
  std::shared_ptr<const TypeNode> node_;
};

}  // namespace taskmap::ir
