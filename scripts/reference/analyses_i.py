#!/usr/bin/python3
"""Independent reference values for Circuitscope's forward-only analyses (issue 4, ANALYSES.md §1-3):
neural collapse, activation hash codes, redundant representations.

Written from the definitions with numpy / scikit-learn / scipy (Debian python3-numpy 1.24, python3-sklearn 1.2,
python3-scipy 1.10), sharing no code with the TypeScript implementation. Activations are recomputed here from
the ONNX initializers (python3-onnx + numpy; the example MLPs are Flatten/Gemm/Relu only), in float32 like
onnxruntime.

Where the two implementations take different routes on purpose:
  - NC1 here forms the D x D matrices Sigma_W and Sigma_B and inverts Sigma_B on its top C-1 eigenpairs
    (numpy eigh); ours never forms a D x D matrix (C x C eigenproblem + projected second pass).
  - R^2 here is sklearn's Ridge(alpha=1e-8).fit on the data + r2_score(multioutput='variance_weighted') and
    the residual correlation is np.corrcoef of the residuals; ours derives both from one Gram matrix.
  - K-means is sklearn.cluster.KMeans (k-means++, n_init=10, random_state=0) and the one-vs-one logistic
    regression is sklearn's OneVsOneClassifier(LogisticRegression(C=1, lbfgs)); ours are TypeScript ports of
    the same conventions with a different RNG, hence the looser tolerances (+-0.03).
  - KNN here is a numpy distance matrix + the tie rule of ANALYSES.md by hand (order by (distance, index),
    smallest label on a tied vote), which must agree exactly.
The only shared piece is the random-chunk generator of the redundancy analysis (mulberry32 + partial
Fisher-Yates, ported below bit for bit), so both sides average over the same chunks.

Usage (from the repository root; ~2-4 minutes on two slow cores):
    OMP_NUM_THREADS=1 /usr/bin/python3 scripts/reference/analyses_i.py            # writes the fixture
    OMP_NUM_THREADS=1 /usr/bin/python3 scripts/reference/analyses_i.py bench F.npz [--only collapse,hash,redundancy] [--repeat N]
The second form times each reference analysis on features given in an .npz (see test/bench/analysesI.ts), best
of N runs (N for the cheap ones, at most 2 for the rest), and prints one JSON object of timings and results.
"""
import json
import math
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "test", "fixtures", "analysesI", "reference.json")

# ------------------------------------------------------------------------------------------- shared RNG

M32 = 0xFFFFFFFF


def imul(a, b):
    return (a * b) & M32


def mulberry32(seed):
    state = [seed & M32]

    def nxt():
        state[0] = (state[0] + 0x6D2B79F5) & M32
        t = state[0]
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & M32
        return ((t ^ (t >> 14)) & M32) / 4294967296.0

    return nxt


def sample_without_replacement(n, k, rand):
    perm = list(range(n))
    for i in range(k):
        j = i + int(math.floor(rand() * (n - i)))
        perm[i], perm[j] = perm[j], perm[i]
    return np.array(perm[:k], dtype=np.int64)


def chunk_seed(seed, size, kind):
    return (imul(seed, 0x9E3779B1) + 2 * size + kind) & M32


# ------------------------------------------------------------------------------------------- forward


def load_onnx(path):
    import onnx
    from onnx import numpy_helper

    model = onnx.load(path)
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    return model, inits


def forward(path, x):
    """All values of an MLP-family ONNX graph (Flatten, Gemm, Relu, MatMul, Add) on x, in float32."""
    model, inits = load_onnx(path)
    vals = {model.graph.input[0].name: x.astype(np.float32)}
    vals.update(inits)
    for n in model.graph.node:
        a = {at.name: at for at in n.attribute}
        ins = [vals[i] for i in n.input if i]
        if n.op_type == "Flatten":
            axis = a["axis"].i if "axis" in a else 1
            out = ins[0].reshape(int(np.prod(ins[0].shape[:axis])), -1)
        elif n.op_type == "Gemm":
            A, B = ins[0], ins[1]
            if "transA" in a and a["transA"].i:
                A = A.T
            if "transB" in a and a["transB"].i:
                B = B.T
            alpha = a["alpha"].f if "alpha" in a else 1.0
            beta = a["beta"].f if "beta" in a else 1.0
            out = (alpha * (A @ B)).astype(np.float32)
            if len(ins) > 2:
                out = out + np.float32(beta) * ins[2]
        elif n.op_type == "Relu":
            out = np.maximum(ins[0], np.float32(0))
        elif n.op_type == "MatMul":
            out = ins[0] @ ins[1]
        elif n.op_type == "Add":
            out = ins[0] + ins[1]
        else:
            raise SystemExit(f"{path}: op {n.op_type} is not supported by this reference forward pass")
        vals[n.output[0]] = out.astype(np.float32)
    return model, inits, vals


