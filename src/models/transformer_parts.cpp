// Multi-head self-attention shared by the BERT and GPT-2 builders.
#include "models/transformer_parts.h"

#include <cmath>
#include <limits>

namespace taskmap::models {

using graph::GraphBuilder;
using graph::Tensor;

Tensor attention(GraphBuilder& b, const Tensor& q, const Tensor& k, const Tensor& v, int64_t heads,
                 const Tensor& causal_mask) {
  int64_t seq = GraphBuilder::dim(q, 1);
  int64_t hidden = GraphBuilder::dim(q, 2);
  int64_t head_dim = hidden / heads;
  auto split_heads = [&](const Tensor& t, const std::vector<int64_t>& perm) {
    return b.transpose(b.reshape(t, {1, seq, heads, head_dim}), perm);
  };
  Tensor qh = split_heads(q, {0, 2, 1, 3});  // [1, heads, seq, head_dim]
  Tensor kt = split_heads(k, {0, 2, 3, 1});  // [1, heads, head_dim, seq]
  Tensor vh = split_heads(v, {0, 2, 1, 3});
  Tensor scores =
      b.op1("Div", {b.matmul(qh, kt), b.scalar(std::sqrt(static_cast<double>(head_dim)))});
  if (causal_mask)
    scores = b.op1("Where", {causal_mask, scores, b.scalar(std::numeric_limits<float>::lowest())});
  Tensor context = b.matmul(b.softmax(scores, -1), vh);  // [1, heads, seq, head_dim]
  return b.reshape(b.transpose(context, {0, 2, 1, 3}), {1, seq, hidden});
}

}  // namespace taskmap::models
