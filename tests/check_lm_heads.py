"""An independent check of `attnviz heads` (docs/training.md, "What the heads do"): every head's mean weight
on the previous word, on itself and on the first word, its mean distance looked back and its entropy in
bits, over every position but each piece's first, from the model's weights by a numpy forward (the one of
tests/check_lm_perplexity.py, written apart from src/train/lm.cpp and src/train/heads.cpp), compared with
what `attnviz heads --json` wrote for the same split. Not part of ctest (it needs the corpus, built from
wordnet-base):

    attnviz heads --model wordnet-lm --corpus corpus --json heads.json
    python3 tests/check_lm_heads.py data/models/wordnet-lm.json data/embeddings/glove-100d.json corpus/dev.txt heads.json

Exits 1 when a figure differs by more than 10⁻⁴ (attnviz writes 4 decimals).
"""

import json
import sys

import numpy as np

from check_lm_perplexity import forward, pieces


def head_figures(m, E, split_path, index, unknown):
    """(layers × heads × [previous, self, first, distance, entropy]) means, and the number of positions."""
    sums, n = np.zeros((len(m["blocks"]), m["heads"], 5)), 0

    def add(layer, h, A):
        for i in range(1, len(A)):
            row = A[i, :i + 1]
            nz = row[row > 0]
            back = float((row * (i - np.arange(i + 1))).sum())
            sums[layer, h] += [row[i - 1], row[i], row[0], back, float(-(nz * np.log2(nz)).sum())]

    for ids in pieces(split_path, index, unknown, m["max_len"]):
        forward(m, E, ids, add)
        n += len(ids) - 1
    if n == 0:
        sys.exit(f"{split_path}: no piece of two tokens or more to measure")
    return sums / n, n


def main(model_path, embeddings_path, split_path, heads_json):
    emb = json.load(open(embeddings_path))
    words = list(emb["vectors"]) + ["<unk>"]
    index = {w: i for i, w in enumerate(words)}
    E = np.zeros((len(words), emb["dim"]))
    for i, w in enumerate(words[:-1]):
        E[i] = emb["vectors"][w]
    mine, n = head_figures(json.load(open(model_path)), E, split_path, index, len(words) - 1)
    worst = 0.0
    for g in json.load(open(heads_json))["heads"]:
        ours = mine[g["layer"] - 1, g["head"] - 1]
        theirs = [g["previous"], g["self"], g["first"], g["distance"], g["entropy_bits"]]
        worst = max(worst, max(abs(a - b) for a, b in zip(ours, theirs)))
        if g["positions"] != n:
            sys.exit(f"L{g['layer']}H{g['head']}: {g['positions']} positions, numpy counts {n}")
        print(f"L{g['layer']}H{g['head']}  numpy {' '.join(f'{v:.4f}' for v in ours)}  attnviz {' '.join(f'{v:.4f}' for v in theirs)}")
    print(f"{n} positions; largest difference {worst:.1e}")
    sys.exit(0 if worst <= 1e-4 else 1)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
