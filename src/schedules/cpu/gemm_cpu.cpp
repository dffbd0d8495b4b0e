// The packed GEMM template (gemm_cpu.h has the loop structure).
#include "taskmap/schedules/gemm_cpu.h"

#include <algorithm>
#include <numeric>

#include "schedules/cpu/template_util.h"
#include "taskmap/error.h"
#include "taskmap/ir/functor.h"
#include "taskmap/lang/kernel_builder.h"
#include "taskmap/schedules/auto_scheduler.h"

namespace taskmap::schedules {

using namespace ir;
using lang::KernelBuilder;

namespace {

// The product of the reduction extents after the first (a window's kh · kw; 1 for a matmul).
int64_t inner_k(const GemmForm& f) {
  int64_t inner = 1;
  for (size_t d = 1; d < f.k_extents.size(); ++d) inner *= f.k_extents[d];
  return inner;
}

// The positions in task.inputs() of the tensors `factor` reads.
std::vector<int> inputs_read(const Task& task, const Expr& factor) {
  std::vector<int> out;
  std::vector<Var> used = free_vars(factor);
  for (size_t i = 0; i < task.inputs().size(); ++i) {
    for (const Var& v : used)
      if (v.same_as(task.inputs()[i])) out.push_back(static_cast<int>(i));
  }
  return out;
}

// Whether `factor` reads tensors, all of them constant: such a factor is packed once, at
// compile time (a batched one, a Winograd GEMM's transformed weights, batch by batch).
bool reads_only_constants(const Task& task, const Expr& factor,
                          const std::vector<bool>& constant_inputs) {
  std::vector<int> reads = inputs_read(task, factor);
  if (reads.empty()) return false;
  for (int i : reads)
    if (static_cast<size_t>(i) >= constant_inputs.size() || !constant_inputs[i]) return false;
  return true;
}

// Relative cost of packing one element against one multiply-add: the micro-kernel does 2 × 16
// multiply-adds per cycle where packing moves about one element.
constexpr int64_t kPackCost = 32;

// Picks the tile counts that minimize the time of the slowest core: rounds of tiles times the
// cost of one tile (its padded multiply-adds plus the packing of its A and B blocks, where they
// are packed per call), under the config's tile sizes (which keep a tile's working set in L2).
// Splitting along the side packed ahead of time then costs nothing: each core packs its own
// part of the other side instead of all of it.
GemmTiling plan_tiles(const GemmForm& f, const GemmConfig& c, int cores, bool a_per_call,
                      bool b_per_call, int64_t k_align, bool whole_blocks = false) {
  const int64_t a_cost = a_per_call ? kPackCost : 1, b_cost = b_per_call ? kPackCost : 1;
  const int64_t min_tiles_m = ceil_div(f.m_size, c.tile_m);
  const int64_t min_tiles_n = ceil_div(f.n_size, c.tile_n);
  GemmTiling best{};
  double best_cost = -1;
  for (int64_t tm = min_tiles_m; tm <= min_tiles_m + 16; ++tm) {
    for (int64_t tn = min_tiles_n; tn <= min_tiles_n + 16; ++tn) {
      const int64_t tile_m = round_up(ceil_div(f.m_size, tm), c.micro_m);
      const int64_t tile_n = round_up(ceil_div(f.n_size, tn), c.micro_n);
      // Tile counts that leave a tile empty are covered by a smaller count; the c tile must
      // stay in L2 (a single micro-tile always may).
      if ((tm - 1) * tile_m >= f.m_size || (tn - 1) * tile_n >= f.n_size) continue;
      if (tile_m * tile_n > c.tile_area && (tile_m > c.micro_m || tile_n > c.micro_n)) continue;
      const int64_t tiles = f.batch_size * tm * tn;
      const double rounds = static_cast<double>(ceil_div(tiles, cores));
      const double cost =
          rounds * static_cast<double>(tile_m * tile_n + a_cost * tile_m + b_cost * tile_n);
      if (best_cost < 0 || cost < best_cost - 1e-9 * best_cost) {
        best_cost = cost;
        best = {tile_m, tile_n, tm, tn, 0, 0};
      }
    }
  }
  // A k block holds whole runs of the inner reduction axes (a convolution's window), so the
  // packing loops walk the window directly instead of dividing a flat k by it per element.
  const int64_t inner = inner_k(f);
  // (A window read in place takes blocks of whole window rows up to 8 times block_k, whose b
  // panels then stream from L2, a quarter of it here: packing such a window instead, in blocks
  // that cut its rows, was 7% slower on Inception-v3's 3 x 3 stride-2 layers over 288 channels.)
  if (inner > 1 && inner <= (whole_blocks ? 8 : 2) * c.block_k) {
    // Runs per block: the count that wastes the least on padding past K and on the per-block
    // round trip of the c tile (about 16 steps' worth): 3 input channels of a 7 × 7 window make
    // three blocks of one, not two blocks of two with a quarter of zeros.
    // (Whole blocks, for an A read in place through the window: the counts that divide the
    // outer axis, up to a quarter past block_k: a 7 x 7 stem's 147 steps make one block.)
    const int64_t outer = f.k_extents[0];
    const int64_t most =
        std::max<int64_t>((whole_blocks ? c.block_k * 5 / 4 : c.block_k) / inner, 1);
    double best_cost = -1;
    for (int64_t per = most; per >= 1; --per) {
      if (whole_blocks && outer % per != 0) continue;
      const int64_t blocks = ceil_div(outer, per), block = ceil_div(outer, blocks) * inner;
      const double cost = static_cast<double>(blocks * block) * (block + 16) / block;
      if (best_cost < 0 || cost < best_cost) {
        best_cost = cost;
        best.k_blocks = blocks;
        best.block_k = block;
      }
    }
    return best;
  }
  best.k_blocks = ceil_div(f.k_size, c.block_k);
  best.block_k = round_up(ceil_div(f.k_size, best.k_blocks), k_align);
  return best;
}

// Whether the output's innermost axis is one of `dims` (the rows or the columns of the GEMM):
// then its elements run along memory with them.
bool output_runs_along(const GemmForm& f, const std::vector<int>& dims) {
  return !dims.empty() && dims.back() == static_cast<int>(f.axes.size()) - 1;
}

std::vector<std::pair<Var, Expr>> with(std::vector<std::pair<Var, Expr>> map,
                                       const std::vector<std::pair<Var, Expr>>& more) {
  map.insert(map.end(), more.begin(), more.end());
  return map;
}

// One position of a k block while packing: its offset in the block, the reduction axes bound
// to their values, and (checked blocks) whether it lies inside K.
struct KPosition {
  Expr offset;
  std::vector<std::pair<Var, Expr>> axes;
  Expr valid;
};

// A loop of `extent` k steps. Where there are at least 8, they run `unroll` to an iteration (an
// inner loop the compiler unrolls) and a remainder loop finishes them. `group(first, count)`
// emits what the `count` steps from `first` on share, once before them (the hints for the next b
// panel).
void for_steps(KernelBuilder& kb, const std::string& name, int64_t extent, int64_t unroll,
               const std::function<void(const Expr&, int64_t)>& group,
               const std::function<void(const Expr&)>& step) {
  if (extent < 8) unroll = 1;
  const int64_t unrolled = unroll > 1 ? extent / unroll * unroll : 0;
  if (unrolled > 0) {
    kb.for_range(name, unrolled / unroll, [&](const Var& ko) {
      if (group) group(ko * unroll, unroll);
      kb.for_range("u", unroll, LoopHint::unroll(), [&](const Var& u) { step(ko * unroll + u); });
    });
  }
  kb.for_range(name, extent - unrolled, [&](const Var& r) {
    const Expr kk = unrolled + r;
    if (group) group(kk, 1);
    step(kk);
  });
}

// Runs `body` over the `block_k` positions of k block `kblock`. When the block holds whole
// runs of the inner reduction axes (plan_tiles arranges it), the loops walk those axes
// directly, the innermost through for_steps (`unroll`, `group`); otherwise one flat loop
// unravels k. Checked blocks clamp the axes into range.
void for_k_block(KernelBuilder& kb, const GemmForm& f, int64_t block_k, const Expr& kblock,
                 bool checked, const std::function<void(const KPosition&)>& body,
                 int64_t unroll = 1,
                 const std::function<void(const Expr&, int64_t)>& group = nullptr) {
  const int64_t inner = inner_k(f);
  if (inner == 1 || block_k % inner != 0) {
    kb.for_range("k", block_k, [&](const Var& kk) {
      Expr k = kblock * block_k + kk;
      std::vector<Expr> index = unravel_index(checked ? min(k, f.k_size - 1) : k, f.k_extents);
      KPosition pos{kk, {}, checked ? Expr(k < f.k_size) : Expr()};
      for (size_t d = 0; d < f.k_axes.size(); ++d) pos.axes.emplace_back(f.k_axes[d], index[d]);
      if (group) group(kk, 1);
      body(pos);
    });
    return;
  }
  const int64_t per_block = block_k / inner, outer = f.k_extents[0];
  kb.for_range("kc", per_block, [&](const Var& kc) {
    Expr first = kblock * per_block + kc;
    Expr valid = checked ? Expr(first < outer) : Expr();
    std::vector<std::pair<Var, Expr>> axes = {
        {f.k_axes[0], checked ? min(first, outer - 1) : first}};
    // The inner axes, each a loop of its own; the offset grows row-major.
    std::function<void(size_t, Expr, std::vector<std::pair<Var, Expr>>)> nest =
        [&](size_t d, Expr offset, std::vector<std::pair<Var, Expr>> bound) {
          if (d == f.k_axes.size()) return body({offset, bound, valid});
          const std::string name = "k" + std::to_string(d);
          const Expr row = offset * f.k_extents[d];
          auto at = [&](const Expr& v) {
            std::vector<std::pair<Var, Expr>> more = bound;
            more.emplace_back(f.k_axes[d], v);
            nest(d + 1, row + v, more);
          };
          if (d + 1 < f.k_axes.size()) return kb.for_range(name, f.k_extents[d], at);
          for_steps(kb, name, f.k_extents[d], unroll,
                    group ? [&](const Expr& v, int64_t count) { group(row + v, count); }
                          : std::function<void(const Expr&, int64_t)>(),
                    at);
        };
    nest(1, kc, axes);
  });
}

// The flat position of `k` among the inner reduction axes (a window offset; 0 for a matmul).
Expr inner_position(const GemmForm& f, const KPosition& k) {
  Index inner;
  std::vector<int64_t> extents;
  for (size_t d = 1; d < f.k_axes.size(); ++d) {
    for (const auto& [axis, value] : k.axes)
      if (axis.same_as(f.k_axes[d])) inner.push_back(value);
    extents.push_back(f.k_extents[d]);
  }
  return flat_index(inner, extents);
}

// The condition "tile `index` is whole" when the first `whole` of `count` tiles are: nothing
// when all are, false when none is.
Expr full_before(const Expr& index, int64_t whole, int64_t count) {
  if (whole >= count) return {};
  if (whole == 0) return bool_imm(false);
  return index < whole;
}

Expr ceil_div_expr(const Expr& a, int64_t b) {
  return (a + (b - 1)) / b;
}

bool is_false(const Expr& e) {
  const auto* imm = e.as<IntImmNode>();
  return imm != nullptr && imm->value == 0;
}

Expr both(const Expr& a, const Expr& b) {
  if (!a.defined() || is_false(b)) return b;
  if (!b.defined() || is_false(a)) return a;
  return a && b;
}

// Emits body(false) where `full` holds (no bounds checks needed) and body(true) elsewhere.
void checked_or_not(KernelBuilder& kb, const Expr& full, const std::function<void(bool)>& body) {
  if (!full.defined()) return body(false);
  if (is_false(full)) return body(true);
  kb.if_then_else(
      full, [&] { body(false); }, [&] { body(true); });
}

// Emits body(origin, extent) for tile `index` of `count` tiles of `tile` along a dimension of
// `size`: the whole tiles (all but perhaps the last) and the ragged last one apart, so that each
// gets a constant extent.
void along_tiles(KernelBuilder& kb, const Expr& index, int64_t tile, int64_t count, int64_t size,
                 const std::function<void(const Expr&, int64_t)>& body) {
  const int64_t whole = size / tile;
  if (whole >= count) return body(index * tile, tile);
  if (whole == 0) return body(Expr(0), size);
  kb.if_then_else(
      index < whole, [&] { body(index * tile, tile); },
      [&] { body(Expr(whole * tile), size - whole * tile); });
}

// Longer k blocks for a GEMM whose B arrives packed (a MatMul or a convolution against
// weights): the block is then bounded by what stays in L2 while it runs, the tile's A rows
// (tile_m x block_k, reused by every b panel), one b panel (block_k x NR, streamed past them)
// and the c tile, not by a b panel that fits L1. Each k block costs a round trip of the c tile
// through L2 per micro-tile (MR x NR/16 vector loads and stores against block_k steps of
// MR x NR/16 multiply-adds), and the b panel streams from L2 fast enough at a step's pace:
// BERT's 128 x 768 x 3072 ran 6-8% faster in blocks of 768-1024 than in L1-sized blocks of 128
// (measured on Zen 4). Where A is packed per call, a quarter of L2 stays for the image it is
// packed from (Inception-v3's 7 x 1 layers ran 5% slower in one block of 1120 filling L2 than
// in 7 of 160). An A read in place takes blocks that split K evenly; an A packed per call
// (into a buffer of tile_m x block_k) whole multiples of the planned block, which keep its runs
// along k and the window rows the packing walks.
// A b panel also stays within 128 KiB, unless the kernel is long enough to hide a larger one
// (a byte of panel per kPanelFlopsPerByte multiply-add flops of a core's share): the first panel
// of every kernel comes from memory before any hint could have asked for it (a model's weights
// outlive the caches between runs), and the micro-kernel waits for it; the hints then fetch each
// next panel during the current one. Panels of 128 KiB instead of up to 590 KiB (ResNet-50's
// 7 x 7 layers, 2304 x 64 floats) made ResNet-50 5%, BERT-base 4% and Inception-v3 2-4% faster
// on a 2 MiB-L2 Xeon; a 2048^3 GEMM (8.6 GFLOP a core) kept its blocks of 1024 steps, which ran
// 1-2% faster than capped ones (fewer round trips of its c tile).
constexpr int64_t kMinPanelCap = 128 * 1024;
constexpr double kPanelFlopsPerByte = 1e4;

void deepen_k_blocks(GemmPlan& plan, const CpuTarget& target) {
  GemmTiling& t = plan.tiling;
  const int64_t k = plan.form.k_size;
  if (t.k_blocks <= 1) return;
  const int64_t l2 = std::clamp<int64_t>(target.l2_bytes, 256 * 1024, 4 * 1024 * 1024);
  const int64_t c_tile = t.tile_m * t.tile_n * 4;
  const int64_t a_rows = round_up(t.tile_m, plan.config.lanes);
  const int64_t budget = plan.a_in_place ? l2 : l2 * 3 / 4;
  const GemmForm& f = plan.form;
  const double flops_per_core = 2.0 * static_cast<double>(f.batch_size * f.m_size * f.n_size) *
                                static_cast<double>(k) / std::max(target.cores, 1);
  const int64_t panel_cap =
      std::max(kMinPanelCap, static_cast<int64_t>(flops_per_core / kPanelFlopsPerByte));
  const int64_t most = std::min((budget - c_tile) / ((a_rows + plan.config.micro_n) * 4),
                                panel_cap / (plan.config.micro_n * 4));
  if (most <= t.block_k) return;
  if (plan.a_in_place) {
    t.k_blocks = ceil_div(k, most);
    t.block_k = ceil_div(k, t.k_blocks);
    return;
  }
  int64_t factor = std::min(t.k_blocks, most / t.block_k);
  while (t.k_blocks % factor != 0) --factor;
  t.block_k *= factor;
  t.k_blocks /= factor;
  if (plan.a_rows_run > 0) plan.a_rows_run = std::gcd(plan.form.k_extents.back(), t.block_k);
}

}  // namespace

std::string GemmConfig::str() const {
  return "micro " + std::to_string(micro_m) + "x" + std::to_string(micro_n) + ", block_k " +
         std::to_string(block_k) + ", tile " + std::to_string(tile_m) + "x" +
         std::to_string(tile_n);
}

GemmConfig default_gemm_config(const CpuTarget& target) {
  GemmConfig c;
  c.lanes = std::max(target.vector_bytes() / 4, 4);
  // Accumulators fill most of the register file: 32 vector registers on AVX-512 hold 6 × 4
  // accumulators plus four b vectors and a broadcast; 16 registers hold 6 × 2 (+ 3). Four
  // vectors of 16 make NR = 64, which divides the channel counts of most networks.
  const bool many_registers = target.isa == CpuTarget::Isa::avx512;
  c.micro_m = 6;
  c.micro_n = (many_registers ? 4 : 2) * c.lanes;
  // The b panel (block_k × NR) fills L1: the micro-kernel's other reads (MR broadcasts per step)
  // stream past it, and longer k blocks halve the round trips of the c tile (measured 2-8%
  // faster than half of L1 on the DL shapes). The a panel, the c tile and the b block share L2.
  c.block_k = std::clamp<int64_t>(target.l1d_bytes / (c.micro_n * 4) / 8 * 8, 32, 512);
  const int64_t l2 = std::clamp<int64_t>(target.l2_bytes, 256 * 1024, 4 * 1024 * 1024);
  // A tile's a block (tile_m × block_k) and b block (block_k × tile_n) take an eighth and a
  // quarter of L2, its c tile another quarter.
  c.tile_m = std::max<int64_t>(c.micro_m, l2 / 8 / (c.block_k * 4) / c.micro_m * c.micro_m);
  c.tile_n = std::max<int64_t>(c.micro_n, l2 / 4 / (c.block_k * 4) / c.micro_n * c.micro_n);
  c.tile_area = l2 / 4 / 4;
  return c;
}

GemmForm transposed(const GemmForm& f) {
  GemmForm t = f;
  std::swap(t.a, t.b);
  std::swap(t.m, t.n);
  std::swap(t.m_size, t.n_size);
  return t;
}

std::optional<GemmPlan> plan_gemm(const Task& task, const CpuTarget& target,
                                  const std::vector<bool>& constant_inputs) {
  std::optional<GemmForm> form = analyze_gemm(task);
  if (!form) return {};
  GemmPlan plan;
  plan.config = default_gemm_config(target);
  // Vectorize along the output's last axis (stores run along memory, B reads along rows)
  // unless the other side wastes much less of the register tile on padding: a 7 × 7 image has
  // 49 columns, and one vector-wide panel of 64 would be a quarter empty.
  auto padded = [](const GemmForm& g, const GemmConfig& c) {
    return static_cast<double>(round_up(g.m_size, c.micro_m) * round_up(g.n_size, c.micro_n));
  };
  // Panels half as wide and twice as tall (the same accumulators) where the columns fill them
  // better: 96 output channels make three panels of 32, not two of 64 with a quarter empty, and
  // 16 channels one panel of 16. A 12 x 32 tile loads two b vectors and broadcasts 12 a values
  // per 24 FMAs, a 24 x 16 tile one b vector and 24 broadcasts, within what the load ports take
  // per step. (The 6 x 16 tile of AVX2 stays two vectors wide: a 12 x 8 tile would load 13
  // values per 12 FMAs, more than two load ports keep up with.)
  const int64_t narrowest =
      plan.config.micro_n >= 4 * plan.config.lanes ? plan.config.lanes : 2 * plan.config.lanes;
  auto narrowed = [&](const GemmForm& g, GemmConfig c) {
    const GemmConfig wide = c;
    for (GemmConfig narrow = c; narrow.micro_n / 2 >= narrowest;) {
      narrow.micro_m *= 2;
      narrow.micro_n /= 2;
      narrow.tile_m = round_up(narrow.tile_m, narrow.micro_m);
      narrow.block_k =
          std::clamp<int64_t>(target.l1d_bytes / (narrow.micro_n * 4) / 8 * 8, 32, 512);
      if (padded(g, narrow) < 0.9 * padded(g, c)) c = narrow;
    }
    // Or 8 x 48 where it fills the tile better: 128 tokens make 16 panels of 8, not 22 of 6
    // with the last two thirds empty (BERT's GEMMs: 3-5% faster). Its 3 b vectors and 8
    // broadcasts per 24 FMAs ran as fast as 6 x 64 on shapes both fill. (Measured where A is
    // read in place, a MatMul's activations; convolutions keep their panels.)
    if (wide.micro_m == 6 && wide.micro_n == 4 * wide.lanes && a_readable_in_place(g)) {
      GemmConfig eight = wide;
      eight.micro_m = 8;
      eight.micro_n = 3 * wide.lanes;
      eight.tile_m = round_up(eight.tile_m, eight.micro_m);
      if (padded(g, eight) < 0.99 * padded(g, c)) c = eight;
    }
    return c;
  };
  // Each orientation judged with its own best panels: 32 output channels fill 12 x 32 panels
  // whole, and flipping them to the pixels' side (32 rows of 1369-wide panels) ran at a third
  // of the speed for a Winograd GEMM of K = 32.
  auto best_padded = [&](const GemmForm& g) { return padded(g, narrowed(g, plan.config)); };
  GemmForm flipped = transposed(*form);
  auto constant_b = [&](const GemmForm& g) {
    return reads_only_constants(task, g.b, constant_inputs);
  };
  // (Not when the flip would gather a per-call B across memory where the unflipped B is
  // constant: a channels-last image as B, its pixels along n, measured 2.2x slower than 96
  // channels padded to 128.)
  auto gathered_b = [&](const GemmForm& g) { return !constant_b(g) && !b_runs_along_n(g); };
  bool flip = best_padded(flipped) < 0.9 * best_padded(*form) &&
              !(gathered_b(flipped) && constant_b(*form));
  // A B that is packed per call and read across memory (a strided window) moves one element
  // at a time; when the other factor is constant, vectorizing along it leaves the per-call
  // packing to A, which reads along k (ResNet-50's stride-2 convolutions run 1.5x faster).
  if (!flip && !constant_b(*form) && !b_runs_along_n(*form) && constant_b(flipped) &&
      best_padded(flipped) <= 1.15 * best_padded(*form))
    flip = true;
  plan.form = flip ? flipped : *form;
  plan.config = narrowed(plan.form, plan.config);
  // A seventh more rows where they fill the panels better: 49 pixels (a 7 x 7 image) make 7
  // panels of 7 rows, not 9 of 6 with 5 rows idle (ResNet-50's last stage: 2.44 -> 2.17 ms a
  // 3 x 3 layer). Only AVX-512 has the registers (32) for the taller tiles.
  if (plan.config.lanes >= 16 && plan.config.micro_m % 6 == 0) {
    GemmConfig tall = plan.config;
    tall.micro_m = plan.config.micro_m / 6 * 7;
    tall.tile_m = round_up(tall.tile_m, tall.micro_m);
    // (Or where they line up with the rows of a padded image whose width they divide, at most
    // 4 panels tall: a border row's panels then hold no pixel that the window row outside the
    // image reaches, and skip its multiply-adds (see a_live in gemm_cpu); 256 channels on
    // 14 x 14, 1.98 -> 1.95 ms. Taller images have too few border rows to tell.)
    const GemmForm& g = plan.form;
    const bool rows_align = a_run_padding(g).defined() && g.m.size() >= 2 &&
                            g.extents[g.m.back()] % tall.micro_m == 0 &&
                            g.extents[g.m[g.m.size() - 2]] <= 4 * tall.micro_m;
    if (padded(plan.form, tall) < 0.98 * padded(plan.form, plan.config) || rows_align) {
      // A tile whose accumulators, b vectors and broadcast need more than the 32 registers
      // (7 x 64: 28 + 4 + 1) keeps a sum on the stack, a load and a store every step in its
      // dependency chain: one vector narrower where the columns fill those panels within 5%
      // (7 x 48 ran 9-11% faster than 7 x 64 in L1, 196-206 vs 176-188 GFLOP/s on one Xeon
      // core, as fast as 6 x 64; a 49 x 2048 x 512 GEMM 0.353 -> 0.287 ms at 2 threads,
      // ResNet-50 22.5 -> 21.5 ms). Where they do not (256 columns), the spill costs less than
      // the idle rows of 6-row panels.
      const int64_t vectors = tall.micro_n / tall.lanes;
      if (tall.micro_m * vectors + vectors + 1 > 32 && vectors > 1) {
        GemmConfig narrower = tall;
        narrower.micro_n -= tall.lanes;
        if (padded(plan.form, narrower) < 1.05 * padded(plan.form, tall)) tall = narrower;
      }
      plan.config = tall;
    }
  }
  const bool constant_a = reads_only_constants(task, plan.form.a, constant_inputs);
  const bool b_per_call = !constant_b(plan.form);
  // B by masked loads only where it is padded: an unpadded contiguous B is a plain copy the
  // compiler vectorizes, and its tensor stays open to prologue fusion (masked loads take its
  // address). A per-call B read across memory (a strided window) gathers through a table of
  // the tile's column positions instead of unraveling each column for each k.
  if (std::optional<ContiguousFactor> b = offset_factor(plan.form, 1)) {
    if (b->position.defined() ? b_per_call && !b_runs_along_n(plan.form) : b->inside.defined())
      plan.b_contiguous = b;
  }
  plan.a_in_place = !constant_a && a_readable_in_place(plan.form);
  // A along m: a bare load copies with plain vectors; a padded window only where its rows are
  // contiguous (masked loads), since clamped reads along m become gathers. (Masked gathers along
  // m, as B takes them, measured slower for A than the panels along k: the image is re-gathered
  // for every tile along n, its masks too.)
  if (!constant_a && !plan.a_in_place && a_runs_along_m(plan.form)) {
    if (plan.form.a.as<LoadNode>() != nullptr) {
      plan.a_along_m = true;
    } else if (auto a = contiguous_factor(plan.form, 0); a && a->inside.defined()) {
      plan.a_along_m = true;
      plan.a_contiguous = a;
    }
  }
  // A as rows along k: its runs of channels are whole vectors in every k block.
  const int64_t lanes = plan.config.lanes;
  const bool a_rows = !constant_a && !plan.a_in_place && !plan.a_along_m &&
                      a_runs_along_k(plan.form) && plan.form.k_extents.back() % lanes == 0;
  // An unpadded window read in place, where the k blocks come out as whole window rows (any
  // channel count: the micro-kernel broadcasts A element by element).
  if (!constant_a && !plan.a_in_place && !plan.a_along_m && window_readable_in_place(plan.form)) {
    GemmTiling in_place = plan_tiles(plan.form, plan.config, std::max(target.cores, 1), false,
                                     b_per_call, 1, /*whole_blocks=*/true);
    const int64_t inner = inner_k(plan.form);
    if (inner > 1 && in_place.block_k % inner == 0 &&
        in_place.block_k * in_place.k_blocks == plan.form.k_size) {
      plan.a_window = true;
      plan.tiling = in_place;
      return plan;
    }
  }
  plan.tiling = plan_tiles(plan.form, plan.config, std::max(target.cores, 1),
                           !constant_a && !plan.a_in_place, b_per_call, a_rows ? lanes : 1);
  if (a_rows) plan.a_rows_run = std::gcd(plan.form.k_extents.back(), plan.tiling.block_k);
  if (!b_per_call) deepen_k_blocks(plan, target);
  return plan;
}

std::vector<int> gemm_factor_inputs(const Task& task, const GemmPlan& plan, int side) {
  return inputs_read(task, side == 0 ? plan.form.a : plan.form.b);
}

bool gemm_factor_constant(const Task& task, const GemmPlan& plan, int side,
                          const std::vector<bool>& constant_inputs) {
  return reads_only_constants(task, side == 0 ? plan.form.a : plan.form.b, constant_inputs);
}

Task gemm_pack_task(const Task& task, const GemmPlan& plan, int side) {
  const GemmForm& f = plan.form;
  const GemmTiling& t = plan.tiling;
  const bool is_a = side == 0;
  const int64_t width = is_a ? plan.config.micro_m : plan.config.micro_n;
  const int64_t panels = is_a ? t.tiles_m * t.tile_m / width : t.tiles_n * t.tile_n / width;
  const int64_t size = is_a ? f.m_size : f.n_size;
  const int64_t kp = t.padded_k();
  std::vector<Var> inputs;
  for (int i : gemm_factor_inputs(task, plan, side)) inputs.push_back(task.inputs()[i]);
  // [panels][padded K][width], batch after batch where there is a batch.
  const bool batched = f.batch_size > 1;
  std::vector<int64_t> shape = {panels, kp, width};
  if (batched) shape.insert(shape.begin(), f.batch_size);
  Expr packed = compute(std::string(is_a ? "a" : "b") + "_packed", shape, [&](const Index& index) {
    const Expr batch = batched ? index[0] : Expr(0);
    const Index pkl(index.end() - 3, index.end());
    Expr pos = pkl[0] * width + pkl[2];
    Expr at = min(pos, size - 1), k = min(pkl[1], f.k_size - 1);
    Expr value = is_a ? substitute(f.a, gemm_bindings(f, batch, at, {}, k))
                      : substitute(f.b, gemm_bindings(f, batch, {}, at, k));
    return select(pos < size && pkl[1] < f.k_size, value, float_imm(0.0));
  });
  return Task(task.name() + (is_a ? "_pack_a" : "_pack_b"), inputs, {packed});
}

Function gemm_cpu(const Task& task, const GemmPlan& plan) {
  const GemmForm& f = plan.form;
  const GemmConfig& cfg = plan.config;
  const GemmTiling& t = plan.tiling;
  const int64_t mr = cfg.micro_m, nr = cfg.micro_n, lanes = cfg.lanes, nv = nr / lanes;
  TM_USER_CHECK(mr > 0 && lanes > 0 && nr % lanes == 0 && nv > 0 && t.block_k > 0 &&
                t.tile_m % mr == 0 && t.tile_n % nr == 0)
      << "gemm config (" << cfg.str() << "): tiles must be multiples of the micro-tile";
  const int64_t m = f.m_size, n = f.n_size, k = f.k_size, kc = t.block_k, kp = t.padded_k();
  const DType vec = f32.with_lanes(static_cast<int>(lanes));
  const Var& out = task.output_params()[0];
  // How A reaches the micro-kernel: packed ahead (which wins when a caller sets it), read in
  // place, or packed per call, along m or in panels along k.
  const bool a_in_place = plan.a_in_place && !plan.a_packed;
  const bool a_window = plan.a_window && !plan.a_packed && !a_in_place;
  const bool a_along_m = plan.a_along_m && !plan.a_packed && !a_in_place && !a_window;
  const int64_t a_run = plan.a_packed || a_in_place || a_along_m || a_window ? 0 : plan.a_rows_run;
  TM_ASSERT(!a_window || (kc % inner_k(f) == 0 && kc * t.k_blocks == k))
      << "gemm " << task.name() << ": a window read in place needs k blocks of whole window rows";
  TM_ASSERT(a_run == 0 || (kc % a_run == 0 && f.k_extents.back() % a_run == 0))
      << "gemm " << task.name() << ": A's rows along k come in runs that split the k blocks";
  // Where a vector of the micro-tile is a run of the output (its columns run along the output's
  // last axis), the epilogue is applied to the accumulators in registers instead of to the c
  // tile once the whole tile is summed: the round trip through the c tile cost 10% of a 1 x 1
  // convolution over 16 channels (K = 16 leaves 16 multiply-adds per stored element).
  // (One n axis: the column is then the output's last index, which runs along the lanes.)
  const bool direct_epilogue = output_runs_along(f, f.n) && f.n.size() == 1;
  // Packed along m, a row of A spans whole vectors, so that the copies stay inside it.
  const int64_t a_stride = a_along_m ? round_up(t.tile_m, lanes) : t.tile_m;

  KernelBuilder kb(kernel_name(task.name()));
  kb.params(task.params());
  Var a_packed, b_packed;
  // Packed operands hold one [panels][padded K][MR or NR] block per batch.
  const int64_t a_batch_stride = t.tiles_m * t.tile_m * kp,
                b_batch_stride = t.tiles_n * t.tile_n * kp;
  if (plan.a_packed)
    a_packed = kb.param("a_packed", Type::tensor(f32, {f.batch_size * a_batch_stride}));
  if (plan.b_packed)
    b_packed = kb.param("b_packed", Type::tensor(f32, {f.batch_size * b_batch_stride}));
  kb.attr("task", task.name());
  kb.attr("schedule", "gemm_cpu (" + cfg.str() + ")");
  kb.attr("problem", "batch " + std::to_string(f.batch_size) + ", M " + std::to_string(m) + ", N " +
                         std::to_string(n) + ", K " + std::to_string(k) + "; tiles " +
                         std::to_string(t.tile_m) + "x" + std::to_string(t.tile_n) + ", block_k " +
                         std::to_string(kc) + (plan.a_packed ? "; A packed" : "") +
                         (plan.b_packed ? "; B packed" : "") + (a_in_place ? "; A in place" : "") +
                         (a_window ? "; A read through the window" : "") +
                         (a_run > 0 ? "; A in rows of " + std::to_string(a_run) : ""));

  const TaskMapping tasks = TaskMapping::spatial({f.batch_size, t.tiles_m, t.tiles_n});
  kb.for_range("w", f.batch_size * t.tiles_m * t.tiles_n, LoopHint::parallel(), [&](const Var& w) {
    kb.for_mapping(
        tasks, w,
        [&](const Index& tile) {
          kb.let("bt", tile[0], [&](const Var& bt) {
            kb.let("tm", tile[1], [&](const Var& tm) {
              kb.let("tn", tile[2], [&](const Var& tn) {
                const Expr row0 = tm * t.tile_m, col0 = tn * t.tile_n;
                // An offset into a packed operand, moved to this tile's batch.
                auto in_batch = [&](int64_t stride, const Expr& offset) {
                  return f.batch_size > 1 ? bt * stride + offset : offset;
                };
                Var c_tile =
                    kb.register_tensor("c_tile", f32, Layout::row_major({t.tile_m * t.tile_n}));
                Var a_pack, b_pack;
                if (!plan.a_packed && !a_in_place && !a_window)
                  a_pack = kb.register_tensor("a_pack", f32, Layout::row_major({a_stride * kc}));
                if (!plan.b_packed)
                  b_pack = kb.register_tensor("b_pack", f32, Layout::row_major({t.tile_n * kc}));
                // Whole tiles and k blocks take paths without bounds checks; the ragged last
                // ones clamp their reads and pad with zeros.
                const Expr rows_full = full_before(tm, m / t.tile_m, t.tiles_m);
                const Expr cols_full = full_before(tn, n / t.tile_n, t.tiles_n);
                // The lane masks of a contiguous factor, per vector of the tile and inner k
                // position: computed once per tile, they stand for the padding and the rows /
                // columns past M / N.
                const int64_t inner = inner_k(f);
                auto lane_masks = [&](const ContiguousFactor& c, bool is_a) {
                  const int64_t vectors = (is_a ? a_stride : t.tile_n) / lanes;
                  const int64_t size = is_a ? m : n;
                  const Expr origin = is_a ? row0 : col0;
                  Var masks = kb.register_tensor(is_a ? "a_masks" : "b_masks", i32,
                                                 Layout::row_major({vectors * inner}));
                  kb.for_range("e", vectors * inner,
                               [&](const Var& e) { kb.store(masks, {e}, int_imm(0, i32)); });
                  std::vector<int64_t> inner_extents(f.k_extents.begin() + 1, f.k_extents.end());
                  kb.for_range("v", vectors, [&](const Var& v) {
                    kb.for_range("lane", lanes, [&](const Var& lane) {
                      const Expr pos = origin + v * lanes + lane;
                      const Expr bit = binary(BinaryOp::shl, int_imm(1, i32), cast(i32, lane));
                      const Expr at_edge = min(pos, size - 1);
                      auto axes = is_a ? gemm_bindings(f, bt, at_edge, {}, {})
                                       : gemm_bindings(f, bt, {}, at_edge, {});
                      kb.for_range("win", inner, [&](const Var& w) {
                        Expr in = pos < size;
                        if (c.inside.defined()) {
                          auto map = axes;
                          Index window = unravel_index(w, inner_extents);
                          for (size_t d = 1; d < f.k_axes.size(); ++d)
                            map.emplace_back(f.k_axes[d], window[d - 1]);
                          in = in && substitute(c.inside, map);
                        }
                        Expr at = v * inner + w;
                        kb.store(masks, {at},
                                 binary(BinaryOp::bit_or, load(masks, {at}),
                                        select(in, bit, int_imm(0, i32))));
                      });
                    });
                  });
                  return masks;
                };
                Var a_masks, b_masks, b_positions;
                if (a_pack.defined() && a_along_m && plan.a_contiguous)
                  a_masks = lane_masks(*plan.a_contiguous, true);
                if (!plan.b_packed && plan.b_contiguous) {
                  b_masks = lane_masks(*plan.b_contiguous, false);
                  // A gathered B: the tensor positions of the tile's columns.
                  if (const Expr& position = plan.b_contiguous->position; position.defined()) {
                    b_positions =
                        kb.register_tensor("b_positions", i32, Layout::row_major({t.tile_n}));
                    kb.for_range("e", t.tile_n, [&](const Var& e) {
                      auto axes = gemm_bindings(f, bt, {}, min(col0 + e, n - 1), {});
                      kb.store(b_positions, {e}, cast(i32, substitute(position, axes)));
                    });
                  }
                }
                // A vector of factor `c` at k position `k`, from row / column origin + first,
                // with lane masks: a masked load where it is contiguous, else a masked gather
                // through the positions table.
                auto masked_vector = [&](const ContiguousFactor& c, const KPosition& k,
                                         const Var& table, const Expr& origin, const Expr& first,
                                         const Expr& mask) {
                  std::vector<Expr> zeros(c.tensor.type().shape().size(), Expr(0));
                  const Expr base = address(c.tensor, zeros);
                  const Expr offset =
                      substitute(c.offset, with(gemm_bindings(f, bt, {}, {}, {}), k.axes));
                  if (!table.defined())
                    return call("vec_load_masked", {address(base, {offset + origin + first}), mask},
                                vec);
                  return call("vec_gather_masked",
                              {address(base, {offset}), address(table, {first}), mask}, vec);
                };
                // The micro-panels that hold an output row / column: all of them but in the
                // ragged last tiles.
                const Expr panels_m = rows_full.defined()
                                          ? min(Expr(t.tile_m / mr), ceil_div_expr(m - row0, mr))
                                          : Expr(t.tile_m / mr);
                const Expr panels_n = cols_full.defined()
                                          ? min(Expr(t.tile_n / nr), ceil_div_expr(n - col0, nr))
                                          : Expr(t.tile_n / nr);
                // A padded image packed as rows: whether each a panel holds an element inside
                // the image in this k block. Where none does (a border row's panels against the
                // window row above it), the micro-kernel skips the block's multiply-adds, which
                // only add zeros: 9% of a 3 x 3 convolution's on a 14 x 14 image.
                Var a_live;
                const Expr a_inside = a_run > 0 ? a_run_padding(f) : Expr();
                if (a_inside.defined())
                  a_live = kb.register_tensor("a_live", i32, Layout::row_major({t.tile_m / mr}));
                kb.for_range("kb", t.k_blocks, [&](const Var& kblock) {
                  const Expr k0 = kblock * kc;
                  const Expr ks_full = full_before(kblock, k / kc, t.k_blocks);
                  // One element of the per-call A block; ragged tiles and k blocks clamp their
                  // reads and pad with zeros.
                  auto pack_a = [&](const Expr& at, const Expr& row, const KPosition& k,
                                    bool checked) {
                    if (!checked) {
                      kb.store(a_pack, {at},
                               substitute(f.a, with(gemm_bindings(f, bt, row, {}, {}), k.axes)));
                      return;
                    }
                    Expr value = substitute(
                        f.a, with(gemm_bindings(f, bt, min(row, m - 1), {}, {}), k.axes));
                    kb.store(a_pack, {at}, select(row < m && k.valid, value, float_imm(0.0)));
                  };
                  // Pack A along m: a row of the tile per k step, copied with vectors where the
                  // factor reads along m (a convolution whose weights are B reads its image
                  // along the pixels); a padded window through the tile's masks.
                  if (a_masks.defined()) {
                    checked_or_not(kb, ks_full, [&](bool checked) {
                      for_k_block(kb, f, kc, kblock, checked, [&](const KPosition& k) {
                        Expr window = inner_position(f, k);
                        kb.for_range("v", a_stride / lanes, [&](const Var& v) {
                          Expr mask = load(a_masks, {v * inner + window});
                          if (checked) mask = select(k.valid, mask, int_imm(0, i32));
                          Expr to = address(a_pack, {k.offset * a_stride + v * lanes});
                          kb.evaluate(
                              call("vec_store", {to, masked_vector(*plan.a_contiguous, k, Var(),
                                                                   row0, v * lanes, mask)}));
                        });
                      });
                    });
                  } else if (a_pack.defined() && a_along_m) {
                    checked_or_not(kb, both(rows_full, ks_full), [&](bool checked) {
                      for_k_block(kb, f, kc, kblock, checked, [&](const KPosition& k) {
                        kb.for_range("i", panels_m * mr, LoopHint::vectorize(), [&](const Var& i) {
                          pack_a(k.offset * a_stride + i, row0 + i, k, checked);
                        });
                      });
                    });
                  }
                  // Pack A as rows along k: each run of k steps reads one row's consecutive
                  // elements (a pixel's channels) under one padding condition, a vector loop;
                  // the runs split the k blocks and the last reduction axis, so a run past K
                  // is all of it past K.
                  if (a_pack.defined() && a_run > 0) {
                    if (a_live.defined())
                      kb.for_range("p", t.tile_m / mr,
                                   [&](const Var& p) { kb.store(a_live, {p}, int_imm(0, i32)); });
                    checked_or_not(kb, both(rows_full, ks_full), [&](bool checked) {
                      kb.for_range("i", panels_m * mr, [&](const Var& i) {
                        kb.for_range("s", kc / a_run, [&](const Var& s) {
                          // The run's number among all runs of K, unraveled over the outer
                          // axes and the runs of the last one (so its index is provably in range).
                          const Expr first = kblock * (kc / a_run) + s;
                          std::vector<int64_t> runs = f.k_extents;
                          runs.back() /= a_run;
                          Index at =
                              unravel_index(checked ? min(first, k / a_run - 1) : first, runs);
                          if (a_live.defined()) {
                            // The run's padding condition (the same for all its elements); rows
                            // past M count as live, which is only conservative.
                            std::vector<std::pair<Var, Expr>> axes =
                                gemm_bindings(f, bt, min(row0 + i, m - 1), {}, {});
                            for (size_t d = 0; d < f.k_axes.size(); ++d)
                              axes.emplace_back(f.k_axes[d],
                                                d + 1 == f.k_axes.size() ? at[d] * a_run : at[d]);
                            const Expr panel = i / mr;
                            kb.store(a_live, {panel},
                                     binary(BinaryOp::bit_or, load(a_live, {panel}),
                                            cast(i32, substitute(a_inside, axes))));
                          }
                          kb.for_range("e", a_run, LoopHint::vectorize(), [&](const Var& e) {
                            KPosition pos{
                                s * a_run + e, {}, checked ? Expr(first < k / a_run) : Expr()};
                            for (size_t d = 0; d < f.k_axes.size(); ++d)
                              pos.axes.emplace_back(f.k_axes[d], d + 1 == f.k_axes.size()
                                                                     ? at[d] * a_run + e
                                                                     : at[d]);
                            pack_a(i * kc + pos.offset, row0 + i, pos, checked);
                          });
                        });
                      });
                    });
                  }
                  // Pack A: panels of MR rows, k-major inside a panel (reads run along k).
                  if (a_pack.defined() && !a_along_m && a_run == 0) {
                    checked_or_not(kb, both(rows_full, ks_full), [&](bool checked) {
                      kb.for_range("i", panels_m * mr, [&](const Var& i) {
                        Expr row = row0 + i;
                        for_k_block(kb, f, kc, kblock, checked, [&](const KPosition& k) {
                          pack_a((i / mr * kc + k.offset) * mr + i % mr, row, k, checked);
                        });
                      });
                    });
                  }
                  // Pack B: panels of NR columns, k-major inside a panel (reads and writes run
                  // along n, so the copy vectorizes). A contiguous B is copied a vector at a
                  // time, the tile's masks zeroing padding and columns past N.
                  if (b_masks.defined()) {
                    checked_or_not(kb, ks_full, [&](bool checked) {
                      kb.for_range("q", panels_n, [&](const Var& q) {
                        for_k_block(kb, f, kc, kblock, checked, [&](const KPosition& k) {
                          Expr window = inner_position(f, k);
                          for (int64_t v = 0; v < nv; ++v) {
                            Expr mask = load(b_masks, {(q * nv + v) * inner + window});
                            if (checked) mask = select(k.valid, mask, int_imm(0, i32));
                            Expr to = address(b_pack, {(q * kc + k.offset) * nr + v * lanes});
                            kb.evaluate(call("vec_store",
                                             {to, masked_vector(*plan.b_contiguous, k, b_positions,
                                                                col0, q * nr + v * lanes, mask)}));
                          }
                        });
                      });
                    });
                  } else if (!plan.b_packed) {
                    checked_or_not(kb, both(cols_full, ks_full), [&](bool checked) {
                      kb.for_range("q", panels_n, [&](const Var& q) {
                        for_k_block(kb, f, kc, kblock, checked, [&](const KPosition& k) {
                          kb.for_range("j", nr, LoopHint::vectorize(), [&](const Var& j) {
                            Expr col = col0 + q * nr + j;
                            Expr at = (q * kc + k.offset) * nr + j;
                            if (!checked) {
                              kb.store(
                                  b_pack, {at},
                                  substitute(f.b, with(gemm_bindings(f, bt, {}, col, {}), k.axes)));
                              return;
                            }
                            Expr value = substitute(
                                f.b, with(gemm_bindings(f, bt, {}, min(col, n - 1), {}), k.axes));
                            kb.store(b_pack, {at},
                                     select(col < n && k.valid, value, float_imm(0.0)));
                          });
                        });
                      });
                    });
                  }
                  // The micro-kernel over the k steps [kstart, kstart + steps).
                  auto micro_kernel = [&](const Expr& kstart, int64_t steps) {
                    // Where the micro-kernel reads element (kk, lane) of a panel: the per-call
                    // block, or the pre-packed operand (full K, panels numbered globally).
                    auto a_at = [&](const Expr& p, const Expr& kk, int64_t i) {
                      // In place: the rows past M (a ragged panel) read row M - 1 instead; their
                      // sums are never stored.
                      if (a_in_place)
                        return substitute(f.a, gemm_bindings(f, bt, min(row0 + p * mr + i, m - 1),
                                                             {}, kstart + kk));
                      if (plan.a_packed)
                        return load(
                            a_packed,
                            {in_batch(a_batch_stride,
                                      ((tm * (t.tile_m / mr) + p) * kp + kstart + kk) * mr + i)});
                      if (a_along_m) return load(a_pack, {kk * a_stride + p * mr + i});
                      if (a_run > 0) return load(a_pack, {(p * mr + i) * kc + kk});
                      return load(a_pack, {(p * kc + kk) * mr + i});
                    };
                    const int64_t tile_panels = t.tile_n / nr, b_panels = t.tiles_n * tile_panels;
                    auto b_at = [&](const Expr& q, const Expr& kk, int64_t j) {
                      if (plan.b_packed)
                        return address(
                            b_packed,
                            {in_batch(b_batch_stride,
                                      ((tn * tile_panels + q) * kp + kstart + kk) * nr + j)});
                      return address(b_pack, {(q * kc + kk) * nr + j});
                    };
                    // Weights packed ahead come from memory the first time a b panel is read
                    // (a model's weights outlive every cache between two uses): the first a
                    // panel against it ran at the pace of memory, not of the FMAs (BERT's FFN
                    // GEMMs 30% slower in the model than run alone). Each k step therefore asks
                    // for a line of the next panel (into L2), spread evenly over all the a panels
                    // of the tile: asked for in a burst, on the first few a panels only, the
                    // lines came no faster than the panel's own first read would have fetched
                    // them (ResNet-50's last 3 x 3 layers, 9 MB of weights each, no faster at
                    // all; the machine reads 25 GB/s with both cores). "Next" follows the loops:
                    // the tile's next panel in this k block, after its last one the tile's first
                    // panel in the next k block, after the last k block the next tile's first:
                    // the next along N, else the first panel of the next along M, else the
                    // first of the next batch (cores take runs of consecutive tiles; the 16
                    // GEMMs of a Winograd layer each began with a panel from memory).
                    const bool prefetch_next_b =
                        plan.b_packed && (b_panels * t.k_blocks > 1 || f.batch_size > 1);
                    // The panel's kc · nv lines spread evenly over the tile's passes (a panels)
                    // times their k steps: line (p · kc + k) · nv / passes, in order. (A share
                    // rounded up to one line per 2^s steps, a shift instead of a division, ran
                    // BERT and ResNet-50 3-6% slower: the lines came in a burst again.)
                    const int64_t passes = t.tile_m / mr, lines = kc * nv;
                    // Where the lines of micro-panel q's next panel start: an offset into
                    // b_packed, computed once per micro-tile (selects in the k loop, and the
                    // registers they took, cost 2-10% of GEMMs whose weights sit in cache).
                    auto next_b_start = [&](const Expr& q) {
                      const Expr panel = tn * tile_panels + q;
                      const Expr last_panel = q + 1 >= panels_n;
                      Expr next = panel + 1, first_row = select(last_panel, Expr(0), kstart);
                      if (t.k_blocks > 1) {
                        const Expr next_k = last_panel && kblock + 1 < t.k_blocks;
                        next = select(next_k, tn * tile_panels, next);
                        first_row = select(next_k, kstart + kc, first_row);
                      }
                      // The tile's last panel of its last k block in the last tile along N: the
                      // only one whose "next" would run past the packed panels.
                      Expr wraps = last_panel && tn + 1 >= t.tiles_n;
                      if (t.k_blocks > 1) wraps = wraps && kblock + 1 >= t.k_blocks;
                      next = select(wraps, Expr(0), next);
                      if (f.batch_size == 1) return (next * kp + first_row) * nr;
                      const Expr batch =
                          select(wraps && tm + 1 >= t.tiles_m, min(bt + 1, f.batch_size - 1), bt);
                      return batch * b_batch_stride + (next * kp + first_row) * nr;
                    };
                    // The register micro-kernel over every MR × NR sub-tile that holds a row and
                    // a column of the output (a ragged tile skips the panels past M and N); a b
                    // panel is reused by all the a panels of the tile while it sits in L1.
                    kb.for_range("q", panels_n, [&](const Var& q) {
                      kb.for_range("p", panels_m, [&](const Var& p) {
                        auto c_at = [&](int64_t i, int64_t v) {
                          return address(c_tile, {(p * mr + i) * t.tile_n + q * nr + v * lanes});
                        };
                        // The epilogue reads and writes this micro-tile's output lines once the
                        // whole tile is done: ask for them now, behind the last k block's
                        // arithmetic (fusion extends the hint to a residual its epilogue reads,
                        // which in a model comes from memory and stalled the epilogue: ResNet-50's
                        // layer1 1x1 convolution + residual went 1.50-1.58 -> 1.28-1.41 ms).
                        auto prefetch_outputs = [&] {
                          auto at = [&](const Expr& row, const Expr& col) {
                            return address(
                                out, gemm_output_index(f, gemm_bindings(f, bt, min(row, m - 1),
                                                                        min(col, n - 1), {})));
                          };
                          const Expr row = row0 + p * mr, col = col0 + q * nr;
                          if (output_runs_along(f, f.n)) {
                            for (int64_t i = 0; i < mr; ++i)
                              for (int64_t v = 0; v < nv; ++v)
                                kb.evaluate(call("prefetch_write", {at(row + i, col + v * lanes)}));
                          } else if (output_runs_along(f, f.m)) {
                            for (int64_t j = 0; j < nr; ++j)
                              kb.evaluate(call("prefetch_write", {at(row, col + j)}));
                          }
                        };
                        // (Not ahead of a short last block finished in registers: the hints
                        // arrive too late to help and cost as much as the epilogue's stores on a
                        // 1 x 1 convolution over 16 channels, 3% measured.)
                        if (!direct_epilogue || kc >= 64) {
                          if (t.k_blocks == 1)
                            prefetch_outputs();
                          else
                            kb.if_then(eq(kblock, t.k_blocks - 1), prefetch_outputs);
                        }
                        // The first k block starts from zero, the others from the c tile.
                        std::vector<Var> acc;
                        for (int64_t i = 0; i < mr; ++i)
                          for (int64_t v = 0; v < nv; ++v)
                            acc.push_back(kb.scalar("acc", vec,
                                                    call("vec_broadcast", {float_imm(0.0)}, vec)));
                        if (t.k_blocks > 1) {
                          kb.if_then(kblock > 0, [&] {
                            for (int64_t i = 0; i < mr; ++i)
                              for (int64_t v = 0; v < nv; ++v)
                                kb.assign(acc[i * nv + v], call("vec_load", {c_at(i, v)}, vec));
                          });
                        }
                        Var b_next;
                        if (prefetch_next_b) b_next = kb.scalar("b_next", i64, next_b_start(q));
                        // `count` lines of the next b panel, from the share of step kk on:
                        // line (p · kc + kk) · nv / passes.
                        auto ask_next_b = [&](const Expr& kk, int64_t count) {
                          if (!b_next.defined()) return;
                          const Expr first = (p * kc + kk) * nv / passes;
                          for (int64_t h = 0; h < count; ++h) {
                            const Expr line = min(first + h, lines - 1);
                            kb.evaluate(call("prefetch_read",
                                             {address(b_packed, {b_next + line * lanes})}));
                          }
                        };
                        // The k loops run four steps an iteration: a step's 24 FMAs take 12
                        // cycles of the two FMA ports, and the loop's own scalar work (counter,
                        // branch, the hint's address: shifts and the branch issue only on port 0
                        // or 6) took up to a fifth of them once per step. The next panel's lines
                        // are asked for once per four steps, as many as the four steps' share.
                        auto ask_next_steps = [&](const Expr& kk, int64_t count) {
                          ask_next_b(kk,
                                     std::clamp<int64_t>(ceil_div(count * nv, passes), 1, count));
                        };
                        // One k step: nv b vectors, mr broadcast a values, mr x nv FMAs.
                        auto step = [&](const Expr& kk, const std::function<Expr(int64_t)>& a) {
                          std::vector<Var> bv;
                          for (int64_t v = 0; v < nv; ++v)
                            bv.push_back(kb.scalar(
                                "b", vec, call("vec_load", {b_at(q, kk, v * lanes)}, vec)));
                          for (int64_t i = 0; i < mr; ++i) {
                            const Expr at = a(i);  // an element, or the address of one
                            Expr ai =
                                call(at.as<AddressNode>() ? "vec_broadcast_at" : "vec_broadcast",
                                     {at}, vec);
                            for (int64_t v = 0; v < nv; ++v)
                              kb.assign(acc[i * nv + v], acc[i * nv + v] + ai * bv[v]);
                          }
                        };
                        if (a_window) {
                          // The block's window loops; each row's pixel is unraveled once per
                          // micro-tile, its reads then step along the image (rows past M read
                          // row M - 1; their sums are never stored).
                          // The image is broadcast from its address: a producer fused into
                          // these reads (a Pad) would be recomputed at each window position.
                          const auto* image = f.a.as<LoadNode>();
                          // Its innermost loop (a pixel's channels, channels-last) runs
                          // four steps an iteration as the packed k loop below does.
                          auto body = [&](const KPosition& pos) {
                            step(pos.offset, [&](int64_t i) {
                              auto map =
                                  with(gemm_bindings(f, bt, min(row0 + p * mr + i, m - 1), {}, {}),
                                       pos.axes);
                              std::vector<Expr> at;
                              for (const Expr& e : image->indices) at.push_back(substitute(e, map));
                              return address(image->buffer, at);
                            });
                          };
                          for_k_block(kb, f, kc, kblock, false, body, 4, ask_next_steps);
                        } else {
                          auto k_loop = [&] {
                            for_steps(kb, "k", steps, 4, ask_next_steps, [&](const Expr& kk) {
                              step(kk, [&](int64_t i) { return a_at(p, kk, i); });
                            });
                          };
                          if (a_live.defined())
                            kb.if_then(ne(load(a_live, {p}), int_imm(0, i32)), k_loop);
                          else
                            k_loop();
                        }
                        auto store_c_tile = [&] {
                          for (int64_t i = 0; i < mr; ++i)
                            for (int64_t v = 0; v < nv; ++v)
                              kb.evaluate(call("vec_store", {c_at(i, v), acc[i * nv + v]}));
                        };
                        // The last k block finishes its sums in registers: the epilogue
                        // stores them straight to the output, a vectorized loop over each
                        // accumulator's lanes. Rows past M are skipped; a vector that runs past
                        // N goes through the c tile, where the compiler masks the loop (it
                        // vectorizes no masked loop over a register's lanes).
                        auto finish_in_registers = [&] {
                          checked_or_not(kb, both(rows_full, cols_full), [&](bool checked) {
                            const bool rows_ragged = checked && rows_full.defined();
                            const bool cols_ragged = checked && cols_full.defined();
                            for (int64_t i = 0; i < mr; ++i) {
                              const Expr row = row0 + p * mr + i;
                              // (The index of a guarded row is clamped so that it is provably in
                              // range.)
                              const Expr at_row = rows_ragged ? min(row, m - 1) : row;
                              auto store = [&](const Expr& col, const Expr& sum) {
                                auto map = gemm_bindings(f, bt, at_row, col, {});
                                std::vector<Expr> index = gemm_output_index(f, map);
                                map.emplace_back(f.sum, sum);
                                kb.store(out, index, substitute(f.epilogue, map));
                              };
                              auto vectors_of_row = [&] {
                                for (int64_t v = 0; v < nv; ++v) {
                                  const Expr first = col0 + q * nr + v * lanes;
                                  // (Clamped where it runs past N in other micro-tiles: equal
                                  // to `first` where it is whole, and provably in range.)
                                  const Expr whole_first =
                                      cols_ragged ? min(first, n - lanes) : first;
                                  auto whole = [&] {
                                    kb.for_range(
                                        "lane", lanes, LoopHint::vectorize(), [&](const Var& lane) {
                                          store(whole_first + lane,
                                                call("vec_extract", {acc[i * nv + v], lane}, f32));
                                        });
                                  };
                                  auto edge = [&] {
                                    kb.evaluate(call("vec_store", {c_at(i, v), acc[i * nv + v]}));
                                    kb.for_range(
                                        "lane", lanes, LoopHint::vectorize(), [&](const Var& lane) {
                                          // (The column is the output's last index: the
                                          // guard proves it in range.)
                                          const Expr col = first + lane;
                                          kb.if_then(col < n, [&] {
                                            store(col, load(c_tile, {(p * mr + i) * t.tile_n +
                                                                     q * nr + v * lanes + lane}));
                                          });
                                        });
                                  };
                                  if (cols_ragged)
                                    kb.if_then_else(first + lanes <= n, whole, edge);
                                  else
                                    whole();
                                }
                              };
                              if (rows_ragged)
                                kb.if_then(row < m, vectors_of_row);
                              else
                                vectors_of_row();
                            }
                          });
                        };
                        if (!direct_epilogue)
                          store_c_tile();
                        else if (t.k_blocks == 1)
                          finish_in_registers();
                        else
                          kb.if_then_else(eq(kblock, t.k_blocks - 1), finish_in_registers,
                                          store_c_tile);
                      });
                    });
                  };
                  // A read in place stops at K (its rows end there) where a packed A would be
                  // zero: the ragged last k block gets its own, shorter micro-kernel.
                  if (a_in_place && kp != k)
                    along_tiles(kb, kblock, kc, t.k_blocks, k, micro_kernel);
                  else
                    micro_kernel(k0, kc);
                });
                if (direct_epilogue) return;
                // The epilogue, element by element: the only writes of the output. The ragged
                // last tiles run their loops to the edge of the output, with constant bounds, so
                // that they vectorize and their indices are provably in range.
                along_tiles(kb, tm, t.tile_m, t.tiles_m, m, [&](const Expr& r0, int64_t rows) {
                  along_tiles(kb, tn, t.tile_n, t.tiles_n, n, [&](const Expr& c0, int64_t cols) {
                    kb.for_range("i", rows, [&](const Var& i) {
                      kb.for_range("j", cols, LoopHint::vectorize(), [&](const Var& j) {
                        auto map = gemm_bindings(f, bt, r0 + i, c0 + j, {});
                        std::vector<Expr> index = gemm_output_index(f, map);
                        map.emplace_back(f.sum, load(c_tile, {i * t.tile_n + j}));
                        kb.store(out, index, substitute(f.epilogue, map));
                      });
                    });
                  });
                });
              });
            });
          });
        },
        {"b", "tm", "tn"});
  });
  return kb.build();
}

}  // namespace taskmap::schedules
