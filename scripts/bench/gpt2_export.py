#!/usr/bin/python3
"""A GPT-2-small-architecture model (random, seeded init) exported to ONNX, plus bench data.

Used by `npm run bench scale` (test/bench/scale.ts), which runs this into a temporary folder at bench time:
nothing it writes is committed.

    OMP_NUM_THREADS=1 /usr/bin/python3 scripts/bench/gpt2_export.py --out DIR \
        [--layers 12 --d 768 --heads 12 --vocab 50257 --ctx 1024 --seed 0] \
        [--prompts 32 --tokens 128 --pairs 16 --pair-tokens 32]

Writes DIR/gpt2.onnx (scripts/bench/gpt2_reference.py reads its weights from the initializers),
DIR/tokens.npz (`tokens` int64 [prompts, tokens]: the attention analysis's data) and DIR/pairs.npz (`clean`,
`corrupt` int64 [pairs, pair-tokens]; `answer`, `wrong` int64 [pairs]: the circuit analysis's data; corrupt =
clean with 3 positions (never the last) replaced by other random tokens).

The model is written the way Hugging Face's GPT2LMHeadModel is (transformers 4.x, eager attention), so the
export has the operator shapes real GPT-2 exports have:
- token + position embeddings (`wte`, `wpe`), pre-LN blocks, final `ln_f`, tied unembedding logits = ln_f(x) @ wteᵀ;
- attention: fused c_attn (D → 3D, a Conv1D: MatMul + Add) then Split into q, k, v; heads split by
  Reshape/Transpose; MatMul → Div(√d_head, a constant) → Where(causal mask, sliced from a (1, 1, ctx, ctx) tril buffer,
  fill = float32 min) → Softmax → MatMul; heads merged by Transpose/Reshape; c_proj MatMul + Add;
- MLP: c_fc (D → 4D) → tanh GELU written out 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))) → c_proj (4D → D).
Two departures from Hugging Face's exact lines (`--hf-exact` writes those lines instead; since 2026-12 the
attention finder, src/model/attentionFinder.ts, accepts both, and test/integration/circuitArchs.test.ts runs the
circuit analysis on an `--hf-exact` export):
1. Hugging Face divides by `torch.full([], value.size(-1) ** 0.5)`: the tracer exports a divisor computed from
   v's shape (Shape → Slice → Squeeze → Cast → Pow → Add); the finder takes a scale operand computed from
   shapes alone as a constant. Here: divided by the Python float √d_head (a constant).
2. Hugging Face's `_merge_heads` reshapes z with `z.size()[:-2] + (D,)`: the transposed z then also feeds two
   Shape nodes, which the residual-stream rule skips (they read no values). Here: the (batch, T) of the
   reshape are read from the block input x.
Init: weights as Hugging Face's, N(0, 0.02) (c_proj N(0, 0.02/√(2L))); biases N(0, 0.02) and LayerNorm gains
1 + N(0, 0.05), shifts N(0, 0.02) rather than 0 and 1/0 (a trained model's are not constant; and the exporter
merges equal initializers into one, which would leave no initializer named after each parameter).
`torch.onnx.export`, opset 14, dynamic batch and sequence axes, constant folding on (as the default; it folds
wteᵀ into its own initializer, so the file holds the embedding twice, as real tied exports do).
"""
import argparse
import math
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch
from torch import nn

torch.set_num_threads(1)


class Conv1D(nn.Module):
    """Hugging Face's Conv1D: y = x @ W + b with W stored (in, out)."""

    def __init__(self, n_in, n_out, std):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * std)
        self.bias = nn.Parameter(torch.randn(n_out) * 0.02)

    def forward(self, x):
        return torch.matmul(x, self.weight) + self.bias


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Attention(nn.Module):
    def __init__(self, d, heads, ctx, layers, hf_exact=False):
        super().__init__()
        self.d, self.heads, self.dh = d, heads, d // heads
        self.hf_exact = hf_exact
        self.register_buffer("bias", torch.tril(torch.ones(ctx, ctx, dtype=torch.bool)).view(1, 1, ctx, ctx))
        self.c_attn = Conv1D(d, 3 * d, 0.02)
        self.c_proj = Conv1D(d, d, 0.02 / math.sqrt(2 * layers))

    def split_heads(self, x):
        b, t = x.shape[0], x.shape[1]
        return x.view(b, t, self.heads, self.dh).permute(0, 2, 1, 3)

    def forward(self, x):
        b, t = x.shape[0], x.shape[1]
        q, k, v = self.c_attn(x).split(self.d, dim=2)
        q, k, v = self.split_heads(q), self.split_heads(k), self.split_heads(v)
        w = torch.matmul(q, k.transpose(-1, -2))
        if self.hf_exact:
            # Hugging Face's exact line: traced, v.size(-1) becomes Shape → Slice → Cast → Pow, so the Div's
            # divisor is a computed value (see the header)
            w = w / torch.full([], v.size(-1) ** 0.5, dtype=w.dtype)
        else:
            w = w / math.sqrt(self.dh)
        causal = self.bias[:, :, :t, :t]
        w = torch.where(causal, w, torch.full([], torch.finfo(w.dtype).min, dtype=w.dtype))
        w = nn.functional.softmax(w, dim=-1)
        z = torch.matmul(w, v)
        z = z.permute(0, 2, 1, 3).contiguous()
        if self.hf_exact:
            z = z.view(z.size()[:-2] + (self.d,))  # Hugging Face's _merge_heads: the shape read from z itself
        else:
            z = z.view(b, t, self.d)  # the shape read from the block input
        return self.c_proj(z)


