#!/usr/bin/env python3
"""Exports the benchmark models from PyTorch as ONNX: opset 13, batch 1, fp32, constant folding on,
random weights from a seed. Also writes each model's fixed input set (.npy) and manifest.

  resnet50      torchvision resnet50, input "input" [1,3,224,224]
  inception_v3  torchvision inception_v3 (aux logits off), input "input" [1,3,299,299]
  mobilenet_v2  torchvision mobilenet_v2, input "input" [1,3,224,224]
  bert_base     BERT-base in torch.nn: 12 layers, hidden 768, 12 heads, FFN 3072, erf GELU,
                LayerNorm eps 1e-12; inputs "input_ids", "attention_mask" [1,128] int64;
                output the final hidden states [1,128,768]
  gpt2_small    GPT-2 small in torch.nn: 12 blocks, hidden 768, 12 heads, causal mask, tanh GELU
                written out, LayerNorm eps 1e-5; input "input_ids" [1,128] int64; no LM head:
                output the final hidden states [1,128,768]

Files per model NAME in --out-dir: NAME.onnx, NAME.inputs/*.npy, NAME.json (see bench_common.py).
Models whose files exist are skipped unless --force. Inputs (seeded): images N(0,1), token ids
uniform in [0, vocab), attention mask all ones.

The PyTorch runner of benchmarks/run.py re-creates the same torch module with build_model(name,
seed) and checks its weight checksum against the one recorded in the manifest.
"""
import argparse
import inspect
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_common  # noqa: E402

OPSET = 13
SEQ = 128
BERT_VOCAB = 30522
GPT2_VOCAB = 50257


# ----------------------------------------------------------------------------------------------
# BERT-base
class BertSelfAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)

    def split(self, x):
        b, s, _ = x.shape
        return x.view(b, s, self.heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, x, additive_mask):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        probs = torch.softmax(scores + additive_mask, dim=-1)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3)
        b, s = ctx.shape[0], ctx.shape[1]
        return ctx.reshape(b, s, self.heads * self.head_dim)


class BertLayer(nn.Module):
    def __init__(self, hidden, heads, ffn, eps):
        super().__init__()
        self.attention = BertSelfAttention(hidden, heads)
        self.attention_out = nn.Linear(hidden, hidden)
        self.attention_norm = nn.LayerNorm(hidden, eps=eps)
        self.intermediate = nn.Linear(hidden, ffn)
        self.gelu = nn.GELU()  # the exact, erf form
        self.output = nn.Linear(ffn, hidden)
        self.output_norm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x, additive_mask):
        x = self.attention_norm(x + self.attention_out(self.attention(x, additive_mask)))
        return self.output_norm(x + self.output(self.gelu(self.intermediate(x))))


class BertBase(nn.Module):
    def __init__(self, vocab=BERT_VOCAB, hidden=768, layers=12, heads=12, ffn=3072, max_pos=512,
                 eps=1e-12):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, hidden)
        self.position_embeddings = nn.Embedding(max_pos, hidden)
        self.token_type_embeddings = nn.Embedding(2, hidden)
        self.embedding_norm = nn.LayerNorm(hidden, eps=eps)
        self.layers = nn.ModuleList([BertLayer(hidden, heads, ffn, eps) for _ in range(layers)])
        self.register_buffer("position_ids", torch.arange(max_pos).unsqueeze(0), persistent=False)

    def forward(self, input_ids, attention_mask):
        seq = input_ids.shape[1]
        x = (self.word_embeddings(input_ids) + self.position_embeddings(self.position_ids[:, :seq])
             + self.token_type_embeddings.weight[0])
        x = self.embedding_norm(x)
        # [B, S] of 1 (attend) / 0 (padding) -> additive [B, 1, 1, S]
        additive = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
        for layer in self.layers:
            x = layer(x, additive)
        return x


