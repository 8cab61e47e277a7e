#!/usr/bin/python3
"""Build and check data/models/two-heads.json: a two-head model whose heads specialise, one by meaning and
one by position. Independent of the C++ code: numpy, float32, the row-vector convention of docs/math.md.

    /usr/bin/python3 tests/check_two_heads.py            check the committed model, print the numbers
    /usr/bin/python3 tests/check_two_heads.py --write    (re)write the model from the design below, then check

The design (docs/attention-family.md explains it for a class). The model is meant for --positions
sinusoidal: X = E + PE, where the sinusoidal encoding of 8 dimensions is, at position p,
    PE[p] = (sin p, cos p, sin 0.1p, cos 0.1p, sin 0.01p, cos 0.01p, sin 0.001p, cos 0.001p).
Dimensions 0-3 (animal, cartoon, technology, device) carry the fast sinusoids; in dimensions 4-7 (person,
nature, money, food) the encoding is nearly constant: (≈0, ≈1, ≈0, ≈1) for the first dozen positions.

  head 1 (meaning), d_k = 4: reads person, nature, money, food. Its biases subtract the constant 1 that
      the encoding adds to nature and food, so Q₁ = K₁ ≈ diag(2, 3, 3, 3) · (person, nature, money, food)
      of the word itself: a token attends to tokens that share its meaning, wherever they are.
  head 2 (position), d_k = 4: reads the sinusoids. K₂ = (a·PE₀, a·PE₁, b·PE₂, b·PE₃) and Q₂ is the same
      with each (sin, cos) pair rotated back by one position, so that
          Q₂[i] · K₂[j] = a² cos(i − 1 − j) + b² cos(0.1 (i − 1 − j))   (+ small embedding terms),
      largest at j = i − 1: every token attends to the token just before it (a "previous-token head").
      The slow pair (b) breaks the aliasing of the fast one (cos 6 ≈ cos 0). a = 3, b = 6.
  values: both heads carry the meaning dimensions (person, nature, money, food, the encoding's constant
      removed by b_v), d_v = 4. W_o averages the two heads' contexts back into those four columns:
      O = (A₁ + A₂) / 2 in person..food, 0 in animal..device.

This works only while the sentence's words have (almost) nothing in dimensions 0-3, where the encoding
lives: the bank sentences qualify (function words have 0.05 there). That overlap is the honest price of
adding positions to an 8-dimensional embedding; docs/attention-family.md says so.

Claims checked (exit 1 when one fails, 2 on a bad file or unknown word):
  * position head: for every sentence and every token i ≥ 1 the largest weight is on token i − 1, and is
    at least PREV_MIN;
  * meaning head: its weights barely depend on word order: shuffle the sentence (a fixed permutation),
    run again, undo the permutation; the largest change of a weight is below MEANING_SHIFT_MAX, while
    the position head's is above POSITION_SHIFT_MIN;
  * meaning head: "bank" attends most to the river words in sentence 1 and the money words in sentence 2.
"""

import argparse
import json
import math
import pathlib
import sys

import numpy as np

import attention_reference as reference
from attention_reference import sinusoidal, tokenize

F32 = np.float32
ROOT = pathlib.Path(__file__).resolve().parent.parent
MODEL = ROOT / "data" / "models" / "two-heads.json"
EMBEDDINGS = ROOT / "data" / "embeddings" / "toy.json"
SENTENCES = [
    ("we sat on the grassy bank of the river and watched the water flow by", {"river", "water", "grassy"}),
    ("she walked into the bank to deposit her money and pay off the loan", {"money", "deposit", "loan"}),
]
A_FAST, B_SLOW = 3.0, 6.0              # head 2's gains on the (sin p, cos p) and (sin 0.1p, cos 0.1p) pairs
MEANING_GAINS = [2.0, 3.0, 3.0, 3.0]   # head 1's gains on person, nature, money, food
PREV_MIN = 0.4
MEANING_SHIFT_MAX = 0.05
POSITION_SHIFT_MIN = 0.3