def head_of(model, inits):
    """The last Gemm (the classifier): its input value and W (C x D), b (float64)."""
    gemms = [n for n in model.graph.node if n.op_type == "Gemm"]
    n = gemms[-1]
    a = {at.name: at for at in n.attribute}
    W = inits[n.input[1]].astype(np.float64)
    if not ("transB" in a and a["transB"].i):
        W = W.T
    b = inits[n.input[2]].astype(np.float64) if len(n.input) > 2 else np.zeros(W.shape[0])
    return n.input[0], W, b


def relu_outputs(model):
    return [n.output[0] for n in model.graph.node if n.op_type == "Relu"]


# ------------------------------------------------------------------------------------------- collapse


def collapse(h, y, h_test=None, y_test=None, W=None, b=None, logits=None, logits_test=None, classes=None):
    h = np.asarray(h, dtype=np.float64)
    N, D = h.shape
    C = classes if classes is not None else int(y.max()) + 1
    ids = [c for c in range(C) if np.any(y == c)]
    K = len(ids)
    means = np.stack([h[y == c].mean(0) for c in ids])  # K x D
    mu_g = means.mean(0)
    Mt = (means - mu_g).T  # D x K
    idx = np.full(C, -1)
    idx[ids] = np.arange(K)
    cen = h - means[idx[y]]
    Sw = cen.T @ cen / N
    Sb = Mt @ Mt.T / K
    lam, V = np.linalg.eigh(Sb)
    order = np.argsort(lam)[::-1][: min(D, K - 1)]
    lam, V = lam[order], V[:, order]
    Sb_pinv = (V / lam) @ V.T
    out = dict(classes=K, samples=N, dim=D)
    out["nc1"] = float(np.trace(Sw @ Sb_pinv) / K)
    out["nc1TraceRatio"] = float(np.trace(Sw) / np.trace(Sb))
    Vc = np.array([np.mean(np.sum((h[y == c] - means[idx[c]]) ** 2, axis=1)) for c in ids])
    vals = []
    for p in range(K):
        for q in range(p + 1, K):
            vals.append((Vc[p] + Vc[q]) / (2 * np.sum((means[p] - means[q]) ** 2)))
    out["cdnv"] = float(np.mean(vals))

    def nc2(X):  # rows
        norms = np.linalg.norm(X, axis=1)
        G = X @ X.T
        cos = G / np.outer(norms, norms)
        off = cos[~np.eye(K, dtype=bool)]
        return (float(np.std(norms, ddof=1) / np.mean(norms)), float(np.std(off, ddof=1)),
                float(np.mean(np.abs(off + 1.0 / (K - 1)))), etf(G))

    def etf(G):
        G = G / np.linalg.norm(G)
        target = (np.eye(K) - np.ones((K, K)) / K) / np.sqrt(K - 1)
        return float(np.linalg.norm(G - target))

    (out["equinormMeans"], out["equiangularityMeans"], out["maxAngleMeans"], out["etfDistanceMeans"]) = nc2(Mt.T)
    # nearest class centre (train means) and its accuracy
    def ncc(X):
        X = np.asarray(X, np.float64)
        d = np.concatenate([((X[s:s + 2000, None, :] - means[None, :, :]) ** 2).sum(-1) for s in range(0, len(X), 2000)])
        return np.array(ids)[np.argmin(d, axis=1)]

    pred_ncc = ncc(h)
    out["nccAccuracyTrain"] = float(np.mean(pred_ncc == y))
    if h_test is not None:
        pred_ncc_t = ncc(h_test)
        out["nccAccuracyTest"] = float(np.mean(pred_ncc_t == y_test))
    if W is not None:
        Wk = W[ids]
        (out["equinormWeights"], out["equiangularityWeights"], out["maxAngleWeights"], out["etfDistanceWeights"]) = nc2(Wk)
        out["selfDuality"] = float(np.linalg.norm(Wk.T / np.linalg.norm(Wk) - Mt / np.linalg.norm(Mt)) ** 2)
        out["selfDualityEtf"] = etf(Wk @ Mt)
        pred_head = np.argmax(h @ W.T + b, axis=1)
        out["nccMismatchTrain"] = float(np.mean(pred_head != pred_ncc))
        if h_test is not None:
            pred_head_t = np.argmax(np.asarray(h_test, np.float64) @ W.T + b, axis=1)
            out["nccMismatchTest"] = float(np.mean(pred_head_t != pred_ncc_t))
    if logits is not None:
        out["accuracyTrain"] = float(np.mean(np.argmax(logits, 1) == y))
    if logits_test is not None:
        out["accuracyTest"] = float(np.mean(np.argmax(logits_test, 1) == y_test))
    return out


