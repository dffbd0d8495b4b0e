#pragma once
// Multi-head self-attention as BERT and GPT-2 write it: per-head Q, K, V of shape
// [1, heads, seq, head_dim], softmax(Q K^T / sqrt(head_dim) [masked]) V, heads merged back.
#include <cstdint>

#include "taskmap/graph/builder.h"

namespace taskmap::models {

// q, k, v: [1, seq, hidden]. `causal_mask`: a bool [1, 1, seq, seq] constant (true where a
// position may attend), or nullptr for full attention. Returns [1, seq, hidden] (before the
// output projection).
graph::Tensor attention(graph::GraphBuilder& b, const graph::Tensor& q, const graph::Tensor& k,
                        const graph::Tensor& v, int64_t heads, const graph::Tensor& causal_mask);

}  // namespace taskmap::models
