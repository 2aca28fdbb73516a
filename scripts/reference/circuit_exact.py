#!/usr/bin/python3
"""Independent PyTorch reference for exact activation patching on the example transformer (the engine's
circuit `validate` option), so that the circuit test's Spearman checks compare EAP / EAP-IG with numbers that
did not come out of the engine.

    OMP_NUM_THREADS=1 /usr/bin/python3 scripts/reference/circuit_exact.py
    # writes test/fixtures/attention/exact_patching.json
    OMP_NUM_THREADS=1 /usr/bin/python3 scripts/reference/circuit_exact.py --vit DIR
    # DIR made by scripts/reference/vit_tiny_export.py: writes DIR/exact.json for its image pairs, the metric
    # being the logit difference between the classes answer and wrong of the classification output (see vit_main)
    OMP_NUM_THREADS=1 /usr/bin/python3 scripts/reference/circuit_exact.py --bert DIR
    # DIR made by scripts/reference/bert_tiny_export.py (post-LN): writes DIR/exact.json (see DecomposedBert)

Written from ../../shared/ANALYSES.md (circuits) and the component graph described in
scripts/bench/gpt2_reference.py, not from our TypeScript. The model is the example's own torch class
(examples/make_examples.py `GPT`), loaded from the ONNX initializers by attention_reference.load_model.

Component graph (2 layers × 4 heads, 110 edges): senders `input` (token + position embedding), `a{l}.h{h}` (the
head's write z_h · W_O[:, h]ᵀ, without the output bias) and `m{l}` (the MLP block's output, bias included);
receivers in stream order: each head's q, then k, then v input of layer l (heads 0…3 each), the layer's MLP,
…, then `logits`. A receiver reads every sender before it: edge ids `a0.h1->a1.h2<k>`, `input->m0`,
`m1->logits`. Each receiver has its own copy of the residual stream: base + Σ_{senders before it} value, base =
the attention output biases of the layers before it (equal in clean and corrupted runs).

Exact patching of edge u → v: one forward over the clean prompts in which receiver v reads sender u's value
from the corrupted run (everything else computed as usual, so the change propagates downstream); the score is
that metric minus the clean metric. Metric: logit(answer) − logit(wrong) at the last position, mean over the
pairs of test/fixtures/attention/induction_match_pairs.npz (the pairs the circuit test validates on).
"""
import json
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import attention_reference as ar  # noqa: E402  (load_model: the example's torch class from the ONNX initializers)

mx = ar.mx
ROOT = os.path.join(HERE, "..", "..")
PAIRS = os.path.join(ROOT, "test", "fixtures", "attention", "induction_match_pairs.npz")
OUT = os.path.join(ROOT, "test", "fixtures", "attention", "exact_patching.json")


def graph(layers, heads):
    """Senders, receivers (node, port) in stream order, and edges (id, sender index, receiver index)."""
    senders, receivers, upstream = ["input"], [], []
    for l in range(layers):
        avail = len(senders)
        for port in "qkv":
            for h in range(heads):
                receivers.append((f"a{l}.h{h}", port))
                upstream.append(avail)
        senders += [f"a{l}.h{h}" for h in range(heads)]
        receivers.append((f"m{l}", None))
        upstream.append(len(senders))
        senders.append(f"m{l}")
    receivers.append(("logits", None))
    upstream.append(len(senders))
    edges = []
    for r, (node, port) in enumerate(receivers):
        for s in range(upstream[r]):
            edges.append((f"{senders[s]}->{node}" + (f"<{port}>" if port else ""), s, r))
    return senders, receivers, edges