# ------------------------------------------------------------------------------------------- hash


def knn_hamming(train, y, test, k=9):
    """9-NN under Hamming distance; neighbours ordered by (distance, training index); a tied vote goes to the
    smallest label."""
    n = train.shape[0]
    tr = train.astype(np.float32)
    C = int(y.max()) + 1
    pred = np.empty(test.shape[0], dtype=np.int64)
    for s in range(0, test.shape[0], 500):
        te = test[s:s + 500].astype(np.float32)
        d = (te @ (1 - tr).T + (1 - te) @ tr.T).astype(np.int64)  # exact small integers
        key = d * n + np.arange(n)[None, :]
        part = np.argpartition(key, k - 1, axis=1)[:, :k]
        for r in range(part.shape[0]):
            votes = np.bincount(y[part[r]], minlength=C)
            pred[s + r] = int(np.argmax(votes))  # first maximum = smallest label
    return pred


def majority_accuracy(assign, label_counts, k):
    """Each cluster predicts its majority label: accuracy = sum of per-cluster maxima / total."""
    table = np.zeros((k, label_counts.shape[1]))
    np.add.at(table, assign, label_counts)
    return float(table.max(1).sum() / label_counts.sum())


def kmeans_accuracy(X, y, k, seed=0):
    """Fully independent: sklearn KMeans (its own RNG) on every sample."""
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=k, init="k-means++", n_init=10, random_state=seed, algorithm="lloyd").fit(X.astype(np.float64))
    return majority_accuracy(km.labels_, np.eye(int(y.max()) + 1)[y], k), float(km.inertia_)


def kmeans_shared_seeding(X, y, k, seed=0, n_init=10):
    """sklearn's Lloyd (KMeans with explicit init, n_init=1, sample weights) started from the seeds of a k-means++
    drawn with the shared mulberry32 stream on the distinct codes weighted by multiplicity (the convention of
    the TypeScript side), keeping the lowest inertia of n_init restarts. Checks our Lloyd iterations and
    k-means++ port draw for draw; None when there are fewer distinct codes than clusters."""
    from sklearn.cluster import KMeans

    P, inv, w = np.unique(X, axis=0, return_inverse=True, return_counts=True)
    # Our convention orders distinct codes by first appearance; np.unique sorts them. Reorder to first appearance.
    first = np.full(len(P), len(X))
    np.minimum.at(first, inv, np.arange(len(X)))
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    P, w, inv = P[order], w[order].astype(np.float64), rank[inv]
    n = len(P)
    if n < k:
        return None
    C = int(y.max()) + 1
    counts = np.zeros((n, C))
    np.add.at(counts, (inv, y), 1)
    Pf = P.astype(np.float64)
    # tolerance: sklearn scales tol by the unweighted mean variance of what it is given; ours by the weighted one.
    mean = (w[:, None] * Pf).sum(0) / w.sum()
    wvar = np.mean((w[:, None] * (Pf - mean) ** 2).sum(0) / w.sum())
    uvar = np.mean(np.var(Pf, axis=0))
    tol = 1e-4 * wvar / uvar
    rand = mulberry32(seed)
    trials = 2 + int(math.floor(math.log(k)))

    def hamming_to(i):
        return np.abs(Pf - Pf[i]).sum(1)

    best = None
    for _ in range(n_init):
        cum = np.cumsum(w)
        seeds = [min(int(np.searchsorted(cum, rand() * cum[-1], side="left")), n - 1)]
        closest = hamming_to(seeds[0])
        pot = float((w * closest).sum())
        for _c in range(1, k):
            cum = np.cumsum(w * closest)
            cands = [min(int(np.searchsorted(cum, rand() * pot, side="left")), n - 1) for _t in range(trials)]
            best_pot, best_id, best_d = math.inf, cands[0], None
            for cand in cands:
                d = np.minimum(closest, hamming_to(cand))
                p = float((w * d).sum())
                if p < best_pot:
                    best_pot, best_id, best_d = p, cand, d
            seeds.append(best_id)
            pot, closest = best_pot, best_d
        km = KMeans(n_clusters=k, init=Pf[seeds], n_init=1, max_iter=300, tol=tol, algorithm="lloyd").fit(
            Pf, sample_weight=w)
        if best is None or km.inertia_ < best[0]:
            best = (float(km.inertia_), km.labels_)
    return majority_accuracy(best[1], counts, k), best[0]


