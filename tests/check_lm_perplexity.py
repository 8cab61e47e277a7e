"""An independent check of `attnviz evaluate` (docs/training.md, "Results"): the perplexity of every model
in an attnviz-model version 2 file, from its weights by a numpy forward written apart from src/train/lm.cpp,
and two count models of the same tokens: the add-one unigram (the file's own `unigram`) and an interpolated
absolute-discount bigram (Kneser-Ney style, d = 0.75), which is no baseline of the issue but says what
counting word pairs reaches on the same vocabulary. Not part of ctest (it needs the corpus, built from
wordnet-base, and a few minutes):

    python3 tests/check_lm_perplexity.py data/models/wordnet-lm.json data/embeddings/glove-100d.json corpus test
"""

import json
import math
import sys
from collections import Counter, defaultdict

import numpy as np


def pieces(path, index, unknown, max_len):
    """The corpus split as attnviz reads it: token ids, each sentence cut into pieces of at most max_len."""
    out = []
    for line in open(path, encoding="utf-8"):
        ids = [index.get(w, unknown) for w in line.split()]
        for at in range(0, len(ids), max_len):
            if at + 1 < len(ids):
                out.append(ids[at:at + max_len])
    return out


def layer_norm(x, gain, bias):
    mean = x.mean(1, keepdims=True)
    var = ((x - mean) ** 2).mean(1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-5) * gain + bias


def gelu(u):
    return 0.5 * u * (1 + np.tanh(math.sqrt(2 / math.pi) * (u + 0.044715 * u ** 3)))


def forward(m, E, ids, on_attention=None):
    """The final norm's rows of the piece (T × C); `on_attention(layer, head, A)` sees every head's T × T weights."""
    T, H, D = len(ids), m["heads"], m["d_k"]
    x = E[ids] + np.array(m["positions"])[:T]
    for layer, b in enumerate(m["blocks"]):
        w = {k: np.array(v, dtype=np.float64) for k, v in b.items()}
        a = layer_norm(x, w["ln1_gain"], w["ln1_bias"])
        v = a @ w["W_v"] + w["b_v"]
        heads = []
        for h in range(H):
            cols = slice(h * D, (h + 1) * D)
            if m["mixing"] == "attention":
                q, k = (a @ w["W_q"] + w["b_q"])[:, cols], (a @ w["W_k"] + w["b_k"])[:, cols]
                s = q @ k.T / math.sqrt(D)
                s[np.triu_indices(T, 1)] = -np.inf
                s = np.exp(s - s.max(1, keepdims=True))
                A = s / s.sum(1, keepdims=True)
            elif m["mixing"] == "uniform":
                A = np.tril(np.ones((T, T))) / np.arange(1, T + 1)[:, None]
            else:  # current-word
                A = np.eye(T)
            if on_attention:
                on_attention(layer, h, A)
            heads.append(A @ v[:, cols])
        x = x + np.concatenate(heads, 1) @ w["W_o"] + w["b_o"]
        if m["mlp"]:
            x = x + gelu(layer_norm(x, w["ln2_gain"], w["ln2_bias"]) @ w["W_1"] + w["b_1"]) @ w["W_2"] + w["b_2"]
    return layer_norm(x, np.array(m["ln_f_gain"]), np.array(m["ln_f_bias"]))


def sentence_nll(m, E, ids):
    """Σ −log p(token t+1 | tokens ≤ t) over the piece, and the number of predicted tokens."""
    T = len(ids)
    f = forward(m, E, ids)
    logits = (f @ E.T + np.array(m["output_bias"]))[:-1]
    top = logits.max(1, keepdims=True)
    log_z = top[:, 0] + np.log(np.exp(logits - top).sum(1))
    return float((log_z - logits[np.arange(T - 1), ids[1:]]).sum()), T - 1


def main(model_path, embeddings_path, corpus, split):
    emb = json.load(open(embeddings_path))
    words = list(emb["vectors"]) + ["<unk>"]
    index = {w: i for i, w in enumerate(words)}
    unknown, V = len(words) - 1, len(words)
    E = np.zeros((V, emb["dim"]))
    for i, w in enumerate(words[:-1]):
        E[i] = emb["vectors"][w]
    doc = json.load(open(model_path))
    test = pieces(f"{corpus}/{split}.txt", index, unknown, doc["max_len"])
    for m in doc.get("baselines", []) + [doc]:
        total, n = 0.0, 0
        for p in test:
            nll, count = sentence_nll(m, E, p)
            total, n = total + nll, n + count
        print(f"{m['name']:<24} {n} tokens  perplexity {math.exp(total / n):.3f}", flush=True)

    train = pieces(f"{corpus}/train.txt", index, unknown, doc["max_len"])
    unigram, pairs = np.ones(V), defaultdict(Counter)
    for s in train:
        for i in range(1, len(s)):
            unigram[s[i]] += 1
            pairs[s[i - 1]][s[i]] += 1
    unigram /= unigram.sum()
    continuation = Counter()
    for following in pairs.values():
        continuation.update(following.keys())
    p_cont = (np.array([continuation[i] for i in range(V)]) + 1.0) / (sum(continuation.values()) + V)
    d, uni, big, n = 0.75, 0.0, 0.0, 0
    for s in test:
        for i in range(1, len(s)):
            prev, word = s[i - 1], s[i]
            uni -= math.log(unigram[word])
            seen = pairs.get(prev)
            if seen:
                c = sum(seen.values())
                big -= math.log(max(seen[word] - d, 0) / c + d * len(seen) / c * p_cont[word])
            else:
                big -= math.log(p_cont[word])
            n += 1
    print(f"{'count unigram (add-one)':<24} {n} tokens  perplexity {math.exp(uni / n):.3f}")
    print(f"{'count bigram (KN, 0.75)':<24} {n} tokens  perplexity {math.exp(big / n):.3f}")


if __name__ == "__main__":
    main(*sys.argv[1:5])
