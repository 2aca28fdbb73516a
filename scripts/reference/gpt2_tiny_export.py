"""
Exports a tiny GPT-2 written the way Hugging Face's GPT2LMHeadModel is (modeling_gpt2.py, eager attention):
Conv1D as addmm (fused qkv + Split), attention MatMul → Div → Where(causal mask, ·, finfo.min) → Softmax →
MatMul, gelu_new written out with Pow/Tanh, LayerNorm, learned positions, tied unembedding. Used by
test/integration/autodiff.test.ts to check that every op on a differentiable path of such an export has a
VJP rule and that the gradients agree with the tfjs translator.

  OMP_NUM_THREADS=1 /usr/bin/python3 scripts/reference/gpt2_tiny_export.py test/fixtures/autodiff/gpt2tiny.onnx
  (optional: VOCAB CTX D HEADS LAYERS after the file name, default 64 16 32 4 2)
"""
import math
import sys

import torch
from torch import nn

torch.set_num_threads(1)
torch.manual_seed(0)

VOCAB, CTX, D, HEADS, LAYERS = [int(v) for v in (sys.argv[2:7] if len(sys.argv) > 6 else (64, 16, 32, 4, 2))]


class Conv1D(nn.Module):
    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.randn(nx, nf) * 0.2)
        self.bias = nn.Parameter(torch.randn(nf) * 0.1)

    def forward(self, x):
        size_out = x.size()[:-1] + (self.nf,)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        return x.view(size_out)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("bias", torch.tril(torch.ones((CTX, CTX), dtype=torch.bool)).view(1, 1, CTX, CTX), persistent=False)
        self.c_attn = Conv1D(3 * D, D)
        self.c_proj = Conv1D(D, D)

    def split_heads(self, x):
        new_shape = x.size()[:-1] + (HEADS, D // HEADS)
        return x.view(new_shape).permute(0, 2, 1, 3)

    def forward(self, h):
        q, k, v = self.c_attn(h).split(D, dim=2)
        q, k, v = self.split_heads(q), self.split_heads(k), self.split_heads(v)
        w = torch.matmul(q, k.transpose(-1, -2))
        w = w / torch.full([], v.size(-1) ** 0.5, dtype=w.dtype, device=w.device)
        qlen, klen = q.size(-2), k.size(-2)
        causal = self.bias[:, :, klen - qlen : klen, :klen]
        mask_value = torch.full([], torch.finfo(w.dtype).min, dtype=w.dtype, device=w.device)
        w = torch.where(causal, w.to(w.dtype), mask_value)
        w = nn.functional.softmax(w, dim=-1)
        a = torch.matmul(w, v)
        a = a.permute(0, 2, 1, 3).contiguous()
        a = a.view(a.size()[:-2] + (D,))
        return self.c_proj(a)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(D)
        self.attn = Attention()
        self.ln_2 = nn.LayerNorm(D)
        self.c_fc = Conv1D(4 * D, D)
        self.c_proj = Conv1D(D, 4 * D)

    def forward(self, h):
        h = h + self.attn(self.ln_1(h))
        return h + self.c_proj(gelu_new(self.c_fc(self.ln_2(h))))


class GPT2(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, D)
        self.wpe = nn.Embedding(CTX, D)
        self.h = nn.ModuleList([Block() for _ in range(LAYERS)])
        self.ln_f = nn.LayerNorm(D)
        self.lm_head = nn.Linear(D, VOCAB, bias=False)
        self.lm_head.weight = self.wte.weight

    def forward(self, input_ids):
        pos = torch.arange(0, input_ids.size(-1), dtype=torch.long).unsqueeze(0)
        h = self.wte(input_ids) + self.wpe(pos)
        for block in self.h:
            h = block(h)
        return self.lm_head(self.ln_f(h))


if __name__ == "__main__":
    out = sys.argv[1]
    model = GPT2().eval()
    ids = torch.randint(0, VOCAB, (2, 8))
    torch.onnx.export(model, (ids,), out, input_names=["input_ids"], output_names=["logits"],
                      dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}}, opset_version=14)
