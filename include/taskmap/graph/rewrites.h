#pragma once
// Algebraic rewrites of a specialized graph (every shape known, constants folded): each pass
// returns a graph computing the same outputs (up to float rounding) with fewer or cheaper
// operators, and returns its input unchanged when nothing matches. The input graph is never
// modified. Subgraphs are rewritten only when the tensors inside them are read by nothing else
// and are not graph outputs; graph inputs and outputs keep their names, order and types.
#include "taskmap/graph/graph.h"

namespace taskmap::graph {

struct RewriteOptions {
  bool channels_last = true;  // run channels_last (off: convolutions stay NCHW)
  bool winograd = true;       // run winograd_convolutions (after channels_last only)
  bool widen = true;          // run widen_convolutions (a layout for the CPU GEMM template)

  // The CPU's rewrites are all on by default; a CUDA target takes none of them (its kernels
  // read convolutions in the model's own layout).
  static RewriteOptions for_cuda() { return {false, false, false}; }
};

// All of the rewrites below, in order: remove_noops, fold_batch_norm, recognize_layer_norm,
// recognize_gelu, channels_last, winograd_convolutions, widen_convolutions.
Graph simplify_graph(const Graph& graph, const RewriteOptions& options = {});

// Drops operators that copy their input: Identity, inference Dropout, Transpose with the identity
// permutation, and Reshape / Flatten / Squeeze / Unsqueeze / Expand / Cast / CastLike whose
// output has the input's dtype and shape. Readers of the output read the input instead. An
// operator whose output is a graph output stays.
Graph remove_noops(const Graph& graph);

// Folds an inference BatchNormalization (constant scale, bias, mean, variance) into the f32
// Conv, Gemm or rank-2 MatMul with a constant weight (and optional constant bias) that feeds it
// alone: W' = W * s per output channel, b' = (b - mean) * s + beta, s = scale / sqrt(var + eps),
// computed in double and stored f32. A MatMul becomes a Gemm carrying the new bias.
Graph fold_batch_norm(const Graph& graph);

// Replaces LayerNorm written out as ReduceMean -> Sub -> Pow(2) -> ReduceMean -> Add(eps) -> Sqrt
// -> Div [-> Mul(gamma)] [-> Add(beta)] over the last axis (keepdims) by one LayerNormalization
// (axis -1, epsilon from the Add, scale and bias from the Mul / Add constants, scale 1 without).
Graph recognize_layer_norm(const Graph& graph);

// Replaces GELU written out elementwise by one Gelu: the erf form 0.5 * x * (1 + erf(x / sqrt(2)))
// and the tanh form 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))) (approximate =
// "tanh"), in any association and operand order, constants within 1e-4 relative.
Graph recognize_gelu(const Graph& graph);

// Widens an f32 2-D Conv (group 1, width stride 1, explicit pads) whose output is narrower than
// its input to the input width, by padding on the right, and follows it with a Slice back to
// the original width (at most 10% more work): each window position then reads the image along
// memory, which the CPU GEMM template turns into vector loads.
Graph widen_convolutions(const Graph& graph);

// Runs 2-D f32 convolutions of one group on channels-last tensors: each becomes an NhwcConv
// (domain "taskmap") when its output channels waste at most a sixth of 32-wide register panels,
// unless it is next to a grouped convolution or its image comes from a convolution left NCHW.
// The elementwise operators, channel Concats, constant Pads and 2-D pools whose rank-4 inputs
// are all channels last follow them (pools as NhwcMaxPool / NhwcAveragePool). Transposes are
// inserted where an operator needs the other layout, once per tensor; graph inputs and outputs
// stay as they are.
Graph channels_last(const Graph& graph);

// Runs an f32 NhwcConv with a constant 3 x 3 weight (stride 1, dilation 1, group 1, pads of at
// most 2, 16 or more input and output channels) by Winograd's F(4 x 4, 3 x 3) or F(2 x 2, 3 x 3)
// (schedules/winograd.h): WinogradInput, a batched MatMul with the weight transformed at compile
// time, WinogradOutput with the bias. The larger tile is taken while it leaves 32 tiles or more;
// an image with fewer than 32 tiles of 2 x 2 stays direct.
Graph winograd_convolutions(const Graph& graph);

// Runs an f32 graph in f16 or bf16 (`to`; f32 returns the graph as it is): every operator whose
// f32 inputs may all be of another float type reads them as `to` and writes `to` where it wrote
// f32 (its compute still widens to f32 inside: MatMul and Conv accumulate, normalizations, softmax
// and reductions reduce in f32, so only the stored values are rounded). Cast(to = FLOAT) casts to
// `to`. Kept in f32: quantization, NonMaxSuppression, operators with subgraphs, inputs ONNX
// types f32 whatever the data (Resize's scales) and operators that reject `to`; Casts go between
// the two types where a value crosses, each value cast once. f32 constants are converted at
// compile time (nearest even). Graph inputs and outputs keep their names and f32 types: a Cast
// follows each input a narrow operator reads and precedes each output a narrow operator writes.
// Not part of simplify_graph: the model's precision option asks for it.
Graph convert_precision(const Graph& graph, ir::DType to);

}  // namespace taskmap::graph
