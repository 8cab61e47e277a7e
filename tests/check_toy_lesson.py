#!/usr/bin/python3
"""Check the bundled toy data of attnviz, independently of the C++ code.

What it does, with numpy in float32 and the row-vector convention of docs/math.md:

  1. loads data/embeddings/toy.json, data/models/toy.json, every data/sentences/*.txt and every
     data/lessons/*.json, and checks their format fields and shapes;
  2. tokenizes every sentence the way the C++ tokenizer does and fails loudly on a word that is
     missing from the vocabulary;
  3. runs one attention layer on every sentence:
        X (n x d_model)  embeddings          Q = X W_q + b_q, K = X W_k + b_k, V = X W_v + b_v
        S = Q K^T (n x n)  S' = S / sqrt(d_k)  P = row-softmax(S')  A = P V  O = A W_o + b_o
  4. for every lesson prints, per sentence, the cosine of the lesson word's embedding row (X) and of
     its output row (O) to each neighbourhood centroid and to the probe words, before / after / gain,
     the same cosine for a uniform attention row (a plain average of the sentence, for comparison),
     and the word's top-3 attention weights;
  5. exits 1 unless every lesson's claim holds with a margin of at least MARGIN.

The claim of a lesson: it has two sentences and two neighbourhoods, in the same order. In sentence i
the word's output gains more cosine toward neighbourhood i than toward the other one (and likewise
toward probe word i, for lessons listed in PROBES), by at least MARGIN. Also the word's top attention
weight lies in [TOP_MIN, TOP_MAX]: visibly peaked, but not one-hot.

Usage:  /usr/bin/python3 tests/check_toy_lesson.py [--data DIR] [--all]
        --all  also prints, for every token of every sentence, the two keys it attends to most.
Exit codes: 0 every claim holds; 1 a claim fails; 2 a bad or missing file or an unknown word.
"""

import argparse
import json
import math
import pathlib
import sys

import numpy as np

import attention_reference as reference
from attention_reference import tokenize

MARGIN = 0.05            # the least gain difference a lesson claim must show
TOP_MIN, TOP_MAX = 0.15, 0.5   # the range of the lesson word's largest attention weight
# Single words to probe besides the neighbourhoods, one per sentence of the lesson, in order.
# The lesson format has no field for them, so they live here.
PROBES = {"mouse": ("cartoon", "device")}

F32 = np.float32


class DataError(Exception):
    """A bad or missing data file, or a word outside the vocabulary: exit code 2."""


def no_duplicate_keys(pairs):
    keys = [k for k, _ in pairs]
    dups = sorted({k for k in keys if keys.count(k) > 1})
    if dups:
        raise ValueError(f"duplicate key(s): {', '.join(dups)}")
    return dict(pairs)


def load_json(path, fmt):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f, object_pairs_hook=no_duplicate_keys)
    except OSError as e:
        raise DataError(f"{path}: cannot read: {e.strerror}")
    except json.JSONDecodeError as e:
        raise DataError(f"{path}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}")
    except ValueError as e:
        raise DataError(f"{path}: {e}")
    if doc.get("format") != fmt or doc.get("version") != 1:
        raise DataError(f"{path}: expected format \"{fmt}\" version 1, found "
                        f"{doc.get('format')!r} version {doc.get('version')!r}")
    return doc


def matrix(doc, path, field, rows, cols, required=True):
    """doc[field] as a float32 array of shape (rows, cols), or (cols,) when rows is None."""
    if field not in doc:
        if required:
            raise DataError(f"{path}: missing field \"{field}\"")
        return None
    a = np.array(doc[field], dtype=F32)
    want = (cols,) if rows is None else (rows, cols)
    if a.shape != want:
        raise DataError(f"{path}: field \"{field}\" has shape {a.shape}, expected {want}")
    if not np.all(np.isfinite(a)):
        raise DataError(f"{path}: field \"{field}\" has a non-finite value")
    return a


