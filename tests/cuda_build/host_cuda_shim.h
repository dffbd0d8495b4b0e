// The CUDA built-ins taskmap's generated CUDA uses, emulated on the host so that CI can run a
// kernel's logic without a GPU (host_cuda_support.h). Prepended to a generated .cu source, which
// is then compiled as C++20 by the host compiler.
//
// A launch runs its blocks one after another; the threads of a block run at once, one host
// thread each, so barriers, shuffles and shared memory behave as on a GPU (a missing barrier is
// a real race here too). Shared arrays become function statics: one copy, used by the block
// running now. A thread that returns leaves the block's barriers (arrive_and_drop), as an exited
// GPU thread stops counting at bar.sync. Warp-wide PTX (ldmatrix, mma.sync) gathers every lane's
// operands and computes what the PTX ISA says each lane receives; cp.async copies at once (the
// waits have nothing left to wait for). Not emulated: timing, memory coalescing, bank
// conflicts, anything taskmap does not generate.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math.h>

#include <array>
#include <atomic>
#include <barrier>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(threads)
#define __shared__ static

namespace tm_host {
struct Dim3 {
  unsigned x = 0, y = 1, z = 1;
};
}  // namespace tm_host

inline thread_local tm_host::Dim3 threadIdx, blockIdx;
inline tm_host::Dim3 blockDim, gridDim;
inline constexpr int warpSize = 32;

using std::isfinite;
using std::isinf;
using std::isnan;

namespace tm_host {

// The block that runs now: its barrier, one barrier per warp and one exchange slot per thread.
struct Block {
  std::unique_ptr<std::barrier<>> all;
  std::vector<std::unique_ptr<std::barrier<>>> warps;
  std::vector<uint64_t> slots;
  std::vector<std::array<uint32_t, 16>> wide_slots;  // warp-wide PTX operands
};
inline Block* running = nullptr;

// Every lane of the warp publishes `value`; returns the value of lane pick(lane).
template <typename T, typename Pick>
T exchange(T value, Pick pick) {
  static_assert(sizeof(T) <= sizeof(uint64_t), "shuffles move at most 8 bytes");
  Block& b = *running;
  const unsigned t = threadIdx.x, warp = t / 32, lane = t % 32;
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  b.slots[t] = bits;
  b.warps[warp]->arrive_and_wait();
  const uint64_t other = b.slots[warp * 32 + pick(lane)];
  b.warps[warp]->arrive_and_wait();  // nobody overwrites a slot before every lane has read it
  T out;
  std::memcpy(&out, &other, sizeof(T));
  return out;
}

// Every lane of the warp publishes up to 16 words; returns all 32 lanes' words.
inline std::array<std::array<uint32_t, 16>, 32> gather_warp(const std::array<uint32_t, 16>& mine) {
  Block& b = *running;
  const unsigned t = threadIdx.x, warp = t / 32;
  b.wide_slots[t] = mine;
  b.warps[warp]->arrive_and_wait();
  std::array<std::array<uint32_t, 16>, 32> all;
  for (unsigned lane = 0; lane < 32; ++lane) all[lane] = b.wide_slots[warp * 32 + lane];
  b.warps[warp]->arrive_and_wait();
  return all;
}

template <typename... P, size_t... I>
void call(void (*kernel)(P...), void* const* args, std::index_sequence<I...>) {
  kernel(*static_cast<std::remove_reference_t<P>*>(args[I])...);
}

// args: one pointer per kernel parameter (to a pointer for a tensor), then the grid and block
// sizes as unsigned.
template <typename... P>
int launch(void (*kernel)(P...), void* const* args) {
  const unsigned grid = *static_cast<const unsigned*>(args[sizeof...(P)]);
  const unsigned block = *static_cast<const unsigned*>(args[sizeof...(P) + 1]);
  gridDim.x = grid;
  blockDim.x = block;
  for (unsigned b = 0; b < grid; ++b) {
    Block state;
    state.all = std::make_unique<std::barrier<>>(block);
    for (unsigned w = 0; w * 32 < block; ++w)
      state.warps.push_back(std::make_unique<std::barrier<>>(std::min(32u, block - w * 32)));
    state.slots.resize(block);
    state.wide_slots.resize(block);
    running = &state;
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < block; ++t) {
      threads.emplace_back([&, t, b] {
        threadIdx.x = t;
        blockIdx.x = b;
        call(kernel, args, std::index_sequence_for<P...>{});
        state.warps[t / 32]->arrive_and_drop();
        state.all->arrive_and_drop();
      });
    }
    for (std::thread& thread : threads) thread.join();
    running = nullptr;
  }
  return 0;
}

}  // namespace tm_host

