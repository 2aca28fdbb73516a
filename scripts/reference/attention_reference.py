#!/usr/bin/python3
"""Independent PyTorch + numpy reference for the attention analysis on the example transformer.

Reference values for test/unit/attention*.test.ts and test/integration/attention*.test.ts. Written from
../../shared/ANALYSES.md section 5, not from our TypeScript: the model is rebuilt in torch from the ONNX
initializers (onnx's numpy_helper) with examples/make_examples.py's own GPT class, its attention patterns
are PyTorch's (`Attention.last_pattern`), and the sparsity proxies are computed here with numpy.

    OMP_NUM_THREADS=1 /usr/bin/python3 scripts/reference/attention_reference.py
    # writes test/fixtures/attention/reference.json (and fused_attention.onnx, a fused-op fixture)

Also checks the rebuilt model against torch's own logits stored by make_examples.py (reference.npz).

Proxy conventions (the same contract as src/analysis/attention.ts, implemented separately and vectorised):
- causal pairs (key j <= query i) between valid tokens; n_i = number of valid keys j <= i;
- fractionAbove(eps) = #{causal pairs with p > eps} / #causal pairs, per prompt, then the mean over prompts;
  fractionAboveInvT the same with eps = 1/T; connectivity = #{causal pairs with S + b > 0} / #causal pairs;
- keysFor90/99: per valid query, sort the row's valid causal weights descending, cumsum in float64, first k
  with cumsum >= frac * (the cumsum's last value); k / n_i; mean over all valid queries of all prompts;
- entropyKeys: exp(-sum q log q) with q = row / row mass (q > 0); mean over valid queries;
- sinkMass: weight on the first valid token, mean over valid queries after it;
- per layer: mean over heads; global: mean over all heads.
"""
import json
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import onnx
import torch
from onnx import numpy_helper

torch.set_num_threads(1)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
EX = os.path.join(ROOT, "examples")
sys.path.insert(0, EX)
import make_examples as mx  # noqa: E402  (the example's own model class; its main() does not run on import)

OUT = os.path.join(ROOT, "test", "fixtures", "attention", "reference.json")
EPS = 0.01
GATE_BIAS = -1.0
PROMPTS = 2  # prompts whose probabilities are stored
VALID_LEN = [24, 17]  # the masked-proxy case: prompt 1 treated as padded after 17 tokens


def load_model():
    proto = onnx.load(os.path.join(EX, "transformer", "transformer.onnx"))
    inits = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    model = mx.GPT()
    state = {}
    for name, p in model.state_dict().items():
        if name in inits:
            state[name] = torch.from_numpy(inits[name].copy())
        elif name.endswith(".weight") and name[: -len(".weight")] + ".weight_t" in inits:
            state[name] = torch.from_numpy(inits[name[: -len(".weight")] + ".weight_t"].T.copy())
        else:
            raise KeyError(f"no ONNX initializer for {name}")
    model.load_state_dict(state)
    model.eval()
    return model


def run(model, tokens):
    """Logits, per-layer probabilities (B,H,T,T) and scaled scores S = QK^T/sqrt(d) before the mask."""
    scores = []

    def capture(attn):
        orig = attn.forward

        def fwd(x, mask):
            q, k = attn.split(attn.q(x)), attn.split(attn.k(x))
            scores.append((torch.matmul(q, k.transpose(2, 3)) * (1.0 / mx.D_HEAD ** 0.5)).detach().numpy())
            return orig(x, mask)

        return fwd

    for b in model.blocks:
        b.attn.forward = capture(b.attn)
    with torch.no_grad():
        logits = model(torch.from_numpy(tokens)).numpy()
    probs = [b.attn.last_pattern.numpy() for b in model.blocks]
    for b in model.blocks:
        del b.attn.forward
    return logits, probs, scores


def head_proxies(p, valid, eps, T, s=None, gate=None):
    """p: (B, T, T) one head's weights; valid: (B, T) bool. Returns the per-head metrics."""
    B = p.shape[0]
    causal = np.tril(np.ones((T, T), dtype=bool))
    frac, frac_t, conn = [], [], []
    k90, k99, ent, sink = [], [], [], []
    for b in range(B):
        pair = causal & valid[b][:, None] & valid[b][None, :]
        npairs = pair.sum()
        frac.append(((p[b] > eps) & pair).sum() / npairs)  # float64 ratios, float64 means below
        frac_t.append(((p[b] > 1.0 / T) & pair).sum() / npairs)
        if gate is not None:
            conn.append((((s[b] + gate) > 0) & pair).sum() / npairs)
        first = int(np.argmax(valid[b]))
        for i in range(T):
            if not valid[b, i]:
                continue
            row = p[b, i][pair[i]].astype(np.float64)
            srt = np.sort(row)[::-1]
            cs = np.cumsum(srt)
            mass = cs[-1]
            n = len(row)
            k90.append((np.argmax(cs >= 0.9 * mass) + 1) / n)
            k99.append((np.argmax(cs >= 0.99 * mass) + 1) / n)
            q = srt / mass if mass > 0 else srt
            q = q[q > 0]
            ent.append(np.exp(-np.sum(q * np.log(q))))
            if i > first:
                sink.append(float(p[b, i, first]))
    out = {
        "fractionAbove": float(np.mean(frac)),
        "fractionAboveInvT": float(np.mean(frac_t)),
        "keysFor90": float(np.mean(k90)),
        "keysFor99": float(np.mean(k99)),
        "entropyKeys": float(np.mean(ent)),
        "sinkMass": float(np.mean(sink)),
    }
    if gate is not None:
        out = {"connectivity": float(np.mean(conn)), **out}
    return out


