#!/usr/bin/python3
"""The papers' own code, run on the example checkpoints: reference values for `result.authors` (ANALYSES.md §6,
test/integration/authors.test.ts → test/fixtures/authors/reference.json).

Nothing of the authors' code is copied into this repository: the script reads each repository at the commit named
below from a checkout (or a bare git mirror, unpacked with `git archive` into a temporary folder) and calls the
authors' functions from their own files:

- rhubarbwu/neural-collapse (c05a0b8): the package is imported as published (it needs torch, numpy, scipy only)
  and run in float64 (torch's default dtype set to float64, so that its `tiling` grid and accumulators keep float64):
  MeanAccumulator → means, mG; DecAccumulator.accumulate(H, Y, W, means) + measure.clf_ncc_agreement (train and
  test: the NCC mismatch without the classifier's bias); kernels.kernel_stats(M, m_G, kernel)[1] with an
  inner-product kernel built on their util.tiling (on the normalised rows = cosines) → equiangularity as the
  population variance over unordered pairs, for the centred means and for the classifier rows (m_G = 0).
- diegodoimo/redundant_representation (726b77b): analysis_repr.py runs its whole pipeline at import (argparse,
  downloaded CIFAR files), so its two functions `compute_accuracy_chunk` and `compute_r2_chunk` are taken from the
  file with `ast` and executed unchanged, with `args.dataset = 'cifar10'` (the branch that computes the accuracy).
  Their random draws (np.random.choice / np.random.permutation) are replaced by the chunks our engine draws
  (mulberry32 with `authorsChunkSeed`, ported below), so both sides average over the same chunks; the chunk grid is
  theirs: sort(W // 2^i). Features are float64 (see the note in ANALYSES.md §6 on float32).
- ApolloResearch/rib (7a6199f): the package needs pydantic 2, jaxtyping, einops, fancy_einsum and tqdm, which
  Debian does not ship, so the functions are taken from their files with `ast` and executed unchanged with small
  stand-ins for those imports (type annotations only; tqdm = identity; einops.einsum / fancy_einsum.einsum = the
  same named-axis einsum over torch.einsum): models/utils.py fold_mlp_in, models/mlp.py MLPLayer (the folded-bias
  MLP), linalg.py (calc_gram_matrix, eigendecompose, masked_eigendecompose, move_const_dir_first,
  centering_matrix, pinv_diag, calc_basis_jacobian and its integration points), hook_fns.py
  (dataset_mean_pre_forward_hook_fn, gram_pre_forward_hook_fn, M_dash_and_Lambda_dash_pre_forward_hook_fn), and
  interaction_algos.py (build_sorted_lambda_matrices, _calculate_one_interaction_rotation,
  calculate_interaction_rotations). Only the data plumbing is ours: their HookedModel/DataLoader loop is replaced by
  calling the same hook functions on the same batches. Config: rib's defaults (center=True, basis_formula
  "jacobian", integration_method "gradient", n_intervals 0, truncation_threshold 1e-5, rotate_final_node_layer
  False as in rib_scripts/rib_build/mlp_mnist.yaml), dtype float64, node layers layers.0, layers.1, layers.2, output.

Usage (from the repository root, ~1 minute):
    OMP_NUM_THREADS=1 /usr/bin/python3 scripts/reference/authors_conventions.py --authors-root DIR
where DIR holds the three repositories as `<owner>+<name>/repo` git directories (what the fetch tool writes) or
as plain checkouts named `<owner>+<name>`.
"""
import argparse
import ast
import json
import os
import subprocess
import sys
import tempfile
import types

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import analyses_i as ours  # noqa: E402  (forward pass, head extraction, mulberry32: our shared helpers)

ROOT = ours.ROOT
OUT = os.path.join(ROOT, "test", "fixtures", "authors", "reference.json")
REPOS = {
    "rhubarbwu/neural-collapse": "c05a0b80d6bc6e8e2e102f2180f1f33b2c9605fd",
    "diegodoimo/redundant_representation": "726b77b2248742a81a485d2e22650f20ffcbd591",
    "ApolloResearch/rib": "7a6199f7020e1f2d30c1b53e045ebc43a00fd7d8",
}
RIB_TRUNCATION = 1e-5


