#!/usr/bin/python3
"""Reference eigendecompositions for test/unit/linalg.test.ts, computed with numpy.linalg.eigh (LAPACK).

Run with Debian's python3 + numpy from the repository root:

    /usr/bin/python3 scripts/reference/linalg_reference.py

and commit the output, test/fixtures/linalg/reference.json, so the tests need no Python.

Inputs are integer matrices (exact in float64 and short in JSON); the lower triangle is stored row by row.
Eigenvalues are stored in descending order (the order eigh() returns). Eigenvectors are stored for the small
cases whole and for the large one only for a few columns, to keep the fixture small; they are compared up to sign.
Rank-deficient Grams G = XᵀX are given by their integer X; only eigenvalues are stored (the null-space basis is
not unique).
"""
import json
import os
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "linalg", "reference.json")


def symmetric_case(rng, name, n, keep_columns=None):
    k = rng.integers(-999, 1000, size=(n, n))
    a = np.tril(k) + np.tril(k, -1).T
    a = a.astype(np.float64)
    w, v = np.linalg.eigh(a)
    order = np.argsort(-w, kind="stable")
    w, v = w[order], v[:, order]
    cols = list(range(n)) if keep_columns is None else keep_columns
    return {
        "name": name,
        "n": n,
        "lower": [int(a[i, j]) for i in range(n) for j in range(i + 1)],
        "values": [float(x) for x in w],
        "vectorColumns": cols,
        "vectors": [[float(x) for x in v[:, c]] for c in cols],
    }


def gram_case(rng, name, rows, d):
    x = rng.integers(-9, 10, size=(rows, d)).astype(np.float64)
    g = x.T @ x
    w = np.linalg.eigvalsh(g)[::-1]
    return {
        "name": name,
        "rows": rows,
        "d": d,
        "x": [int(v) for v in x.ravel()],
        "values": [float(v) for v in w],
        "rank": int(np.linalg.matrix_rank(g)),
    }


def main():
    rng = np.random.default_rng(20261101)
    cases = [
        symmetric_case(rng, "random-5", 5),
        symmetric_case(rng, "random-64", 64),
        symmetric_case(rng, "random-300", 300, keep_columns=[0, 1, 2, 3, 4, 150, 295, 296, 297, 298, 299]),
    ]
    grams = [gram_case(rng, "gram-rank8-of-20", 8, 20), gram_case(rng, "gram-rank30-of-96", 30, 96)]
    doc = {
        "generator": "scripts/reference/linalg_reference.py",
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "cases": cases,
        "grams": grams,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.relpath(OUT)} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
