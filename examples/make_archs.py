#!/usr/bin/python3
"""Example checkpoints of the architectures people export (issue 16): trained here on CPU, exported with
torch.onnx.export the way real exporters write them (no renaming or rewriting of the graph afterwards).

Run from the repository root with Debian's python3 (torch 1.13 CPU, onnx 1.12, numpy):

    OMP_NUM_THREADS=1 /usr/bin/python3 examples/make_archs.py                  # every part
    OMP_NUM_THREADS=1 /usr/bin/python3 examples/make_archs.py --only gpt2 vit  # some parts

Parts: gpt2 (HF-style GPT-2 decoder trained on induction), bert (post-LN BERT-style encoder with a [CLS]
classification head), vit (a small ViT on Fashion-MNIST), resnet (a ResNet-style CNN on Fashion-MNIST).
vit and resnet read examples/data/fmnist.npz (make_examples.py --only data). Each part writes
examples/<part>/: the ONNX checkpoint, the data for the analyses, `reference.npz` (inputs and torch's
outputs, checked against onnxruntime-node by examples/verify_onnx.mjs) and `card.json` (the numbers the
README's model card quotes). Everything is seeded and single-threaded: a re-run reproduces the files.
"""
import argparse
import collections
import io
import json
import math
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)

HERE = os.path.dirname(os.path.abspath(__file__))
PARTS = ["gpt2", "bert", "vit", "resnet"]
OPTS = {}


def log(*a):
    print(*a, flush=True)


def seed_all(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)


def export(model, args, path, input_names, output_names, dynamic_axes, opset):
    """torch.onnx.export as users call it (constant folding on, the default); the file is written as
    the exporter produced it, after onnx.checker (full_check)."""
    model.eval()
    f = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(model, args, f, opset_version=opset, do_constant_folding=True, export_params=True,
                          input_names=input_names, output_names=output_names, dynamic_axes=dynamic_axes)
    proto = onnx.load_from_string(f.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(f.getvalue())
    hist = dict(sorted(collections.Counter(n.op_type for n in proto.graph.node).items()))
    size = os.path.getsize(path)
    log(f"{os.path.relpath(path, HERE)}: {size} bytes, opset {opset}, ops {hist}")
    return proto, hist, size


def write_card(folder, card):
    with open(os.path.join(folder, "card.json"), "w") as fh:
        json.dump(card, fh, indent=1)
        fh.write("\n")


def param_count(model):
    return int(sum(p.numel() for p in model.parameters()))


def load_fmnist():
    d = np.load(f"{HERE}/data/fmnist.npz")
    return (torch.from_numpy(d["x"]), torch.from_numpy(d["y"]),
            torch.from_numpy(d["x_test"]), torch.from_numpy(d["y_test"]))


def accuracy(model, x, y, batch=500):
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(x[i:i + batch]).argmax(-1) for i in range(0, len(x), batch)])
    return float((pred == y).float().mean())


# ============================================================================================ gpt2
# Hugging Face's GPT2LMHeadModel (transformers 4.x, eager attention) line for line where it matters to the
# exported graph: module names (transformer.h.N.attn.c_attn …), Conv1D projections, the fused qkv + split,
# `_split_heads`/`_merge_heads` reading their shapes from the tensor itself, the divisor
# `torch.full([], v.size(-1) ** 0.5)`, the causal `Where` with a bool tril buffer sliced to the sequence,
# fill `finfo.min`, gelu_new (tanh), pre-LN, learned positions, lm_head tied to wte.
# One deliberate difference: HF's Conv1D is `addmm` on a 2-D view (exported as Reshape → Gemm → Reshape);
# here it is `x @ W + b` (exported as MatMul + Add), the form issue 16 lists ("projections as MatMul + Add").

G_VOCAB, G_CTX, G_D, G_HEADS, G_LAYERS = 64, 24, 64, 4, 2


class Conv1D(nn.Module):
    addmm = False  # True: HF's own forward (addmm on a 2-D view), for gpt2_addmm.onnx

    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.randn(nx, nf) * 0.02)
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        if Conv1D.addmm:
            size_out = x.size()[:-1] + (self.nf,)
            x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
            return x.view(size_out)
        return torch.matmul(x, self.weight) + self.bias


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class GPT2Attention(nn.Module):
    def __init__(self, d, heads, ctx, layers):
        super().__init__()
        self.embed_dim, self.num_heads, self.head_dim = d, heads, d // heads
        self.register_buffer("bias", torch.tril(torch.ones((ctx, ctx), dtype=torch.bool)).view(1, 1, ctx, ctx),
                             persistent=False)
        self.c_attn = Conv1D(3 * d, d)
        self.c_proj = Conv1D(d, d)
        with torch.no_grad():
            self.c_proj.weight.normal_(0.0, 0.02 / math.sqrt(2 * layers))
        self.head_mask = None  # python-only ablation hook (None at export)
        self.last_pattern = None

    def _split_heads(self, tensor):
        new_shape = tensor.size()[:-1] + (self.num_heads, self.head_dim)
        return tensor.view(new_shape).permute(0, 2, 1, 3)

    def _merge_heads(self, tensor):
        tensor = tensor.permute(0, 2, 1, 3).contiguous()
        new_shape = tensor.size()[:-2] + (self.num_heads * self.head_dim,)
        return tensor.view(new_shape)

    def _attn(self, query, key, value):
        attn_weights = torch.matmul(query, key.transpose(-1, -2))
        attn_weights = attn_weights / torch.full([], value.size(-1) ** 0.5, dtype=attn_weights.dtype,
                                                 device=attn_weights.device)
        query_length, key_length = query.size(-2), key.size(-2)
        causal_mask = self.bias[:, :, key_length - query_length: key_length, :key_length]
        mask_value = torch.finfo(attn_weights.dtype).min
        mask_value = torch.full([], mask_value, dtype=attn_weights.dtype, device=attn_weights.device)
        attn_weights = torch.where(causal_mask, attn_weights.to(attn_weights.dtype), mask_value)
        attn_weights = nn.functional.softmax(attn_weights, dim=-1)
        self.last_pattern = attn_weights
        attn_output = torch.matmul(attn_weights, value)
        if self.head_mask is not None:
            attn_output = attn_output * self.head_mask.view(1, -1, 1, 1)
        return attn_output

    def forward(self, hidden_states):
        query, key, value = self.c_attn(hidden_states).split(self.embed_dim, dim=2)
        query, key, value = self._split_heads(query), self._split_heads(key), self._split_heads(value)
        attn_output = self._merge_heads(self._attn(query, key, value))
        return self.c_proj(attn_output)