def load_embeddings(path):
    doc = load_json(path, "attnviz-embeddings")
    dim = doc.get("dim")
    if not isinstance(dim, int) or dim < 1:
        raise DataError(f"{path}: field \"dim\" must be a positive integer")
    labels = doc.get("dimension_labels", [f"d{i}" for i in range(dim)])
    if len(labels) != dim:
        raise DataError(f"{path}: \"dimension_labels\" has {len(labels)} names, expected {dim}")
    vectors = {}
    for word, v in doc.get("vectors", {}).items():
        if word != word.lower():
            raise DataError(f"{path}: word \"{word}\" is not lower-case")
        a = np.array(v, dtype=F32)
        if a.shape != (dim,):
            raise DataError(f"{path}: vector of \"{word}\" has shape {a.shape}, expected ({dim},)")
        vectors[word] = a
    if not vectors:
        raise DataError(f"{path}: no vectors")
    return labels, vectors


def load_model(path):
    doc = load_json(path, "attnviz-model")
    d = doc.get("d_model")
    if doc.get("heads") != 1:
        raise DataError(f"{path}: this checker handles one head, found heads = {doc.get('heads')}")
    m = {name: matrix(doc, path, name, d, d) for name in ("W_q", "W_k", "W_v", "W_o")}
    for b in ("b_q", "b_k", "b_v", "b_o"):
        v = matrix(doc, path, b, None, d, required=False)
        m[b] = np.zeros(d, dtype=F32) if v is None else v
    m["d_model"] = d
    return m


def attention(X, m):
    """One head. X (n x d_model) -> dict of every stage, all float32 (attention_reference.py)."""
    r = reference.attention(X, m, heads=1)
    return {"X": X, **r["heads"][0], "O": r["O"]}


def cos(a, b):
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def top_keys(P, tokens, i, k):
    order = np.argsort(-P[i], kind="stable")[:k]
    return [(tokens[j], float(P[i, j])) for j in order]


def fmt_top(pairs):
    return ", ".join(f"{w} {p:.2f}" for w, p in pairs)


def check_lesson(path, lesson, vectors, model, runs):
    """Print the lesson's numbers; return a list of failed claims (empty when it holds)."""
    for field in ("name", "word", "sentences", "neighbourhoods"):
        if field not in lesson:
            raise DataError(f"{path}: missing field \"{field}\"")
    word, sentences, hoods = lesson["word"], lesson["sentences"], lesson["neighbourhoods"]
    if len(sentences) != 2 or len(hoods) != 2:
        raise DataError(f"{path}: a lesson needs two sentences and two neighbourhoods")
    probes = [(f"nbhd {name}", words) for name, words in hoods.items()]
    probes += [(f"word {w}", [w]) for w in PROBES.get(word, ())]
    missing = sorted({w for _, ws in probes for w in ws} - vectors.keys())
    if missing:
        raise DataError(f"{path}: neighbourhood or probe words not in the vocabulary: {', '.join(missing)}")
    centroids = {label: np.mean([vectors[w] for w in ws], axis=0).astype(F32)
                 for label, ws in probes}

    print(f"\n=== lesson {lesson['name']}: \"{word}\" ({path.name}) ===")
    failures = []
    for si, sentence in enumerate(sentences):
        tokens = tokenize(sentence, vectors)
        if sentence not in runs:
            runs[sentence] = run_sentence(sentence, tokens, vectors, model, f"{path}")
        st = runs[sentence]
        if word not in tokens:
            raise DataError(f"{path}: sentence {si + 1} has no token \"{word}\"")
        i = tokens.index(word)
        print(f"\nsentence {si + 1}: {sentence}")
        # For comparison only: the output with uniform attention (every weight 1/n), i.e. a plain
        # average of the sentence. It shows how much of the move the attention pattern itself adds.
        o_avg = st["V"].mean(axis=0) @ model["W_o"] + model["b_o"]
        print(f"  {'cosine of ' + word + ' to':<24} {'before (X)':>10} {'after (O)':>10} {'gain':>8}"
              f" {'uniform P':>10}")
        gains = {}
        for label, _ in probes:
            before = cos(st["X"][i], centroids[label])
            after = cos(st["O"][i], centroids[label])
            gains[label] = after - before
            print(f"  {label:<24} {before:10.3f} {after:10.3f} {after - before:+8.3f}"
                  f" {cos(o_avg, centroids[label]):10.3f}")
        top = top_keys(st["P"], tokens, i, 3)
        print(f"  {word} attends to: {fmt_top(top)}")

        # Sentence si must favour the si-th neighbourhood (and probe word) over the other one.
        pairs = [tuple(f"nbhd {n}" for n in hoods)]
        if word in PROBES:
            pairs.append(tuple(f"word {w}" for w in PROBES[word]))
        for pair in pairs:
            want, other = pair[si], pair[1 - si]
            diff = gains[want] - gains[other]
            ok = diff >= MARGIN
            print(f"  claim: gain({want}) - gain({other}) = {diff:+.3f}  "
                  f"{'ok' if ok else 'FAILS'} (needs >= {MARGIN})")
            if not ok:
                failures.append(f"{lesson['name']}, sentence {si + 1}: gain({want}) - gain({other}) "
                                f"= {diff:+.3f} < {MARGIN}")
        topw = top[0][1]
        ok = TOP_MIN <= topw <= TOP_MAX
        print(f"  claim: top attention weight {topw:.3f} in [{TOP_MIN}, {TOP_MAX}]  {'ok' if ok else 'FAILS'}")
        if not ok:
            failures.append(f"{lesson['name']}, sentence {si + 1}: top attention weight {topw:.3f} "
                            f"outside [{TOP_MIN}, {TOP_MAX}]")
    return failures


