#!/usr/bin/python3
"""Validate attnviz JSON files: the schema picked by the file's "format", then what a schema cannot say.

    /usr/bin/python3 scripts/validate.py FILE...

Exits 0 when every file is valid, 1 otherwise (one line per problem: FILE: /json/path: what is wrong).
Formats: attnviz-embeddings, attnviz-model, attnviz-trace (docs/formats.md, docs/schema/). Needs only the
standard library and jsonschema (Debian: python3-jsonschema; use /usr/bin/python3).

Checks beyond the schema:
  * the file is strict JSON: no NaN/Infinity, no number that overflows to infinity, no duplicate keys;
  * embeddings: every vector and dimension_labels have `dim` entries;
  * model: W_q, W_k are d_model × (heads·d_k), W_v is d_model × (heads·d_v), W_o is (heads·d_v) × d_model,
    every matrix rectangular, biases as long as the matching columns;
  * trace: data has shape[0] rows of shape[1] entries, labels match the shape, every stage's shape agrees
    with the tokens and config (the stage catalogue the schema lists), heads are in range, axes match the stage, null (masked)
    only in scaled_scores, weights rows are probabilities summing to 1, causal traces mask the upper
    triangle, stages are unique and in the catalogue's order, concat and output present.
"""

import json
import math
import sys
from pathlib import Path

import jsonschema

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "docs" / "schema"
FORMATS = ("attnviz-embeddings", "attnviz-model", "attnviz-trace", "attnviz-lesson")


def _catalogue():
    """The stage catalogue, as the trace schema lists it (docs/schema/attnviz-trace.schema.json)."""
    schema = json.loads((SCHEMA_DIR / "attnviz-trace.schema.json").read_text(encoding="utf-8"))
    return schema["$defs"]["stage"]["properties"]["name"]["x-attnviz-catalogue"]["stages"]


CATALOGUE = _catalogue()
PER_HEAD = [s["name"] for s in CATALOGUE if s["per_head"]]
ATTENTION = {s["name"] for s in CATALOGUE if s["columns"] == "keys"}  # rows are queries, columns keys
WORD_COLUMNS = {s["name"] for s in CATALOGUE if s["columns"] == "words"}  # rows are tokens, columns vocabulary words
# Before the heads, in this order: the words' own rows and the encoding (only with positions), X, and the
# key/value side's rows (only with a context); after them concat and output.
_first_per_head = next(i for i, s in enumerate(CATALOGUE) if s["per_head"])
GLOBAL_FIRST = [s["name"] for s in CATALOGUE[:_first_per_head] if not s["per_head"]]
GLOBAL_LAST = [s["name"] for s in CATALOGUE[_first_per_head:] if not s["per_head"]]
ALWAYS_LAST = ["concat", "output"]  # the stages after them belong to a trained language model

_validators = {}


class JsonError(ValueError):
    pass


def _reject_constant(name):
    raise JsonError(f"{name} is not JSON (numbers must be finite)")


def _no_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise JsonError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def _check_finite(node, path, errors):
    if isinstance(node, float) and not math.isfinite(node):
        errors.append(f"{path or '/'}: number out of range (overflows to infinity)")
    elif isinstance(node, list):
        for i, x in enumerate(node):
            _check_finite(x, f"{path}/{i}", errors)
    elif isinstance(node, dict):
        for k, x in node.items():
            _check_finite(x, f"{path}/{k}", errors)