class MLP(nn.Module):
    def __init__(self, d, layers):
        super().__init__()
        self.c_fc = Conv1D(d, 4 * d, 0.02)
        self.c_proj = Conv1D(4 * d, d, 0.02 / math.sqrt(2 * layers))

    def forward(self, x):
        return self.c_proj(gelu_new(self.c_fc(x)))


def layer_norm(d):
    ln = nn.LayerNorm(d, eps=1e-5)
    with torch.no_grad():
        ln.weight.add_(torch.randn(d) * 0.05)
        ln.bias.add_(torch.randn(d) * 0.02)
    return ln


class Block(nn.Module):
    def __init__(self, d, heads, ctx, layers, hf_exact):
        super().__init__()
        self.ln_1 = layer_norm(d)
        self.attn = Attention(d, heads, ctx, layers, hf_exact)
        self.ln_2 = layer_norm(d)
        self.mlp = MLP(d, layers)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT2(nn.Module):
    def __init__(self, layers, d, heads, vocab, ctx, hf_exact=False):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(ctx, d)
        nn.init.normal_(self.wte.weight, std=0.02)
        nn.init.normal_(self.wpe.weight, std=0.02)
        self.h = nn.ModuleList([Block(d, heads, ctx, layers, hf_exact) for _ in range(layers)])
        self.ln_f = layer_norm(d)

    def forward(self, input_ids):
        t = input_ids.shape[1]
        pos = torch.arange(0, t, dtype=torch.long, device=input_ids.device).unsqueeze(0)
        x = self.wte(input_ids) + self.wpe(pos)
        for b in self.h:
            x = b(x)
        return torch.matmul(self.ln_f(x), self.wte.weight.t())


def build(layers, d, heads, vocab, ctx, seed, hf_exact=False):
    if d % heads:
        raise SystemExit(f"d ({d}) must be a multiple of heads ({heads})")
    torch.manual_seed(seed)
    model = GPT2(layers, d, heads, vocab, ctx, hf_exact)
    model.eval()
    return model


def data(vocab, prompts, tokens, pairs, pair_tokens, seed):
    rng = np.random.default_rng(seed + 1)
    toks = rng.integers(0, vocab, size=(prompts, tokens), dtype=np.int64)
    clean = rng.integers(0, vocab, size=(pairs, pair_tokens), dtype=np.int64)
    corrupt = clean.copy()
    for i in range(pairs):
        pos = rng.choice(pair_tokens - 1, size=min(3, pair_tokens - 1), replace=False)
        for p in pos:
            new = int(rng.integers(0, vocab))
            while new == clean[i, p]:
                new = int(rng.integers(0, vocab))
            corrupt[i, p] = new
    answer = rng.integers(0, vocab, size=pairs, dtype=np.int64)
    wrong = (answer + rng.integers(1, vocab, size=pairs, dtype=np.int64)) % vocab
    return toks, {"clean": clean, "corrupt": corrupt, "answer": answer, "wrong": wrong}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--d", type=int, default=768)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--vocab", type=int, default=50257)
    ap.add_argument("--ctx", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--pairs", type=int, default=16)
    ap.add_argument("--pair-tokens", type=int, default=32)
    ap.add_argument("--hf-exact", action="store_true",
                    help="divide the scores by torch.full([], v.size(-1) ** 0.5) as Hugging Face writes it (a computed divisor)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    t0 = time.time()
    model = build(a.layers, a.d, a.heads, a.vocab, a.ctx, a.seed, a.hf_exact)

    dummy = torch.zeros((1, 8), dtype=torch.long)
    path = os.path.join(a.out, "gpt2.onnx")
    with torch.no_grad():
        torch.onnx.export(model, (dummy,), path, opset_version=14, do_constant_folding=True,
                          input_names=["input_ids"], output_names=["logits"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}})
    toks, pairs = data(a.vocab, a.prompts, a.tokens, a.pairs, a.pair_tokens, a.seed)
    np.savez(os.path.join(a.out, "tokens.npz"), tokens=toks)
    np.savez(os.path.join(a.out, "pairs.npz"), **pairs)
    params = sum(p.numel() for p in model.parameters())
    print(f"exported {path} ({os.path.getsize(path)} bytes, {params} parameters) in {time.time() - t0:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