def kmeans_reference(X, y, k):
    """K-means accuracy three ways: sklearn random_state 0 (the headline), its spread over random_state 0..4,
    and the shared-seeding run."""
    runs = [kmeans_accuracy(X, y, k, seed) for seed in range(5)]
    acc = [r[0] for r in runs]
    shared = kmeans_shared_seeding(X, y, k)
    return dict(accuracy=acc[0], inertia=runs[0][1], spread=[min(acc), max(acc)],
                bestInertiaAccuracy=runs[int(np.argmin([r[1] for r in runs]))][0],
                sharedSeeding=None if shared is None else shared[0],
                sharedSeedingInertia=None if shared is None else shared[1])


def logistic_ovo(X, y, Xt):
    import warnings

    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsOneClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ConvergenceWarning must not pass silently
        clf = OneVsOneClassifier(LogisticRegression(C=1.0, solver="lbfgs", max_iter=100000, tol=1e-8)).fit(
            X.astype(np.float64), y)
    return clf.predict(Xt.astype(np.float64))


def hash_codes(codes_tr, y, codes_te, y_te, probes=("kmeans", "knn", "logistic")):
    raw = codes_tr.shape[1]
    both = np.vstack([codes_tr, codes_te])
    keep = both.min(0) != both.max(0)
    tr, te = codes_tr[:, keep], codes_te[:, keep]
    C = int(max(y.max(), y_te.max())) + 1
    out = dict(codeBitsRaw=int(raw), codeBits=int(keep.sum()))
    dtr = np.unique(np.packbits(tr, axis=1), axis=0).shape[0]
    dte = np.unique(np.packbits(te, axis=1), axis=0).shape[0]
    out.update(distinctTrain=int(dtr), distinctTest=int(dte),
               redundancyRatioTrain=(len(tr) - dtr) / len(tr), redundancyRatioTest=(len(te) - dte) / len(te))
    if "kmeans" in probes:
        a, b = kmeans_reference(tr, y, C), kmeans_reference(te, y_te, C)
        out["kmeansAccuracyTrain"], out["kmeansAccuracyTest"] = a["accuracy"], b["accuracy"]
        out["kmeansDetail"] = dict(train=a, test=b)
    if "knn" in probes:
        out["knnAccuracy"] = float(np.mean(knn_hamming(tr, y, te) == y_te))
    if "logistic" in probes:
        out["logisticAccuracy"] = float(np.mean(logistic_ovo(tr, y, te) == y_te))
    return out


# ------------------------------------------------------------------------------------------- redundancy


