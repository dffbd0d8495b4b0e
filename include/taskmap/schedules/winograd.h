#pragma once
// Winograd's minimal filtering F(m × m, 3 × 3) for stride-1 3 × 3 convolutions on channels-last
// images (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016).
//
// An m × m tile of output pixels reads an α × α patch of the image (α = m + 2). With the
// transform matrices Bᵀ (α × α), G (α × 3) and Aᵀ (m × α) of one F(m, 3):
//
//   V[ξν] = (Bᵀ d B)[ξ, ν]         the patch d, per input channel         (input transform)
//   U[ξν] = (G g Gᵀ)[ξ, ν]         the 3 × 3 weight g, per channel pair   (at compile time)
//   M[ξν] = Σ_c V[ξν][t, c] · U[ξν][c, o]                                 α² GEMMs of tiles × C × O
//   y     = Aᵀ M A                 the tile's m × m outputs, per output channel (output transform)
//
// α² = 36 multiplications per tile and channel pair instead of 9 m² = 144 for F(4, 3) (16 and 36
// for F(2, 3)). The transforms are the taskmap operators WinogradInput and WinogradOutput, the
// GEMMs one batched MatMul over a constant U (graph::winograd_convolutions makes the three from
// an NhwcConv). This header holds what the operators, the rewrite and the CPU template share:
// the matrices, the geometry and each transform's canonical compute.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "taskmap/ir/compute.h"
#include "taskmap/runtime/ndarray.h"

namespace taskmap::schedules {

// The matrices of F(m, 3), row-major.
struct WinogradMatrices {
  int64_t m = 0, alpha = 0;
  std::vector<double> bt;  // α × α
  std::vector<double> g;   // α × 3
  std::vector<double> at;  // m × α
  double bt_at(int64_t i, int64_t j) const { return bt[i * alpha + j]; }
  double g_at(int64_t i, int64_t j) const { return g[i * 3 + j]; }
  double at_at(int64_t i, int64_t j) const { return at[i * alpha + j]; }
};

// F(2, 3) and F(4, 3) (interpolation points 0, ±1, ±2, ∞); other m are a UserError.
const WinogradMatrices& winograd_matrices(int64_t m);

// Where the tiles of one convolution lie: the image x [batch, height, width, channels] (input
// channels), its padding at the top and left, the output size and the tile size m. Tiles cover
// the output row-major over (batch, tile row, tile column); the last ones may overhang it.
struct WinogradGeometry {
  int64_t m = 4;
  int64_t batch = 1, height = 0, width = 0, channels = 0;
  int64_t pad_top = 0, pad_left = 0;
  int64_t out_height = 0, out_width = 0;

  int64_t alpha() const { return m + 2; }
  int64_t tiles_h() const { return (out_height + m - 1) / m; }
  int64_t tiles_w() const { return (out_width + m - 1) / m; }
  int64_t tiles() const { return batch * tiles_h() * tiles_w(); }

  // "m4 n1 h56 w56 c64 pt1 pl1 oh56 ow56": the task attribute the template reads back.
  std::string str() const;
  static std::optional<WinogradGeometry> parse(const std::string& text);
};

// x[n, row, col, c], or 0 where (row, col) is outside the image (the load's index clamped into
// it, so that it is always valid).
ir::Expr winograd_pixel(const ir::Var& x, const WinogradGeometry& g, const ir::Expr& n,
                        const ir::Expr& row, const ir::Expr& col, const ir::Expr& c);

// V [α², tiles, channels]: V[ξα + ν, t, c] = Σ_ij Bᵀ[ξ, i] Bᵀ[ν, j] x[n, ty·m - pt + i,
// tx·m - pl + j, c], a read outside the image being 0.
ir::Expr winograd_input_compute(const ir::Var& x, const WinogradGeometry& g);

// y [batch, out_height, out_width, O] from M [α², tiles, O]: y[n, h, w, o] =
// Σ_ξν Aᵀ[h mod m, ξ] Aᵀ[w mod m, ν] M[ξα + ν, tile of (n, h, w), o] (+ bias[o]).
ir::Expr winograd_output_compute(const ir::Var& transformed, const ir::Var* bias,
                                 const WinogradGeometry& g);

// The task attributes of a transform: {"op": "winograd_input" | "winograd_output",
// "winograd": geometry.str()}.
std::map<std::string, std::string> winograd_attrs(bool input, const WinogradGeometry& g);

// U [α², C, O] of a constant weight w [O, C, 3, 3] (row-major f32), computed in double.
NDArray winograd_weight(const float* w, int64_t out_channels, int64_t in_channels, int64_t m);

}  // namespace taskmap::schedules