# ----------------------------------------------------------------------------------------------
# GPT-2 small
def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Gpt2Attention(nn.Module):
    def __init__(self, hidden, heads, max_pos):
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.c_attn = nn.Linear(hidden, 3 * hidden)
        self.c_proj = nn.Linear(hidden, hidden)
        causal = torch.tril(torch.ones(max_pos, max_pos, dtype=torch.bool))
        self.register_buffer("causal", causal.view(1, 1, max_pos, max_pos), persistent=False)

    def forward(self, x):
        b, s, h = x.shape
        q, k, v = self.c_attn(x).split(h, dim=2)
        q = q.view(b, s, self.heads, self.head_dim).permute(0, 2, 1, 3)
        k = k.view(b, s, self.heads, self.head_dim).permute(0, 2, 1, 3)
        v = v.view(b, s, self.heads, self.head_dim).permute(0, 2, 1, 3)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        mask = self.causal[:, :, :s, :s]
        scores = scores.masked_fill(~mask, -10000.0)
        ctx = torch.matmul(torch.softmax(scores, dim=-1), v).permute(0, 2, 1, 3)
        return self.c_proj(ctx.reshape(b, s, h))


class Gpt2Block(nn.Module):
    def __init__(self, hidden, heads, max_pos, eps):
        super().__init__()
        self.ln_1 = nn.LayerNorm(hidden, eps=eps)
        self.attn = Gpt2Attention(hidden, heads, max_pos)
        self.ln_2 = nn.LayerNorm(hidden, eps=eps)
        self.c_fc = nn.Linear(hidden, 4 * hidden)
        self.c_proj = nn.Linear(4 * hidden, hidden)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.c_proj(gelu_tanh(self.c_fc(self.ln_2(x))))


class Gpt2Small(nn.Module):
    def __init__(self, vocab=GPT2_VOCAB, hidden=768, blocks=12, heads=12, max_pos=1024, eps=1e-5):
        super().__init__()
        self.wte = nn.Embedding(vocab, hidden)
        self.wpe = nn.Embedding(max_pos, hidden)
        self.blocks = nn.ModuleList([Gpt2Block(hidden, heads, max_pos, eps) for _ in range(blocks)])
        self.ln_f = nn.LayerNorm(hidden, eps=eps)
        self.register_buffer("position_ids", torch.arange(max_pos).unsqueeze(0), persistent=False)

    def forward(self, input_ids):
        seq = input_ids.shape[1]
        x = self.wte(input_ids) + self.wpe(self.position_ids[:, :seq])
        for block in self.blocks:
            x = block(x)
        return self.ln_f(x)


