#pragma once
// Scalar data types and their vector forms. A DType is a small value: a scalar kind and a lane
// count (1 for scalars). Vector dtypes map to compiler vector types in generated code.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace taskmap::ir {

enum class ScalarKind : uint8_t { f64, f32, f16, bf16, i64, i32, i16, i8, u8, boolean };

class DType {
 public:
  constexpr DType(ScalarKind kind = ScalarKind::f32, int lanes = 1) : kind_(kind), lanes_(lanes) {}

  constexpr ScalarKind kind() const { return kind_; }
  constexpr int lanes() const { return lanes_; }
  constexpr bool is_vector() const { return lanes_ > 1; }
  constexpr DType element() const { return DType(kind_, 1); }
  constexpr DType with_lanes(int lanes) const { return DType(kind_, lanes); }

  bool is_float() const;
  bool is_int() const;  // signed or unsigned integer, not bool
  bool is_signed() const;
  bool is_bool() const { return kind_ == ScalarKind::boolean; }
  int bits() const;  // of one lane
  int bytes() const { return (bits() * lanes_ + 7) / 8; }

  // Short name: "f32", "i64", "bool", "f32x16".
  std::string name() const;
  // Parses a short name; nullopt when it is not one.
  static std::optional<DType> parse(std::string_view name);

  constexpr bool operator==(const DType&) const = default;

 private:
  ScalarKind kind_;
  int lanes_;
};

inline constexpr DType f64{ScalarKind::f64};
inline constexpr DType f32{ScalarKind::f32};
inline constexpr DType f16{ScalarKind::f16};
inline constexpr DType bf16{ScalarKind::bf16};
inline constexpr DType i64{ScalarKind::i64};
inline constexpr DType i32{ScalarKind::i32};
inline constexpr DType i16{ScalarKind::i16};
inline constexpr DType i8{ScalarKind::i8};
inline constexpr DType u8{ScalarKind::u8};
inline constexpr DType boolean{ScalarKind::boolean};

// Two's-complement wrap of `value` to the width of integer dtype `dtype`, as a C conversion does
// (bool: value != 0; 64-bit: unchanged). Constants and constant folding both use it.
int64_t wrap_int(int64_t value, DType dtype);

// The dtype of loop variables, shapes and tensor indices.
inline constexpr DType index_dtype = i64;

}  // namespace taskmap::ir
