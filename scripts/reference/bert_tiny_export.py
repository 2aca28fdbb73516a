#!/usr/bin/python3
"""A tiny post-LN encoder written the way Hugging Face's BertForSequenceClassification is (eager attention,
untrained, seeded), exported with torch.onnx.export, plus clean/corrupted token pairs: the circuit analysis's
post-LN structure tests (test/integration/circuitArchs.test.ts) and the PyTorch side of its exact-patching check
(scripts/reference/circuit_exact.py --bert DIR reads the weights back from this module).

    OMP_NUM_THREADS=1 /usr/bin/python3 scripts/reference/bert_tiny_export.py --out DIR [--seed 0] [--pre-ln]

--pre-ln writes the same encoder with pre-LN layers x + attn(LN1(x)), x + mlp(LN2(x)) (and the final norm before
the pooler): a token classifier both circuit routes run, for comparing them on a (batch, classes) output.

Writes DIR/bert.onnx (input `input_ids` int64 (batch, 12), output `logits` (batch, 3)), DIR/bert.pt (the state
dict) and DIR/pairs.npz: `clean`, `corrupt` int64 (M, 12) — corrupt = clean with 3 tokens (never position 0,
the [CLS] token) replaced — and `answer` (the model's top class on clean), `wrong` (its top class on corrupt,
or the second class where they agree), int64 (M,).

Architecture (modeling_bert.py): word + position + token-type (all type 0) embeddings → LayerNorm; layers
LN(x + attn(x)) then LN(y + mlp(y)) (post-LN), attention with separate q, k, v Linear layers, heads split by
view/permute, scores / √d_head (a Python float), softmax, merged by permute/view, output dense; MLP dense →
GELU (erf) → dense; pooler tanh(Linear(x[:, 0])); classifier Linear.
"""
import argparse
import math
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch
from torch import nn

torch.set_num_threads(1)

VOCAB, CTX, D, HEADS, LAYERS, CLASSES = 50, 12, 32, 4, 2, 3
PRE_LN = False


class SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.query, self.key, self.value = nn.Linear(D, D), nn.Linear(D, D), nn.Linear(D, D)
        self.dense = nn.Linear(D, D)
        self.dh = D // HEADS

    def split(self, x):
        return x.view(x.size()[:-1] + (HEADS, self.dh)).permute(0, 2, 1, 3)

    def forward(self, x):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.dh)
        probs = nn.functional.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        return self.dense(ctx.view(ctx.size()[:-2] + (D,)))


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = SelfAttention()
        self.ln1 = nn.LayerNorm(D, eps=1e-12)
        self.intermediate = nn.Linear(D, 4 * D)
        self.output = nn.Linear(4 * D, D)
        self.ln2 = nn.LayerNorm(D, eps=1e-12)

    def mlp(self, y):
        return self.output(nn.functional.gelu(self.intermediate(y)))

    def forward(self, x):
        if PRE_LN:
            x = x + self.attention(self.ln1(x))
            return x + self.mlp(self.ln2(x))
        y = self.ln1(x + self.attention(x))
        return self.ln2(y + self.mlp(y))


class Bert(nn.Module):
    def __init__(self):
        super().__init__()
        self.word = nn.Embedding(VOCAB, D)
        self.position = nn.Embedding(CTX, D)
        self.token_type = nn.Embedding(2, D)
        self.ln = nn.LayerNorm(D, eps=1e-12)
        self.layers = nn.ModuleList([Layer() for _ in range(LAYERS)])
        self.pooler = nn.Linear(D, D)
        self.classifier = nn.Linear(D, CLASSES)
        self.ln_f = nn.LayerNorm(D, eps=1e-12)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("bias"):
                    p.normal_(0, 0.1)
                elif "ln" in name:
                    p.normal_(1, 0.1)

    def embed(self, ids):
        pos = torch.arange(ids.size(1)).unsqueeze(0)
        return self.ln(self.word(ids) + self.position(pos) + self.token_type(torch.zeros_like(ids)))

    def head(self, x):
        return self.classifier(torch.tanh(self.pooler(x[:, 0])))

    def forward(self, ids):
        x = self.embed(ids)
        for layer in self.layers:
            x = layer(x)
        return self.head(self.ln_f(x) if PRE_LN else x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pairs", type=int, default=12)
    ap.add_argument("--pre-ln", action="store_true")
    a = ap.parse_args()
    global PRE_LN
    PRE_LN = a.pre_ln
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    model = Bert().eval()
    ids = torch.randint(0, VOCAB, (2, CTX))
    torch.onnx.export(model, (ids,), os.path.join(a.out, "bert.onnx"), input_names=["input_ids"], output_names=["logits"],
                      dynamic_axes={"input_ids": {0: "batch"}, "logits": {0: "batch"}}, opset_version=14)
    torch.save(model.state_dict(), os.path.join(a.out, "bert.pt"))
    g = torch.Generator().manual_seed(a.seed + 1)
    clean = torch.randint(1, VOCAB, (a.pairs, CTX), generator=g)
    clean[:, 0] = 0  # [CLS]
    corrupt = clean.clone()
    for i in range(a.pairs):
        where = torch.randperm(CTX - 1, generator=g)[:3] + 1
        corrupt[i, where] = torch.randint(1, VOCAB, (3,), generator=g)
    with torch.no_grad():
        lc, lk = model(clean), model(corrupt)
    answer = lc.argmax(1)
    wrong = lk.argmax(1)
    wrong = torch.where(wrong == answer, lc.topk(2, dim=1).indices[:, 1], wrong)
    np.savez(os.path.join(a.out, "pairs.npz"), clean=clean.numpy(), corrupt=corrupt.numpy(),
             answer=answer.numpy().astype(np.int64), wrong=wrong.numpy().astype(np.int64))
    print(f"wrote {a.out}/bert.onnx, bert.pt, pairs.npz ({a.pairs} pairs)")


if __name__ == "__main__":
    main()