def load_json(path):
    """Parses strict JSON; raises JsonError (with the position) on anything else."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as e:
        raise JsonError(f"line {e.lineno} column {e.colno}: {e.msg}") from None


def validator(fmt):
    if fmt not in _validators:
        schema = json.loads((SCHEMA_DIR / f"{fmt}.schema.json").read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(schema)
        _validators[fmt] = jsonschema.Draft202012Validator(schema)
    return _validators[fmt]


def _where(path_parts):
    return "/" + "/".join(str(p) for p in path_parts)


def _check_lesson(doc, errors):
    n = len(doc["sentences"])
    names = set(doc.get("neighbourhoods", {}))
    if names and "word" not in doc:
        errors.append("/neighbourhoods: needs a \"word\" whose move they measure")
    for i, claim in enumerate(doc.get("claims", [])):
        if claim["sentence"] > n:
            errors.append(f"/claims/{i}/sentence: {claim['sentence']}, but the lesson has {n} sentences")
        for key in ("ends_closer_to", "moves_toward"):
            if key in claim and claim[key] not in names:
                errors.append(f"/claims/{i}/{key}: {claim[key]!r} is not a neighbourhood of the lesson")


def validate_document(doc):
    """Returns a list of problems ("/json/path: message"); empty when `doc` is valid."""
    if not isinstance(doc, dict):
        return ["/: not a JSON object"]
    fmt = doc.get("format")
    if fmt not in FORMATS:
        return [f"/format: {fmt!r} is not one of {', '.join(FORMATS)}"]
    errors = []
    _check_finite(doc, "", errors)
    for e in sorted(validator(fmt).iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
        errors.append(f"{_where(e.absolute_path)}: {e.message}")
    if errors:
        return errors  # cross-field checks assume the schema holds
    check = {"attnviz-embeddings": _check_embeddings, "attnviz-model": _check_model,
             "attnviz-trace": _check_trace, "attnviz-lesson": _check_lesson}[fmt]
    check(doc, errors)
    return errors


def validate_file(path):
    try:
        doc = load_json(path)
    except (OSError, UnicodeDecodeError, JsonError) as e:
        return [f"{e}"]
    return validate_document(doc)


# --- embeddings ---------------------------------------------------------------------------------------

def _check_embeddings(doc, errors):
    dim = doc["dim"]
    labels = doc.get("dimension_labels")
    if labels is not None and len(labels) != dim:
        errors.append(f"/dimension_labels: {len(labels)} labels, dim is {dim}")
    for word, vec in doc["vectors"].items():
        if len(vec) != dim:
            errors.append(f"/vectors/{word}: {len(vec)} entries, dim is {dim}")


# --- model --------------------------------------------------------------------------------------------

def _matrix_shape(doc, name, errors):
    m = doc[name]
    cols = len(m[0])
    for i, row in enumerate(m):
        if len(row) != cols:
            errors.append(f"/{name}/{i}: {len(row)} columns, row 0 has {cols} (not rectangular)")
            return None
    return len(m), cols


_LM_LAYER = ("ln1_gain", "ln1_bias", "W_q", "b_q", "W_k", "b_k", "W_v", "b_v", "W_o", "b_o", "ln2_gain", "ln2_bias",
             "W_1", "b_1", "W_2", "b_2")


def _lm_shapes(doc):
    """The shape of every tensor of a version 2 language model, as attnviz's LmLayout has them."""
    c, hd, f, learned = doc["d_model"], doc["heads"] * doc["d_k"], doc["mlp"], doc["mixing"] == "attention"
    layer = {"ln1_gain": (1, c), "ln1_bias": (1, c), "W_v": (c, hd), "b_v": (1, hd), "W_o": (hd, c), "b_o": (1, c)}
    if learned:
        layer.update({"W_q": (c, hd), "b_q": (1, hd), "W_k": (c, hd), "b_k": (1, hd)})
    if f:
        layer.update({"ln2_gain": (1, c), "ln2_bias": (1, c), "W_1": (c, f), "b_1": (1, f), "W_2": (f, c), "b_2": (1, c)})
    top = {"positions": (doc["max_len"], c), "ln_f_gain": (1, c), "ln_f_bias": (1, c), "output_bias": (1, doc["vocabulary_size"])}
    return top, layer


def _shape_of(value):
    if value and isinstance(value[0], list):
        cols = {len(r) for r in value}
        return (len(value), cols.pop()) if len(cols) == 1 else None
    return (1, len(value))


