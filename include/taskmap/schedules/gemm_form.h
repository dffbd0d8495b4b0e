#pragma once
// A task seen as a contraction (gemm_cpu.h says which tasks take this form): the analysis that
// the GEMM templates of every target share, and the bindings of its axes to one element.
#include <optional>
#include <utility>
#include <vector>

#include "taskmap/ir/compute.h"

namespace taskmap::schedules {

// A task seen as a contraction. Factor and epilogue expressions are written over the output
// axes and the reduction axes of the task's own compute.
struct GemmForm {
  std::vector<ir::Var> axes;       // the output compute's axes
  std::vector<int64_t> extents;    // their extents
  std::vector<ir::Var> k_axes;     // the reduction axes
  std::vector<int64_t> k_extents;  // their extents
  std::vector<int> batch, m, n;    // positions in `axes`, outer to inner
  ir::Expr a, b;                   // the factors (A reads m and k axes, B reads k and n axes)
  ir::Var sum;                     // stands for the reduction in `epilogue`
  ir::Expr epilogue;               // the output value as a function of `sum` and the axes
  int64_t batch_size = 1, m_size = 1, n_size = 1, k_size = 1;
};

// Which outputs a contraction may have: f32 only, or also f16 / bf16 (the factors are then
// widened to f32 and the epilogue narrows the sum back, as the ONNX lowering writes them).
enum class GemmOutputs : uint8_t { f32, any_float };

// The form of `task`, or nothing when it is not a contraction the templates implement (an
// output dtype `outputs` does not admit, several outputs or reductions, factors reading other
// computes, ...).
std::optional<GemmForm> analyze_gemm(const ir::Task& task, GemmOutputs outputs = GemmOutputs::f32);

// Binds the form's axes for one element: the batch index, the GEMM row and column and the
// reduction position (flat indices, unraveled over their axes); an undefined row, column or k
// leaves those axes unbound.
std::vector<std::pair<ir::Var, ir::Expr>> gemm_bindings(const GemmForm& f, const ir::Expr& batch,
                                                        const ir::Expr& row, const ir::Expr& col,
                                                        const ir::Expr& k);

// The output index of the element whose axes `map` binds (see gemm_bindings).
std::vector<ir::Expr> gemm_output_index(const GemmForm& f,
                                        const std::vector<std::pair<ir::Var, ir::Expr>>& map);

}  // namespace taskmap::schedules
