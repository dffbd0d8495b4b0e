#include "taskmap/ir/dtype.h"

#include <array>

namespace taskmap::ir {
namespace {

struct ScalarInfo {
  ScalarKind kind;
  const char* name;
  int bits;
  bool is_float;
  bool is_signed;
};

constexpr std::array<ScalarInfo, 10> kScalars = {{
    {ScalarKind::f64, "f64", 64, true, true},
    {ScalarKind::f32, "f32", 32, true, true},
    {ScalarKind::f16, "f16", 16, true, true},
    {ScalarKind::bf16, "bf16", 16, true, true},
    {ScalarKind::i64, "i64", 64, false, true},
    {ScalarKind::i32, "i32", 32, false, true},
    {ScalarKind::i16, "i16", 16, false, true},
    {ScalarKind::i8, "i8", 8, false, true},
    {ScalarKind::u8, "u8", 8, false, false},
    {ScalarKind::boolean, "bool", 8, false, false},
}};

const ScalarInfo& info(ScalarKind kind) {
  return kScalars[static_cast<int>(kind)];
}

}  // namespace

bool DType::is_float() const {
  return info(kind_).is_float;
}
bool DType::is_int() const {
  return !is_float() && !is_bool();
}
bool DType::is_signed() const {
  return info(kind_).is_signed;
}
int DType::bits() const {
  return info(kind_).bits;
}

std::string DType::name() const {
  std::string s = info(kind_).name;
  if (lanes_ > 1) s += "x" + std::to_string(lanes_);
  return s;
}

std::optional<DType> DType::parse(std::string_view name) {
  for (const ScalarInfo& s : kScalars) {
    std::string_view base = s.name;
    if (name == base) return DType(s.kind);
    if (name.size() > base.size() + 1 && name.substr(0, base.size()) == base &&
        name[base.size()] == 'x') {
      int lanes = 0;
      for (char c : name.substr(base.size() + 1)) {
        if (c < '0' || c > '9') return std::nullopt;
        lanes = lanes * 10 + (c - '0');
      }
      if (lanes > 1) return DType(s.kind, lanes);
    }
  }
  return std::nullopt;
}

int64_t wrap_int(int64_t value, DType dtype) {
  if (dtype.is_bool()) return value != 0;
  const int bits = dtype.bits();
  if (bits >= 64) return value;
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  uint64_t u = static_cast<uint64_t>(value) & mask;
  if (dtype.is_signed() && (u >> (bits - 1)) != 0) u |= ~mask;
  return static_cast<int64_t>(u);
}

}  // namespace taskmap::ir