class GPT2MLP(nn.Module):
    def __init__(self, d, layers):
        super().__init__()
        self.c_fc = Conv1D(4 * d, d)
        self.c_proj = Conv1D(d, 4 * d)
        with torch.no_grad():
            self.c_proj.weight.normal_(0.0, 0.02 / math.sqrt(2 * layers))

    def forward(self, hidden_states):
        return self.c_proj(gelu_new(self.c_fc(hidden_states)))


class GPT2Block(nn.Module):
    def __init__(self, d, heads, ctx, layers):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d, eps=1e-5)
        self.attn = GPT2Attention(d, heads, ctx, layers)
        self.ln_2 = nn.LayerNorm(d, eps=1e-5)
        self.mlp = GPT2MLP(d, layers)

    def forward(self, hidden_states):
        hidden_states = hidden_states + self.attn(self.ln_1(hidden_states))
        return hidden_states + self.mlp(self.ln_2(hidden_states))


class GPT2Model(nn.Module):
    def __init__(self, vocab, ctx, d, heads, layers):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(ctx, d)
        nn.init.normal_(self.wte.weight, std=0.02)
        nn.init.normal_(self.wpe.weight, std=0.02)
        self.h = nn.ModuleList([GPT2Block(d, heads, ctx, layers) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d, eps=1e-5)

    def forward(self, input_ids):
        input_shape = input_ids.size()
        input_ids = input_ids.view(-1, input_shape[-1])
        position_ids = torch.arange(0, input_shape[-1], dtype=torch.long, device=input_ids.device).unsqueeze(0)
        hidden_states = self.wte(input_ids) + self.wpe(position_ids)
        for block in self.h:
            hidden_states = block(hidden_states)
        hidden_states = self.ln_f(hidden_states)
        return hidden_states.view(input_shape + (hidden_states.size(-1),))


class GPT2LMHeadModel(nn.Module):
    def __init__(self, vocab=G_VOCAB, ctx=G_CTX, d=G_D, heads=G_HEADS, layers=G_LAYERS):
        super().__init__()
        self.transformer = GPT2Model(vocab, ctx, d, heads, layers)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied

    def forward(self, input_ids):
        return self.lm_head(self.transformer(input_ids))


def periodic_batch(rng, n, T=G_CTX, vocab=G_VOCAB, min_period=None):
    """The training distribution: [prefix (p)] [segment (L)] then the segment repeated periodically for k tokens
    (k may exceed L: several periods), p + L + k = T + 1, min_period <= L <= 12, 2 <= k <= T + 1 - L, prefix and segment
    tokens distinct. induction_batch is its k <= L part (one earlier occurrence per repeated token); the longer
    repeats give more predictable positions per sequence (a stronger signal to learn induction from)."""
    seqs = np.zeros((n, T + 1), dtype=np.int64)
    meta = np.zeros((n, 3), dtype=np.int64)
    min_period = OPTS.get("gpt2_min_period", 2) if min_period is None else min_period
    for i in range(n):
        seg_len = rng.integers(min_period, 13)
        k = rng.integers(2, T + 2 - seg_len)
        p = T + 1 - seg_len - k
        toks = rng.permutation(vocab)[: p + seg_len]
        seg = toks[p:]
        seqs[i] = np.concatenate([toks, np.resize(seg, k)])
        meta[i] = (p, seg_len, k)
    mask = np.arange(T)[None, :] >= (meta[:, 0] + meta[:, 1])[:, None]
    return seqs[:, :T], seqs[:, 1:], mask, meta


def induction_batch(rng, n, T=G_CTX, vocab=G_VOCAB):
    """Sequences of T+1 tokens: [prefix (p)] [segment (L)] [first k segment tokens again], p + L + k = T + 1,
    4 <= L <= 12, 2 <= k <= L, all prefix and segment tokens distinct. Every repeated token after the first is
    predicted by induction only (find the current token's earlier occurrence, copy its successor); the offset L
    varies, so a positional head cannot solve it. Returns inputs (n,T), targets (n,T), mask of the predictable
    input positions (n,T), meta (p, L, k)."""
    seqs = np.zeros((n, T + 1), dtype=np.int64)
    meta = np.zeros((n, 3), dtype=np.int64)
    for i in range(n):
        seg_len = rng.integers(4, 13)
        k = rng.integers(2, seg_len + 1)
        p = T + 1 - seg_len - k
        toks = rng.permutation(vocab)[: p + seg_len]
        seqs[i] = np.concatenate([toks, toks[p: p + k]])
        meta[i] = (p, seg_len, k)
    mask = np.arange(T)[None, :] >= (meta[:, 0] + meta[:, 1])[:, None]
    return seqs[:, :T], seqs[:, 1:], mask, meta


def gpt2_repeat_accuracy(model, tokens, targets, mask):
    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(tokens)).argmax(-1).numpy()
    correct = (pred == targets) & mask
    return float(correct.sum() / mask.sum()), float(correct[:, -1].mean())