DESCRIPTION = (
    "Two heads that specialise; use it with --positions sinusoidal. Head 1 attends by meaning: it reads "
    "person, nature, money and food (its biases remove the constant 1 that the positional encoding adds to "
    "nature and food). Head 2 attends by position: it reads the sinusoids in dimensions 0-3 and rotates the "
    "query back by one position, so each token attends to the token just before it. Values: the meaning "
    "dimensions; W_o averages the two heads. Works for sentences whose words are near 0 in animal, cartoon, "
    "technology and device (the bank sentences). See docs/attention-family.md and tests/check_two_heads.py.")


def rotation(w):
    """2 × 2, row-vector convention: (sin θ, cos θ) · R = (sin(θ − w), cos(θ − w))."""
    return np.array([[math.cos(w), math.sin(w)], [-math.sin(w), math.cos(w)]])


def build_model():
    d, dk = 8, 4
    W_q = np.zeros((d, 2 * dk)); W_k = np.zeros((d, 2 * dk)); W_v = np.zeros((d, 2 * dk)); W_o = np.zeros((2 * dk, d))
    b_q = np.zeros(2 * dk); b_k = np.zeros(2 * dk); b_v = np.zeros(2 * dk)
    pe_constant = np.array([0.0, 1.0, 0.0, 1.0])  # what the encoding adds to person, nature, money, food
    for c, g in enumerate(MEANING_GAINS):         # head 1: columns 0-3
        W_q[4 + c, c] = W_k[4 + c, c] = g
    b_q[0:4] = b_k[0:4] = -pe_constant * MEANING_GAINS
    # head 2: columns 4-7. Keys read the sinusoids as they are; queries rotated back by one position.
    W_k[0:2, 4:6] = A_FAST * np.eye(2); W_k[2:4, 6:8] = B_SLOW * np.eye(2)
    W_q[0:2, 4:6] = A_FAST * rotation(1.0); W_q[2:4, 6:8] = B_SLOW * rotation(0.1)
    for h in range(2):                             # values: the meaning dimensions, constant removed
        for c in range(4):
            W_v[4 + c, 4 * h + c] = 1.0
            W_o[4 * h + c, 4 + c] = 0.5            # O = (A₁ + A₂) / 2
        b_v[4 * h:4 * h + 4] = -pe_constant
    r = lambda a: [[round(float(x), 6) + 0.0 for x in row] for row in a]  # +0.0: no "-0.0" in the file
    v = lambda a: [round(float(x), 6) + 0.0 for x in a]
    return {"format": "attnviz-model", "version": 1, "name": "two-heads", "description": DESCRIPTION,
            "d_model": d, "heads": 2, "W_q": r(W_q), "W_k": r(W_k), "W_v": r(W_v), "W_o": r(W_o),
            "b_q": v(b_q), "b_k": v(b_k), "b_v": v(b_v), "b_o": v(np.zeros(d))}


def write_model(doc):
    lines = ["{"]
    items = list(doc.items())
    for i, (k, val) in enumerate(items):
        end = "," if i + 1 < len(items) else ""
        if isinstance(val, list) and val and isinstance(val[0], list):
            rows = ",\n".join("    " + json.dumps(row) for row in val)
            lines.append(f"  {json.dumps(k)}: [\n{rows}\n  ]{end}")
        else:
            lines.append(f"  {json.dumps(k)}: {json.dumps(val, ensure_ascii=False)}{end}")
    lines.append("}")
    MODEL.write_text("\n".join(lines) + "\n", encoding="utf-8")


def load(path):
    try:
        return json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        print(f"{path}: {e}", file=sys.stderr)
        sys.exit(2)


