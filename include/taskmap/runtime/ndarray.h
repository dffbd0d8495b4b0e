#pragma once
// NDArray: a typed, row-major host tensor with shared, 64-byte aligned storage. It carries model
// inputs and outputs, constants (weights) and the values constant folding computes. Part of the
// runtime library: a saved model needs it without the compiler.
//
//   NDArray x(ir::f32, {2, 3});          // zero-filled
//   x.data<float>()[4] = 1.5f;
//   NDArray y = x.reshaped({3, 2});      // shares x's storage
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "taskmap/ir/dtype.h"

namespace taskmap {

class NDArray {
 public:
  NDArray() = default;  // undefined: defined() is false
  // A zero-filled array. A negative dimension is a UserError.
  NDArray(ir::DType dtype, std::vector<int64_t> shape);

  bool defined() const { return storage_ != nullptr; }
  // True when no other NDArray (a copy or a reshaped view) shares this one's storage, so writing
  // it changes nothing anyone else can see.
  bool sole_owner() const { return storage_ != nullptr && storage_.use_count() == 1; }
  ir::DType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t numel() const;
  size_t nbytes() const;

  void* raw() { return storage_.get(); }
  const void* raw() const { return storage_.get(); }
  template <typename T>
  T* data() {
    return reinterpret_cast<T*>(storage_.get());
  }
  template <typename T>
  const T* data() const {
    return reinterpret_cast<const T*>(storage_.get());
  }

  // Element `flat` (row-major position) read or written as a double or an int64, converted like a
  // C cast (f16 / bf16 through float; bool as 0 / 1).
  double get_double(int64_t flat) const;
  int64_t get_int(int64_t flat) const;
  void set_double(int64_t flat, double value);
  void set_int(int64_t flat, int64_t value);

  // The same storage with another shape of equal element count (else a UserError).
  NDArray reshaped(std::vector<int64_t> shape) const;
  // A deep copy.
  NDArray clone() const;
  // The elements as int64s (integer or bool arrays; a UserError for floats).
  std::vector<int64_t> to_int_vector() const;

  // "f32[2, 3]".
  std::string type_str() const;

 private:
  ir::DType dtype_;
  std::vector<int64_t> shape_;
  std::shared_ptr<std::byte[]> storage_;
};

// "[2, 3]".
std::string shape_str(const std::vector<int64_t>& shape);
int64_t shape_numel(const std::vector<int64_t>& shape);

}  // namespace taskmap
