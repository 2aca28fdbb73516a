#!/usr/bin/python3
"""Plain PyTorch reference (one thread) for `npm run bench scale`: attention sparsity proxies and EAP-IG edge
scores on the GPT-2-architecture export of scripts/bench/gpt2_export.py, computed the way our analyses define
them, independently of our TypeScript.

    /usr/bin/python3 scripts/bench/gpt2_reference.py info MODEL.onnx   # the `info` row's baseline: onnx.load + counting
    OMP_NUM_THREADS=1 /usr/bin/python3 scripts/bench/gpt2_reference.py attention MODEL.onnx TOKENS.npz --heads H --out OUT.json
    OMP_NUM_THREADS=1 /usr/bin/python3 scripts/bench/gpt2_reference.py circuit MODEL.onnx PAIRS.npz --heads H \
        [--steps 5] [--edges N] --out OUT.json

The weights are read from the ONNX file's initializers by parameter name (`wte.weight`, `h.0.attn.c_attn.weight`,
…), so this runs the same numbers the CLI runs; the computation is written out here in torch.

attention (src/analysis/attention.ts, ANALYSES.md §5; no padding, so every token is valid): per layer the softmax
weights P [B, H, T, T]; per head, over causal pairs j ≤ i:
- fractionAbove (ε = 0.01) / fractionAboveInvT (ε = 1/T): #{p > ε} / (T(T+1)/2) per prompt, mean over prompts;
- keysFor90 / keysFor99: per query, the row's causal weights sorted descending and summed in float64; the first
  k whose running sum reaches 0.9 (0.99) × the row's mass, divided by n_i = i + 1; mean over all queries;
- entropyKeys: exp(−Σ q log q) with q = row / mass (q > 0), mean over queries;
- sinkMass: P[i, 0] for i ≥ 1, mean.
Writes {"heads": [{layer, head, <metric>…}], "seconds": …}.

circuit (src/analysis/circuits.ts, src/engine/analyses/circuitModel.ts, circuitDiscovery.ts): the component graph
with senders `input`, `a{l}.h{h}`, `m{l}` and receivers, in stream order, every head's q port (heads 0…H−1), then k,
then v, then the layer's MLP, …, then `logits`; edge ids `a0.h1->a1.h1<k>`. Each receiver reads its own copy of the
stream (a head's q/k/v input is a separate tensor: TransformerLens' use_split_qkv_input); its input is base +
Σ_{upstream senders} value, base = the attention output biases written so far. Sender outputs: the embeddings
(token + position), each head's write z_h · W_O[h] (without the output bias), each MLP's output (with its bias).
- metric = Σ over pairs of logit(answer) − logit(wrong) at the last position, divided by the number of pairs;
- EAP-IG ("inputs" variant): the gradient of the metric with respect to every receiver's input, at the input
  embeddings e_corrupt + (k/m)(e_clean − e_corrupt), k = 0 … m − 1 (the rest of the model unpatched), averaged over
  the m steps: ḡ_v; score(u → v) = Σ_{pairs, positions} (z_u^corrupt − z_u^clean) · ḡ_v, z from the plain clean and
  corrupted runs;
- with --edges N: the circuit = the N edges of largest |score| (ties by edge index), pruned (nodes without an
  incoming circuit edge, except input, or without an outgoing one, except logits, dropped until nothing changes);
  one patched forward where every edge outside it carries the corrupted run's sender value, and
  faithfulness = (m_circuit − m_corrupt) / (m_clean − m_corrupt).
With --exact, also exact activation patching (the independent reference for the engine's `validate` option):
per edge, the metric with that edge alone patched to the corrupted run's sender value, minus the clean metric.
Writes {"edges": [ids], "scores": [...], "metricClean", "metricCorrupt", "metricCircuit", "faithfulness",
"circuitEdges", "exactScores"?, "seconds"}.
"""
import argparse
import json
import math
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import onnx
import torch
from onnx import numpy_helper

torch.set_num_threads(1)
F = torch.nn.functional


class Weights:
    """The parameters, read from the ONNX initializers by name."""

    def __init__(self, path, heads):
        proto = onnx.load(path)
        init = {i.name: i for i in proto.graph.initializer}

        def get(name):
            if name not in init:
                raise SystemExit(f"{path}: no initializer named '{name}' (expected a scripts/bench/gpt2_export.py export)")
            return torch.from_numpy(numpy_helper.to_array(init[name]).copy())

        self.wte, self.wpe = get("wte.weight"), get("wpe.weight")
        self.D = self.wte.shape[1]
        self.H = heads
        if self.D % heads:
            raise SystemExit(f"d = {self.D} is not a multiple of --heads {heads}")
        self.dh = self.D // heads
        self.layers = []
        l = 0
        while f"h.{l}.ln_1.weight" in init:
            p = f"h.{l}."
            self.layers.append({k: get(p + k) for k in (
                "ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias",
                "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias")})
            l += 1
        self.ln_f = (get("ln_f.weight"), get("ln_f.bias"))
        del proto, init