class Decomposed:
    """The example GPT run receiver by receiver, each reading its own sum of sender values."""

    def __init__(self, model):
        self.m = model
        self.H, self.dh, self.D = mx.N_HEADS, mx.D_HEAD, mx.D_MODEL
        self.senders, self.receivers, self.edges = graph(len(model.blocks), self.H)
        self.index = {(e[1], e[2]): i for i, e in enumerate(self.edges)}

    def run(self, tokens, answer, wrong, corrupt=None, patched=None):
        """Returns (metric, logits [B, T, V], sender values [nS, B, T, D]). `patched`: the edge index whose
        receiver reads the sender value from `corrupt` (sender values of the corrupted run)."""
        m, H, dh = self.m, self.H, self.dh
        B, T = tokens.shape
        outs = [m.embed(tokens) + m.pos_embed]
        base = torch.zeros(self.D)
        r = 0

        def receiver_input(r):
            total = base.clone()
            for s in range(len(outs)):
                e = self.index.get((s, r))
                total = total + (corrupt[s] if patched is not None and e == patched else outs[s])
            return total

        for block in m.blocks:
            a = block.attn
            ins = {port: [receiver_input(r + i * H + h) for h in range(H)] for i, port in enumerate("qkv")}
            r += 3 * H

            def head_part(lin, x, h):
                y = lin(block.ln1(x))  # [B, T, D]
                return y[..., h * dh:(h + 1) * dh]

            writes = []
            for h in range(H):
                q = head_part(a.q, ins["q"][h], h)
                k = head_part(a.k, ins["k"][h], h)
                v = head_part(a.v, ins["v"][h], h)
                p = torch.softmax(torch.matmul(q, k.transpose(1, 2)) * (1.0 / dh ** 0.5) + m.mask, dim=-1)
                z = torch.matmul(p, v)  # [B, T, dh]
                writes.append(torch.matmul(z, a.o.weight[:, h * dh:(h + 1) * dh].t()))
            outs.extend(writes)
            base = base + a.o.bias
            x = receiver_input(r)
            r += 1
            outs.append(block.mlp(block.ln2(x)))
        x = receiver_input(r)
        logits = m.unembed(m.ln_f(x))
        rows = torch.arange(B)
        metric = (logits[rows, -1, answer] - logits[rows, -1, wrong]).mean()
        return float(metric), logits, torch.stack(outs)


