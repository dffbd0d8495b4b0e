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
// Written as two selects, not `(x < y || x != x) ? x : y`: GCC vectorizes this form well.
template <typename A, typename B>
static inline std::common_type_t<A, B> min(A a, B b) {
  std::common_type_t<A, B> x = a, y = b;
  return x != x ? x : (x < y ? x : y);
}
template <typename A, typename B>
static inline std::common_type_t<A, B> max(A a, B b) {
  std::common_type_t<A, B> x = a, y = b;
  return x != x ? x : (x > y ? x : y);
}
}  // namespace tm
)"},
      {"bounds", R"(namespace tm {
// min and max against a constant that is not NaN (ReLU's 0, Clip's 0 and 6), the constant held
// in a variable the compiler cannot see through (opaque): GCC then spells `c > x ? c : x` as one
// maxps, which returns its second operand (x) when either is NaN, so NaN still propagates. With
// the constant in sight it compares and blends through mask registers instead (eight to ten
// instructions per vector for a Clip: 26% of a 1 x 1 convolution with K = 16).
template <typename T>
static inline T max_bound(T x, T c) { return c > x ? c : x; }
template <typename T>
static inline T min_bound(T x, T c) { return c < x ? c : x; }
template <typename T>
static inline void opaque(T& x) {
#if defined(__x86_64__) || defined(__i386__)
  asm("" : "+x"(x));
#else
  asm("" : "+g"(x));
#endif
}
}  // namespace tm
)"},
      {"abs", R"(namespace tm {
// Integer absolute value; like C's abs, the most negative value maps to itself.
template <typename T>
static inline T abs(T x) { return x < 0 ? static_cast<T>(-x) : x; }
}  // namespace tm
)"},
      {"blend", R"(namespace tm {
// a if c else b, both evaluated, chosen bitwise for floats: GCC vectorizes this as a blend,
// where `c ? a : b` of a loaded a became a branch around the load.
template <typename T>
static inline T blend(bool c, T a, T b) { return c ? a : b; }
static inline float blend(bool c, float a, float b) {
  const unsigned m = 0u - static_cast<unsigned>(c);
  return __builtin_bit_cast(float, (__builtin_bit_cast(unsigned, a) & m) |
                                       (__builtin_bit_cast(unsigned, b) & ~m));
}
static inline double blend(bool c, double a, double b) {
  const unsigned long long m = 0ull - static_cast<unsigned long long>(c);
  return __builtin_bit_cast(double, (__builtin_bit_cast(unsigned long long, a) & m) |
                                        (__builtin_bit_cast(unsigned long long, b) & ~m));
}
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
      {"exp_f32", R"(namespace tm {
// e^x in f32 without branches, so loops around it vectorize (libm's expf does not without
// -ffast-math). x = n·ln2 + r with |r| <= ln2/2; e^r by its Taylor series to r^7 (error below
// 5e-9 relative, under an ulp); 2^n put straight into the exponent bits. Underflow gives 0,
// overflow inf, NaN stays NaN.
static inline float exp_f32(float x) {
  const float clamped = x < -88.0f ? -88.0f : (x > 88.7228394f ? 88.7228394f : x);
  const float n = __builtin_nearbyintf(clamped * 1.44269504f);
  const float r = (clamped - n * 0.693145752f) - n * 1.42860677e-6f;
  float p = 1.98412698e-4f;
  p = p * r + 1.38888889e-3f;
  p = p * r + 8.33333333e-3f;
  p = p * r + 4.16666667e-2f;
  p = p * r + 1.66666667e-1f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  // 2^n in two halves, so that n = 128 (just below overflow) and n = -127 stay normal.
  const int half = static_cast<int>(n) >> 1;
  const int bits_a = (half + 127) << 23, bits_b = (static_cast<int>(n) - half + 127) << 23;
  float scale_a, scale_b;
  __builtin_memcpy(&scale_a, &bits_a, sizeof scale_a);
  __builtin_memcpy(&scale_b, &bits_b, sizeof scale_b);
  const float y = p * scale_a * scale_b;
  return x != x ? x : (x < -87.3f ? 0.0f : (x > 88.7228394f ? __builtin_inff() : y));
}
}  // namespace tm
)"},
      {"odd_rational", R"(namespace tm {
// An odd function in f32 without branches, as x · P(x²) / Q(x²) on |x| <= limit and ±1 beyond
// (tanh and erf, both saturating): P and Q by Horner from their highest coefficient, Q's
// constant term 1. One division; NaN stays NaN.
template <int NP, int NQ>
static inline float odd_rational(float x, float limit, const float (&p)[NP], const float (&q)[NQ]) {
  const float a = x < 0 ? -x : x;
  const float c = a > limit ? limit : a;
  const float z = c * c;
  float num = p[0];
  for (int i = 1; i < NP; ++i) num = num * z + p[i];
  float den = q[0];
  for (int i = 1; i < NQ; ++i) den = den * z + q[i];
  const float r = a >= limit ? 1.0f : c * num / den;
  return x != x ? x : (x < 0 ? -r : r);
}
}  // namespace tm
)"},
      {"tanh_f32", R"(namespace tm {
// tanh: a rational fit of degree 4 / 4 on |x| <= 8 (2.9e-7 relative at most, measured against
// double-precision tanh; every coefficient positive, so nothing cancels); ±1 beyond, within
// 2.3e-7 of tanh. A third of the work of a series and an exp-based form both evaluated.
static inline float tanh_f32(float x) {
  static constexpr float p[] = {1.3353075733715394e-08f, 2.0608143365964208e-05f,
                                3.495540787225411e-03f, 1.3380989070655597e-01f,
                                0.9999999797138692f};
  static constexpr float q[] = {7.775968172227237e-07f, 3.285550461970794e-04f,
                                2.5876812358389137e-02f, 4.6714304758192454e-01f, 1.0f};
  return odd_rational(x, 8.0f, p, q);
}
}  // namespace tm
)"},
      {"erf_f32", R"(namespace tm {
// erf: a rational fit of degree 5 / 5 on |x| <= 3.92 (4e-7 absolute at most, measured against
// double-precision erf); ±1 beyond, where erf rounds to 1 in f32. A third of the work of a
// series and Abramowitz & Stegun 7.1.26 with an exp.
static inline float erf_f32(float x) {
  static constexpr float p[] = {2.0342841772291485e-06f, 2.874795585954838e-04f,
                                3.8692095567768175e-03f, 5.30630395548057e-02f,
                                1.927873453752749e-01f,  1.1283790206911868f};
  static constexpr float q[] = {3.806600551810494e-05f, 1.1882944779682148e-03f,
                                1.517404109494945e-02f, 1.1509378584527617e-01f,
                                5.041849931626963e-01f, 1.0f};
  return odd_rational(x, 3.92f, p, q);
}
}  // namespace tm
)"},
      {"sigmoid_f32", R"(namespace tm {
// 1 / (1 + e^-x) on exp_f32, so it vectorizes; e^-x overflows to inf for very negative x and
// the result is then exactly 0.
static inline float sigmoid_f32(float x) { return 1.0f / (1.0f + exp_f32(-x)); }
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
      {"vec_load_masked", R"(namespace tm {
// A native vector register as the GCC vector type V of the same size.
template <typename V, typename N>
static inline V as_vector(N native) {
  V v;
  __builtin_memcpy(&v, &native, sizeof(V));
  return v;
}
#if defined(__AVX2__)
// The AVX2 lane mask (all ones where bit i of `mask` is set) of 8 lanes.
static inline __m256i avx2_lanes_on(int32_t mask) {
  const __m256i bits = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(mask), bits), bits);
}
#endif
// The f32 lanes whose bit is set in `mask` load from p[lane]; the others are 0. Masked-off lanes
// touch no memory (AVX-512 suppresses their faults), so p may point outside the tensor there:
// the GEMM template reads padded convolution windows this way.
template <typename V>
static inline V vec_load_masked(const float* p, int32_t mask) {
#if defined(__AVX512F__)
  if constexpr (sizeof(V) == 64)
    return as_vector<V>(_mm512_maskz_loadu_ps(static_cast<__mmask16>(mask), p));
#endif
#if defined(__AVX2__)
  if constexpr (sizeof(V) == 32) return as_vector<V>(_mm256_maskload_ps(p, avx2_lanes_on(mask)));
#endif
  V v{};
  for (unsigned i = 0; i < sizeof(V) / sizeof(float); ++i)
    if ((mask >> i) & 1) v[i] = p[i];
  return v;
}
// The same from p[offsets[lane]]: the GEMM template reads strided convolution windows this way,
// the offsets (of the output pixels) tabulated once per tile.
template <typename V>
static inline V vec_gather_masked(const float* p, const int32_t* offsets, int32_t mask) {
#if defined(__AVX512F__)
  if constexpr (sizeof(V) == 64)
    return as_vector<V>(_mm512_mask_i32gather_ps(_mm512_setzero_ps(), static_cast<__mmask16>(mask),
                                                 _mm512_loadu_si512(offsets), p, 4));
#endif
#if defined(__AVX2__)
  if constexpr (sizeof(V) == 32) {
    const __m256i at = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(offsets));
    return as_vector<V>(_mm256_mask_i32gather_ps(_mm256_setzero_ps(), p, at,
                                                 _mm256_castsi256_ps(avx2_lanes_on(mask)), 4));
  }
#endif
  V v{};
  for (unsigned i = 0; i < sizeof(V) / sizeof(float); ++i)
    if ((mask >> i) & 1) v[i] = p[offsets[i]];
  return v;
}
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
  if (pieces.count("vec_load_masked")) text += "#include <immintrin.h>\n";
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
