// The text of the CPU prelude pieces. Each piece is a small, commented block of C++17 that GCC
// and Clang accept without warnings; semantics are stated next to each helper because the
// generated code relies on them.
#include "codegen/cpu_prelude.h"

#include <utility>
#include <vector>

#include "taskmap/error.h"

namespace taskmap::codegen {
namespace {

struct Piece {
  const char* name;
  const char* text;
};

// In dependency order: later pieces may use earlier ones.
const std::vector<Piece>& pieces_in_order() {
  static const std::vector<Piece> pieces = {
      {"bf16",
       R"(// bfloat16 as stored: the high half of an IEEE float. GCC 12 has no bf16 arithmetic, so every
// operation converts to float and rounds back to nearest-even; NaN stays NaN.
struct tm_bf16 {
  uint16_t bits;
  tm_bf16() = default;
  explicit tm_bf16(float x) {
    uint32_t u;
    __builtin_memcpy(&u, &x, sizeof(u));
    if ((u & 0x7fffffffu) > 0x7f800000u) {
      bits = static_cast<uint16_t>((u >> 16) | 0x40u);  // quiet the NaN, keep its sign
    } else {
      bits = static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    }
  }
  explicit operator float() const {
    uint32_t u = static_cast<uint32_t>(bits) << 16;
    float x;
    __builtin_memcpy(&x, &u, sizeof(x));
    return x;
  }
};
static inline tm_bf16 operator+(tm_bf16 a, tm_bf16 b) { return tm_bf16(float(a) + float(b)); }
static inline tm_bf16 operator-(tm_bf16 a, tm_bf16 b) { return tm_bf16(float(a) - float(b)); }
static inline tm_bf16 operator*(tm_bf16 a, tm_bf16 b) { return tm_bf16(float(a) * float(b)); }
static inline tm_bf16 operator/(tm_bf16 a, tm_bf16 b) { return tm_bf16(float(a) / float(b)); }
static inline tm_bf16 operator-(tm_bf16 a) { return tm_bf16(-float(a)); }
static inline bool operator<(tm_bf16 a, tm_bf16 b) { return float(a) < float(b); }
static inline bool operator<=(tm_bf16 a, tm_bf16 b) { return float(a) <= float(b); }
static inline bool operator>(tm_bf16 a, tm_bf16 b) { return float(a) > float(b); }
static inline bool operator>=(tm_bf16 a, tm_bf16 b) { return float(a) >= float(b); }
static inline bool operator==(tm_bf16 a, tm_bf16 b) { return float(a) == float(b); }
static inline bool operator!=(tm_bf16 a, tm_bf16 b) { return float(a) != float(b); }
)"},
      {"minmax", R"(namespace tm {
// min and max propagate NaN like numpy.minimum/maximum: the result is NaN when either operand is
// NaN (fminf/fmaxf would return the other operand instead). Works lane-wise on vector types.
template <typename A, typename B>
static inline std::common_type_t<A, B> min(A a, B b) {
  std::common_type_t<A, B> x = a, y = b;
  return (x < y || x != x) ? x : y;
}
template <typename A, typename B>
static inline std::common_type_t<A, B> max(A a, B b) {
  std::common_type_t<A, B> x = a, y = b;
  return (x > y || x != x) ? x : y;
}
}  // namespace tm
)"},
      {"abs", R"(namespace tm {
// Integer absolute value; like C's abs, the most negative value maps to itself.
template <typename T>
static inline T abs(T x) { return x < 0 ? static_cast<T>(-x) : x; }
}  // namespace tm
)"},
      {"rsqrt", R"(namespace tm {
template <typename T>
static inline T rsqrt(T x) { return T(1) / std::sqrt(x); }
}  // namespace tm
)"},
      {"sigmoid", R"(namespace tm {
// 1 / (1 + e^-x): exp overflows to inf for very negative x and the result is then exactly 0.
template <typename T>
static inline T sigmoid(T x) { return T(1) / (T(1) + std::exp(-x)); }
}  // namespace tm
)"},
      {"vec_memory", R"(namespace tm {
// Tensors are only element-aligned, so vector loads and stores go through memcpy, which the
// compiler turns into one unaligned vector move.
template <typename V, typename T>
static inline V vec_load(const T* p) {
  V v;
  __builtin_memcpy(&v, p, sizeof(V));
  return v;
}
template <typename T, typename V>
static inline void vec_store(T* p, V v) { __builtin_memcpy(p, &v, sizeof(V)); }
}  // namespace tm
)"},
      {"broadcast", R"(namespace tm {
// `x` (of the element type) in every lane. `x - 0` is x for every x (-0 included), so the
// compiler folds it to a plain broadcast; `0 + x` would cost an add (0 + -0 is +0).
template <typename V, typename T>
static inline V broadcast(T x) { return x - V{}; }
}  // namespace tm
)"},
      {"lanewise", R"(namespace tm {
// Scalar math applied lane by lane: libm has no vector forms without -ffast-math.
template <typename V, typename F>
static inline V lanewise(V a, F fn) {
  for (unsigned i = 0; i < sizeof(V) / sizeof(a[0]); ++i) a[i] = fn(a[i]);
  return a;
}
template <typename V, typename F>
static inline V lanewise(V a, V b, F fn) {
  for (unsigned i = 0; i < sizeof(V) / sizeof(a[0]); ++i) a[i] = fn(a[i], b[i]);
  return a;
}
}  // namespace tm
)"},
      {"reduce_add", R"(namespace tm {
// The sum of the lanes, added in lane order.
template <typename V>
static inline auto reduce_add(V v) {
  auto sum = v[0];
  for (unsigned i = 1; i < sizeof(V) / sizeof(v[0]); ++i) sum += v[i];
  return sum;
}
}  // namespace tm
)"},
      {"reduce_max", R"(namespace tm {
// The largest lane; NaN when any lane is NaN (tm::max).
template <typename V>
static inline auto reduce_max(V v) {
  auto best = v[0];
  for (unsigned i = 1; i < sizeof(V) / sizeof(v[0]); ++i) best = tm::max(best, v[i]);
  return best;
}
}  // namespace tm
)"},
      {"heap", R"(namespace tm {
// A temporary too large for the stack: 64-byte aligned like local tiles, freed at scope end.
template <typename T>
struct HeapArray {
  explicit HeapArray(int64_t n) {
    size_t bytes = (static_cast<size_t>(n) * sizeof(T) + 63) / 64 * 64;
    data = static_cast<T*>(std::aligned_alloc(64, bytes > 0 ? bytes : 64));
    if (data == nullptr) {
      std::fprintf(stderr, "taskmap kernel: out of memory for a %lld-byte temporary\n",
                   static_cast<long long>(bytes));
      std::abort();  // generated code has no exceptions to report this with
    }
  }
  ~HeapArray() { std::free(data); }
  HeapArray(const HeapArray&) = delete;
  HeapArray& operator=(const HeapArray&) = delete;
  T& operator[](int64_t i) { return data[i]; }
  operator T*() { return data; }
  T* data;
};
}  // namespace tm
)"},
      {"assert", R"(namespace tm {
// The first failed assertion since the entry point was called; the entry point returns non-zero
// and the runtime reads the message through taskmap_last_error().
static const char* failure = nullptr;
static inline void fail(const char* message) {
  const char* none = nullptr;
  __atomic_compare_exchange_n(&failure, &none, message, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}
// An OpenMP loop cannot be left early, and running on with indices an assertion just proved
// wrong would corrupt memory, so a failure inside one stops the process.
static inline void fail_in_parallel_loop(const char* message) {
  std::fprintf(stderr, "taskmap kernel assertion failed: %s\n", message);
  std::abort();
}
}  // namespace tm
extern "C" const char* taskmap_last_error() { return tm::failure; }
)"},
  };
  return pieces;
}

}  // namespace

std::string cpu_prelude_includes(const std::set<std::string>& pieces) {
  std::string text = "#include <cmath>\n#include <cstdint>\n";
  if (pieces.count("heap") || pieces.count("assert")) text += "#include <cstdio>\n";
  if (pieces.count("heap") || pieces.count("assert")) text += "#include <cstdlib>\n";
  if (pieces.count("minmax")) text += "#include <type_traits>\n";
  return text;
}

std::string cpu_prelude_definitions(const std::set<std::string>& pieces) {
  size_t known = 0;
  std::string text;
  for (const Piece& piece : pieces_in_order()) {
    if (pieces.count(piece.name) == 0) continue;
    ++known;
    if (!text.empty()) text += "\n";
    text += piece.text;
  }
  TM_ASSERT(known == pieces.size()) << "code generation asked for an unknown prelude piece";
  return text;
}

}  // namespace taskmap::codegen
