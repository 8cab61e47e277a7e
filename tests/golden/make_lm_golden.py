#!/usr/bin/python3
"""The language model's golden: one batch's loss and every parameter's gradient by PyTorch autograd.

Writes tests/golden/lm_gradients/golden.json, which tests/test_lm_gradients.cpp reads: a small random
model (an "attnviz-model" version 2 document: two layers of two heads of width 3, an MLP of 5, d_model 8,
13 words), its embeddings, four sentences, and the float64 sum of -log p of every predicted token with
the gradient of that sum for every parameter, computed by torch.autograd from the same float32 values.
An independent implementation: torch.nn.functional's layer_norm, softmax, gelu (tanh form) and
cross_entropy, not attnviz's hand-written backward. Needs Debian's python3-torch (for generating only; the
tests do not need it). Usage: /usr/bin/python3 tests/golden/make_lm_golden.py
"""
import json
import math
import pathlib

import numpy as np
import torch
import torch.nn.functional as F

V, C, L, H, D, FF, MAX_LEN = 13, 8, 2, 2, 3, 5, 7
SENTENCES = [[1, 4, 2, 9, 12], [3], [5, 5, 0], [12, 11, 10, 9, 8, 7, 6]]
LAYER_TENSORS = [("ln1_gain", (C,)), ("ln1_bias", (C,)), ("W_q", (C, H * D)), ("b_q", (H * D,)), ("W_k", (C, H * D)),
                 ("b_k", (H * D,)), ("W_v", (C, H * D)), ("b_v", (H * D,)), ("W_o", (H * D, C)), ("b_o", (C,)),
                 ("ln2_gain", (C,)), ("ln2_bias", (C,)), ("W_1", (C, FF)), ("b_1", (FF,)), ("W_2", (FF, C)), ("b_2", (C,))]


def f32(a):
    """float32 values, as the model file holds them (the JSON numbers read back as these floats)."""
    return np.asarray(a, dtype=np.float32)


def as_json(a):
    return [as_json(x) for x in a] if a.ndim > 1 else [float(repr(np.float32(x))) for x in a]


def main():
    rng = np.random.default_rng(20261201)
    emb = f32(rng.uniform(-1, 1, (V, C)))
    params = {"positions": f32(rng.normal(0, 0.5, (MAX_LEN, C)))}
    for l in range(L):
        for name, shape in LAYER_TENSORS:
            base = 1.0 if "gain" in name else 0.0
            params[f"{l}.{name}"] = f32(base + rng.normal(0, 0.5, shape))
    params["ln_f_gain"] = f32(1.0 + rng.normal(0, 0.5, (C,)))
    params["ln_f_bias"] = f32(rng.normal(0, 0.5, (C,)))
    params["output_bias"] = f32(rng.normal(0, 0.5, (V,)))

    t = {k: torch.tensor(v.astype(np.float64), requires_grad=True) for k, v in params.items()}
    E = torch.tensor(emb.astype(np.float64))
    total = torch.zeros((), dtype=torch.float64)
    for ids in SENTENCES:
        if len(ids) < 2:
            continue
        T = len(ids)
        x = E[ids] + t["positions"][:T]
        causal = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        for l in range(L):
            p = lambda n: t[f"{l}.{n}"]
            a = F.layer_norm(x, (C,), p("ln1_gain"), p("ln1_bias"), eps=1e-5)
            q, k, v = a @ p("W_q") + p("b_q"), a @ p("W_k") + p("b_k"), a @ p("W_v") + p("b_v")
            heads = []
            for h in range(H):
                s = q[:, h * D:(h + 1) * D] @ k[:, h * D:(h + 1) * D].T / math.sqrt(D)
                att = torch.softmax(s.masked_fill(causal, float("-inf")), dim=-1)
                heads.append(att @ v[:, h * D:(h + 1) * D])
            x = x + torch.cat(heads, dim=1) @ p("W_o") + p("b_o")
            b = F.layer_norm(x, (C,), p("ln2_gain"), p("ln2_bias"), eps=1e-5)
            x = x + F.gelu(b @ p("W_1") + p("b_1"), approximate="tanh") @ p("W_2") + p("b_2")
        f = F.layer_norm(x, (C,), t["ln_f_gain"], t["ln_f_bias"], eps=1e-5)
        logits = f @ E.T + t["output_bias"]
        total = total + F.cross_entropy(logits[:-1], torch.tensor(ids[1:]), reduction="sum")
    total.backward()

    def document(values):
        doc = {"positions": as_json(values["positions"])}
        doc["blocks"] = [{name: as_json(values[f"{l}.{name}"]) for name, _ in LAYER_TENSORS} for l in range(L)]
        for name in ("ln_f_gain", "ln_f_bias", "output_bias"):
            doc[name] = as_json(values[name])
        return doc

    model = {"format": "attnviz-model", "version": 2, "name": "golden", "description": "random weights for the gradient golden",
             "embeddings": "golden", "vocabulary_size": V, "d_model": C, "layers": L, "heads": H, "d_k": D, "mlp": FF,
             "max_len": MAX_LEN, "mixing": "attention", "training": {}}
    model.update(document(params))
    grads = {k: v.grad.numpy() for k, v in t.items()}
    grad_doc = {"positions": grads["positions"].tolist(),
                "blocks": [{name: grads[f"{l}.{name}"].tolist() for name, _ in LAYER_TENSORS} for l in range(L)]}
    for name in ("ln_f_gain", "ln_f_bias", "output_bias"):
        grad_doc[name] = grads[name].tolist()
    golden = {"format": "attnviz-lm-golden", "version": 1, "generator": f"PyTorch {torch.__version__}, float64 autograd",
              "embeddings": as_json(emb), "sentences": SENTENCES, "nll": total.item(), "model": model, "gradients": grad_doc}
    out = pathlib.Path(__file__).resolve().parent / "lm_gradients" / "golden.json"
    out.write_text(json.dumps(golden, indent=1) + "\n")
    print(f"wrote {out} (nll {total.item():.12g})")


if __name__ == "__main__":
    main()