def ln(x, w, b):
    return F.layer_norm(x, (x.shape[-1],), w, b, 1e-5)


def gelu(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def mlp(W, L, x):
    return torch.matmul(gelu(torch.matmul(ln(x, L["ln_2.weight"], L["ln_2.bias"]), L["mlp.c_fc.weight"]) + L["mlp.c_fc.bias"]),
                        L["mlp.c_proj.weight"]) + L["mlp.c_proj.bias"]


def embed(W, tokens):
    return W.wte[tokens] + W.wpe[: tokens.shape[1]].unsqueeze(0)


def causal_mask(T):
    return torch.tril(torch.ones(T, T, dtype=torch.bool))


def attend(W, L, xq, xk, xv, mask):
    """Heads read their own inputs: x* is [B, T, D] (shared) or [H, B, T, D] (head h reads x*[h]).
    Returns (z [B, H, T, dh], probs [B, H, T, T])."""
    D, H, dh = W.D, W.H, W.dh
    w, b = L["attn.c_attn.weight"], L["attn.c_attn.bias"]

    def proj(x, part):
        h = ln(x, L["ln_1.weight"], L["ln_1.bias"])
        wp = w[:, part * D:(part + 1) * D].reshape(D, H, dh)
        bp = b[part * D:(part + 1) * D].reshape(1, H, 1, dh)
        if x.dim() == 3:
            return torch.einsum("btd,dhe->bhte", h, wp) + bp
        return torch.einsum("hbtd,dhe->bhte", h, wp) + bp

    q, k, v = proj(xq, 0), proj(xk, 1), proj(xv, 2)
    s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh)
    s = torch.where(mask, s, torch.tensor(torch.finfo(s.dtype).min, dtype=s.dtype))
    p = torch.softmax(s, dim=-1)
    return torch.matmul(p, v), p


def head_writes(W, L, z):
    """Each head's write to the stream, without the output bias: [H, B, T, D]."""
    return torch.einsum("bhte,hed->hbtd", z, L["attn.c_proj.weight"].reshape(W.H, W.dh, W.D))


# ---------------------------------------------------------------------------------------------- attention


def head_proxies(p, eps):
    """p: [B, H, T, T] one layer's weights (all tokens valid). Per-head metrics, float64 means."""
    B, H, T, _ = p.shape
    causal = causal_mask(T)
    pairs = T * (T + 1) / 2
    pc = torch.where(causal, p, torch.zeros((), dtype=p.dtype))
    frac = ((pc > eps) & causal).sum(dim=(-1, -2)).double() / pairs  # [B, H]
    frac_t = ((pc > 1.0 / T) & causal).sum(dim=(-1, -2)).double() / pairs
    srt = torch.sort(pc.double(), dim=-1, descending=True).values  # zeros (non-causal) last
    cs = torch.cumsum(srt, dim=-1)
    mass = cs[..., -1:]
    n = torch.arange(1, T + 1, dtype=torch.float64)  # n_i = i + 1
    k90 = (torch.argmax((cs >= 0.9 * mass).to(torch.int8), dim=-1) + 1).double() / n
    k99 = (torch.argmax((cs >= 0.99 * mass).to(torch.int8), dim=-1) + 1).double() / n
    q = srt / mass
    ent = torch.exp(-torch.where(q > 0, q * torch.log(torch.where(q > 0, q, torch.ones((), dtype=q.dtype))), torch.zeros((), dtype=q.dtype)).sum(-1))
    sink = p[:, :, 1:, 0].double()
    return {
        "fractionAbove": frac.mean(0),
        "fractionAboveInvT": frac_t.mean(0),
        "keysFor90": k90.mean(dim=(0, 2)),
        "keysFor99": k99.mean(dim=(0, 2)),
        "entropyKeys": ent.mean(dim=(0, 2)),
        "sinkMass": sink.mean(dim=(0, 2)),
    }


def run_attention(W, tokens, eps):
    tokens = torch.from_numpy(tokens.astype(np.int64))
    T = tokens.shape[1]
    mask = causal_mask(T)
    heads = []
    with torch.no_grad():
        x = embed(W, tokens)
        for l, L in enumerate(W.layers):
            z, p = attend(W, L, x, x, x, mask)
            m = head_proxies(p, eps)
            for h in range(W.H):
                heads.append({"layer": l, "head": h, **{k: float(v[h]) for k, v in m.items()}})
            x = x + head_writes(W, L, z).sum(0) + L["attn.c_proj.bias"]
            x = x + mlp(W, L, x)
    return {"heads": heads}


