// The CUDA built-ins taskmap's generated CUDA uses, emulated on the host so that CI can run a
// kernel's logic without a GPU (host_cuda_support.h). Prepended to a generated .cu source, which
// is then compiled as C++20 by the host compiler.
//
// A launch runs its blocks one after another; the threads of a block run at once, one host
// thread each, so barriers, shuffles and shared memory behave as on a GPU (a missing barrier is
// a real race here too). Shared arrays become function statics: one copy, used by the block
// running now. A thread that returns leaves the block's barriers (arrive_and_drop), as an exited
// GPU thread stops counting at bar.sync. Not emulated: timing, memory coalescing, bank
// conflicts, anything taskmap does not generate.
#include <math.h>

#include <atomic>
#include <barrier>
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

// After every header: the generated code's own `tm` namespace would clash with C's struct tm,
// and GCC takes `alignas` only at the start of a declaration (`__shared__` puts `static` first).
#define tm tm_generated
#define alignas(bytes) __attribute__((aligned(bytes)))
