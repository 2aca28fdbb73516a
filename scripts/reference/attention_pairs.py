#!/usr/bin/python3
"""Circuit prompt pairs that corrupt the *match* of the induction mechanism (test fixture).

examples/transformer/induction.npz's pairs corrupt the token that gets copied (the answer in the first copy):
the previous-token heads see the same tokens in both runs there, so patching isolates the copying (value)
path of the induction heads and the previous-token heads are — correctly — not in that circuit.
These pairs corrupt the earlier occurrence of the last token instead: the clean prompts are the same, and in
the corrupted prompt that occurrence is replaced by a token absent from the prompt (and from `wrong`), so
the induction heads find no match (K-composition through the previous-token heads is what changes).
`answer` and `wrong` are the dataset's.

    OMP_NUM_THREADS=1 /usr/bin/python3 scripts/reference/attention_pairs.py
    # writes test/fixtures/attention/induction_match_pairs.npz (deterministic, seed 7)
"""
import os

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SRC = os.path.join(ROOT, "examples", "transformer", "induction.npz")
OUT = os.path.join(ROOT, "test", "fixtures", "attention", "induction_match_pairs.npz")
VOCAB = 32


def main():
    z = np.load(SRC)
    clean, answer, wrong = z["clean"], z["answer"], z["wrong"]
    rng = np.random.default_rng(7)
    corrupt = clean.copy()
    for i in range(len(clean)):
        last = clean[i, -1]
        (j,) = np.flatnonzero(clean[i, :-1] == last)  # the one earlier occurrence of the last token
        assert clean[i, j + 1] == answer[i]
        unused = np.setdiff1d(np.arange(VOCAB), np.concatenate([clean[i], [wrong[i]]]))
        corrupt[i, j] = rng.choice(unused)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    np.savez(OUT, clean=clean, corrupt=corrupt, answer=answer, wrong=wrong)
    print(f"wrote {OUT}: {len(clean)} pairs, one token changed in each")


if __name__ == "__main__":
    main()
