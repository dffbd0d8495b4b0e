// GPT-2 small (Radford et al. 2019, as Hugging Face's GPT2LMHeadModel computes it): token and
// position embeddings, 12 pre-LN blocks of causal 12-head self-attention (one fused QKV
// projection split in three) and a tanh-approximated GELU feed-forward of width 3072, hidden
// 768, a final LayerNorm and a language-model head tied to the token embedding.
// Input: i64 token ids [1, 128]. Output: logits [1, 128, 50257].
#include "models/model_parts.h"
#include "models/transformer_parts.h"

namespace taskmap::models {
namespace {

using graph::GraphBuilder;
using graph::Tensor;

constexpr int64_t kVocab = 50257, kMaxPositions = 1024, kSeq = 128;
constexpr int64_t kHidden = 768, kHeads = 12, kFfn = 3072, kLayers = 12;

Tensor causal_mask(GraphBuilder& b) {
  NDArray mask(ir::boolean, {1, 1, kSeq, kSeq});
  for (int64_t i = 0; i < kSeq; ++i)
    for (int64_t j = 0; j <= i; ++j) mask.set_int(i * kSeq + j, 1);
  return b.constant(mask, "causal_mask");
}

Tensor block(GraphBuilder& b, const Tensor& x, const Tensor& mask) {
  Tensor qkv = b.linear(b.layer_norm(x, kHidden), kHidden, 3 * kHidden);
  std::vector<Tensor> parts =
      b.op("Split", {qkv, b.ints({kHidden, kHidden, kHidden})}, {{"axis", int64_t{2}}}, 3);
  Tensor context = attention(b, parts[0], parts[1], parts[2], kHeads, mask);
  Tensor h = b.add(x, b.linear(context, kHidden, kHidden));
  Tensor mlp =
      b.linear(b.gelu_tanh(b.linear(b.layer_norm(h, kHidden), kHidden, kFfn)), kFfn, kHidden);
  return b.add(h, mlp);
}

}  // namespace

graph::Graph build_gpt2_small(uint64_t seed) {
  GraphBuilder b("gpt2_small", seed);
  Tensor ids = b.input("input_ids", ir::i64, {1, kSeq});
  std::vector<int64_t> positions(kSeq);
  for (int64_t i = 0; i < kSeq; ++i) positions[i] = i;
  Tensor wte = b.weight({kVocab, kHidden}, 0.1);
  Tensor h = b.add(b.gather(wte, ids),
                   b.gather(b.weight({kMaxPositions, kHidden}, 0.1), b.ints(positions)));
  Tensor mask = causal_mask(b);
  for (int64_t layer = 0; layer < kLayers; ++layer) h = block(b, h, mask);
  h = b.reshape(b.layer_norm(h, kHidden), {kSeq, kHidden});
  Tensor logits = b.op1("Gemm", {h, wte}, {{"transB", int64_t{1}}});  // tied to the embedding
  b.output(b.reshape(logits, {1, kSeq, kVocab}), "logits");
  return b.build();
}

}  // namespace taskmap::models
