// BERT-base encoder (Devlin et al. 2019, as Hugging Face's BertModel computes it): token,
// position and token-type embeddings (Gather) summed and layer-normalized, then 12 post-LN
// layers of 12-head self-attention and a GELU (erf) feed-forward of width 3072, hidden 768.
// Input: i64 token ids [1, 128] (all of token type 0, no padding). Outputs: the last hidden
// state [1, 128, 768] and the pooler output tanh(W h[CLS] + b) [1, 768].
#include "models/model_parts.h"
#include "models/transformer_parts.h"

namespace taskmap::models {
namespace {

using graph::GraphBuilder;
using graph::Tensor;

constexpr int64_t kVocab = 30522, kMaxPositions = 512, kSeq = 128;
constexpr int64_t kHidden = 768, kHeads = 12, kFfn = 3072, kLayers = 12;
constexpr double kLayerNormEpsilon = 1e-12;

Tensor encoder_layer(GraphBuilder& b, const Tensor& x) {
  Tensor context = attention(b, b.linear(x, kHidden, kHidden), b.linear(x, kHidden, kHidden),
                             b.linear(x, kHidden, kHidden), kHeads, nullptr);
  Tensor h =
      b.layer_norm(b.add(b.linear(context, kHidden, kHidden), x), kHidden, kLayerNormEpsilon);
  Tensor ffn = b.linear(b.gelu(b.linear(h, kHidden, kFfn)), kFfn, kHidden);
  return b.layer_norm(b.add(ffn, h), kHidden, kLayerNormEpsilon);
}

}  // namespace

graph::Graph build_bert_base(uint64_t seed) {
  GraphBuilder b("bert_base", seed);
  Tensor ids = b.input("input_ids", ir::i64, {1, kSeq});
  std::vector<int64_t> positions(kSeq);
  for (int64_t i = 0; i < kSeq; ++i) positions[i] = i;
  Tensor words = b.gather(b.weight({kVocab, kHidden}, 1.0), ids);  // [1, seq, hidden]
  Tensor where =
      b.gather(b.weight({kMaxPositions, kHidden}, 0.5), b.ints(positions));  // [seq, hidden]
  Tensor type = b.gather(b.weight({2, kHidden}, 0.5), b.ints(std::vector<int64_t>(kSeq, 0)));
  Tensor h = b.layer_norm(b.add(b.add(words, where), type), kHidden, kLayerNormEpsilon);
  for (int64_t layer = 0; layer < kLayers; ++layer) h = encoder_layer(b, h);
  b.output(h, "last_hidden_state");
  // The pooler reads the first ([CLS]) position.
  Tensor cls = b.gather(h, b.scalar(0, ir::i64), 1);  // [1, hidden]
  Tensor pooled =
      b.op1("Tanh", {b.gemm(cls, b.weight({kHidden, kHidden}), b.uniform({kHidden}, -0.05, 0.05))});
  b.output(pooled, "pooler_output");
  return b.build();
}

}  // namespace taskmap::models