def proxies(probs, valid, eps, T, scores=None, gate=None):
    heads, layers = [], []
    for layer, p in enumerate(probs):
        per = []
        for h in range(p.shape[1]):
            m = head_proxies(p[:, h], valid, eps, T, None if scores is None else scores[layer][:, h], gate)
            per.append(m)
            heads.append({"layer": layer, "head": h, **m})
        layers.append({"layer": layer, "heads": len(per), **{k: float(np.mean([x[k] for x in per])) for k in per[0]}})
    keys = [k for k in heads[0] if k not in ("layer", "head")]
    glob = {k: float(np.mean([x[k] for x in heads])) for k in keys}
    return {"heads": heads, "layers": layers, "global": glob}


def write_fused_model(path):
    """A one-node graph with onnxruntime's fused com.microsoft.Attention: it hides the probabilities, so the
    analysis must say so (the fixture of that error)."""
    from onnx import TensorProto, helper

    rng = np.random.default_rng(0)
    d, heads = 8, 2
    w = numpy_helper.from_array(rng.standard_normal((d, 3 * d)).astype(np.float32), "qkv_weight")
    b = numpy_helper.from_array(np.zeros(3 * d, dtype=np.float32), "qkv_bias")
    node = helper.make_node("Attention", ["x", "qkv_weight", "qkv_bias"], ["y"], name="/attn/Attention",
                            domain="com.microsoft", num_heads=heads, unidirectional=1)
    graph = helper.make_graph([node], "fused_attention",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4, d])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4, d])], [w, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
                              producer_name="attention_reference.py")
    onnx.save(model, path)


def rounded(a, digits=9):
    return [float(f"{v:.{digits}g}") for v in np.asarray(a, dtype=np.float64).ravel()]


def main():
    model = load_model()
    ref = np.load(os.path.join(EX, "transformer", "reference.npz"))
    logits, _, _ = run(model, ref["tokens"])
    err = float(np.abs(logits - ref["logits"]).max())
    print(f"rebuilt model vs torch's stored logits: max |diff| {err:.2e}")
    assert err < 1e-4, err

    data = np.load(os.path.join(EX, "transformer", "induction.npz"))
    tokens = data["tokens"]
    T = tokens.shape[1]
    _, probs_all, _ = run(model, tokens)
    dense_all = proxies(probs_all, np.ones(tokens.shape, dtype=bool), EPS, T)

    few = tokens[:PROMPTS]
    _, probs, scores = run(model, few)
    ones = np.ones(few.shape, dtype=bool)
    valid = np.zeros(few.shape, dtype=bool)
    for b, n in enumerate(VALID_LEN):
        valid[b, :n] = True
    # Only causal pairs enter connectivity: the stored scores keep the lower triangle (upper set to 0).
    causal = np.tril(np.ones((T, T), dtype=bool))
    scores_causal = [np.where(causal, s, 0.0) for s in scores]
    out = {
        "how": "scripts/reference/attention_reference.py: the example transformer rebuilt in torch from the ONNX initializers; probabilities are torch's; proxies by numpy (see the script's header)",
        "epsilon": EPS,
        "seqLen": T,
        "gateBias": GATE_BIAS,
        "validLen": VALID_LEN,
        "prompts": few.tolist(),
        "probsShape": list(probs[0].shape),
        "probs": [rounded(p) for p in probs],
        "scores": [rounded(s) for s in scores_causal],
        "proxiesPrompts": proxies(probs, ones, EPS, T),
        "proxiesPromptsMasked": proxies(probs, valid, EPS, T),
        "proxiesPromptsGated": proxies(probs, ones, EPS, T, scores, GATE_BIAS),
        "proxiesDataset": {"prompts": int(tokens.shape[0]), **dense_all},
    }
    # torch's metric on the circuit pairs (the translator's decomposed forward is compared to these)
    metrics = {}
    for name, path in [("data", os.path.join(EX, "transformer", "induction.npz")),
                       ("match", os.path.join(ROOT, "test", "fixtures", "attention", "induction_match_pairs.npz"))]:
        if not os.path.exists(path):
            continue
        z = np.load(path)
        lc, _, _ = run(model, z["clean"])
        lx, _, _ = run(model, z["corrupt"])
        r = np.arange(len(z["answer"]))
        metrics[name] = {
            "clean": float((lc[r, -1, z["answer"]] - lc[r, -1, z["wrong"]]).mean()),
            "corrupt": float((lx[r, -1, z["answer"]] - lx[r, -1, z["wrong"]]).mean()),
        }
    out["circuitMetrics"] = metrics
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    write_fused_model(os.path.join(os.path.dirname(OUT), "fused_attention.onnx"))
    with open(OUT, "w") as fh:
        json.dump(out, fh, separators=(",", ":"))
        fh.write("\n")
    g = dense_all["global"]
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes); dataset global: " + ", ".join(f"{k} {v:.4f}" for k, v in g.items()))
    print("circuit metrics (torch):", metrics)


if __name__ == "__main__":
    main()