def _check_language_model(doc, errors, where=""):
    top, layer = _lm_shapes(doc)
    for name, shape in top.items():
        if _shape_of(doc[name]) != shape:
            errors.append(f"{where}/{name}: expected {shape[0]} × {shape[1]}")
    if len(doc["blocks"]) != doc["layers"]:
        errors.append(f"{where}/blocks: {len(doc['blocks'])} blocks, layers is {doc['layers']}")
    for i, block in enumerate(doc["blocks"]):
        for name in _LM_LAYER:
            if name in layer and name not in block:
                errors.append(f"{where}/blocks/{i}: missing {name}")
            elif name not in layer and name in block:
                errors.append(f"{where}/blocks/{i}/{name}: not a tensor of this configuration (mixing {doc['mixing']}, mlp {doc['mlp']})")
            elif name in layer and _shape_of(block[name]) != layer[name]:
                errors.append(f"{where}/blocks/{i}/{name}: expected {layer[name][0]} × {layer[name][1]}")
    for i, baseline in enumerate(doc.get("baselines", [])):
        if (baseline["vocabulary_size"], baseline["d_model"]) != (doc["vocabulary_size"], doc["d_model"]):
            errors.append(f"/baselines/{i}: another vocabulary or width than the model")
        _check_language_model(baseline, errors, f"/baselines/{i}")


def _check_model(doc, errors):
    if doc["version"] == 2:
        return _check_language_model(doc, errors)
    d, heads = doc["d_model"], doc["heads"]
    shapes = {name: _matrix_shape(doc, name, errors) for name in ("W_q", "W_k", "W_v", "W_o")}
    if None in shapes.values():
        return
    for name in ("W_q", "W_k", "W_v"):
        rows, cols = shapes[name]
        if rows != d:
            errors.append(f"/{name}: {rows} × {cols}, expected d_model = {d} rows")
        if cols % heads:
            errors.append(f"/{name}: {cols} columns do not split into heads = {heads} equal blocks")
    if shapes["W_k"] != shapes["W_q"]:
        errors.append(f"/W_k: {shapes['W_k'][0]} × {shapes['W_k'][1]}, expected the shape of W_q "
                      f"({shapes['W_q'][0]} × {shapes['W_q'][1]}): Q·Kᵀ needs the same d_k")
    hv = shapes["W_v"][1]
    if shapes["W_o"] != (hv, d):
        errors.append(f"/W_o: {shapes['W_o'][0]} × {shapes['W_o'][1]}, expected (heads·d_v) × d_model = "
                      f"{hv} × {d}")
    for bias, length in (("b_q", shapes["W_q"][1]), ("b_k", shapes["W_k"][1]), ("b_v", hv), ("b_o", d)):
        if bias in doc and len(doc[bias]) != length:
            errors.append(f"/{bias}: {len(doc[bias])} entries, expected {length}")


# --- trace --------------------------------------------------------------------------------------------

def _expected_shape(name, n, m, c):
    """The shape of stage `name` from the catalogue: rows n (queries) or m (keys), columns its width."""
    stage = next(s for s in CATALOGUE if s["name"] == name)
    # "words": as many as the trace shows (a trained model's likeliest next words), not fixed by the config.
    widths = {"d_model": c["d_model"], "d_k": c["d_k"], "d_v": c["d_v"], "m": m, "heads*d_v": c["heads"] * c["d_v"], "words": None}
    return (n if stage["rows"] == "queries" else m, widths[stage["width"]])


def _order_key(stage):
    name, head = stage["name"], stage["head"]
    if name in GLOBAL_FIRST:
        return (0, GLOBAL_FIRST.index(name), 0)
    if name in PER_HEAD:
        return (1, head if head is not None else -1, PER_HEAD.index(name))
    return (2, GLOBAL_LAST.index(name), 0)