inline void __syncthreads() {
  tm_host::running->all->arrive_and_wait();
}

template <typename T>
T __shfl_xor_sync(unsigned, T value, int mask) {
  return tm_host::exchange(value, [mask](unsigned lane) { return lane ^ mask; });
}

template <typename T>
T __shfl_down_sync(unsigned, T value, unsigned delta) {
  return tm_host::exchange(
      value, [delta](unsigned lane) { return lane + delta < 32 ? lane + delta : lane; });
}

template <typename T>
T atomicAdd(T* address, T value) {
  return std::atomic_ref<T>(*address).fetch_add(value);
}

inline int atomicCAS(int* address, int compare, int value) {
  std::atomic_ref<int>(*address).compare_exchange_strong(compare, value);
  return compare;
}

inline float __int_as_float(int bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
inline double __longlong_as_double(long long bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}
inline float rsqrtf(float x) {
  return 1.0f / std::sqrt(x);
}
inline double rsqrt(double x) {
  return 1.0 / std::sqrt(x);
}

#define TM_PTX_EMULATED
namespace tm_ptx {

inline void cp_async_16(void* dst, const void* src, int src_bytes) {
  std::memset(dst, 0, 16);
  std::memcpy(dst, src, static_cast<size_t>(src_bytes));
}
inline void cp_async_commit() {}
template <int N>
void cp_async_wait() {}

// Lane l gives the row address l % 8 of matrix l / 8; register j of lane l holds row l / 4,
// columns 2 (l % 4) + {0, 1} of matrix j (of its transpose with `trans`).
inline void ldmatrix(void* dst, const void* src, int count, bool trans) {
  std::array<uint32_t, 16> mine{};
  const auto address = reinterpret_cast<uintptr_t>(src);
  mine[0] = static_cast<uint32_t>(address);
  mine[1] = static_cast<uint32_t>(static_cast<uint64_t>(address) >> 32);
  const auto all = tm_host::gather_warp(mine);
  auto row = [&](unsigned lane) {
    return reinterpret_cast<const uint16_t*>(
        static_cast<uintptr_t>(all[lane][0] | static_cast<uint64_t>(all[lane][1]) << 32));
  };
  const unsigned l = threadIdx.x % 32;
  auto* out = static_cast<uint16_t*>(dst);
  for (int j = 0; j < count; ++j) {
    for (unsigned e = 0; e < 2; ++e) {
      out[2 * j + e] =
          trans ? row(8 * j + 2 * (l % 4) + e)[l / 4] : row(8 * j + l / 4)[2 * (l % 4) + e];
    }
  }
}
// The entry points the generated code calls, one per count and form.
#define TM_HOST_LDMATRIX(name, count, trans) \
  inline void name(void* d, const void* s) { \
    ldmatrix(d, s, count, trans);            \
  }
TM_HOST_LDMATRIX(ldmatrix_x1, 1, false)
TM_HOST_LDMATRIX(ldmatrix_x2, 2, false)
TM_HOST_LDMATRIX(ldmatrix_x4, 4, false)
TM_HOST_LDMATRIX(ldmatrix_x1_trans, 1, true)
TM_HOST_LDMATRIX(ldmatrix_x2_trans, 2, true)
TM_HOST_LDMATRIX(ldmatrix_x4_trans, 4, true)
#undef TM_HOST_LDMATRIX

// The product of the warp's fragments: `a_value(words, i)` is element i of a lane's A registers
// (its published words), at (row, column) `a_at(group, thread in group, i)`, likewise B; this
// lane's D is its own C (words 6-9) plus its rows of A times its columns of B.
template <typename AValue, typename AAt, typename BValue, typename BAt>
void mma(float* d, int k_size, int a_count, AValue a_value, AAt a_at, int b_count, BValue b_value,
         BAt b_at, const std::array<uint32_t, 16>& mine) {
  const auto all = tm_host::gather_warp(mine);
  float a[16][16] = {}, b[16][8] = {};
  for (unsigned lane = 0; lane < 32; ++lane) {
    const unsigned g = lane / 4, t = lane % 4;
    for (int i = 0; i < a_count; ++i) {
      auto [r, k] = a_at(g, t, i);
      a[r][k] = a_value(all[lane], i);
    }
    for (int i = 0; i < b_count; ++i) {
      auto [k, n] = b_at(g, t, i);
      b[k][n] = b_value(all[lane], i);
    }
  }
  const unsigned l = threadIdx.x % 32, g = l / 4, t = l % 4;
  for (int i = 0; i < 4; ++i) {
    const unsigned r = g + 8 * (i / 2), n = 2 * t + i % 2;
    float sum = std::bit_cast<float>(mine[6 + i]);
    for (int k = 0; k < k_size; ++k) sum += a[r][k] * b[k][n];
    d[i] = sum;
  }
}

// Words 0-3: A's registers, 4-5: B's, 6-9: C.
template <typename T>
std::array<uint32_t, 16> operands(const T* a, int a_words, const T* b, int b_words,
                                  const float* c) {
  std::array<uint32_t, 16> mine{};
  std::memcpy(mine.data(), a, 4 * static_cast<size_t>(a_words));
  std::memcpy(mine.data() + 4, b, 4 * static_cast<size_t>(b_words));
  std::memcpy(mine.data() + 6, c, 16);
  return mine;
}

template <typename Half>
void mma_16bit(float* d, const Half* a, const Half* b, const float* c) {
  auto half_at = [](const std::array<uint32_t, 16>& words, int i) {
    Half h;
    const uint16_t bits = static_cast<uint16_t>(words[i / 2] >> (16 * (i % 2)));
    std::memcpy(&h, &bits, sizeof h);
    return static_cast<float>(h);
  };
  mma(
      d, 16, 8, half_at,
      [](unsigned g, unsigned t, int i) {
        return std::pair<unsigned, unsigned>(g + 8 * ((i / 2) % 2), 2 * t + i % 2 + 8 * (i / 4));
      },
      4, [&](const std::array<uint32_t, 16>& w, int i) { return half_at(w, 8 + i); },
      [](unsigned g, unsigned t, int i) {
        return std::pair<unsigned, unsigned>(2 * t + i % 2 + 8 * (i / 2), g);
      },
      operands(a, 4, b, 2, c));
}
inline void mma_sync(float* d, const __half* a, const __half* b, const float* c) {
  mma_16bit(d, a, b, c);
}
inline void mma_sync(float* d, const __nv_bfloat16* a, const __nv_bfloat16* b, const float* c) {
  mma_16bit(d, a, b, c);
}
// cvt.rna.tf32.f32: 10 mantissa bits, to nearest, ties away from zero.
inline float to_tf32(float x) {
  if (!std::isfinite(x)) return x;
  return std::bit_cast<float>((std::bit_cast<uint32_t>(x) + 0x1000u) & 0xffffe000u);
}
inline void mma_sync(float* d, const float* a, const float* b, const float* c) {
  auto tf32_at = [](const std::array<uint32_t, 16>& words, int i) {
    return to_tf32(std::bit_cast<float>(words[i]));
  };
  mma(
      d, 8, 4, tf32_at,
      [](unsigned g, unsigned t, int i) {
        return std::pair<unsigned, unsigned>(g + 8 * (i % 2), t + 4 * (i / 2));
      },
      2, [&](const std::array<uint32_t, 16>& w, int i) { return tf32_at(w, 4 + i); },
      [](unsigned g, unsigned t, int i) { return std::pair<unsigned, unsigned>(t + 4 * i, g); },
      operands(a, 4, b, 2, c));
}

}  // namespace tm_ptx

// After every header: the generated code's own `tm` namespace would clash with C's struct tm,
// and GCC takes `alignas` only at the start of a declaration (`__shared__` puts `static` first).
#define tm tm_generated
#define alignas(bytes) __attribute__((aligned(bytes)))