def main():
    model = ar.load_model()
    z = np.load(PAIRS)
    clean, corrupt = (torch.from_numpy(z[k].astype(np.int64)) for k in ("clean", "corrupt"))
    answer, wrong = (torch.from_numpy(z[k].astype(np.int64)) for k in ("answer", "wrong"))
    dec = Decomposed(model)
    assert len(dec.edges) == 110, len(dec.edges)
    with torch.no_grad():
        m_clean, logits, _ = dec.run(clean, answer, wrong)
        m_corrupt, _, s_corrupt = dec.run(corrupt, answer, wrong)
        # The decomposition with nothing patched is the model itself.
        err = float((logits - model(clean)).abs().max())
        print(f"decomposed vs the torch model's logits: max |diff| {err:.2e}")
        assert err < 1e-4, err
        exact = []
        for e in range(len(dec.edges)):
            m_e, _, _ = dec.run(clean, answer, wrong, corrupt=s_corrupt, patched=e)
            exact.append(m_e - m_clean)
    out = {
        "how": "scripts/reference/circuit_exact.py: exact activation patching per edge in PyTorch on the example transformer (see the script's header)",
        "pairs": os.path.relpath(PAIRS, ROOT),
        "metricClean": m_clean,
        "metricCorrupt": m_corrupt,
        "edges": [e[0] for e in dec.edges],
        "exactScores": [float(f"{v:.9g}") for v in exact],
    }
    with open(OUT, "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    top = sorted(range(len(exact)), key=lambda i: -abs(exact[i]))[:5]
    print(f"wrote {OUT}: metric clean {m_clean:.4f}, corrupt {m_corrupt:.4f}; largest |exact|: " + ", ".join(f"{dec.edges[i][0]} {exact[i]:.4f}" for i in top))


class DecomposedViT:
    """The timm-style ViT of vit_tiny_export.py run receiver by receiver (the same component graph as above:
    `input` = patch embedding + cls + positions; a head's write z_h · W_proj[:, h]ᵀ without the proj bias, which
    goes to the base; an MLP's output with its bias). Metric: logit(answer) − logit(wrong) of the classifier on
    the cls position, mean over pairs."""

    def __init__(self, model, vt):
        self.m, self.vt = model, vt
        self.H, self.D = vt.HEADS, vt.D
        self.dh = self.D // self.H
        self.senders, self.receivers, self.edges = graph(len(model.blocks), self.H)
        self.index = {(e[1], e[2]): i for i, e in enumerate(self.edges)}

    def run(self, images, answer, wrong, corrupt=None, patched=None, deltas=None):
        m, H, dh, D = self.m, self.H, self.dh, self.D
        outs = [m.embed(images)]
        base = torch.zeros(D)
        r = 0

        def receiver_input(r):
            total = base.clone()
            for s in range(len(outs)):
                e = self.index.get((s, r))
                total = total + (corrupt[s] if patched is not None and e == patched else outs[s])
                if deltas is not None:
                    total = total + deltas[e]
            return total

        for block in m.blocks:
            a = block.attn
            ins = {port: [receiver_input(r + i * H + h) for h in range(H)] for i, port in enumerate("qkv")}
            r += 3 * H
            W, b = a.qkv.weight, a.qkv.bias  # (3D, D): rows q | k | v, heads contiguous inside each

            def head_part(port, x, h):
                lo = port * D + h * dh
                return torch.matmul(block.norm1(x), W[lo:lo + dh].t()) + b[lo:lo + dh]

            writes = []
            for h in range(H):
                q, k, v = head_part(0, ins["q"][h], h), head_part(1, ins["k"][h], h), head_part(2, ins["v"][h], h)
                p = torch.softmax(torch.matmul(q, k.transpose(1, 2)) * a.scale, dim=-1)
                z = torch.matmul(p, v)
                writes.append(torch.matmul(z, a.proj.weight[:, h * dh:(h + 1) * dh].t()))
            outs.extend(writes)
            base = base + a.proj.bias
            x = receiver_input(r)
            r += 1
            outs.append(block.mlp(block.norm2(x)))
        x = receiver_input(r)
        logits = m.head(m.norm(x)[:, 0])
        rows = torch.arange(images.shape[0])
        metric = (logits[rows, answer] - logits[rows, wrong]).mean()
        return (metric if deltas is not None else float(metric)), logits, torch.stack(outs)

    def run_tensor(self, x, answer, wrong, deltas):
        return self.run(x, answer, wrong, deltas=deltas)


class DecomposedBert:
    """The post-LN encoder of bert_tiny_export.py run receiver by receiver. Post-LN edges (examples/README.md):
    sender values are the components' writes *before* the norm that follows their residual Add (`input` = the
    embeddings after their LayerNorm; a head's z_h · W_dense[:, h]ᵀ, the dense bias added to its layer's block
    sum; an MLP's output with its bias), and every receiver rebuilds its own stream from them, norms included:
    x = m_0; x = LN_j(x + m_j) for each component j before it (the last component's LN2 is part of the
    logits node, as the pooler and classifier are). Patching edge u → v replaces u's value by its corrupted-run
    value in v's rebuild only."""

    def __init__(self, model, bt):
        self.m = model
        self.H, self.D = bt.HEADS, bt.D
        self.dh = self.D // self.H
        self.senders, self.receivers, self.edges = graph(len(model.layers), self.H)
        self.index = {(e[1], e[2]): i for i, e in enumerate(self.edges)}

    def run(self, ids, answer, wrong, corrupt=None, patched=None, deltas=None):
        m, H, dh, D = self.m, self.H, self.dh, self.D
        outs = [m.embed(ids)]
        blocks = [(0, 1, None)]  # (first sender, count, bias) per block
        norms = []  # the norm after each component (None for the last)
        r = 0

        def receiver_input(r):
            x = None
            for j, (s0, n, bias) in enumerate(blocks):
                mj = sum((corrupt[s] if patched is not None and self.index.get((s, r)) == patched else outs[s])
                         + (deltas[self.index[(s, r)]] if deltas is not None else 0) for s in range(s0, s0 + n))
                if bias is not None:
                    mj = mj + bias
                x = mj if x is None else (norms[j - 1](x + mj) if norms[j - 1] is not None else x + mj)
            return x

        for li, layer in enumerate(m.layers):
            a = layer.attention
            ins = {port: [receiver_input(r + i * H + h) for h in range(H)] for i, port in enumerate("qkv")}
            r += 3 * H
            lins = {"q": a.query, "k": a.key, "v": a.value}

            def head_part(port, x, h):
                lin = lins[port]
                return torch.matmul(x, lin.weight[h * dh:(h + 1) * dh].t()) + lin.bias[h * dh:(h + 1) * dh]

            writes = []
            for h in range(H):
                q, k, v = (head_part(p, ins[p][h], h) for p in "qkv")
                p = torch.softmax(torch.matmul(q, k.transpose(1, 2)) / dh ** 0.5, dim=-1)
                writes.append(torch.matmul(torch.matmul(p, v), a.dense.weight[:, h * dh:(h + 1) * dh].t()))
            blocks.append((len(outs), H, a.dense.bias))
            outs.extend(writes)
            norms.append(layer.ln1)
            x = receiver_input(r)
            r += 1
            blocks.append((len(outs), 1, None))
            outs.append(layer.mlp(x))
            norms.append(layer.ln2 if li + 1 < len(m.layers) else None)
        x = receiver_input(r)
        logits = m.head(m.layers[-1].ln2(x))
        rows = torch.arange(ids.shape[0])
        metric = (logits[rows, answer] - logits[rows, wrong]).mean()
        return (metric if deltas is not None else float(metric)), logits, torch.stack(outs)

    def run_tensor(self, x, answer, wrong, deltas):
        return self.run(x, answer, wrong, deltas=deltas)


def exact_json(dec, model, clean, corrupt, answer, wrong, how, out_path):
    with torch.no_grad():
        m_clean, logits, _ = dec.run(clean, answer, wrong)
        m_corrupt, _, s_corrupt = dec.run(corrupt, answer, wrong)
        err = float((logits - model(clean)).abs().max())
        assert err < 1e-4, err
        _, _, s_clean = dec.run(clean, answer, wrong)
        exact = []
        for e in range(len(dec.edges)):
            m_e, _, _ = dec.run(clean, answer, wrong, corrupt=s_corrupt, patched=e)
            exact.append(m_e - m_clean)
    # EAP: (corrupt_u − clean_u) · ∂metric/∂(u's value as receiver v reads it), by autograd on a zero
    # perturbation per edge (the gradient at the clean run)
    deltas = [torch.zeros_like(s_clean[0], requires_grad=True) for _ in dec.edges]
    metric, _, _ = dec.run_tensor(clean, answer, wrong, deltas)
    grads = torch.autograd.grad(metric, deltas)
    eap = [float(((s_corrupt[u] - s_clean[u]) * grads[e]).sum()) for e, (_, u, _) in enumerate(dec.edges)]
    out = {"how": how, "metricClean": m_clean, "metricCorrupt": m_corrupt, "edges": [e[0] for e in dec.edges],
           "exactScores": [float(f"{v:.9g}") for v in exact], "eapScores": [float(f"{v:.9g}") for v in eap]}
    with open(out_path, "w") as fh:
        json.dump(out, fh, indent=1)
    print(f"decomposed vs the torch model {err:.2e}; metric clean {m_clean:.4f}, corrupt {m_corrupt:.4f}; {len(exact)} edges")


def bert_main(folder):
    import bert_tiny_export as bt  # noqa: E402

    model = bt.Bert().eval()
    model.load_state_dict(torch.load(os.path.join(folder, "bert.pt")))
    z = np.load(os.path.join(folder, "pairs.npz"))
    clean, corrupt, answer, wrong = (torch.from_numpy(z[k].astype(np.int64)) for k in ("clean", "corrupt", "answer", "wrong"))
    exact_json(DecomposedBert(model, bt), model, clean, corrupt, answer, wrong,
               "scripts/reference/circuit_exact.py --bert: exact activation patching per edge in PyTorch on the tiny post-LN encoder", os.path.join(folder, "exact.json"))


def vit_main(folder):
    import vit_tiny_export as vt  # noqa: E402  (the model class the export script wrote)

    model = vt.ViT().eval()
    model.load_state_dict(torch.load(os.path.join(folder, "vit.pt")))
    z = np.load(os.path.join(folder, "pairs.npz"))
    clean, corrupt = (torch.from_numpy(z[k].astype(np.float32)) for k in ("clean", "corrupt"))
    answer, wrong = (torch.from_numpy(z[k].astype(np.int64)) for k in ("answer", "wrong"))
    exact_json(DecomposedViT(model, vt), model, clean, corrupt, answer, wrong,
               "scripts/reference/circuit_exact.py --vit: exact activation patching per edge in PyTorch on the tiny ViT", os.path.join(folder, "exact.json"))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--vit":
        vit_main(sys.argv[2])
    elif len(sys.argv) > 2 and sys.argv[1] == "--bert":
        bert_main(sys.argv[2])
    else:
        main()