def _check_trace(doc, errors):
    c = doc["config"]
    n = len(doc["tokens"])
    m = len(doc["context_tokens"]) if "context_tokens" in doc else n
    if n == 0:
        errors.append("/tokens: empty")
        return
    seen = set()
    previous = None
    for k, s in enumerate(doc["stages"]):
        at = f"/stages/{k} ({s['name']}{'' if s['head'] is None else ', head ' + str(s['head'])})"
        rows, cols = s["shape"]
        data = s["data"]
        if len(data) != rows:
            errors.append(f"{at}/data: {len(data)} rows, shape says {rows}")
        bad_rows = [i for i, row in enumerate(data) if len(row) != cols]
        if bad_rows:
            i = bad_rows[0]
            more = f" (and {len(bad_rows) - 1} more rows)" if len(bad_rows) > 1 else ""
            errors.append(f"{at}/data/{i}: {len(data[i])} entries, shape says {cols}{more}")
        if len(s["row_labels"]) != rows:
            errors.append(f"{at}/row_labels: {len(s['row_labels'])} labels, shape says {rows} rows")
        if len(s["col_labels"]) != cols:
            errors.append(f"{at}/col_labels: {len(s['col_labels'])} labels, shape says {cols} columns")

        name, head = s["name"], s["head"]
        if name in PER_HEAD:
            if head is None:
                errors.append(f"{at}/head: null, but {name} is a per-head stage")
            elif head >= c["heads"]:
                errors.append(f"{at}/head: {head}, config has heads = {c['heads']}")
        elif head is not None:
            errors.append(f"{at}/head: {head}, but {name} is not per head (expected null)")
        axes = ("queries", "keys") if name in ATTENTION else ("tokens", "words") if name in WORD_COLUMNS else ("tokens", "dimensions")
        if (s["row_axis"], s["col_axis"]) != axes:
            errors.append(f"{at}: axes {s['row_axis']} × {s['col_axis']}, expected {axes[0]} × {axes[1]}")
        want = _expected_shape(name, n, m, c)
        if any(w is not None and w != g for w, g in zip(want, (rows, cols))):
            shown = " × ".join("?" if w is None else str(w) for w in want)
            errors.append(f"{at}/shape: {rows} × {cols}, expected {shown} (from tokens and config)")

        key = (name, head)
        if key in seen:
            errors.append(f"{at}: a second {name} stage{'' if head is None else ' for head ' + str(head)}")
        seen.add(key)
        if previous is not None and _order_key(s) < _order_key(previous):
            errors.append(f"{at}: out of order after {previous['name']} (the catalogue's order, per head)")
        previous = s

        if len(data) != rows or any(len(r) != cols for r in data):
            continue
        nulls = [(i, j) for i, r in enumerate(data) for j, x in enumerate(r) if x is None]
        if nulls and name != "scaled_scores":
            i, j = nulls[0]
            errors.append(f"{at}/data/{i}/{j}: null (masked) outside scaled_scores")
        if name == "weights":
            for i, r in enumerate(data):
                vals = [x for x in r if x is not None]
                if any(x < 0 or x > 1 for x in vals):
                    errors.append(f"{at}/data/{i}: a weight outside [0, 1]")
                if abs(sum(vals) - 1.0) > 1e-4:
                    errors.append(f"{at}/data/{i}: weights sum to {sum(vals):.6g}, not 1")
        if c["causal"] and name in ("scaled_scores", "weights"):  # key j > query i is masked, n × m too
            for i in range(rows):
                for j in range(i + 1, cols):
                    x = data[i][j]
                    if (name == "scaled_scores" and x is not None) or (name == "weights" and x != 0):
                        errors.append(f"{at}/data/{i}/{j}: {x!r} above the diagonal of a causal trace "
                                      f"(expected {'null' if name == 'scaled_scores' else '0'})")
                        break
                else:
                    continue
                break
    for name in ALWAYS_LAST:
        if (name, None) not in seen:
            errors.append(f"/stages: no {name} stage (always present)")
    if c.get("layers"):  # a trained language model: the residual always, the rest by its configuration
        if ("residual", None) not in seen:
            errors.append("/stages: no residual stage (a trained model's layer always has one)")
        if c.get("layer") == c["layers"] and ("predictions", None) not in seen:
            errors.append("/stages: no predictions stage (the last layer of a trained model)")


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) >= 2 else 1
    bad = 0
    for path in argv[1:]:
        problems = validate_file(path)
        if problems:
            bad += 1
            for p in problems[:50]:
                print(f"{path}: {p}")
            if len(problems) > 50:
                print(f"{path}: … and {len(problems) - 50} more")
        else:
            print(f"{path}: valid")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