def redundancy(h_tr, y, h_te, y_te, W, b, acc_trials=100, r2_trials=40, seed=0, alpha=1e-8, groups=True, threshold=0.5):
    from sklearn.linear_model import Ridge
    from sklearn.metrics import r2_score

    both = np.vstack([h_tr, h_te])
    live = np.flatnonzero(both.min(0) != both.max(0))
    m = len(live)
    Htr = h_tr[:, live].astype(np.float64)
    Hte = h_te[:, live].astype(np.float64)
    Wl = W[:, live]
    sizes = []
    w = 1
    while w < m:
        sizes.append(w)
        w *= 2
    sizes.append(m)
    # Accuracy chunks: each trial draws one random order of the live units; the chunks below the width are its
    # prefixes (nested), the full width is one chunk. R² chunks are drawn per size.
    below = [w for w in sizes if w < m]
    rand = mulberry32(chunk_seed(seed, 0, 0))
    orders = [sample_without_replacement(m, below[-1], rand) for _ in range(acc_trials)] if below else []
    chunks = []
    for w in sizes:
        full = w == m
        atr, ate = [], []
        for S in ([np.arange(m)] if full else [P[:w] for P in orders]):
            atr.append(np.mean(np.argmax(Htr[:, S] @ Wl[:, S].T + b, 1) == y))
            ate.append(np.mean(np.argmax(Hte[:, S] @ Wl[:, S].T + b, 1) == y_te))
        rand = mulberry32(chunk_seed(seed, w, 1))
        r2s, corrs = [], []
        for _ in range(1 if full else r2_trials):
            S = sample_without_replacement(m, w, rand)
            X = Hte[:, S]
            reg = Ridge(alpha=alpha).fit(X, Hte)
            pred = reg.predict(X)
            r2s.append(r2_score(Hte, pred, multioutput="variance_weighted"))
            res = Hte - pred
            out = np.setdiff1d(np.arange(m), S)
            var = res[:, out].var(0)
            out = out[var > 1e-10 * Hte[:, out].var(0)]
            if len(out) >= 2:
                c = np.corrcoef(res[:, out].T)
                corrs.append(np.mean(np.abs(c[np.tril_indices_from(c, k=-1)])))
        chunks.append(dict(size=int(w), accuracyTrain=float(np.mean(atr)), accuracyTest=float(np.mean(ate)),
                           r2=float(np.mean(r2s)), residualCorrelation=float(np.mean(corrs)) if corrs else None))
    crit = {str(t): next((c["size"] for c in chunks if c["r2"] >= t), None) for t in (0.9, 0.95, 0.99)}
    out = dict(width=int(m), layerWidth=int(h_tr.shape[1]), droppedConstantUnits=int(h_tr.shape[1] - m),
               chunks=chunks, criticalWidth=crit["0.95"], criticalWidths=crit,
               clones=(m / crit["0.95"]) if crit["0.95"] else None)
    if groups:
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import squareform

        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.corrcoef(Htr.T)
        corr = np.nan_to_num(corr, nan=0.0)  # a unit constant on the train split correlates with nothing
        d = 1 - np.abs(corr)
        np.fill_diagonal(d, 0)
        d = np.maximum(d, 0)
        Z = linkage(squareform(d, checks=False), method="average")
        lab = fcluster(Z, t=threshold, criterion="distance")
        # canonical ids: in order of each cluster's smallest unit
        first = {}
        canon = [first.setdefault(l, len(first)) for l in lab]
        full = [-1] * h_tr.shape[1]
        for t, u in enumerate(live):
            full[u] = canon[t]
        out["groups"] = dict(count=len(first), assignment=full)
    return out


# ------------------------------------------------------------------------------------------- main


def load_data():
    d = np.load(os.path.join(ROOT, "examples", "data", "fmnist.npz"))
    return d["x"], d["y"].astype(np.int64), d["x_test"], d["y_test"].astype(np.int64)


def model_features(path, x, xt):
    model, inits, v = forward(path, x)
    _, _, vt = forward(path, xt)
    return model, inits, v, vt