# ------------------------------------------------------------------------------------------------ circuit


class Graph:
    """The component graph (senders, receivers in stream order, edges grouped by receiver)."""

    def __init__(self, layers, H):
        self.senders = ["input"]
        self.receivers = []  # (node, port)
        self.upstream = []
        self.groups = []  # (kind, layer, r0, r1)
        for l in range(layers):
            r0, avail = len(self.receivers), len(self.senders)
            for port in "qkv":
                for h in range(H):
                    self.receivers.append((f"a{l}.h{h}", port))
                    self.upstream.append(avail)
            self.groups.append(("attn", l, r0, len(self.receivers)))
            self.senders += [f"a{l}.h{h}" for h in range(H)]
            r0, avail = len(self.receivers), len(self.senders)
            self.receivers.append((f"m{l}", None))
            self.upstream.append(avail)
            self.groups.append(("mlp", l, r0, r0 + 1))
            self.senders.append(f"m{l}")
        self.receivers.append(("logits", None))
        self.upstream.append(len(self.senders))
        self.groups.append(("logits", None, len(self.receivers) - 1, len(self.receivers)))
        self.edges, self.offset = [], []  # (id, sender index, receiver index)
        for r, (node, port) in enumerate(self.receivers):
            self.offset.append(len(self.edges))
            for s in range(self.upstream[r]):
                self.edges.append((f"{self.senders[s]}->{node}" + (f"<{port}>" if port else ""), s, r))


def forward(W, G, tokens, answer, wrong, count, x0, deltas=None, keep=None, corrupt=None):
    """The decomposed forward. Returns (metric, senders [nS, B, T, D]; None when taking gradients).
    deltas: per group, zero tensors added to the receivers' inputs ([3H, B, T, D], [1, B, T, D]) for gradients;
    keep: per edge 0/1 (None = all kept) with corrupt = the corrupted run's senders [nS, B, T, D]."""
    B, T, D = x0.shape
    H = W.H
    mask = causal_mask(T)
    outs = [x0]
    base = torch.zeros(D)
    stream = [x0]  # unpatched: base + the sum of every sender so far (the ordinary residual stream)

    def inputs(gi):
        _, _, r0, r1 = G.groups[gi]
        up = G.upstream[r0]
        if keep is None:
            x = stream[0].unsqueeze(0)
            if deltas is not None:
                x = x + deltas[gi]
            return x, deltas is None
        S = torch.stack(outs[:up])
        K = torch.tensor([[keep[G.offset[r] + s] for s in range(up)] for r in range(r0, r1)], dtype=x0.dtype)
        x = torch.einsum("rs,sbtd->rbtd", K, S) + torch.einsum("rs,sbtd->rbtd", 1 - K, corrupt[:up]) + base
        if deltas is not None:
            x = x + deltas[gi]
        return x, False

    for gi, (kind, l, r0, r1) in enumerate(G.groups):
        if kind == "logits":
            x, _ = inputs(gi)
            last = ln(x[0][:, -1], *W.ln_f)  # [B, D]: the metric reads the last position only
            logits = torch.matmul(last, W.wte.t())
            r = torch.arange(B)
            metric = (logits[r, answer] - logits[r, wrong]).sum() / count
            return metric, (torch.stack(outs) if deltas is None else None)
        L = W.layers[l]
        x, shared = inputs(gi)
        if kind == "mlp":
            o = mlp(W, L, x[0])
            outs.append(o)
            stream[0] = stream[0] + o
            continue
        if shared:
            z, _ = attend(W, L, x[0], x[0], x[0], mask)
        else:
            z, _ = attend(W, L, x[:H], x[H:2 * H], x[2 * H:], mask)
        hw = head_writes(W, L, z)
        outs.extend(hw.unbind(0))
        base = base + L["attn.c_proj.bias"]
        stream[0] = stream[0] + hw.sum(0) + L["attn.c_proj.bias"]
    raise AssertionError("no logits group")


def prune(G, mask):
    out = list(mask)
    while True:
        has_in, has_out = {"input"}, {"logits"}
        for i, (_, s, r) in enumerate(G.edges):
            if out[i]:
                has_in.add(G.receivers[r][0])
                has_out.add(G.senders[s])
        changed = False
        for i, (_, s, r) in enumerate(G.edges):
            if not out[i]:
                continue
            u, v = G.senders[s], G.receivers[r][0]
            if not (u in has_in and u in has_out and v in has_in and v in has_out):
                out[i] = 0
                changed = True
        if not changed:
            return out