def run_sentence(sentence, tokens, vectors, model, where):
    missing = [t for t in tokens if t not in vectors]
    if missing:
        raise DataError(f"{where}: words not in the toy vocabulary: {', '.join(dict.fromkeys(missing))} "
                        f"(sentence: {sentence!r}); add them to data/embeddings/toy.json")
    if not tokens:
        raise DataError(f"{where}: the sentence has no tokens")
    X = np.stack([vectors[t] for t in tokens]).astype(F32)
    return attention(X, model)


def main():
    here = pathlib.Path(__file__).resolve().parent.parent / "data"
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=pathlib.Path, default=here, help="the data folder (default: %(default)s)")
    ap.add_argument("--all", action="store_true", help="print every token's top-2 keys in every sentence")
    args = ap.parse_args()
    data = args.data

    labels, vectors = load_embeddings(data / "embeddings" / "toy.json")
    model = load_model(data / "models" / "toy.json")
    if model["d_model"] != len(labels):
        raise DataError(f"model d_model {model['d_model']} != embedding dim {len(labels)}")
    print(f"toy embeddings: {len(vectors)} words x {len(labels)} dims ({', '.join(labels)})")

    sentence_files = sorted((data / "sentences").glob("*.txt"))
    if not sentence_files:
        raise DataError(f"{data / 'sentences'}: no sentence files")
    runs = {}
    for f in sentence_files:
        lines = [l for l in f.read_text(encoding="utf-8").splitlines() if l.strip()]
        if len(lines) != 1:
            raise DataError(f"{f}: expected one line, found {len(lines)}")
        sentence = lines[0].strip()
        tokens = tokenize(sentence, vectors)
        runs[sentence] = st = run_sentence(sentence, tokens, vectors, model, str(f))
        print(f"{f.name}: {len(tokens)} tokens, all in the vocabulary")
        if args.all:
            for i, t in enumerate(tokens):
                print(f"    {t:>16} -> {fmt_top(top_keys(st['P'], tokens, i, 2))}")

    failures = []
    lesson_files = []
    for f in sorted((data / "lessons").glob("*.json")):
        lesson = load_json(f, "attnviz-lesson")
        if "options" in lesson:
            # Lessons of the attention family (masks, positions, heads) make other claims: the C++ tests
            # (tests/test_family.cpp) and tests/check_two_heads.py check them.
            print(f"\n{f.name}: skipped, it sets \"options\" {json.dumps(lesson['options'])} (see docs/attention-family.md)")
            continue
        # Lessons on other data (e.g. mouse-glove on GloVe) are checked by the C++ tests.
        if lesson.get("embeddings") != "toy" or lesson.get("model") != "toy":
            print(f"\n(skipping {f.name}: embeddings {lesson.get('embeddings')!r}, model {lesson.get('model')!r}; "
                  "this checker runs the toy data only)")
            continue
        lesson_files.append(f)
        failures += check_lesson(f, lesson, vectors, model, runs)

    print()
    if failures:
        print("FAILED:", *failures, sep="\n  ", file=sys.stderr)
        return 1
    print(f"all {len(lesson_files)} lesson claims hold (margin >= {MARGIN}); "
          f"{len(sentence_files)} sentences checked")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