def heads_weights(X, m):
    """Per-head attention weights P_h (n × n) and the output O, float32 (attention_reference.py)."""
    r = reference.attention(X, m, heads=m["heads"])
    return [h["P"] for h in r["heads"]], r["O"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--write", action="store_true", help="rewrite data/models/two-heads.json from the design")
    args = ap.parse_args()
    if args.write:
        write_model(build_model())
        print(f"wrote {MODEL.relative_to(ROOT)}")
    doc = load(MODEL)
    if doc != build_model():
        print(f"note: {MODEL.name} differs from the design in this script (run with --write to regenerate)")
    m = {k: np.array(doc[k], dtype=F32) for k in ("W_q", "W_k", "W_v", "W_o", "b_q", "b_k", "b_v", "b_o")}
    m["heads"] = doc["heads"]
    vectors = {w: np.array(v, dtype=F32) for w, v in load(EMBEDDINGS)["vectors"].items()}

    failures = []
    for si, (sentence, meaning_keys) in enumerate(SENTENCES, 1):
        tokens = tokenize(sentence, vectors)
        missing = [t for t in tokens if t not in vectors]
        if missing:
            print(f"unknown words: {missing}", file=sys.stderr)
            sys.exit(2)
        n = len(tokens)
        E = np.stack([vectors[t] for t in tokens])
        (P1, P2), _ = heads_weights(E + sinusoidal(n, 8), m)
        print(f"\nsentence {si}: {sentence}")
        # Position head: the previous token.
        prev = [float(P2[i, i - 1]) for i in range(1, n)]
        hits = sum(int(np.argmax(P2[i])) == i - 1 for i in range(1, n))
        print(f"  head 2 (position): argmax = previous token for {hits} of {n - 1} tokens; weight on the previous "
              f"token: min {min(prev):.2f}, mean {np.mean(prev):.2f}; first token '{tokens[0]}' -> "
              f"'{tokens[int(np.argmax(P2[0]))]}' {P2[0].max():.2f}")
        if hits != n - 1 or min(prev) < PREV_MIN:
            failures.append(f"sentence {si}: the position head's previous-token weight fails (min {min(prev):.2f})")
        # Shuffle: a fixed permutation (reverse the sentence), then undo it on the weights.
        perm = np.arange(n)[::-1]
        (Q1, Q2), _ = heads_weights(E[perm] + sinusoidal(n, 8), m)
        inv = np.argsort(perm)
        shift1 = float(np.abs(Q1[np.ix_(inv, inv)] - P1).max())
        shift2 = float(np.abs(Q2[np.ix_(inv, inv)] - P2).max())
        print(f"  reversing the words changes a weight by at most: head 1 {shift1:.3f}, head 2 {shift2:.3f}")
        if shift1 > MEANING_SHIFT_MAX:
            failures.append(f"sentence {si}: the meaning head depends on order ({shift1:.3f} > {MEANING_SHIFT_MAX})")
        if shift2 < POSITION_SHIFT_MIN:
            failures.append(f"sentence {si}: the position head ignores order ({shift2:.3f} < {POSITION_SHIFT_MIN})")
        # Meaning head: bank's top keys.
        b = tokens.index("bank")
        top = [tokens[j] for j in np.argsort(-P1[b], kind="stable")[:3]]
        print("  head 1 (meaning): bank attends to " +
              ", ".join(f"{tokens[j]} {P1[b, j]:.2f}" for j in np.argsort(-P1[b], kind="stable")[:4]))
        print("  head 2 (position): bank attends to " +
              ", ".join(f"{tokens[j]} {P2[b, j]:.2f}" for j in np.argsort(-P2[b], kind="stable")[:2]))
        if len(meaning_keys & set(top)) < 2:
            failures.append(f"sentence {si}: the meaning head's top keys for bank are {top}")
    for f in failures:
        print(f"FAIL: {f}")
    print("\nall two-heads claims hold" if not failures else f"\n{len(failures)} claim(s) fail")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