def gpt2_head_scores(model, tokens, meta):
    """previous-token score (mean attention i -> i-1) and induction score (mean attention from each repeated
    position to the successor of the current token's earlier occurrence), per (layer, head)."""
    model.eval()
    with torch.no_grad():
        model(torch.from_numpy(tokens))
    T = tokens.shape[1]
    L_, H = len(model.transformer.h), model.transformer.h[0].attn.num_heads
    prev, ind = np.zeros((L_, H)), np.zeros((L_, H))
    for layer, block in enumerate(model.transformer.h):
        pat = block.attn.last_pattern.numpy()
        i = np.arange(1, T)
        prev[layer] = pat[:, :, i, i - 1].mean(axis=(0, 2))
        acc, cnt = np.zeros(H), 0
        for b, (p, seg_len, _) in enumerate(meta):
            q = np.arange(p + seg_len, T)
            acc += pat[b][:, q, q - seg_len + 1].sum(axis=1)
            cnt += len(q)
        ind[layer] = acc / cnt
    return prev, ind


def gpt2_offset_attention(model, tokens, meta, offsets=5, around=(-1, 4)):
    """Per (layer, head): mean attention from query i to key i − d (d = 0 … offsets−1, over every query i ≥ d), and
    the attention from the last position to the keys j + d around the last token's earlier occurrence j
    (d = around[0] … around[1] − 1; single-repeat prompts, so j is unique). Shows which offsets the heads use
    when the mechanism is not the textbook one (previous token i − 1, induction target j + 1)."""
    model.eval()
    with torch.no_grad():
        model(torch.from_numpy(tokens))
    T = tokens.shape[1]
    by_offset, from_last = [], []
    for block in model.transformer.h:
        pat = block.attn.last_pattern.numpy()
        by_offset.append([[float(pat[:, h, np.arange(d, T), np.arange(0, T - d)].mean()) for d in range(offsets)]
                          for h in range(pat.shape[1])])
        j = T - 1 - meta[:, 1]
        rows = []
        for h in range(pat.shape[1]):
            rows.append([float(np.mean([pat[b, h, T - 1, j[b] + d] if 0 <= j[b] + d < T else 0.0
                                        for b in range(len(meta))])) for d in range(*around)])
        from_last.append(rows)
    return np.array(by_offset), np.array(from_last)


