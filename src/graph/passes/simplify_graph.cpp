// The graph rewrites, in the order they run. Each step is one pass in its own file; the graph is
// checked after every step.
#include "taskmap/error.h"
#include "taskmap/graph/rewrites.h"

namespace taskmap::graph {
namespace {

struct Rewrite {
  const char* name;
  Graph (*run)(const Graph&);
};

const Rewrite kRewrites[] = {
    {"remove_noops", remove_noops},                    // Identity, Dropout, same-shape Reshape...
    {"fold_batch_norm", fold_batch_norm},              // Conv / Gemm + BatchNormalization
    {"recognize_layer_norm", recognize_layer_norm},    // ReduceMean ... Div [Mul] [Add]
    {"recognize_gelu", recognize_gelu},                // x * 0.5 * (1 + erf | tanh(...))
    {"channels_last", channels_last},                  // Conv -> NhwcConv, transposes at the edges
    {"winograd_convolutions", winograd_convolutions},  // 3x3 NhwcConv -> transforms + MatMul
    {"widen_convolutions", widen_convolutions},        // unpadded Conv -> wide Conv + Slice
};

}  // namespace

Graph simplify_graph(const Graph& graph, const RewriteOptions& options) {
  Graph g = graph;
  for (const Rewrite& rewrite : kRewrites) {
    if (rewrite.run == channels_last && !options.channels_last) continue;
    if (rewrite.run == winograd_convolutions && !options.winograd) continue;
    if (rewrite.run == widen_convolutions && !options.widen) continue;
    g = rewrite.run(g);
    try {
      g.validate();
    } catch (const UserError& e) {
      TM_UNREACHABLE() << rewrite.name << " left an invalid graph: " << e.what();
    }
  }
  return g;
}

}  // namespace taskmap::graph
