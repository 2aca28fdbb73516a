#!/usr/bin/python3
"""A tiny vision transformer written the way timm's VisionTransformer is (pre-LN blocks, untrained, seeded),
exported with torch.onnx.export, plus clean/corrupted image pairs: the circuit analysis's structure tests on
image inputs (test/integration/circuitArchs.test.ts) and the PyTorch side of its exact-patching check
(scripts/reference/circuit_exact.py --vit DIR reads the weights back from this module).

    OMP_NUM_THREADS=1 /usr/bin/python3 scripts/reference/vit_tiny_export.py --out DIR [--seed 0]

Writes DIR/vit.onnx (input `pixels` float32 (batch, 1, 16, 16), output `logits` (batch, 10)), DIR/vit.pt (the
state dict) and DIR/pairs.npz: `clean`, `corrupt` float32 (M, 1, 16, 16) — corrupt = clean with the left half of
the image replaced by another image's — and `answer` (the model's top class on clean), `wrong` (its top class on
corrupt, or the second class where they agree), int64 (M,).

Architecture (timm vision_transformer.py): Conv2d patch embedding (4×4 patches, stride 4) → flatten(2) →
transpose → concat a learned cls token (expanded to the batch) → + learned positions → blocks
x + attn(LN(x)), x + mlp(LN(x)) with a fused qkv Linear reshaped (B, N, 3, H, dh), permuted (2, 0, 3, 1, 4) and
unbound; q·kᵀ·scale → softmax → ·v → transpose → reshape → proj; MLP fc1 → GELU (erf) → fc2; final LN; the
classifier head on the cls position.
"""
import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch
from torch import nn

torch.set_num_threads(1)

IMG, PATCH, CH, D, HEADS, LAYERS, CLASSES = 16, 4, 1, 32, 4, 2, 10


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(D, 3 * D)
        self.proj = nn.Linear(D, D)
        self.scale = (D // HEADS) ** -0.5

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, HEADS, C // HEADS).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1 = nn.LayerNorm(D)
        self.attn = Attention()
        self.norm2 = nn.LayerNorm(D)
        self.fc1 = nn.Linear(D, 4 * D)
        self.fc2 = nn.Linear(4 * D, D)

    def mlp(self, x):
        return self.fc2(nn.functional.gelu(self.fc1(x)))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch = nn.Conv2d(CH, D, PATCH, stride=PATCH)
        n = (IMG // PATCH) ** 2
        self.cls_token = nn.Parameter(torch.randn(1, 1, D) * 0.5)
        self.pos_embed = nn.Parameter(torch.randn(1, n + 1, D) * 0.5)
        self.blocks = nn.ModuleList([Block() for _ in range(LAYERS)])
        self.norm = nn.LayerNorm(D)
        self.head = nn.Linear(D, CLASSES)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("bias"):
                    p.normal_(0, 0.1)
                elif "norm" in name:
                    p.normal_(1, 0.1)

    def embed(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        return x + self.pos_embed

    def forward(self, x):
        x = self.embed(x)
        for b in self.blocks:
            x = b(x)
        return self.head(self.norm(x)[:, 0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pairs", type=int, default=12)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    model = ViT().eval()
    x = torch.randn(2, CH, IMG, IMG)
    torch.onnx.export(model, (x,), os.path.join(a.out, "vit.onnx"), input_names=["pixels"], output_names=["logits"],
                      dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}}, opset_version=14)
    torch.save(model.state_dict(), os.path.join(a.out, "vit.pt"))
    g = torch.Generator().manual_seed(a.seed + 1)
    clean = torch.randn(a.pairs, CH, IMG, IMG, generator=g)
    other = torch.randn(a.pairs, CH, IMG, IMG, generator=g)
    corrupt = clean.clone()
    corrupt[..., : IMG // 2] = other[..., : IMG // 2]
    with torch.no_grad():
        lc, lk = model(clean), model(corrupt)
    answer = lc.argmax(1)
    wrong = lk.argmax(1)
    second = lc.topk(2, dim=1).indices[:, 1]
    wrong = torch.where(wrong == answer, second, wrong)
    np.savez(os.path.join(a.out, "pairs.npz"), clean=clean.numpy(), corrupt=corrupt.numpy(),
             answer=answer.numpy().astype(np.int64), wrong=wrong.numpy().astype(np.int64))
    print(f"wrote {a.out}/vit.onnx, vit.pt, pairs.npz ({a.pairs} pairs)")


if __name__ == "__main__":
    main()
