#!/usr/bin/python3
"""Independent numpy implementation of the Local Interaction Basis (LIB) on the example MLP.

Reference values for test/integration/lib*.test.ts and the baseline of `npm run bench` (test/bench/lib.ts).
Written from ../../shared/ANALYSES.md section 4 and the paper (Bushnaq et al. 2024), not from our TypeScript:
numpy + onnx's numpy_helper only (weights straight from the ONNX initializers, data from the npz).

    /usr/bin/python3 scripts/reference/lib_mlp.py            # writes test/fixtures/lib/mlp_reference.json
    /usr/bin/python3 scripts/reference/lib_mlp.py --time     # prints timings only (the bench calls this)

Conventions (the same contract as ours, implemented separately):
- Node layers: the input of each Linear (784, 128, 128) and the logits (10, identity basis, not folded).
  Activations are folded: a constant 1 is appended; the Linear's bias is the weight column of that coordinate.
- Per layer: mean mu (folded, last entry 1); centred covariance S of the unfolded part; the constant direction
  e_last (eigenvalue 1) is split off and kept first. First truncation: covariance eigenvalues > rel1 * max.
  U = [e_last, kept eigenvectors], D = [1, kept eigenvalues]; Y = centring matrix (x Y = x - mu except the
  constant coordinate); R = Y U D^-1/2, R_pinv = D^1/2 U^T Y^-1.  PCA baseline: C = Y U, C_pinv = U^T Y^-1.
- M' = E[J^T J], J = d(f^{l+1} C^{l+1}) / d f^l (folded), closed form for Linear -> ReLU:
  M' = Wt^T (Ch Ch^T * E[g g^T]) Wt with Wt = [W | b], g = 1[pre-activation > 0], Ch = C^{l+1} without its
  constant-coordinate row; final Linear into the identity-basis logits: M' = Wt^T Wt.
- M = R_pinv M' R_pinv^T; eigendecomposition of M[1:, 1:] (the constant direction stays unrotated),
  Lambda = [M[0, 0], eigenvalues]; second truncation: Lambda > rel2 * max non-constant Lambda.
  C = R V Lambda^1/2, C_pinv = Lambda^-1/2 V^T R_pinv.
- Edges: J_hat_ij(x) = d f_hat^{l+1}_i / d f_hat^l_j * f_hat^l_j(x), E_ij = mean_x J_hat_ij(x)^2.
  Edge mass statistics exclude the constant node (row 0 of a hidden target layer, column 0 of every source).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
MODEL = os.path.join(ROOT, "examples", "mlp", "mlp.onnx")
DATA = os.path.join(ROOT, "examples", "data", "fmnist.npz")
OUT = os.path.join(ROOT, "test", "fixtures", "lib", "mlp_reference.json")
REL1 = 1e-7  # first truncation, relative to the largest covariance eigenvalue
REL2 = 1e-7  # second truncation, relative to the largest non-constant Lambda
BATCH = 500  # samples per einsum chunk for the edges


def node_layer_names():
    """The inputs of the three Gemm nodes and the graph output, as named in the file."""
    m = onnx.load(MODEL)
    gemms = [n for n in m.graph.node if n.op_type == "Gemm"]
    return [n.input[0] for n in gemms] + [m.graph.output[0].name]


def load():
    m = onnx.load(MODEL)
    p = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    z = np.load(DATA)
    x = z["x"].reshape(len(z["x"]), -1).astype(np.float32)
    return p, x, z["y"].astype(np.int64), z["x_test"].reshape(len(z["x_test"]), -1).astype(np.float32), z["y_test"]


def forward(p, x):
    """float32 forward as the model runs it; returns the node-layer activations and the ReLU gates."""
    z1 = x @ p["fc1.weight"].T + p["fc1.bias"]
    h1 = np.maximum(z1, 0)
    z2 = h1 @ p["fc2.weight"].T + p["fc2.bias"]
    h2 = np.maximum(z2, 0)
    logits = h2 @ p["fc3.weight"].T + p["fc3.bias"]
    return [x, h1, h2, logits], [(z1 > 0), (z2 > 0)]


def fold(a):
    return np.concatenate([a.astype(np.float64), np.ones((a.shape[0], 1))], axis=1)


def basis(f, m_prime, rel1=REL1, rel2=REL2):
    """LIB (m_prime given) or PCA (m_prime None) basis of the folded activations f (N x d)."""
    n, d = f.shape
    w = d - 1
    mu = f.mean(axis=0)
    xc = f[:, :w] - mu[:w]
    cov = xc.T @ xc / n
    ev, vec = np.linalg.eigh(cov)
    ev, vec = ev[::-1], vec[:, ::-1]
    keep = ev > rel1 * ev[0]
    k = int(keep.sum()) + 1
    U = np.zeros((d, k))
    U[w, 0] = 1.0
    U[:w, 1:] = vec[:, keep]
    D = np.concatenate([[1.0], ev[keep]])
    Y = np.eye(d)
    Y[w, :w] = -mu[:w]
    Yinv = np.eye(d)
    Yinv[w, :w] = mu[:w]
    W = Y @ U
    W_pinv = U.T @ Yinv
    if m_prime is None:
        return {"C": W, "C_pinv": W_pinv, "lambdas": D, "first_rank": k, "rank": k}
    R = W / np.sqrt(D)
    R_pinv = np.sqrt(D)[:, None] * W_pinv
    M = R_pinv @ m_prime @ R_pinv.T
    lam, V1 = np.linalg.eigh(M[1:, 1:])
    order = np.argsort(-np.abs(lam), kind="stable")
    lam, V1 = np.abs(lam[order]), V1[:, order]
    keep2 = lam > rel2 * lam[0]
    V = np.zeros((k, 1 + int(keep2.sum())))
    V[0, 0] = 1.0
    V[1:, 1:] = V1[:, keep2]
    Lam = np.concatenate([[M[0, 0]], lam[keep2]])
    C = R @ V * np.sqrt(Lam)
    C_pinv = (V.T @ R_pinv) / np.sqrt(Lam)[:, None]
    return {"C": C, "C_pinv": C_pinv, "lambdas": Lam, "first_rank": k, "rank": len(Lam), "m_prime": m_prime}


def weights(p, name):
    return np.concatenate([p[name + ".weight"].astype(np.float64), p[name + ".bias"].astype(np.float64)[:, None]], axis=1)


def build(p, acts, gates, lib=True):
    """Bases for the three hidden/input node layers, from the output backwards; the logits keep the identity."""
    folded = [fold(a) for a in acts[:3]]
    n = acts[0].shape[0]
    Wt = [weights(p, "fc1"), weights(p, "fc2"), weights(p, "fc3")]
    bases = [None, None, None]
    C_next = np.eye(10)
    for l in (2, 1, 0):
        if lib:
            if l == 2:
                m_prime = Wt[2].T @ Wt[2]
            else:
                Ch = C_next[:-1, :]
                g = gates[l].astype(np.float64)
                Egg = g.T @ g / n
                m_prime = Wt[l].T @ ((Ch @ Ch.T) * Egg) @ Wt[l]
        else:
            m_prime = None
        bases[l] = basis(folded[l], m_prime)
        C_next = bases[l]["C"]
    return bases, folded, Wt


def edges(bases, folded, gates, Wt):
    """E for (0->1), (1->2), (2->logits): mean over samples of the squared attributions."""
    out = []
    n = folded[0].shape[0]
    for l in range(3):
        Cp = bases[l]["C_pinv"]
        fhat = folded[l] @ bases[l]["C"]
        A = Wt[l] @ Cp.T  # h x r_l
        if l == 2:
            out.append((A ** 2) * (fhat ** 2).mean(axis=0))
            continue
        P = bases[l + 1]["C"][:-1, :]  # h x r_{l+1}
        E = np.zeros((P.shape[1], A.shape[1]))
        g = gates[l].astype(np.float64)
        for s in range(0, n, BATCH):
            gb = g[s:s + BATCH]
            # J_hat(x) = P^T diag(g(x)) A diag(fhat(x))
            Jb = np.matmul((P.T[None, :, :] * gb[:, None, :]), A[None, :, :]) * fhat[s:s + BATCH, None, :]
            E += (Jb ** 2).sum(axis=0)
        out.append(E / n)
    return out


def edge_counts(E_list):
    """Edges holding 90% / 99% of the mass, constant node excluded: per adjacent layer pair, and their sum (edge
    mass is not comparable across pairs: PCA's scale differs from layer to layer)."""
    per = []
    for l, E in enumerate(E_list):
        rows = E if l == len(E_list) - 1 else E[1:, :]
        per.append(counts(rows[:, 1:].ravel()))
    return [sum(a[0] for a in per), sum(a[1] for a in per)], per


def counts(m):
    s = np.sort(m)[::-1]
    c = np.cumsum(s)
    tot = c[-1]
    return [int(np.searchsorted(c, q * tot) + 1) for q in (0.9, 0.99)]


def ablation(p, bases, x, y, ks):
    """Accuracy with the top-k directions (plus the constant) kept at each node layer: f -> f C_k C_pinv_k."""
    acts, _ = forward(p, x)
    res = []
    for l in range(3):
        f = fold(acts[l])
        fhat = f @ bases[l]["C"]
        for k in ks:
            kk = min(k + 1, bases[l]["C"].shape[1])
            g = (fhat[:, :kk] @ bases[l]["C_pinv"][:kk, :])[:, :-1].astype(np.float32)
            for m in range(l, 3):
                g = g @ p[f"fc{m + 1}.weight"].T + p[f"fc{m + 1}.bias"]
                if m < 2:
                    g = np.maximum(g, 0)
            res.append({"layer": l, "kept": k, "accuracy": float((g.argmax(1) == y).mean())})
    return res


def run():
    t0 = time.perf_counter()
    p, x, y, xt, yt = load()
    acts, gates = forward(p, x)
    t_fwd = time.perf_counter()
    lib, folded, Wt = build(p, acts, gates, lib=True)
    t_basis = time.perf_counter()
    E_lib = edges(lib, folded, gates, Wt)
    t_edges = time.perf_counter()
    pca, _, _ = build(p, acts, gates, lib=False)
    E_pca = edges(pca, folded, gates, Wt)
    t_pca = time.perf_counter()
    return {
        "p": p, "acts": acts, "lib": lib, "pca": pca, "E_lib": E_lib, "E_pca": E_pca, "xt": xt, "yt": yt,
        "timings": {
            "forwardMs": 1e3 * (t_fwd - t0),
            "libBasisMs": 1e3 * (t_basis - t_fwd),
            "libEdgesMs": 1e3 * (t_edges - t_basis),
            "libTotalMs": 1e3 * (t_edges - t0),
            "pcaMs": 1e3 * (t_pca - t_edges),
        },
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--time", action="store_true", help="print timings as JSON and write nothing")
    args = ap.parse_args()
    r = run()
    if args.time:
        print(json.dumps(r["timings"]))
        return
    names = node_layer_names()
    g_lib, per_lib = edge_counts(r["E_lib"])
    g_pca, per_pca = edge_counts(r["E_pca"])
    layers = []
    for l in range(3):
        lam = r["lib"][l]["lambdas"]
        layers.append({
            "name": names[l],
            "dim": int(r["acts"][l].shape[1] + 1),
            "firstRank": r["lib"][l]["first_rank"],
            "rank": r["lib"][l]["rank"],
            "lambdaConstant": float(lam[0]),
            "lambdasTop20": [float(v) for v in lam[1:21]],
            "effectiveFeatures": int((lam[1:] > 1e-3 * lam[1:].max()).sum()),
            "pcaRank": r["pca"][l]["rank"],
            "pcaTop20": [float(v) for v in r["pca"][l]["lambdas"][1:21]],
        })
    ks = [1, 2, 4, 8, 16, 32, 64, 128]
    out = {
        "how": "scripts/reference/lib_mlp.py (numpy %s, onnx %s): independent LIB on examples/mlp/mlp.onnx over the "
               "5000 training samples of examples/data/fmnist.npz; thresholds rel1 = %g, rel2 = %g; ablation on the "
               "1000 test samples." % (np.__version__, onnx.__version__, REL1, REL2),
        "samples": int(r["acts"][0].shape[0]),
        "layers": layers,
        "edgesFor90": g_lib[0], "edgesFor99": g_lib[1],
        "perPair": [{"for90": a[0], "for99": a[1]} for a in per_lib],
        "pca": {"edgesFor90": g_pca[0], "edgesFor99": g_pca[1], "perPair": [{"for90": a[0], "for99": a[1]} for a in per_pca]},
        "edgeShapes": [list(E.shape) for E in r["E_lib"]],
        "edgeTotals": [float(E.sum()) for E in r["E_lib"]],
        "ablationLib": ablation(r["p"], r["lib"], r["xt"], r["yt"], ks),
        "ablationPca": ablation(r["p"], r["pca"], r["xt"], r["yt"], ks),
        "timings": r["timings"],
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    print(json.dumps({k: out[k] for k in ("edgesFor90", "edgesFor99", "pca", "timings", "edgeShapes")}, indent=1))
    for L in layers:
        print(L["name"], L["dim"], L["firstRank"], L["rank"], L["effectiveFeatures"], L["lambdaConstant"], L["lambdasTop20"][:5])


if __name__ == "__main__":
    sys.exit(main())
