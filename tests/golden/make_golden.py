#!/usr/bin/python3
"""Golden files for attnviz, computed by an independent implementation (PyTorch, float64).

Run with Debian's Python (it has torch and numpy):

    /usr/bin/python3 tests/golden/make_golden.py          # rewrites tests/golden/

Each case becomes tests/golden/NAME/ with embeddings.json, model.json, case.json and expected.json
(the stages of docs/math.md, per head). The final output and the per-head attention weights come from
torch.nn.MultiheadAttention; the intermediate stages come from plain tensor ops, and the script asserts
that both paths agree to 1e-10, so every golden number is cross-checked. Inputs are float32 values (what
attnviz computes with); expected values are float64 results rounded to float32.

Bump GOLDEN_VERSION when the meaning of the files changes (and say so in tests/golden/README.md).
"""

import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np
import torch


GOLDEN_VERSION = 1
ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "scripts")]
from attention_reference import sinusoidal  # noqa: E402  float32, as the C++ adds it
from validate import CATALOGUE  # noqa: E402  the stage catalogue, as the trace schema lists it


def stage(symbol, per_head=False):
    """The catalogue's name of the stage written `symbol` (per head or not): no stage name is spelt here."""
    return next(s["name"] for s in CATALOGUE if s["symbol"] == symbol and s["per_head"] == per_head)
OUT = ROOT / "tests" / "golden"

# The test's tolerance (tests/test_golden.cpp): |got - want| <= TOL * max(1, |want|).
TOL = 1e-5

# Every case: heads, d_model (d_k = d_v = d_model / heads), n tokens, causal or not, and its seed. Options:
# upper (first word written in capitals: the tokenizer lower-cases it), score_target (raw scores near
# ±200: softmax stability), temperature, no_scale; and the attention family's options: context_n (cross-
# attention: keys and values from a context sentence of that many tokens, `--context`), mask ("random": a
# custom 0/1 mask with at least one 1 per row, written to mask.json, `--mask`; combined with causal when
# both are set), positions ("sinusoidal": X = E + PE, `--positions sinusoidal`, the context gets its own).
CASES = [
    dict(name="h1_n1_d6", heads=1, d_model=6, n=1, causal=False, seed=101),
    dict(name="h1_n3_d8_causal", heads=1, d_model=8, n=3, causal=True, seed=102),
    dict(name="h2_n7_d8", heads=2, d_model=8, n=7, causal=False, seed=103, upper=True),
    dict(name="h2_n12_d10_causal", heads=2, d_model=10, n=12, causal=True, seed=104),
    dict(name="h3_n7_d9_causal", heads=3, d_model=9, n=7, causal=True, seed=105),
    dict(name="h3_n12_d12", heads=3, d_model=12, n=12, causal=False, seed=106),
    dict(name="h4_n3_d8", heads=4, d_model=8, n=3, causal=False, seed=107),
    dict(name="h4_n12_d12_causal", heads=4, d_model=12, n=12, causal=True, seed=108),
    dict(name="large_scores_h2_n7_d8", heads=2, d_model=8, n=7, causal=False, seed=109, score_target=200.0),
    dict(name="temperature_h2_n7_d6", heads=2, d_model=6, n=7, causal=True, seed=110, temperature=0.5),
    dict(name="no_scale_h3_n3_d6", heads=3, d_model=6, n=3, causal=False, seed=111, no_scale=True),
    dict(name="cross_h2_n5_m7_d8", heads=2, d_model=8, n=5, causal=False, seed=112, context_n=7, temperature=0.5),
    dict(name="mask_causal_h3_n7_d9", heads=3, d_model=9, n=7, causal=True, seed=113, mask="random"),
    dict(name="positions_h2_n9_d8_causal", heads=2, d_model=8, n=9, causal=True, seed=114, positions="sinusoidal"),
    dict(name="cross_mask_positions_h4_n4_m6_d8", heads=4, d_model=8, n=4, causal=False, seed=115, context_n=6,
         mask="random", positions="sinusoidal"),
]

VOCAB_SIZE = 20