def reference():
    import sklearn
    import scipy
    import onnx

    x, y, xt, yt = load_data()
    ex = os.path.join(ROOT, "examples")
    out = dict(
        generatedBy="scripts/reference/analyses_i.py",
        versions=dict(numpy=np.__version__, sklearn=sklearn.__version__, scipy=scipy.__version__, onnx=onnx.__version__),
        data="examples/data/fmnist.npz",
        collapse={}, hash={}, redundancy={},
    )
    t0 = time.time()

    def log(msg):
        print(f"[{time.time() - t0:6.1f}s] {msg}", flush=True)

    series = sorted(f for f in os.listdir(os.path.join(ex, "mlp", "series")) if f.endswith(".onnx"))
    for rel in ["mlp/mlp.onnx"] + [f"mlp/series/{f}" for f in series]:
        model, inits, v, vt = model_features(os.path.join(ex, rel), x, xt)
        feat, W, b = head_of(model, inits)
        out_name = model.graph.output[0].name
        r = collapse(v[feat], y, vt[feat], yt, W, b, v[out_name], vt[out_name], classes=W.shape[0])
        r["features"] = feat
        r["layers"] = []
        for name in relu_outputs(model):
            m = collapse(v[name], y, vt[name], yt, classes=W.shape[0])
            r["layers"].append(dict(layer=name, dim=m["dim"], **{k: m[k] for k in (
                "nc1", "nc1TraceRatio", "cdnv", "equinormMeans", "equiangularityMeans", "maxAngleMeans",
                "etfDistanceMeans", "nccAccuracyTrain", "nccAccuracyTest")}))
        out["collapse"][rel] = r
        log(f"collapse {rel}: nc1 {r['nc1']:.5g} acc {r['accuracyTrain']:.4f}")

    widths = sorted(f for f in os.listdir(os.path.join(ex, "widths")) if f.endswith(".onnx"))
    for rel in ["mlp/mlp.onnx"] + [f"widths/{f}" for f in widths]:
        model, inits, v, vt = model_features(os.path.join(ex, rel), x, xt)
        relus = relu_outputs(model)
        ctr = np.hstack([v[n].reshape(len(x), -1) > 0 for n in relus]).astype(np.uint8)
        cte = np.hstack([vt[n].reshape(len(xt), -1) > 0 for n in relus]).astype(np.uint8)
        r = hash_codes(ctr, y, cte, yt)
        out_name = model.graph.output[0].name
        r["layers"] = relus
        r["networkAccuracyTrain"] = float(np.mean(np.argmax(v[out_name], 1) == y))
        r["networkAccuracyTest"] = float(np.mean(np.argmax(vt[out_name], 1) == yt))
        out["hash"][rel] = r
        log(f"hash {rel}: bits {r['codeBits']} ratio {r['redundancyRatioTrain']:.4f} knn {r['knnAccuracy']:.3f} "
            f"lr {r['logisticAccuracy']:.3f} kmeans {r['kmeansAccuracyTrain']:.3f}")

    for rel in ["mlp/mlp.onnx", "widths/mlp_w100.onnx"]:
        model, inits, v, vt = model_features(os.path.join(ex, rel), x, xt)
        feat, W, b = head_of(model, inits)
        r = redundancy(v[feat], y, vt[feat], yt, W, b)
        r["layer"] = feat
        out["redundancy"][rel] = r
        log(f"redundancy {rel}: width {r['width']} critical {r['criticalWidth']} clones {r['clones']}")

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    log(f"wrote {os.path.relpath(OUT, ROOT)}")


def bench(path, only, repeat=1):
    """Times each reference analysis on the features in `path` (arrays: h, y, h_test, y_test, W, b, codes,
    codes_test), best of `repeat` runs, and prints JSON."""
    d = np.load(path)
    res = {}

    def timed(name, fn):
        best, r = math.inf, None
        for _ in range(repeat if name in ("collapse", "redundancyRatio") else max(1, min(repeat, 2))):
            t = time.perf_counter()
            r = fn()
            best = min(best, (time.perf_counter() - t) * 1000)
        res[name] = dict(ms=best, result=r)

    h, y, ht, yt, W, b = d["h"], d["y"].astype(np.int64), d["h_test"], d["y_test"].astype(np.int64), d["W"], d["b"]
    if "collapse" in only:
        timed("collapse", lambda: collapse(h, y, ht, yt, W.astype(np.float64), b.astype(np.float64), classes=W.shape[0]))
    if "hash" in only or any(p in only for p in ("redundancyRatio", "kmeans", "knn", "logistic")):
        ctr, cte = d["codes"], d["codes_test"]
        both = np.vstack([ctr, cte])
        keep = both.min(0) != both.max(0)
        tr, te = ctr[:, keep], cte[:, keep]
        C = int(max(y.max(), yt.max())) + 1
        if "hash" in only or "redundancyRatio" in only:
            timed("redundancyRatio", lambda: [np.unique(np.packbits(a, axis=1), axis=0).shape[0] for a in (tr, te)])
        if "hash" in only or "kmeans" in only:
            timed("kmeans", lambda: [kmeans_accuracy(tr, y, C)[0], kmeans_accuracy(te, yt, C)[0]])
        if "hash" in only or "knn" in only:
            timed("knn", lambda: float(np.mean(knn_hamming(tr, y, te) == yt)))
        if "hash" in only or "logistic" in only:
            timed("logistic", lambda: float(np.mean(logistic_ovo(tr, y, te) == yt)))
    if "redundancy" in only:
        timed("redundancy", lambda: redundancy(h, y, ht, yt, W.astype(np.float64), b.astype(np.float64))["criticalWidth"])
    print(json.dumps(res, default=float))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "bench":
        args = sys.argv[3:]
        only = args[args.index("--only") + 1].split(",") if "--only" in args else ["collapse", "hash", "redundancy"]
        repeat = int(args[args.index("--repeat") + 1]) if "--repeat" in args else 1
        bench(sys.argv[2], only, repeat)
    else:
        reference()