def init_transformer(model):
    """BERT/GPT-2 style initialization: N(0, 0.02) weights, zero biases, unit LayerNorms."""
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def randomize_batch_norms(model, seed):
    """Fresh BatchNorms are identities (mean 0, var 1, scale 1, shift 0); give them seeded,
    plausible statistics so the folded convolutions are not plain copies of the init."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_((torch.rand(c, generator=g) - 0.5) * 0.2)
            m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=g) * 0.5 + 0.5)
            m.bias.data.copy_((torch.rand(c, generator=g) - 0.5) * 0.2)


# ----------------------------------------------------------------------------------------------
# The registry: name -> (builder, [(input name, kind, shape)], [output names])
def _torchvision(name, **kwargs):
    def build():
        import torchvision
        return getattr(torchvision.models, name)(weights=None, **kwargs)
    return build


MODELS = {
    "resnet50": (_torchvision("resnet50"), [("input", "image", [1, 3, 224, 224])], ["logits"]),
    "inception_v3": (_torchvision("inception_v3", aux_logits=False, init_weights=False),
                     [("input", "image", [1, 3, 299, 299])], ["logits"]),
    "mobilenet_v2": (_torchvision("mobilenet_v2"), [("input", "image", [1, 3, 224, 224])], ["logits"]),
    "bert_base": (BertBase, [("input_ids", ("ids", BERT_VOCAB), [1, SEQ]),
                             ("attention_mask", "mask", [1, SEQ])], ["last_hidden_state"]),
    "gpt2_small": (Gpt2Small, [("input_ids", ("ids", GPT2_VOCAB), [1, SEQ])], ["last_hidden_state"]),
}


def build_model(name, seed):
    """The torch module NAME in eval mode with the weights of `seed` (deterministic)."""
    builder = MODELS[name][0]
    torch.manual_seed(seed)
    model = builder()
    with torch.no_grad():
        if name in ("bert_base", "gpt2_small"):
            init_transformer(model)
        randomize_batch_norms(model, seed)
    return model.eval()


def weight_checksum(model):
    """Sum of all parameters and buffers, in float64: a cheap check that a re-created module has
    the weights of the exported one."""
    with torch.no_grad():
        return float(sum(t.double().sum().item() for t in model.state_dict().values()
                         if t.is_floating_point()))


def make_inputs(name, seed):
    """The fixed input set of model NAME: [(input name, numpy array)] in graph-input order."""
    rng = np.random.RandomState(seed)
    arrays = []
    for input_name, kind, shape in MODELS[name][1]:
        if kind == "image":
            arrays.append((input_name, rng.standard_normal(shape).astype(np.float32)))
        elif kind == "mask":
            arrays.append((input_name, np.ones(shape, dtype=np.int64)))
        else:
            arrays.append((input_name, rng.randint(0, kind[1], size=shape).astype(np.int64)))
    return arrays


def exporter_choice():
    """These exports are the TorchScript-based exporter's (opset 13, constant folding); torch 2.9
    and later default to the dynamo-based one, so ask for it where torch.onnx.export has a choice."""
    try:
        parameters = inspect.signature(torch.onnx.export).parameters
    except (TypeError, ValueError):
        return {}
    return {"dynamo": False} if "dynamo" in parameters else {}


def export(name, out_dir, seed, force):
    out_dir = Path(out_dir)
    onnx_path = out_dir / f"{name}.onnx"
    manifest = bench_common.read_manifest(out_dir, name)
    if (not force and onnx_path.exists() and manifest and manifest.get("torch_model") == name
            and manifest.get("seed") == seed and bench_common.inputs_complete(out_dir, manifest)):
        print(f"export_models: {name}: {onnx_path} exists, skipped (--force to redo)", flush=True)
        return
    start = time.time()
    model = build_model(name, seed)
    inputs = make_inputs(name, seed)
    # The inputs and the manifest first: the PyTorch runners of `run.py --target cuda` need only
    # them, so they can run where the ONNX export itself fails.
    entries = bench_common.save_inputs(out_dir, name, inputs)
    bench_common.write_manifest(out_dir, name, {
        "model": name, "source": "torch", "torch_model": name, "seed": seed, "opset": OPSET,
        "weight_checksum": weight_checksum(model), "torch_version": torch.__version__,
        "inputs": entries})
    if force or not onnx_path.exists():
        args = tuple(torch.from_numpy(a) for _, a in inputs)
        tmp = out_dir / f"{name}.onnx.tmp"
        with torch.no_grad():
            torch.onnx.export(model, args, str(tmp), opset_version=OPSET, do_constant_folding=True,
                              input_names=[n for n, _ in inputs], output_names=MODELS[name][2],
                              **exporter_choice())
        tmp.replace(onnx_path)
    print(f"export_models: {name}: wrote {onnx_path} ({onnx_path.stat().st_size / 2**20:.1f} MiB) "
          f"in {time.time() - start:.1f} s", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", default=str(Path(__file__).resolve().parent / "models"),
                        help="folder to write the models to (default: benchmarks/models)")
    parser.add_argument("--models", default=",".join(MODELS),
                        help=f"comma-separated subset of {','.join(MODELS)} (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and inputs (default 0)")
    parser.add_argument("--force", action="store_true", help="re-export models that exist")
    args = parser.parse_args()
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}")
    Path(args.out_dir).mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)  # exporting is light; leave the cores to whatever else runs
    for name in names:
        export(name, args.out_dir, args.seed, args.force)


if __name__ == "__main__":
    main()