def checkout(root, repo, tmp):
    """A working tree of `repo` at its pinned commit: a plain checkout, or `git archive` of a bare mirror."""
    name = repo.replace("/", "+")
    plain = os.path.join(root, name)
    git_dir = os.path.join(plain, "repo")
    if os.path.isdir(git_dir) and os.path.exists(os.path.join(git_dir, "HEAD")):
        out = os.path.join(tmp, name)
        os.makedirs(out)
        archive = subprocess.run(["git", f"--git-dir={git_dir}", "archive", REPOS[repo]], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", out], input=archive, check=True)
        return out
    if os.path.isdir(plain):
        return plain
    raise SystemExit(f"expected {repo} at {git_dir} (git dir) or {plain} (checkout), found neither")


def functions_from(path, names, namespace):
    """Executes the top-level definitions `names` (functions, classes, assignments) of a Python file, unchanged,
    in `namespace`."""
    tree = ast.parse(open(path).read(), path)
    found = set()
    body = []
    for node in tree.body:
        n = getattr(node, "name", None)
        if n is None and isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            n = next((t.id for t in targets if isinstance(t, ast.Name)), None)
        if n in names:
            body.append(node)
            found.add(n)
    missing = set(names) - found
    if missing:
        raise SystemExit(f"{path}: expected definitions {sorted(missing)}, not found")
    exec(compile(ast.Module(body=body, type_ignores=[]), path, "exec"), namespace)
    return namespace


def load_data():
    x, y, xt, yt = ours.load_data()
    return x, y, xt, yt


# ------------------------------------------------------------------------------------------- neural collapse


def collapse_reference(nc_dir, h, y, ht, yt, W):
    sys.path.insert(0, nc_dir)
    from neural_collapse.accumulate import DecAccumulator, MeanAccumulator
    from neural_collapse.kernels import kernel_stats
    from neural_collapse.measure import clf_ncc_agreement
    from neural_collapse.util import tiling

    prev = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        C, D = W.shape
        H, Y = torch.tensor(h, dtype=torch.float64), torch.tensor(y, dtype=torch.int64)
        Ht, Yt = torch.tensor(ht, dtype=torch.float64), torch.tensor(yt, dtype=torch.int64)
        Wt = torch.tensor(W, dtype=torch.float64)
        mean_accum = MeanAccumulator(C, D, "cpu", dtype=torch.float64)
        mean_accum.accumulate(H, Y)
        means, mG = mean_accum.compute()

        def mismatch(X, L):
            dec = DecAccumulator(C, D, "cpu", M=means, W=Wt, dtype=torch.float64)
            dec.accumulate(X, L, Wt, means)
            return 1 - clf_ncc_agreement(dec)

        def inner_kernel(data, tile_size=None):  # cosines: kernel_grid passes the normalised rows
            return tiling(data, lambda a, b: a @ b.mT, tile_size)

        return dict(
            nccMismatchTrain=mismatch(H, Y),
            nccMismatchTest=mismatch(Ht, Yt),
            equiangularityMeans=kernel_stats(means, mG, kernel=inner_kernel)[1],
            equiangularityWeights=kernel_stats(Wt, 0, kernel=inner_kernel)[1],
        )
    finally:
        torch.set_default_dtype(prev)


# ------------------------------------------------------------------------------------------- redundancy


def authors_chunk_seed(seed, size, kind):
    return (ours.imul((seed ^ 0x5BD1E995) & ours.M32, 0x9E3779B1) + 2 * size + kind) & ours.M32


class QueuedRandom:
    """np.random as analysis_repr.py uses it, answering with queued chunks (ours) instead of fresh draws."""

    def __init__(self):
        self.queue = []

    def choice(self, n, size, replace):
        assert not replace
        ind = self.queue.pop(0)
        assert len(ind) == size and max(ind) < n
        return ind

    def permutation(self, arr):
        ind = self.queue.pop(0)
        rest = np.setdiff1d(arr, ind)
        return np.concatenate([ind, rest])


def redundancy_reference(doimo_dir, h_tr, y, h_te, y_te, W, b, acc_trials=100, r2_trials=40, seed=0):
    from sklearn.linear_model import Ridge
    from sklearn.metrics import r2_score

    rnd = QueuedRandom()
    np_shim = types.SimpleNamespace(**{k: getattr(np, k) for k in dir(np) if not k.startswith("__")})
    np_shim.random = rnd
    ns = dict(np=np_shim, torch=torch, Ridge=Ridge, r2_score=r2_score, args=argparse.Namespace(dataset="cifar10"), print=lambda *a, **k: None)
    functions_from(os.path.join(doimo_dir, "analysis_repr.py"), ["compute_accuracy_chunk", "compute_r2_chunk"], ns)
    width = h_tr.shape[1]
    # Their grid (analysis_repr.py, module level): np.sort(width_tot // np.array([2**i for i in range(int(math.log2(width_tot)) + 1)]))
    import math

    sizes = [int(s) for s in np.sort(width // np.array([2**i for i in range(int(math.log2(width)) + 1)]))]
    features_tr, features_te = torch.tensor(h_tr, dtype=torch.float64), torch.tensor(h_te, dtype=torch.float64)
    weights, bias = torch.tensor(W, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
    targets_tr, targets_te = torch.tensor(y, dtype=torch.int64), torch.tensor(y_te, dtype=torch.int64)
    criterion = torch.nn.CrossEntropyLoss()
    below = [s for s in sizes if s < width]
    rand = ours.mulberry32(authors_chunk_seed(seed, 0, 0))
    orders = [ours.sample_without_replacement(width, below[-1], rand) for _ in range(acc_trials)] if below else []
    chunks = []
    for c in sizes:
        acc = {}
        for split, feats, targets in (("test", features_te, targets_te), ("train", features_tr, targets_tr)):
            n = 1 if c == width else acc_trials
            rnd.queue = [np.arange(width)] if c == width else [P[:c] for P in orders]
            a, _ = ns["compute_accuracy_chunk"](n_trials=n, chunk_size=c, features=feats, weights=weights, bias=bias, targets=targets, criterion=criterion)
            acc[split] = float(np.mean(a))
        rand = ours.mulberry32(authors_chunk_seed(seed, c, 1))
        n = 1 if c == width else r2_trials
        rnd.queue = [np.arange(width) if c == width else ours.sample_without_replacement(width, c, rand) for _ in range(n)]
        r2, corr = ns["compute_r2_chunk"](n_trials=n, features=features_te, w=c, compute_sym=False, norm="mean")
        chunks.append(dict(size=c, accuracyTrain=acc["train"], accuracyTest=acc["test"], r2=float(np.mean(r2)), residualCorrelation=float(np.mean(corr))))
    crit = next((ch["size"] for ch in chunks if ch["r2"] >= 0.95), None)
    return dict(width=width, chunks=chunks, criticalWidth=crit, clones=(width / crit) if crit else None)


# ------------------------------------------------------------------------------------------- rib


class Subscriptable:
    """jaxtyping's Float[Tensor, "…"] and friends: annotations only."""

    def __class_getitem__(cls, item):
        return torch.Tensor


def named_einsum(pattern, *tensors):
    """fancy_einsum.einsum / einops.einsum: named axes (words) mapped to letters, then torch.einsum."""
    lhs, rhs = pattern.split("->")
    names = {}

    def letters(part):
        out = []
        for tok in part.replace(",", " , ").split():
            if tok == ",":
                out.append(",")
            elif tok == "...":
                out.append("...")
            else:
                out.append(names.setdefault(tok, "abcdefghijklmnopqrstuvwxyz"[len(names)]))
        return "".join(out)

    return torch.einsum(f"{letters(lhs)}->{letters(rhs)}", *tensors)


def rib_namespace(rib_dir):
    from typing import Callable, Literal, NamedTuple, Optional, TypeVar, Union, cast

    stubs = dict(
        torch=torch, np=np, Tensor=torch.Tensor, nn=torch.nn, F=torch.nn.functional,
        Float=Subscriptable, Int=Subscriptable, Int8=Subscriptable, Bool=Subscriptable,
        tqdm=lambda it, *a, **k: it, einsum=named_einsum,
        einops=types.SimpleNamespace(einsum=lambda *args: named_einsum(args[-1], *args[:-1])),
        Callable=Callable, Literal=Literal, NamedTuple=NamedTuple, Optional=Optional, TypeVar=TypeVar, Union=Union,
        cast=cast, Any=object, Tuple=tuple, T=TypeVar("T"),
        TORCH_DTYPES={"float32": torch.float32, "float64": torch.float64}, StrDtype=str, IntegrationMethod=str,
        InputActType=object, logger=types.SimpleNamespace(info=lambda *a, **k: None, warning=lambda *a, **k: None),
        find_root=None, DataLoader=object, HookedModel=object,
    )
    ns = dict(stubs)
    functions_from(os.path.join(rib_dir, "rib", "models", "utils.py"), ["ACTIVATION_MAP", "fold_mlp_in"], ns)
    functions_from(os.path.join(rib_dir, "rib", "models", "mlp.py"), ["MLPLayer"], ns)
    functions_from(os.path.join(rib_dir, "rib", "linalg.py"), [
        "eigendecompose", "masked_eigendecompose", "move_const_dir_first", "pinv_diag", "centering_matrix",
        "calc_gram_matrix", "calc_basis_jacobian", "IntegrationPoint", "_calc_integration_points",
        "_trapezoidal_weights", "_gauss_legendre_weights",
    ], ns)
    functions_from(os.path.join(rib_dir, "rib", "hook_fns.py"), [
        "_add_to_hooked_matrix", "dataset_mean_pre_forward_hook_fn", "gram_pre_forward_hook_fn",
        "M_dash_and_Lambda_dash_pre_forward_hook_fn",
    ], ns)
    return ns


def rib_reference(rib_dir, inits, x, batch=250):
    ns = rib_namespace(rib_dir)
    dtype = torch.float64
    names = [("fc1", "relu"), ("fc2", "relu"), ("fc3", None)]
    layers = []
    for i, (n, act) in enumerate(names):
        Wm = torch.tensor(inits[f"{n}.weight"], dtype=dtype)  # out × in (torch Linear)
        layer = ns["MLPLayer"](Wm.shape[1], Wm.shape[0], activation_fn=act, use_bias=True, dtype=dtype)
        layer.W.data = Wm.T.clone()
        layer.b.data = torch.tensor(inits[f"{n}.bias"], dtype=dtype)
        layer.fold_bias(include_ones_in_out=i < len(names) - 1)
        layers.append(layer)

    class MLP(torch.nn.Module):  # what calculate_interaction_rotations asks of the model: output_size, has_folded_bias
        def __init__(self):
            super().__init__()
            self.layers = torch.nn.ModuleList(layers)
            self.output_size = 10
            self.has_folded_bias = True

    model = MLP()
    X = torch.tensor(x.reshape(len(x), -1), dtype=dtype)
    X = torch.cat([X, torch.ones(len(X), 1, dtype=dtype)], dim=-1)  # MLP.forward with folded biases
    with torch.no_grad():
        acts = [X]
        for layer in layers[:-1]:
            acts.append(layer(acts[-1]))
    N = len(X)
    node_layers = ["layers.0", "layers.1", "layers.2", "output"]
    sections = ["layers.0", "layers.1", "layers.2"]
    batches = lambda a: [a[i:i + batch] for i in range(0, N, batch)]  # noqa: E731

    def run_hook(fn, name, inputs_full, key, **kw):
        hooked = {}
        for xb in batches(inputs_full):
            fn(None, (xb,), hooked, name, key, dataset_size=N, **kw)
        return hooked[name]

    means, grams = {}, {}
    for name, a in zip(sections, acts):
        means[name] = run_hook(ns["dataset_mean_pre_forward_hook_fn"], name, a, "dataset_mean")["dataset_mean"]
        shift = -means[name].clone()
        shift[-1] = 0.0  # collect_gram_matrices: don't shift the final bias pos
        grams[name] = run_hook(ns["gram_pre_forward_hook_fn"], name, a, "gram", shift=shift)["gram"]

    def collect_M_dash_and_Lambda_dash(C_out, hooked_model, n_intervals, integration_method, data_loader, module_name, dtype, device,
                                       hook_name=None, M_dtype=torch.float64, Lambda_einsum_dtype=torch.float64, basis_formula="(1-0)*alpha",
                                       n_stochastic_sources_pos=None, n_stochastic_sources_hidden=None, out_dim_n_chunks=1, out_dim_chunk_idx=0):
        """rib/data_accumulator.py's function, its HookedModel loop replaced: the same hook on the same batches."""
        hook_name = hook_name or module_name
        k = sections.index(module_name)
        module = layers[k]
        hooked = {}
        for xb in batches(acts[k]):
            xb = xb.clone()
            module.register_forward_pre_hook(lambda *a: None)  # the hook pops its own registration first
            ns["M_dash_and_Lambda_dash_pre_forward_hook_fn"](
                module, (xb,), hooked, hook_name, ["M_dash", "Lambda_dash"], C_out=C_out, n_intervals=n_intervals,
                integration_method=integration_method, dataset_size=N, M_dtype=M_dtype, Lambda_einsum_dtype=Lambda_einsum_dtype,
                basis_formula=basis_formula, n_stochastic_sources_pos=n_stochastic_sources_pos,
                n_stochastic_sources_hidden=n_stochastic_sources_hidden, out_dim_n_chunks=out_dim_n_chunks, out_dim_chunk_idx=out_dim_chunk_idx)
        return hooked[hook_name]["M_dash"], hooked[hook_name]["Lambda_dash"]

    class InteractionRotation:  # the pydantic model's fields, without its validators
        def __init__(self, **kw):
            self.__dict__.update(kw)

    ns.update(collect_M_dash_and_Lambda_dash=collect_M_dash_and_Lambda_dash, InteractionRotation=InteractionRotation, MLP=MLP,
              SequentialTransformer=type("SequentialTransformer", (), {}))
    functions_from(os.path.join(rib_dir, "rib", "interaction_algos.py"), [
        "build_sorted_lambda_matrices", "_calculate_one_interaction_rotation", "calculate_interaction_rotations",
    ], ns)
    irs = ns["calculate_interaction_rotations"](
        gram_matrices=grams, section_names=sections, node_layers=node_layers,
        hooked_model=types.SimpleNamespace(model=model), data_loader=None, dtype=dtype, device="cpu", n_intervals=0,
        integration_methods=["gradient"] * len(node_layers), M_dtype=torch.float64, Lambda_einsum_dtype=torch.float64,
        truncation_threshold=RIB_TRUNCATION, rotate_final_node_layer=False, basis_formula="jacobian", center=True, means=means,
    )
    out = []
    for ir in irs[:-1]:
        lam = ir.Lambda.numpy()
        kept = ir.C.shape[1]
        out.append(dict(node=ir.node_layer, lambda0=float(lam[0]), lambdasTop=[float(v) for v in sorted(lam[1:], reverse=True)[:8]], rank=int(kept)))
    return out


# ------------------------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--authors-root", required=True, help="folder with <owner>+<name>/repo git dirs or <owner>+<name> checkouts")
    ap.add_argument("--only", default="collapse,redundancy,lib")
    args = ap.parse_args()
    only = set(args.only.split(","))
    x, y, xt, yt = load_data()
    out = dict(generatedBy="scripts/reference/authors_conventions.py", repositories=REPOS, data="examples/data/fmnist.npz",
               versions=dict(numpy=np.__version__, torch=torch.__version__))
    if os.path.exists(OUT):
        prev = json.load(open(OUT))
        for k in ("collapse", "redundancy", "lib"):
            if k not in only and k in prev:
                out[k] = prev[k]
    with tempfile.TemporaryDirectory() as tmp:
        dirs = {r: checkout(args.authors_root, r, tmp) for r in REPOS}
        models = {}

        def feats(rel):
            if rel not in models:
                model, inits, v, vt = ours.model_features(os.path.join(ROOT, "examples", rel), x, xt)
                feat, W, b = ours.head_of(model, inits)
                models[rel] = (inits, v[feat], vt[feat], W, b, feat)
            return models[rel]

        if "collapse" in only:
            out["collapse"] = {}
            for rel in ["mlp/mlp.onnx", "widths/mlp_w100.onnx"]:
                _, h, ht, W, b, feat = feats(rel)
                out["collapse"][rel] = dict(features=feat, **collapse_reference(dirs["rhubarbwu/neural-collapse"], h, y, ht, yt, W))
                print(rel, "collapse", out["collapse"][rel], flush=True)
        if "redundancy" in only:
            out["redundancy"] = {}
            for rel in ["mlp/mlp.onnx", "widths/mlp_w100.onnx"]:
                _, h, ht, W, b, feat = feats(rel)
                r = redundancy_reference(dirs["diegodoimo/redundant_representation"], h.astype(np.float64), y, ht.astype(np.float64), yt, W, b)
                out["redundancy"][rel] = dict(layer=feat, **r)
                print(rel, "redundancy", r["criticalWidth"], r["clones"], flush=True)
        if "lib" in only:
            inits = feats("mlp/mlp.onnx")[0]
            out["lib"] = {"mlp/mlp.onnx": dict(truncationThreshold=RIB_TRUNCATION, layers=rib_reference(dirs["ApolloResearch/rib"], inits, x))}
            print("lib", out["lib"], flush=True)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", os.path.relpath(OUT, ROOT))


if __name__ == "__main__":
    main()
