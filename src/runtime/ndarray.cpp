#include "taskmap/runtime/ndarray.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <new>
#include <sstream>

#include "taskmap/error.h"

namespace taskmap {
namespace {

using ir::ScalarKind;

// IEEE half <-> float by hand: portable across compilers (clang 14 has no x86 _Float16).
float f16_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24
    float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return sign ? -magnitude : magnitude;
  }
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

uint16_t float_to_f16(float f) {
  uint32_t bits = std::bit_cast<uint32_t>(f);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  uint32_t abs = bits & 0x7fffffffu;
  if (abs > 0x7f800000u) return sign | 0x7e00u;   // NaN
  if (abs >= 0x477ff000u) return sign | 0x7c00u;  // rounds to infinity
  if (abs < 0x38800000u) {                        // subnormal half (or zero)
    float magnitude = std::bit_cast<float>(abs);
    return sign | static_cast<uint16_t>(std::nearbyint(magnitude * 0x1p24f));
  }
  uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);  // round to nearest even
  return sign | static_cast<uint16_t>((rounded - 0x38000000u) >> 13);
}

float bf16_to_float(uint16_t h) {
  return std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
}
uint16_t float_to_bf16(float f) {
  uint32_t bits = std::bit_cast<uint32_t>(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  bits += 0x7fffu + ((bits >> 16) & 1u);  // round to nearest even
  return static_cast<uint16_t>(bits >> 16);
}

// Shared storage aligned to 64 bytes (a cache line, an AVX-512 vector).
std::shared_ptr<std::byte[]> allocate(size_t bytes) {
  size_t rounded = (std::max<size_t>(bytes, 1) + 63) / 64 * 64;
  auto* p = static_cast<std::byte*>(::operator new(rounded, std::align_val_t(64)));
  std::memset(p, 0, rounded);
  return std::shared_ptr<std::byte[]>(
      p, [](std::byte* q) { ::operator delete(q, std::align_val_t(64)); });
}

constexpr int64_t kMaxBytes = int64_t(1) << 40;

}  // namespace

int64_t shape_numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    TM_USER_CHECK(d >= 0) << "negative dimension in shape " << shape_str(shape);
    TM_USER_CHECK(!__builtin_mul_overflow(n, d, &n))
        << "shape " << shape_str(shape) << " has too many elements";
  }
  return n;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << "]";
  return os.str();
}

NDArray::NDArray(ir::DType dtype, std::vector<int64_t> shape)
    : dtype_(dtype), shape_(std::move(shape)) {
  for (int64_t d : shape_)
    TM_USER_CHECK(d >= 0) << "negative dimension in shape " << shape_str(shape_);
  storage_ = allocate(nbytes());
}

int64_t NDArray::numel() const {
  return shape_numel(shape_);
}
size_t NDArray::nbytes() const {
  return static_cast<size_t>(numel()) * dtype_.bytes();
}

double NDArray::get_double(int64_t flat) const {
  const std::byte* p = storage_.get() + flat * dtype_.bytes();
  switch (dtype_.kind()) {
    case ScalarKind::f64:
      return *reinterpret_cast<const double*>(p);
    case ScalarKind::f32:
      return *reinterpret_cast<const float*>(p);
    case ScalarKind::f16:
      return f16_to_float(*reinterpret_cast<const uint16_t*>(p));
    case ScalarKind::bf16:
      return bf16_to_float(*reinterpret_cast<const uint16_t*>(p));
    default:
      return static_cast<double>(get_int(flat));
  }
}

int64_t NDArray::get_int(int64_t flat) const {
  const std::byte* p = storage_.get() + flat * dtype_.bytes();
  switch (dtype_.kind()) {
    case ScalarKind::i64:
      return *reinterpret_cast<const int64_t*>(p);
    case ScalarKind::i32:
      return *reinterpret_cast<const int32_t*>(p);
    case ScalarKind::i16:
      return *reinterpret_cast<const int16_t*>(p);
    case ScalarKind::i8:
      return *reinterpret_cast<const int8_t*>(p);
    case ScalarKind::u8:
      return *reinterpret_cast<const uint8_t*>(p);
    case ScalarKind::boolean:
      return *reinterpret_cast<const uint8_t*>(p) != 0;
    default:
      return static_cast<int64_t>(get_double(flat));
  }
}

void NDArray::set_double(int64_t flat, double value) {
  std::byte* p = storage_.get() + flat * dtype_.bytes();
  switch (dtype_.kind()) {
    case ScalarKind::f64:
      *reinterpret_cast<double*>(p) = value;
      return;
    case ScalarKind::f32:
      *reinterpret_cast<float*>(p) = static_cast<float>(value);
      return;
    case ScalarKind::f16:
      *reinterpret_cast<uint16_t*>(p) = float_to_f16(static_cast<float>(value));
      return;
    case ScalarKind::bf16:
      *reinterpret_cast<uint16_t*>(p) = float_to_bf16(static_cast<float>(value));
      return;
    case ScalarKind::boolean:
      *reinterpret_cast<uint8_t*>(p) = value != 0;
      return;
    default:
      set_int(flat, static_cast<int64_t>(value));
      return;
  }
}

void NDArray::set_int(int64_t flat, int64_t value) {
  std::byte* p = storage_.get() + flat * dtype_.bytes();
  switch (dtype_.kind()) {
    case ScalarKind::i64:
      *reinterpret_cast<int64_t*>(p) = value;
      return;
    case ScalarKind::i32:
      *reinterpret_cast<int32_t*>(p) = static_cast<int32_t>(value);
      return;
    case ScalarKind::i16:
      *reinterpret_cast<int16_t*>(p) = static_cast<int16_t>(value);
      return;
    case ScalarKind::i8:
      *reinterpret_cast<int8_t*>(p) = static_cast<int8_t>(value);
      return;
    case ScalarKind::u8:
      *reinterpret_cast<uint8_t*>(p) = static_cast<uint8_t>(value);
      return;
    case ScalarKind::boolean:
      *reinterpret_cast<uint8_t*>(p) = value != 0;
      return;
    default:
      set_double(flat, static_cast<double>(value));
      return;
  }
}

NDArray NDArray::reshaped(std::vector<int64_t> shape) const {
  TM_USER_CHECK(shape_numel(shape) == numel())
      << "cannot reshape " << type_str() << " to " << shape_str(shape);
  NDArray out = *this;
  out.shape_ = std::move(shape);
  return out;
}

NDArray NDArray::clone() const {
  if (!defined()) return {};
  NDArray out(dtype_, shape_);
  std::memcpy(out.raw(), raw(), nbytes());
  return out;
}

std::vector<int64_t> NDArray::to_int_vector() const {
  TM_USER_CHECK(!dtype_.is_float()) << "expected an integer tensor, got " << type_str();
  std::vector<int64_t> out(numel());
  for (int64_t i = 0; i < numel(); ++i) out[i] = get_int(i);
  return out;
}

std::string NDArray::type_str() const {
  return dtype_.name() + shape_str(shape_);
}

}  // namespace taskmap