def train_gpt2(steps, seed=0, batch_size=64, lr=1e-3, weight_decay=0.01, mlp0_weight_decay=3.0):
    """AdamW, one-cycle lr, fresh periodic_batch sequences every step (induction_batch with
    --gpt2-single-repeat), loss on the predictable positions only; progress = repeat accuracy on 1000 held-out
    induction_batch sequences. Strong weight decay on the layer-0 MLP's weights keeps the circuit in the
    attention heads (as for examples/transformer: first-order attributions then rank edges as exact patching
    does)."""
    seed_all(seed)
    rng = np.random.default_rng(seed)
    model = GPT2LMHeadModel()
    mlp0 = {"transformer.h.0.mlp.c_fc.weight", "transformer.h.0.mlp.c_proj.weight"}
    named = list(model.named_parameters())
    groups = [{"params": [p for n, p in named if n not in mlp0], "weight_decay": weight_decay},
              {"params": [p for n, p in named if n in mlp0], "weight_decay": mlp0_weight_decay}]
    opt = torch.optim.AdamW(groups, lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.05)
    ev_tokens, ev_targets, ev_mask, _ = induction_batch(np.random.default_rng(seed + 1), 1000)
    t0 = time.time()
    for step in range(1, steps + 1):
        model.train()
        tok, tgt, msk, _ = (periodic_batch if OPTS.get("gpt2_periodic", True) else induction_batch)(rng, batch_size)
        logits = model(torch.from_numpy(tok))
        loss = F.cross_entropy(logits[torch.from_numpy(msk)], torch.from_numpy(tgt[msk]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 250 == 0 or step == 1:
            acc, _ = gpt2_repeat_accuracy(model, ev_tokens, ev_targets, ev_mask)
            log(f"gpt2 step {step:5d}: loss {loss.item():.4f} repeat acc {acc:.4f} ({time.time() - t0:.1f}s)")
    return model, time.time() - t0


def last_logit_diff(model, tokens, answer, wrong):
    model.eval()
    with torch.no_grad():
        lg = model(torch.from_numpy(tokens))[:, -1].numpy()
    r = np.arange(len(tokens))
    return lg, float((lg[r, answer] - lg[r, wrong]).mean())


def make_gpt2():
    out = f"{HERE}/gpt2{OPTS.get('out_suffix', '')}"
    os.makedirs(out, exist_ok=True)
    steps = OPTS.get("gpt2_steps", 2000)
    model, train_s = train_gpt2(steps, lr=OPTS.get("gpt2_lr", 1e-3), mlp0_weight_decay=OPTS.get("gpt2_mlp0_wd", 3.0))
    ev_tokens, ev_targets, ev_mask, ev_meta = induction_batch(np.random.default_rng(101), 2000)
    acc, last_acc = gpt2_repeat_accuracy(model, ev_tokens, ev_targets, ev_mask)
    log(f"gpt2: repeat-half accuracy on 2000 held-out sequences {acc:.4f} (last position {last_acc:.4f})")
    if acc <= 0.9:
        raise SystemExit(f"gpt2: induction not formed (repeat accuracy {acc:.4f} <= 0.9)")
    prev, ind = gpt2_head_scores(model, ev_tokens[:500], ev_meta[:500])
    log("previous-token score (layer x head):\n" + np.array2string(prev, precision=3))
    log("induction score (layer x head):\n" + np.array2string(ind, precision=3))
    by_offset, from_last = gpt2_offset_attention(model, ev_tokens[:500], ev_meta[:500])
    log("mean attention i -> i-d, d = 0..4 (layer, head, d):\n" + np.array2string(by_offset, precision=3))
    log("attention from the last position to j+d, j = the last token's earlier occurrence, d = -1..3:\n"
        + np.array2string(from_last, precision=3))
    ablation = {}
    for layer, block in enumerate(model.transformer.h):
        for h in range(G_HEADS):
            m = torch.ones(G_HEADS)
            m[h] = 0.0
            block.attn.head_mask = m
            ablation[f"a{layer}.h{h}"] = round(gpt2_repeat_accuracy(model, ev_tokens, ev_targets, ev_mask)[0], 4)
            block.attn.head_mask = None
    log("repeat accuracy with one head zeroed: " + ", ".join(f"{k}:{v:.3f}" for k, v in ablation.items()))

    # tokens.npz: attention data (training-distribution prompts, a separate seed).
    tokens, targets, mask, meta = induction_batch(np.random.default_rng(102), 256)
    np.savez_compressed(f"{out}/tokens.npz", tokens=tokens, targets=targets, loss_mask=mask.astype(np.uint8),
                        meta=meta)

    # Circuit pairs. The clean prompt's last token repeats an earlier one; answer = the successor of that earlier
    # occurrence, wrong = a token absent from the prompt.
    # pairs.npz: corrupt = clean with the earlier occurrence of the last token (the *match*) replaced by another
    #   absent token, so the induction heads find no match (previous-token and induction heads both matter).
    # pairs_copy.npz: corrupt = clean with the copied successor replaced by `wrong` (the corrupt prompt's induction
    #   answer is then `wrong`: only the induction heads' value path changes).
    crng = np.random.default_rng(103)
    n_pairs = 64
    c_tokens, c_targets, _, c_meta = induction_batch(crng, n_pairs)
    clean = c_tokens.copy()
    answer = c_targets[:, -1].copy()
    wrong = np.zeros(n_pairs, dtype=np.int64)
    corrupt_match, corrupt_copy = clean.copy(), clean.copy()
    for i, (p, seg_len, k) in enumerate(c_meta):
        src = p + k - 1  # the answer's position in the first copy
        match = src - 1  # the earlier occurrence of the last token
        assert clean[i, src] == answer[i] and clean[i, match] == clean[i, -1]
        unused = np.setdiff1d(np.arange(G_VOCAB), clean[i])
        pick = crng.choice(unused, size=2, replace=False)
        wrong[i] = pick[0]
        corrupt_copy[i, src] = pick[0]
        corrupt_match[i, match] = pick[1]
    lc, ld_clean = last_logit_diff(model, clean, answer, wrong)
    lm_, ld_match = last_logit_diff(model, corrupt_match, answer, wrong)
    lx, ld_copy = last_logit_diff(model, corrupt_copy, answer, wrong)
    pairs_card = {
        "count": n_pairs,
        "cleanArgmaxIsAnswer": float(np.mean(lc.argmax(1) == answer)),
        "logitDiffClean": round(ld_clean, 4),
        "logitDiffCorruptMatch": round(ld_match, 4),
        "matchCorruptArgmaxIsAnswer": float(np.mean(lm_.argmax(1) == answer)),
        "logitDiffCorruptCopy": round(ld_copy, 4),
        "copyCorruptArgmaxIsWrong": float(np.mean(lx.argmax(1) == wrong)),
    }
    log(f"gpt2 pairs: {pairs_card}")
    np.savez(f"{out}/pairs.npz", clean=clean, corrupt=corrupt_match, answer=answer, wrong=wrong)
    np.savez(f"{out}/pairs_copy.npz", clean=clean, corrupt=corrupt_copy, answer=answer, wrong=wrong)

    # lm.npz: labelled sequences for collapse / hash / redundancy / lib. Every prompt ends inside the repeat, so
    # the last position's next token is determined: y = that token (the vocabulary is the class set), with the
    # full per-position next tokens in `targets` (only the `loss_mask` positions are predictable).
    xs, ts, ms, _ = induction_batch(np.random.default_rng(104), 2048)
    xt, tt, _, _ = induction_batch(np.random.default_rng(105), 512)
    np.savez_compressed(f"{out}/lm.npz", x=xs, y=ts[:, -1].copy(), x_test=xt, y_test=tt[:, -1].copy(),
                        targets=ts, loss_mask=ms.astype(np.uint8))
    lm_logits, _ = last_logit_diff(model, xt, tt[:, -1], tt[:, -1])
    lm_acc = float((lm_logits.argmax(1) == tt[:, -1]).mean())

    _, hist, size = export(model, (torch.from_numpy(tokens[:2]),), f"{out}/gpt2.onnx", ["input_ids"], ["logits"],
                               {"input_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}},
                               opset=14)
    # gpt2_addmm.onnx: the same weights with HF's own Conv1D forward (addmm on a 2-D view: Reshape → Gemm → Reshape)
    Conv1D.addmm = True
    try:
        _, hist_addmm, size_addmm = export(model, (torch.from_numpy(tokens[:2]),), f"{out}/gpt2_addmm.onnx",
                                           ["input_ids"], ["logits"],
                                           {"input_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}},
                                           opset=14)
    finally:
        Conv1D.addmm = False
    with torch.no_grad():
        ref_in = clean[:8]
        np.savez_compressed(f"{out}/reference.npz", input_ids=ref_in, logits=model(torch.from_numpy(ref_in)).numpy(),
                            input_ids_short=ref_in[:, :13],
                            logits_short=model(torch.from_numpy(ref_in[:, :13])).numpy())
    write_card(out, {
        "architecture": "HF-style GPT-2 decoder (GPT2LMHeadModel layout)",
        "vocab": G_VOCAB, "ctx": G_CTX, "d": G_D, "heads": G_HEADS, "layers": G_LAYERS, "dMlp": 4 * G_D,
        "parameters": param_count(model), "onnxBytes": size, "opset": 14, "ops": hist,
        "trainSteps": steps, "trainSeconds": round(train_s, 1),
        "repeatAccuracy": round(acc, 4), "lastPositionAccuracy": round(last_acc, 4),
        "lmTestLastAccuracy": round(lm_acc, 4),
        "previousTokenScore": np.round(prev, 4).tolist(), "inductionScore": np.round(ind, 4).tolist(),
        "repeatAccuracyAblatingHead": ablation, "pairs": pairs_card,
        "addmmVariant": {"file": "gpt2_addmm.onnx", "onnxBytes": size_addmm, "ops": hist_addmm},
        "attentionByOffset": np.round(by_offset, 4).tolist(),
        "attentionFromLastToOccurrencePlus": {"d": [-1, 0, 1, 2, 3], "values": np.round(from_last, 4).tolist()},
    })


# ============================================================================================ bert
# Hugging Face's BertForSequenceClassification (transformers 4.x, eager attention) where it shapes the graph:
# embeddings word + token_type (zeros) + position → LayerNorm; BertSelfAttention with separate query/key/value
# Linear, transpose_for_scores / the context reshape reading their shapes from the tensor, scores divided by
# the Python float √d_head, the extended attention mask (1 − mask)·finfo.min added (built from ones when
# no mask is given, as HF does), Softmax, context; BertSelfOutput / BertOutput: dense → LayerNorm(dense + input)
# (post-LN); BertIntermediate: GELU (erf); pooler dense + tanh on the [CLS] position; classifier Linear.

B_VOCAB, B_T, B_D, B_HEADS, B_LAYERS, B_MLP = 32, 16, 64, 4, 2, 128
B_CLS, B_A, B_B = 0, 1, 2  # [CLS]; the two marked tokens of the task; 3.. are filler


class BertEmbeddings(nn.Module):
    def __init__(self):
        super().__init__()
        self.word_embeddings = nn.Embedding(B_VOCAB, B_D)
        self.position_embeddings = nn.Embedding(B_T, B_D)
        self.token_type_embeddings = nn.Embedding(2, B_D)
        self.LayerNorm = nn.LayerNorm(B_D, eps=1e-12)
        self.register_buffer("position_ids", torch.arange(B_T).expand((1, -1)), persistent=False)
        self.register_buffer("token_type_ids", torch.zeros((1, B_T), dtype=torch.long), persistent=False)

    def forward(self, input_ids):
        seq_length = input_ids.size()[1]
        position_ids = self.position_ids[:, :seq_length]
        token_type_ids = self.token_type_ids[:, :seq_length].expand(input_ids.size()[0], seq_length)
        embeddings = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        embeddings = embeddings + self.position_embeddings(position_ids)
        return self.LayerNorm(embeddings)


class BertSelfAttention(nn.Module):
    """Shared by the BERT and ViT examples (HF's ViTSelfAttention is the same code)."""

    def __init__(self, d, heads):
        super().__init__()
        self.num_attention_heads, self.attention_head_size, self.all_head_size = heads, d // heads, d
        self.query = nn.Linear(d, d)
        self.key = nn.Linear(d, d)
        self.value = nn.Linear(d, d)
        self.head_mask = None  # python-only ablation hook
        self.last_pattern = None

    def transpose_for_scores(self, x):
        new_x_shape = x.size()[:-1] + (self.num_attention_heads, self.attention_head_size)
        return x.view(new_x_shape).permute(0, 2, 1, 3)

    def forward(self, hidden_states, attention_mask=None):
        query_layer = self.transpose_for_scores(self.query(hidden_states))
        key_layer = self.transpose_for_scores(self.key(hidden_states))
        value_layer = self.transpose_for_scores(self.value(hidden_states))
        attention_scores = torch.matmul(query_layer, key_layer.transpose(-1, -2))
        attention_scores = attention_scores / math.sqrt(self.attention_head_size)
        if attention_mask is not None:
            attention_scores = attention_scores + attention_mask
        attention_probs = nn.functional.softmax(attention_scores, dim=-1)
        self.last_pattern = attention_probs
        context_layer = torch.matmul(attention_probs, value_layer)
        if self.head_mask is not None:
            context_layer = context_layer * self.head_mask.view(1, -1, 1, 1)
        context_layer = context_layer.permute(0, 2, 1, 3).contiguous()
        new_context_layer_shape = context_layer.size()[:-2] + (self.all_head_size,)
        return context_layer.view(new_context_layer_shape)


class BertSelfOutput(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(B_D, B_D)
        self.LayerNorm = nn.LayerNorm(B_D, eps=1e-12)

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dense(hidden_states) + input_tensor)


class BertAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.self = BertSelfAttention(B_D, B_HEADS)
        self.output = BertSelfOutput()

    def forward(self, hidden_states, attention_mask):
        return self.output(self.self(hidden_states, attention_mask), hidden_states)


class BertIntermediate(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(B_D, B_MLP)

    def forward(self, hidden_states):
        return F.gelu(self.dense(hidden_states))


class BertOutput(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(B_MLP, B_D)
        self.LayerNorm = nn.LayerNorm(B_D, eps=1e-12)

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dense(hidden_states) + input_tensor)


class BertLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = BertAttention()
        self.intermediate = BertIntermediate()
        self.output = BertOutput()

    def forward(self, hidden_states, attention_mask):
        attention_output = self.attention(hidden_states, attention_mask)
        return self.output(self.intermediate(attention_output), attention_output)


class BertEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer() for _ in range(B_LAYERS)])

    def forward(self, hidden_states, attention_mask):
        for layer in self.layer:
            hidden_states = layer(hidden_states, attention_mask)
        return hidden_states


class BertPooler(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(B_D, B_D)
        self.activation = nn.Tanh()

    def forward(self, hidden_states):
        return self.activation(self.dense(hidden_states[:, 0]))


class BertModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embeddings = BertEmbeddings()
        self.encoder = BertEncoder()
        self.pooler = BertPooler()

    def forward(self, input_ids, attention_mask=None):
        if attention_mask is None:
            attention_mask = torch.ones(input_ids.size(), device=input_ids.device)
        extended = attention_mask[:, None, None, :].to(dtype=torch.float32)
        extended = (1.0 - extended) * torch.finfo(torch.float32).min
        sequence_output = self.encoder(self.embeddings(input_ids), extended)
        return self.pooler(sequence_output)


class BertForSequenceClassification(nn.Module):
    def __init__(self):
        super().__init__()
        self.bert = BertModel()
        self.classifier = nn.Linear(B_D, 2)
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            m.weight.data.normal_(0.0, 0.02)
            if isinstance(m, nn.Linear) and m.bias is not None:
                m.bias.data.zero_()

    def forward(self, input_ids, attention_mask=None):
        return self.classifier(self.bert(input_ids, attention_mask))


def bert_batch(rng, n, T=B_T):
    """[CLS] then T-1 tokens: filler tokens 3..V-1 (with repeats) and exactly one A (1) and one B (2) at two
    random positions. Label 1 when A comes before B. Returns tokens (n,T), labels (n,), positions of A and B."""
    toks = rng.integers(3, B_VOCAB, size=(n, T), dtype=np.int64)
    toks[:, 0] = B_CLS
    pos = np.zeros((n, 2), dtype=np.int64)
    for i in range(n):
        a, b = rng.choice(np.arange(1, T), size=2, replace=False)
        toks[i, a], toks[i, b] = B_A, B_B
        pos[i] = (a, b)
    return toks, (pos[:, 0] < pos[:, 1]).astype(np.int64), pos


def make_bert(steps=500, batch_size=64, lr=1e-3):
    out = f"{HERE}/bert{OPTS.get('out_suffix', '')}"
    os.makedirs(out, exist_ok=True)
    seed_all(0)
    rng = np.random.default_rng(0)
    model = BertForSequenceClassification()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.05)
    xt, yt, _ = bert_batch(np.random.default_rng(201), 1000)
    xt_t, yt_t = torch.from_numpy(xt), torch.from_numpy(yt)
    t0 = time.time()
    for step in range(1, steps + 1):
        model.train()
        x, y, _ = bert_batch(rng, batch_size)
        loss = F.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 250 == 0 or step == 1:
            log(f"bert step {step:5d}: loss {loss.item():.4f} test acc {accuracy(model, xt_t, yt_t):.4f} "
                f"({time.time() - t0:.1f}s)")
    train_s = time.time() - t0
    # Data: x/y for collapse/hash/redundancy/lib (training distribution, separate seeds), tokens for attention.
    x, y, _ = bert_batch(np.random.default_rng(202), 2000)
    test_acc, train_acc = accuracy(model, xt_t, yt_t), accuracy(model, torch.from_numpy(x), torch.from_numpy(y))
    log(f"bert: accuracy {train_acc:.4f} on the 2000 stored x, {test_acc:.4f} on the 1000 x_test")
    np.savez_compressed(f"{out}/data.npz", x=x, y=y, x_test=xt, y_test=yt)
    np.savez_compressed(f"{out}/tokens.npz", tokens=x[:256])
    # Circuit pairs: corrupt = clean with A and B swapped (the label flips); answer = the clean label, wrong = the
    # other class; the metric is the logit difference logits[answer] − logits[wrong] of the classifier.
    cx, cy, _ = bert_batch(np.random.default_rng(203), 64)
    corrupt = cx.copy()
    corrupt[cx == B_A], corrupt[cx == B_B] = B_B, B_A
    answer, wrong = cy, 1 - cy
    model.eval()
    with torch.no_grad():
        lc, lx = model(torch.from_numpy(cx)).numpy(), model(torch.from_numpy(corrupt)).numpy()
    r = np.arange(64)
    pairs_card = {"count": 64, "cleanCorrect": float(np.mean(lc.argmax(1) == answer)),
                  "corruptFlipped": float(np.mean(lx.argmax(1) == wrong)),
                  "logitDiffClean": round(float((lc[r, answer] - lc[r, wrong]).mean()), 4),
                  "logitDiffCorrupt": round(float((lx[r, answer] - lx[r, wrong]).mean()), 4)}
    log(f"bert pairs: {pairs_card}")
    np.savez(f"{out}/pairs.npz", clean=cx, corrupt=corrupt, answer=answer, wrong=wrong)
    _, hist, size = export(model, (torch.from_numpy(x[:2]),), f"{out}/bert.onnx", ["input_ids"], ["logits"],
                               {"input_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch"}}, opset=14)
    # bert_mask.onnx: the same weights exported with HF's usual second input, `attention_mask` int64 (batch,
    # sequence), 1 = attend, 0 = padding (its key gets (1 − 0)·finfo.min added). The model was trained without
    # padding: an all-ones mask reproduces bert.onnx; zeros change the prediction (not a trained behaviour).
    ones = torch.ones((2, B_T), dtype=torch.long)
    _, hist_m, size_m = export(model, (torch.from_numpy(x[:2]), ones), f"{out}/bert_mask.onnx",
                               ["input_ids", "attention_mask"], ["logits"],
                               {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                                "logits": {0: "batch"}}, opset=14)
    ref_mask = np.ones((8, B_T), dtype=np.int64)
    ref_mask[4:, -3:] = 0
    with torch.no_grad():
        np.savez_compressed(f"{out}/reference.npz", input_ids=cx[:8], logits=model(torch.from_numpy(cx[:8])).numpy(),
                            attention_mask=ref_mask,
                            logits_mask=model(torch.from_numpy(cx[:8]), torch.from_numpy(ref_mask)).numpy())
    write_card(out, {
        "architecture": "BERT-style post-LN encoder (BertForSequenceClassification layout)",
        "task": "does token A (1) occur before token B (2) in [CLS] + 15 tokens",
        "vocab": B_VOCAB, "T": B_T, "d": B_D, "heads": B_HEADS, "layers": B_LAYERS, "dMlp": B_MLP,
        "parameters": param_count(model), "onnxBytes": size, "opset": 14, "ops": hist,
        "trainSteps": steps, "trainSeconds": round(train_s, 1),
        "accuracyTrainData": round(train_acc, 4), "accuracyTest": round(test_acc, 4), "pairs": pairs_card,
        "maskVariant": {"file": "bert_mask.onnx", "inputs": ["input_ids", "attention_mask"], "onnxBytes": size_m,
                        "ops": hist_m},
    })


# ============================================================================================ vit
# Hugging Face's ViTForImageClassification layout: patch embedding Conv2d(kernel = stride = patch) → flatten →
# transpose, a [CLS] token prepended, learned position embeddings; pre-LN layers (layernorm_before →
# ViTSelfAttention (= BertSelfAttention) → output dense → residual; layernorm_after → intermediate dense +
# GELU (erf) → output dense → residual); final layernorm; classifier on the [CLS] position.

V_PATCH, V_D, V_HEADS, V_LAYERS, V_MLP = 7, 64, 4, 3, 128
V_TOKENS = (28 // V_PATCH) ** 2 + 1


class ViTEmbeddings(nn.Module):
    def __init__(self):
        super().__init__()
        self.cls_token = nn.Parameter(torch.randn(1, 1, V_D) * 0.02)
        self.patch_embeddings = nn.Module()
        self.patch_embeddings.projection = nn.Conv2d(1, V_D, kernel_size=V_PATCH, stride=V_PATCH)
        self.position_embeddings = nn.Parameter(torch.randn(1, V_TOKENS, V_D) * 0.02)

    def forward(self, pixel_values):
        batch_size = pixel_values.shape[0]
        embeddings = self.patch_embeddings.projection(pixel_values).flatten(2).transpose(1, 2)
        cls_tokens = self.cls_token.expand(batch_size, -1, -1)
        embeddings = torch.cat((cls_tokens, embeddings), dim=1)
        return embeddings + self.position_embeddings


class ViTAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = BertSelfAttention(V_D, V_HEADS)
        self.output = nn.Module()
        self.output.dense = nn.Linear(V_D, V_D)

    def forward(self, hidden_states):
        return self.output.dense(self.attention(hidden_states))


class ViTLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = ViTAttention()
        self.intermediate = nn.Module()
        self.intermediate.dense = nn.Linear(V_D, V_MLP)
        self.output = nn.Module()
        self.output.dense = nn.Linear(V_MLP, V_D)
        self.layernorm_before = nn.LayerNorm(V_D, eps=1e-12)
        self.layernorm_after = nn.LayerNorm(V_D, eps=1e-12)

    def forward(self, hidden_states):
        hidden_states = self.attention(self.layernorm_before(hidden_states)) + hidden_states
        layer_output = F.gelu(self.intermediate.dense(self.layernorm_after(hidden_states)))
        return self.output.dense(layer_output) + hidden_states


class ViTForImageClassification(nn.Module):
    def __init__(self):
        super().__init__()
        self.vit = nn.Module()
        self.vit.embeddings = ViTEmbeddings()
        self.vit.encoder = nn.Module()
        self.vit.encoder.layer = nn.ModuleList([ViTLayer() for _ in range(V_LAYERS)])
        self.vit.layernorm = nn.LayerNorm(V_D, eps=1e-12)
        self.classifier = nn.Linear(V_D, 10)

    def forward(self, pixel_values):
        h = self.vit.embeddings(pixel_values)
        for layer in self.vit.encoder.layer:
            h = layer(h)
        return self.classifier(self.vit.layernorm(h)[:, 0, :])


def augment(x, gen):
    """Random horizontal flips and ±2-pixel shifts (Fashion-MNIST is left-right symmetric enough)."""
    flip = torch.rand(len(x), generator=gen) < 0.5
    x = torch.where(flip.view(-1, 1, 1, 1), x.flip(-1), x)
    dx, dy = [int(v) for v in torch.randint(-2, 3, (2,), generator=gen)]
    return torch.roll(x, shifts=(dy, dx), dims=(2, 3))


def train_images(model, name, epochs, lr, weight_decay, batch_size=128, aug=True):
    x, y, xt, yt = load_fmnist()
    seed_all(0)
    gen = torch.Generator().manual_seed(0)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps = epochs * math.ceil(len(x) / batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    t0 = time.time()
    for epoch in range(1, epochs + 1):
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), batch_size):
            idx = perm[i:i + batch_size]
            xb = augment(x[idx], gen) if aug else x[idx]
            loss = F.cross_entropy(model(xb), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        if epoch % 5 == 0 or epoch == 1 or epoch == epochs:
            log(f"{name} epoch {epoch:3d}: loss {loss.item():.4f} train {accuracy(model, x, y):.4f} "
                f"test {accuracy(model, xt, yt):.4f} ({time.time() - t0:.1f}s)")
    return accuracy(model, x, y), accuracy(model, xt, yt), time.time() - t0


def image_pairs(model, n=64, seed=301):
    """clean = a correctly classified test image of class a, corrupt = a correctly classified test image of class
    b ≠ a; answer = a, wrong = b (the metric: logits[a] − logits[b])."""
    _, _, xt, yt = load_fmnist()
    model.eval()
    with torch.no_grad():
        pred = model(xt).argmax(-1)
    ok = (pred == yt).numpy()
    rng = np.random.default_rng(seed)
    by_class = [rng.permutation(np.flatnonzero(ok & (yt.numpy() == c))) for c in range(10)]
    used = [0] * 10
    clean, corrupt, answer, wrong = [], [], [], []
    for i in range(n):
        a = i % 10
        b = (a + 1 + int(rng.integers(0, 9))) % 10
        clean.append(by_class[a][used[a]])
        used[a] += 1
        corrupt.append(by_class[b][used[b]])
        used[b] += 1
        answer.append(a)
        wrong.append(b)
    ci, xi = np.array(clean), np.array(corrupt)
    answer, wrong = np.array(answer, dtype=np.int64), np.array(wrong, dtype=np.int64)
    with torch.no_grad():
        lc, lx = model(xt[ci]).numpy(), model(xt[xi]).numpy()
    r = np.arange(n)
    card = {"count": n, "from": "x_test of examples/data/fmnist.npz", "cleanIndex": ci.tolist(),
            "corruptIndex": xi.tolist(),
            "logitDiffClean": round(float((lc[r, answer] - lc[r, wrong]).mean()), 4),
            "logitDiffCorrupt": round(float((lx[r, answer] - lx[r, wrong]).mean()), 4)}
    return dict(clean=xt[ci].numpy(), corrupt=xt[xi].numpy(), answer=answer, wrong=wrong), card


def make_vit(epochs=30, lr=2e-3):
    out = f"{HERE}/vit{OPTS.get('out_suffix', '')}"
    os.makedirs(out, exist_ok=True)
    seed_all(0)
    model = ViTForImageClassification()
    train_acc, test_acc, train_s = train_images(model, "vit", epochs, lr, weight_decay=0.05)
    log(f"vit: train {train_acc:.4f} test {test_acc:.4f}")
    if test_acc <= 0.8:
        raise SystemExit(f"vit: test accuracy {test_acc:.4f} <= 0.8")
    finish_image_model(model, out, "vit", train_acc, test_acc, train_s, epochs, {
        "architecture": "ViT (ViTForImageClassification layout), pre-LN",
        "patch": V_PATCH, "tokens": V_TOKENS, "d": V_D, "heads": V_HEADS, "layers": V_LAYERS, "dMlp": V_MLP,
        "optimizer": f"AdamW lr {lr} one-cycle, weight decay 0.05, batch 128, flips + ±2 px shifts",
    })


def finish_image_model(model, out, name, train_acc, test_acc, train_s, epochs, card):
    _, _, xt, yt = load_fmnist()
    pairs, pairs_card = image_pairs(model)
    np.savez_compressed(f"{out}/pairs.npz", **pairs)
    # A small labelled subset for quick runs (attention, collapse); the full sets are examples/data/fmnist.npz.
    sub = np.concatenate([np.flatnonzero(yt.numpy() == c)[:20] for c in range(10)])
    np.savez_compressed(f"{out}/images.npz", x=xt[sub].numpy(), y=yt[sub].numpy())
    _, hist, size = export(model, (xt[:2],), f"{out}/{name}.onnx", ["pixel_values"], ["logits"],
                               {"pixel_values": {0: "batch"}, "logits": {0: "batch"}}, opset=17)
    with torch.no_grad():
        np.savez_compressed(f"{out}/reference.npz", pixel_values=xt[:8].numpy(), logits=model(xt[:8]).numpy())
    card.update({"parameters": param_count(model), "onnxBytes": size, "opset": 17, "ops": hist, "epochs": epochs,
                 "trainSeconds": round(train_s, 1), "accuracyTrain": round(train_acc, 4),
                 "accuracyTest": round(test_acc, 4), "pairs": pairs_card})
    write_card(out, card)


# ============================================================================================ resnet
# torchvision's BasicBlock: conv3x3-BN-ReLU-conv3x3-BN + shortcut (identity, or a 1x1 conv + BN projection when
# the stride or width changes), ReLU; a conv-BN-ReLU stem, three stages, global average pool, linear head.
# Exported in eval mode: torch.onnx folds each BatchNorm into its Conv, as every exporter does.

class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + identity)


class ResNet(nn.Module):
    def __init__(self, widths=(8, 16, 32)):
        super().__init__()
        self.conv1 = nn.Conv2d(1, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.layer1 = BasicBlock(widths[0], widths[0], 1)
        self.layer2 = BasicBlock(widths[0], widths[1], 2)
        self.layer3 = BasicBlock(widths[1], widths[2], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[2], 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def make_resnet(epochs=15, lr=3e-3, aug=False):
    out = f"{HERE}/resnet{OPTS.get('out_suffix', '')}"
    os.makedirs(out, exist_ok=True)
    seed_all(0)
    model = ResNet()
    train_acc, test_acc, train_s = train_images(model, "resnet", epochs, lr, weight_decay=5e-4, aug=aug)
    log(f"resnet: train {train_acc:.4f} test {test_acc:.4f}")
    finish_image_model(model, out, "resnet", train_acc, test_acc, train_s, epochs, {
        "architecture": "ResNet-style CNN (torchvision BasicBlock), widths 8/16/32, projection shortcuts",
        "optimizer": f"AdamW lr {lr} one-cycle, weight decay 5e-4, batch 128"
                     + (", flips + ±2 px shifts" if aug else ", no augmentation"),
    })


# ============================================================================================ main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", choices=PARTS, default=PARTS, help="parts to (re)build")
    ap.add_argument("--gpt2-steps", type=int, default=2000)
    ap.add_argument("--gpt2-lr", type=float, default=1e-3)
    ap.add_argument("--gpt2-single-repeat", dest="gpt2_periodic", action="store_false",
                    help="train on induction_batch (one repeat) instead of periodic_batch")
    ap.add_argument("--gpt2-mlp0-wd", type=float, default=3.0, help="weight decay of the layer-0 MLP's weights")
    ap.add_argument("--gpt2-min-period", type=int, default=2, help="shortest repeated segment in training")
    ap.add_argument("--out-suffix", default="", help="write examples/<part><suffix>/ (for trial runs)")
    args = ap.parse_args()
    OPTS.update(vars(args))
    log(f"torch {torch.__version__}, onnx {onnx.__version__}, numpy {np.__version__}")
    for part in PARTS:
        if part in args.only:
            t0 = time.time()
            globals()[f"make_{part}"]()
            log(f"[{part}] done in {time.time() - t0:.1f}s\n")


if __name__ == "__main__":
    sys.exit(main())
