"""The numpy reference of attnviz's attention, shared by the Python checks (check_toy_lesson.py,
check_two_heads.py): the tokenizer's rules, the sinusoidal encoding and multi-head attention in float32 with
the row-vector convention of docs/math.md. Independent of the C++ code, so the checks test it.
"""

import math
import re

import numpy as np

F32 = np.float32


def tokenize(sentence, vocab):
    """The C++ tokenizer's rules: lower-case, split on white space, keep letters, digits and hyphens (so
    "don't" -> "dont"); a hyphenated word stays whole when the vocabulary has it, else it splits at its hyphens."""
    tokens = []
    for chunk in sentence.lower().split():
        word = re.sub(r"[^a-z0-9-]", "", chunk)
        tokens.extend([word] if word in vocab else [p for p in word.split("-") if p])
    return tokens


def sinusoidal(n, d):
    """PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d)), float32, n x d."""
    pe = np.zeros((n, d))
    for p in range(n):
        for c in range(d):
            angle = p / 10000 ** ((c - c % 2) / d)
            pe[p, c] = math.sin(angle) if c % 2 == 0 else math.cos(angle)
    return pe.astype(F32)


def attention(X, m, heads=1):
    """Multi-head attention of X (n x d_model) with the model m (W_q, W_k, W_v, W_o and biases, float32).
    Head h uses the h-th block of columns of W_q, W_k, W_v. Returns every stage: per head Q, K, V, S, S'
    (= S / sqrt(d_k)), P (row softmax) and A, then concat and O; all float32."""
    dk, dv = m["W_q"].shape[1] // heads, m["W_v"].shape[1] // heads
    Q, K, V = X @ m["W_q"] + m["b_q"], X @ m["W_k"] + m["b_k"], X @ m["W_v"] + m["b_v"]
    per_head = []
    for h in range(heads):
        Qh, Kh, Vh = Q[:, h * dk:(h + 1) * dk], K[:, h * dk:(h + 1) * dk], V[:, h * dv:(h + 1) * dv]
        S = Qh @ Kh.T                                    # n x n, rows = queries, columns = keys
        Ss = S / F32(math.sqrt(dk))
        E = np.exp(Ss - Ss.max(axis=1, keepdims=True))   # subtract the row max only for stability
        P = E / E.sum(axis=1, keepdims=True)             # each row sums to 1
        per_head.append({"Q": Qh, "K": Kh, "V": Vh, "S": S, "S'": Ss, "P": P, "A": P @ Vh})
    concat = np.concatenate([s["A"] for s in per_head], axis=1)
    return {"X": X, "heads": per_head, "concat": concat, "O": concat @ m["W_o"] + m["b_o"]}