def f32(a):
    """The float32 values of `a`, as a float64 array (exactly representable)."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def num(x):
    """A JSON number that parses back to the float32 value of x: the shortest such decimal."""
    v32 = np.float32(x)
    if not np.isfinite(v32):
        raise ValueError(f"non-finite value {x}")
    d = float(str(v32))  # str of a numpy float32 is its shortest round-trip decimal
    assert np.float32(d) == v32, (x, d)
    return d


def matrix_json(m):
    return [[num(x) for x in row] for row in m]


def vector_json(v):
    return [num(x) for x in v]


def stage_json(name, head, m, mask=None):
    """One expected stage; cells where `mask` is True are null (masked, −∞)."""
    rows, cols = m.shape
    data = []
    for i in range(rows):
        row = []
        for j in range(cols):
            row.append(None if mask is not None and mask[i, j] else num(m[i, j]))
        data.append(row)
    return {"name": name, "head": head, "shape": [rows, cols], "data": data}


def make_case(spec):
    rng = np.random.default_rng(spec["seed"])
    H, d, n = spec["heads"], spec["d_model"], spec["n"]
    assert d % H == 0
    dk = dv = d // H
    temperature = spec.get("temperature", 1.0)
    no_scale = spec.get("no_scale", False)
    scale = 1.0 if no_scale else 1.0 / math.sqrt(dk)

    # Inputs, rounded to float32 once: both attnviz and this script compute from exactly these values.
    words = [f"w{i}" for i in range(VOCAB_SIZE)]
    vectors = {w: f32(rng.normal(0.0, 1.0, d)) for w in words}
    W_q = rng.normal(0.0, 1.0 / math.sqrt(d), (d, H * dk))
    W_k = rng.normal(0.0, 1.0 / math.sqrt(d), (d, H * dk))
    W_v = f32(rng.normal(0.0, 1.0 / math.sqrt(d), (d, H * dv)))
    W_o = f32(rng.normal(0.0, 1.0 / math.sqrt(H * dv), (H * dv, d)))
    b_q = rng.normal(0.0, 0.1, H * dk)
    b_k = rng.normal(0.0, 0.1, H * dk)
    b_v = f32(rng.normal(0.0, 0.1, H * dv))
    b_o = f32(rng.normal(0.0, 0.1, d))

    # Sentence: drawn with replacement, and at least one repeated word when n > 3 (same row twice).
    idx = list(rng.integers(0, VOCAB_SIZE, n))
    if n > 3:
        idx[-1] = idx[1]
    tokens = [words[i] for i in idx]
    sentence_words = list(tokens)
    if spec.get("upper"):
        sentence_words[0] = sentence_words[0].upper()
    sentence = " ".join(sentence_words)
    X = np.stack([vectors[t] for t in tokens])  # n × d_model

    if "score_target" in spec:
        # Large scores: add c·u to every query and ±c·u to every key of a head (u the unit diagonal), so
        # each raw score is about ±c² = ±score_target plus a spread of a few units. Even heads get +200
        # (scaled scores pass 88, where exp without the max subtraction overflows float32), odd heads −200
        # (exp underflows to 0 and a naive softmax divides 0 by 0). Same-sign terms: no cancellation, so
        # float32 scores stay within the relative tolerance.
        c = math.sqrt(spec["score_target"])
        u = np.ones(dk) / math.sqrt(dk)
        for h in range(H):
            sk = slice(h * dk, (h + 1) * dk)
            b_q[sk] += c * u
            b_k[sk] += (1.0 if h % 2 == 0 else -1.0) * c * u
    W_q, W_k, b_q, b_k = f32(W_q), f32(W_k), f32(b_q), f32(b_k)

    # The family's options draw after everything above, so the cases without them stay byte-identical.
    m = spec.get("context_n", n)
    context_tokens = [words[i] for i in rng.integers(0, VOCAB_SIZE, m)] if "context_n" in spec else None
    Xc = np.stack([vectors[t] for t in context_tokens]) if context_tokens else X  # m × d_model
    E, Ec = X, Xc
    if spec.get("positions") == "sinusoidal":
        # attnviz adds a float32 PE to float32 embeddings: the sum of two float32 values, rounded once.
        PE, PEc = f32(sinusoidal(n, d)), f32(sinusoidal(m, d))
        X, Xc = f32(E + PE), f32(Ec + PEc)
    # True = masked (−∞), the convention of torch's boolean attn_mask; the file holds 1 = may attend.
    mask = np.triu(np.ones((n, m), dtype=bool), k=1) if spec["causal"] else None
    custom = None
    if spec.get("mask") == "random":
        custom = rng.random((n, m)) < 0.35
        for i in range(n):  # keep one key per row: the first allowed by causal, or a random one
            allowed = [j for j in range(m) if not (mask is not None and mask[i, j])]
            if all(custom[i, j] for j in allowed):
                custom[i, allowed[int(rng.integers(0, len(allowed)))]] = False
        mask = custom if mask is None else (mask | custom)

    # --- Intermediate stages, plain tensor ops in float64 --------------------------------------------
    t = lambda a: torch.tensor(a, dtype=torch.float64)
    Xt, Xct = t(X), t(Xc)
    stages = []
    if spec.get("positions") == "sinusoidal":
        stages += [stage_json(stage("E"), None, E), stage_json(stage("PE"), None, PE)]
    stages.append(stage_json(stage("X"), None, X))
    if context_tokens:
        stages.append(stage_json(stage("Xc"), None, Xc))
    contexts = []
    per_head_weights = []
    for h in range(H):
        sk = slice(h * dk, (h + 1) * dk)
        sv = slice(h * dv, (h + 1) * dv)
        Q = Xt @ t(W_q[:, sk]) + t(b_q[sk])  # n × d_k
        K = Xct @ t(W_k[:, sk]) + t(b_k[sk])  # m × d_k
        V = Xct @ t(W_v[:, sv]) + t(b_v[sv])  # m × d_v
        S = Q @ K.T  # n × m, rows are queries, columns keys
        S1 = S * scale / temperature
        if mask is not None:
            S1 = S1.masked_fill(torch.from_numpy(mask), float("-inf"))
        P = torch.softmax(S1, dim=-1)  # subtracts the row maximum
        A = P @ V  # n × d_v
        contexts.append(A)
        per_head_weights.append(P)
        stages += [
            stage_json(stage("Q", True), h, Q.numpy()),
            stage_json(stage("K", True), h, K.numpy()),
            stage_json(stage("V", True), h, V.numpy()),
            stage_json(stage("S", True), h, S.numpy()),
            stage_json(stage("S'", True), h, S1.numpy(), mask),
            stage_json(stage("P", True), h, P.numpy()),
            stage_json(stage("A", True), h, A.numpy()),
        ]
    concat = torch.cat(contexts, dim=1)  # n × (H·d_v)
    O = concat @ t(W_o) + t(b_o)  # n × d_model
    stages += [stage_json(stage("A"), None, concat.numpy()), stage_json(stage("O"), None, O.numpy())]
    if mask is not None:
        for P in per_head_weights:
            assert (P.numpy()[mask] == 0.0).all(), "masked weights must be exactly 0"
    max_abs_score = max(abs(x) for s in stages if s["name"] == stage("S", True) for r in s["data"] for x in r)

    # --- Cross-check with torch.nn.MultiheadAttention (our W = its Wᵀ) -------------------------------
    # MHA always scales by 1/√d_k; fold our scale and temperature into the query projection instead.
    q_factor = scale * math.sqrt(dk) / temperature
    mha = torch.nn.MultiheadAttention(d, H, bias=True, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(t(np.concatenate([W_q * q_factor, W_k, W_v], axis=1)).T)
        mha.in_proj_bias.copy_(t(np.concatenate([b_q * q_factor, b_k, b_v])))
        mha.out_proj.weight.copy_(t(W_o).T)
        mha.out_proj.bias.copy_(t(b_o))
    mha.eval()
    with torch.no_grad():
        x, xc = Xt.unsqueeze(0), Xct.unsqueeze(0)
        attn_mask = torch.from_numpy(mask) if mask is not None else None
        out, w = mha(x, xc, xc, need_weights=True, average_attn_weights=False, attn_mask=attn_mask)
    err_out = (out[0] - O).abs().max().item()
    err_w = max((w[0, h] - per_head_weights[h]).abs().max().item() for h in range(H))
    assert err_out < 1e-10 and err_w < 1e-10, (spec["name"], err_out, err_w)

    # --- Would a float32 implementation of the same math pass the test's tolerance? -----------------
    margin = float32_margin(X, Xc, W_q, W_k, W_v, W_o, b_q, b_k, b_v, b_o, H, dk, dv, scale, temperature, mask,
                            stages)

    embeddings = {
        "format": "attnviz-embeddings", "version": 1,
        "name": f"golden-{spec['name']}",
        "description": f"Random float32 vectors for the golden case {spec['name']} (tests/golden/make_golden.py).",
        "dim": d,
        "dimension_labels": [f"e{i}" for i in range(d)],
        "vectors": {w: vector_json(vectors[w]) for w in words},
    }
    model = {
        "format": "attnviz-model", "version": 1,
        "name": f"golden-{spec['name']}",
        "description": f"Random float32 weights for the golden case {spec['name']} (tests/golden/make_golden.py).",
        "d_model": d, "heads": H,
        "W_q": matrix_json(W_q), "W_k": matrix_json(W_k), "W_v": matrix_json(W_v), "W_o": matrix_json(W_o),
        "b_q": vector_json(b_q), "b_k": vector_json(b_k), "b_v": vector_json(b_v), "b_o": vector_json(b_o),
    }
    args = []
    if spec["causal"]:
        args.append("--causal")
    if temperature != 1.0:
        args += ["--temperature", repr(temperature)]
    if no_scale:
        args.append("--no-scale")
    if context_tokens:
        args += ["--context", " ".join(context_tokens)]
    if custom is not None:
        args += ["--mask", "mask.json"]  # a file of the case's folder (the tests resolve it there)
    if spec.get("positions"):
        args += ["--positions", spec["positions"]]
    case = {
        "sentence": sentence, "heads": H, "causal": spec["causal"], "temperature": temperature,
        "scale": not no_scale, "args": args,
    }
    if context_tokens:
        case["context_tokens"] = context_tokens
    expected = {
        "format": "attnviz-golden", "version": GOLDEN_VERSION,
        "generator": {"name": "tests/golden/make_golden.py", "torch": torch.__version__, "numpy": np.__version__},
        "case": spec["name"],
        "tokens": tokens,
        "config": {"heads": H, "d_model": d, "d_k": dk, "d_v": dv, "scale": num(scale),
                   "temperature": temperature, "causal": spec["causal"]},
        "stages": stages,
    }
    if custom is not None:
        expected["mask"] = [[0 if c else 1 for c in row] for row in custom]
    return embeddings, model, case, expected, dict(err_out=err_out, err_w=err_w, margin=margin,
                                                   max_abs_score=max_abs_score)


def float32_margin(X, Xc, W_q, W_k, W_v, W_o, b_q, b_k, b_v, b_o, H, dk, dv, scale, temperature, mask, stages):
    """The worst |got - want| / (TOL · max(1, |want|)) of a float32 run of the same math: must stay well
    below 1, or the goldens would be too strict for a correct float32 implementation."""
    t32 = lambda a: torch.tensor(a, dtype=torch.float32)
    X32, Xc32 = t32(X), t32(Xc)
    got = {(stage("X"), None): X32, (stage("Xc"), None): Xc32}
    for s in stages:
        if s["name"] in (stage("E"), stage("PE")):
            got[(s["name"], None)] = t32(np.array(s["data"]))
    ctx = []
    for h in range(H):
        sk = slice(h * dk, (h + 1) * dk)
        sv = slice(h * dv, (h + 1) * dv)
        Q = X32 @ t32(W_q[:, sk]) + t32(b_q[sk])
        K = Xc32 @ t32(W_k[:, sk]) + t32(b_k[sk])
        V = Xc32 @ t32(W_v[:, sv]) + t32(b_v[sv])
        S = Q @ K.T
        S1 = S * np.float32(scale) / np.float32(temperature)
        if mask is not None:
            S1 = S1.masked_fill(torch.from_numpy(mask), float("-inf"))
        P = torch.softmax(S1, dim=-1)
        A = P @ V
        ctx.append(A)
        got.update({(stage("Q", True), h): Q, (stage("K", True), h): K, (stage("V", True), h): V, (stage("S", True), h): S,
                    (stage("S'", True), h): S1, (stage("P", True), h): P, (stage("A", True), h): A})
    C = torch.cat(ctx, dim=1)
    got[(stage("A"), None)] = C
    got[(stage("O"), None)] = C @ t32(W_o) + t32(b_o)
    worst = 0.0
    for s in stages:
        g = got[(s["name"], s["head"])].double().numpy()
        for i, row in enumerate(s["data"]):
            for j, want in enumerate(row):
                if want is None:
                    assert g[i, j] == -math.inf
                    continue
                worst = max(worst, abs(g[i, j] - want) / (TOL * max(1.0, abs(want))))
    return worst


def main():
    torch.manual_seed(0)
    if OUT.exists():
        for child in OUT.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
    OUT.mkdir(parents=True, exist_ok=True)
    for spec in CASES:
        embeddings, model, case, expected, stats = make_case(spec)
        folder = OUT / spec["name"]
        folder.mkdir()
        files = [("embeddings.json", embeddings), ("model.json", model), ("case.json", case), ("expected.json", expected)]
        if "mask" in expected:
            files.append(("mask.json", expected.pop("mask")))
        for fname, doc in files:
            with open(folder / fname, "w", encoding="utf-8") as f:
                json.dump(doc, f, separators=(",", ":") if fname == "expected.json" else None,
                          indent=None if fname in ("expected.json", "mask.json") else 1, allow_nan=False)
                f.write("\n")
        print(f"{spec['name']:24s} torch vs tensor ops: output {stats['err_out']:.1e}, weights "
              f"{stats['err_w']:.1e}; float32 run uses {stats['margin']:.3f} of the tolerance; "
              f"max |score| {stats['max_abs_score']:.1f}")
        if stats["margin"] > 0.5:
            sys.exit(f"{spec['name']}: a float32 run uses {stats['margin']:.2f} of the tolerance; too tight")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {len(CASES)} cases to {OUT.relative_to(ROOT)} ({total / 1024:.0f} KiB), torch {torch.__version__}")


if __name__ == "__main__":
    main()