def exact_scores(W, G, clean, answer, wrong, count, e1, s_corrupt, m_clean):
    """Exact activation patching: per edge, the metric with that edge alone carrying the corrupted run's sender
    value, minus the clean metric (one patched forward per edge)."""
    out = np.zeros(len(G.edges), dtype=np.float64)
    keep = [1] * len(G.edges)
    with torch.no_grad():
        for e in range(len(G.edges)):
            keep[e] = 0
            m, _ = forward(W, G, clean, answer, wrong, count, e1, keep=keep, corrupt=s_corrupt)
            out[e] = float(m) - float(m_clean)
            keep[e] = 1
    return out


def run_circuit(W, pairs, steps, n_edges, exact=False):
    clean = torch.from_numpy(pairs["clean"].astype(np.int64))
    corrupt = torch.from_numpy(pairs["corrupt"].astype(np.int64))
    answer = torch.from_numpy(pairs["answer"].astype(np.int64))
    wrong = torch.from_numpy(pairs["wrong"].astype(np.int64))
    count = clean.shape[0]
    B, T = clean.shape
    G = Graph(len(W.layers), W.H)
    with torch.no_grad():
        e1, e0 = embed(W, clean), embed(W, corrupt)
        m_clean, s_clean = forward(W, G, clean, answer, wrong, count, e1)
        m_corrupt, s_corrupt = forward(W, G, corrupt, answer, wrong, count, e0)
    grads = None
    for k in range(steps):
        deltas = [torch.zeros(r1 - r0, B, T, W.D, requires_grad=True) for (_, _, r0, r1) in G.groups]
        x = (e0 + (e1 - e0) * (k / steps)).detach()
        metric, _ = forward(W, G, clean, answer, wrong, count, x, deltas=deltas)
        g = torch.autograd.grad(metric, deltas)
        if grads is None:
            grads = list(g)
        else:
            for a, b in zip(grads, g):
                a.add_(b)
        del metric, g, deltas
    for g in grads:
        g.div_(steps)
    diff = (s_corrupt - s_clean).reshape(len(G.senders), -1)
    del s_clean
    scores = np.zeros(len(G.edges), dtype=np.float64)
    for gi, (_, _, r0, r1) in enumerate(G.groups):
        up = G.upstream[r0]
        S = torch.matmul(diff[:up], grads[gi].reshape(r1 - r0, -1).t()).numpy()  # [up, receivers]
        for r in range(r0, r1):
            scores[G.offset[r]:G.offset[r] + up] = S[:, r - r0]
    out = {
        "edges": [e[0] for e in G.edges],
        "scores": scores.tolist(),
        "metricClean": float(m_clean),
        "metricCorrupt": float(m_corrupt),
        "steps": steps,
    }
    if exact:
        out["exactScores"] = exact_scores(W, G, clean, answer, wrong, count, e1, s_corrupt, m_clean).tolist()
    if n_edges:
        order = sorted(range(len(scores)), key=lambda i: (-abs(scores[i]), i))
        mask = [0] * len(scores)
        for i in order[:n_edges]:
            mask[i] = 1
        mask = prune(G, mask)
        with torch.no_grad():
            m_circ, _ = forward(W, G, clean, answer, wrong, count, e1, keep=mask, corrupt=s_corrupt)
        d = float(m_clean) - float(m_corrupt)
        out.update({
            "n": n_edges,
            "circuitEdges": int(sum(mask)),
            "metricCircuit": float(m_circ),
            "faithfulness": (float(m_circ) - float(m_corrupt)) / d if d != 0 else None,
        })
    return out


def info(path):
    """onnx.load and count: nodes by op type, parameters (initializer elements)."""
    from collections import Counter

    m = onnx.load(path)
    ops = Counter(n.op_type for n in m.graph.node)
    params = sum(int(np.prod(i.dims)) for i in m.graph.initializer)
    print(f"{path}: {len(m.graph.node)} nodes, {params} parameters in {len(m.graph.initializer)} tensors; "
          + ", ".join(f"{k} {v}" for k, v in ops.most_common()))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "info":
        info(sys.argv[2])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("analysis", choices=["attention", "circuit"])
    ap.add_argument("model")
    ap.add_argument("data")
    ap.add_argument("--heads", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--epsilon", type=float, default=0.01)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--edges", type=int, default=0, help="measure the faithfulness of the top-N circuit (0: skip)")
    ap.add_argument("--exact", action="store_true", help="also exact activation patching of every edge (one forward each): exactScores")
    a = ap.parse_args()
    t0 = time.time()
    W = Weights(a.model, a.heads)
    data = np.load(a.data)
    if a.analysis == "attention":
        out = run_attention(W, data["tokens"], a.epsilon)
    else:
        out = run_circuit(W, {k: data[k] for k in ("clean", "corrupt", "answer", "wrong")}, a.steps, a.edges, a.exact)
    out["seconds"] = time.time() - t0
    with open(a.out, "w") as fh:
        json.dump(out, fh)
    print(f"{a.analysis}: {out['seconds']:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
