#!/usr/bin/python3
"""CTest `schema.validates_real_exports`: real `attnviz run --json` exports and the bundled data files
must pass scripts/validate.py, and the schemas must reject broken documents (so this check can fail).

    /usr/bin/python3 tests/test_exports_against_schema.py PATH/TO/attnviz REPOSITORY_ROOT

Prints one line per check and a final "N passed, M failed"; exits 0 when nothing failed.
"""

import copy
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))  # validate.py
import validate  # noqa: E402  (the same checks as scripts/validate.py)


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, what):
        self.passed += 1
        print(f"PASS {what}")

    def fail(self, what, why):
        self.failed += 1
        print(f"FAIL {what}")
        for line in why:
            print(f"     {line}")

    def valid(self, what, problems):
        if problems:
            self.fail(what, problems[:10] + ([f"… and {len(problems) - 10} more"] if len(problems) > 10 else []))
        else:
            self.ok(what)


def run_export(exe, args, out_dir, label):
    """Runs `attnviz run ... --json FILE`; returns (path or None, completed process)."""
    out = Path(out_dir) / f"{label}.json"
    cmd = [str(exe), "run", *args, "--json", str(out), "--color", "never"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    return out, proc, cmd


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip())
        return 1
    exe, root = Path(argv[1]), Path(argv[2])
    checks = Checks()

    lm_trace = None
    with tempfile.TemporaryDirectory(prefix="attnviz-schema-") as tmp:
        # 1. Real exports of the golden cases (every head count, causal, temperature, no-scale).
        for case_dir in sorted(p for p in (root / "tests" / "golden").iterdir() if (p / "case.json").exists()):
            case = json.loads((case_dir / "case.json").read_text(encoding="utf-8"))
            # An argument naming a file of the case's folder (a --mask file) is resolved there.
            extra = [str(case_dir / a) if a.endswith(".json") and (case_dir / a).exists() else a for a in case["args"]]
            args = [case["sentence"], "--embeddings", str(case_dir / "embeddings.json"),
                    "--model", str(case_dir / "model.json"), *extra]
            what = f"export of golden case {case_dir.name} validates"
            out, proc, cmd = run_export(exe, args, tmp, case_dir.name)
            if proc.returncode != 0:
                checks.fail(what, [f"{' '.join(cmd)} exited {proc.returncode}", *proc.stderr.strip().splitlines()])
            elif not out.exists():
                checks.fail(what, [f"{' '.join(cmd)} wrote no {out.name}"])
            else:
                checks.valid(what, validate.validate_file(out))

        # 2. The bundled data with default embeddings and model (skipped while data/ is not there yet).
        what = 'export of "the cat chased the mouse" with the bundled data validates'
        out, proc, cmd = run_export(exe, ["the cat chased the mouse"], tmp, "bundled")
        if proc.returncode != 0:
            print(f"SKIP {what}: {' '.join(cmd)} exited {proc.returncode} "
                  f"(bundled data not there yet?): {proc.stderr.strip()[:300]}")
        else:
            checks.valid(what, validate.validate_file(out))

        # 2b. The trained model (layer norm, residual, learned positions, predictions): each layer, one head's
        # tables and the flash backend.
        for label, extra in (("lm-layer1", ["--layer", "1"]), ("lm-layer2", ["--layer", "2", "--head", "2"]),
                             ("lm-flash", ["--layer", "2", "--backend", "flash"])):
            what = f"export of the trained model wordnet-lm ({' '.join(extra)}) validates"
            out, proc, cmd = run_export(exe, ["the computer mouse and the keyboard", "--model", "wordnet-lm", *extra], tmp, label)
            if proc.returncode != 0:
                checks.fail(what, [f"{' '.join(cmd)} exited {proc.returncode}", *proc.stderr.strip().splitlines()])
            else:
                checks.valid(what, validate.validate_file(out))
                if label == "lm-layer2":
                    lm_trace = json.loads(out.read_text(encoding="utf-8"))

        # 3. Standard output export (`--json -`) is the same format.
        case_dir = root / "tests" / "golden" / "h2_n7_d8"
        if (case_dir / "case.json").exists():
            case = json.loads((case_dir / "case.json").read_text(encoding="utf-8"))
            what = "export to standard output (--json -) validates"
            cmd = [str(exe), "run", case["sentence"], "--embeddings", str(case_dir / "embeddings.json"),
                   "--model", str(case_dir / "model.json"), "--json", "-", "--color", "never"]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                                  env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
            if proc.returncode != 0:
                checks.fail(what, [f"exited {proc.returncode}", *proc.stderr.strip().splitlines()])
            else:
                stdout_file = Path(tmp) / "stdout.json"
                stdout_file.write_text(proc.stdout, encoding="utf-8")
                checks.valid(what, validate.validate_file(stdout_file))

        # 3b. demo and compare add a "lesson" object to each trace of their array.
        for what, args in (("demo mouse --json", ["demo", "mouse"]), ("demo mouse-lm --json", ["demo", "mouse-lm"]),
                           ("compare --json", ["compare", "the cat chased the mouse", "a computer mouse", "--word", "mouse"])):
            proc = subprocess.run([str(exe), *args, "--json", "-"], capture_output=True, text=True, timeout=120,
                                  env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
            if proc.returncode != 0:
                checks.fail(f"{what}: every trace validates", [f"exited {proc.returncode}", *proc.stderr.strip().splitlines()])
                continue
            problems = []
            for i, doc in enumerate(json.loads(proc.stdout)):
                if "lesson" not in doc:
                    problems.append(f"/{i}: no lesson object")
                problems += [f"/{i}{p}" for p in validate.validate_document(doc)]
            checks.valid(f"{what}: every trace, with its lesson object, validates", problems)

    # 4. The input files: golden inputs and the bundled data.
    inputs = sorted((root / "tests" / "golden").glob("*/embeddings.json")) + \
        sorted((root / "tests" / "golden").glob("*/model.json"))
    bundled = sorted((root / "data" / "embeddings").glob("*.json")) + sorted((root / "data" / "models").glob("*.json")) + \
        sorted((root / "data" / "lessons").glob("*.json"))
    if not bundled:
        print("SKIP bundled data/embeddings/*.json, data/models/*.json: none present yet")
    for path in inputs + bundled:
        checks.valid(f"{path.relative_to(root)} validates", validate.validate_file(path))

    # 5. The schemas and checks must reject broken documents, or none of the above means anything.
    model = json.loads((root / "tests" / "golden" / "h2_n7_d8" / "model.json").read_text(encoding="utf-8"))
    emb = json.loads((root / "tests" / "golden" / "h2_n7_d8" / "embeddings.json").read_text(encoding="utf-8"))
    trace = minimal_trace()
    lesson = json.loads((root / "data" / "lessons" / "bank.json").read_text(encoding="utf-8"))
    checks.valid("a minimal hand-written trace validates (control for the rejections below)",
                 validate.validate_document(trace))
    lm = json.loads((root / "tests" / "golden" / "lm_gradients" / "golden.json").read_text(encoding="utf-8"))["model"]
    checks.valid("the language model of tests/golden/lm_gradients validates (version 2; control for the rejections below)",
                 validate.validate_document(lm))

    def broken(doc, change):
        d = copy.deepcopy(doc)
        change(d)
        return d

    rejections = [
        ("trace with format attnviz-traces", broken(trace, lambda d: d.update(format="attnviz-traces"))),
        ("trace with version 2", broken(trace, lambda d: d.update(version=2))),
        ("trace without tokens", broken(trace, lambda d: d.pop("tokens"))),
        ("trace with an unknown stage name", broken(trace, lambda d: d["stages"][0].update(name="attention"))),
        ("trace stage without symbol", broken(trace, lambda d: d["stages"][0].pop("symbol"))),
        ("trace stage with head -1", broken(trace, lambda d: d["stages"][1].update(head=-1))),
        ("trace stage with a string in data", broken(trace, lambda d: d["stages"][0]["data"][0].__setitem__(0, "1"))),
        ("trace stage with 3 rows of data for shape [2, 2]",
         broken(trace, lambda d: d["stages"][0]["data"].append([0.0, 0.0]))),
        ("trace stage with one col_label too many", broken(trace, lambda d: d["stages"][0]["col_labels"].append("x"))),
        ("trace with config.heads 0", broken(trace, lambda d: d["config"].update(heads=0))),
        ("trace without concat", broken(trace, lambda d: d["stages"].pop(-2))),
        ("trace with weights rows not summing to 1",
         broken(trace, lambda d: d["stages"][6]["data"][0].__setitem__(0, 0.9))),
        ("embeddings with format attnviz-model", broken(emb, lambda d: d.update(format="attnviz-model"))),
        ("embeddings with version 2", broken(emb, lambda d: d.update(version=2))),
        ("embeddings without vectors", broken(emb, lambda d: d.pop("vectors"))),
        ("embeddings with dim 0", broken(emb, lambda d: d.update(dim=0))),
        ("embeddings with a vector one entry short", broken(emb, lambda d: d["vectors"]["w0"].pop())),
        ("embeddings with an upper-case word", broken(emb, lambda d: d["vectors"].update(Mouse=d["vectors"]["w0"]))),
        ("model without W_o", broken(model, lambda d: d.pop("W_o"))),
        ("model with heads 1.5", broken(model, lambda d: d.update(heads=1.5))),
        ("model with W_k one column short", broken(model, lambda d: [r.pop() for r in d["W_k"]])),
        ("model with b_o one entry short", broken(model, lambda d: d["b_o"].pop())),
        ("model with an unknown field", broken(model, lambda d: d.update(W_x=[[1.0]]))),
        ("language model without output_bias", broken(lm, lambda d: d.pop("output_bias"))),
        ("language model with 3 blocks for layers 2", broken(lm, lambda d: d["blocks"].append(d["blocks"][0]))),
        ("language model with W_1 one column short", broken(lm, lambda d: [r.pop() for r in d["blocks"][1]["W_1"]])),
        ("language model with positions one row short", broken(lm, lambda d: d["positions"].pop())),
        ("language model with mixing uniform but W_q", broken(lm, lambda d: d.update(mixing="uniform"))),
        ("language model with version 3", broken(lm, lambda d: d.update(version=3))),
        ("lesson with a claim about sentence 3 of 2", broken(lesson, lambda d: d["claims"][0].update(sentence=3))),
        ("lesson with a claim naming no neighbourhood", broken(lesson, lambda d: d["claims"][0].update(ends_closer_to="forest"))),
        ("lesson with an unknown claim field", broken(lesson, lambda d: d["claims"][0].update(guess="river"))),
        ("trace whose lesson has no claim key", broken(trace, lambda d: d.update(lesson={"word": "w"}))),
    ]
    if lm_trace is not None:
        rejections += [
            ("a trained model's last-layer trace without predictions",
             broken(lm_trace, lambda d: d.update(stages=[x for x in d["stages"] if x["name"] != "predictions"]))),
            ("a trained model's trace without residual",
             broken(lm_trace, lambda d: d.update(stages=[x for x in d["stages"] if x["name"] != "residual"]))),
            ("predictions with col_axis dimensions",
             broken(lm_trace, lambda d: [x.update(col_axis="dimensions") for x in d["stages"] if x["name"] == "predictions"])),
            ("layer_norm after the heads",
             broken(lm_trace, lambda d: d["stages"].append(next(x for x in d["stages"] if x["name"] == "layer_norm")))),
        ]
    else:
        checks.fail("rejections of a trained model's trace", ["no export of wordnet-lm --layer 2 to break"])
    for what, doc in rejections:
        problems = validate.validate_document(doc)
        if problems:
            checks.ok(f"rejects {what}: {problems[0]}")
        else:
            checks.fail(f"rejects {what}", ["the document was accepted"])

    with tempfile.TemporaryDirectory(prefix="attnviz-schema-") as tmp:
        for what, text in (("NaN", '{"format": "attnviz-embeddings", "version": 1, "name": "x", "dim": 1, '
                                   '"vectors": {"a": [NaN]}}'),
                           ("1e999 (infinity)", '{"format": "attnviz-embeddings", "version": 1, "name": "x", '
                                                '"dim": 1, "vectors": {"a": [1e999]}}'),
                           ("a duplicate word", '{"format": "attnviz-embeddings", "version": 1, "name": "x", '
                                                '"dim": 1, "vectors": {"a": [1], "a": [2]}}')):
            path = Path(tmp) / "bad.json"
            path.write_text(text, encoding="utf-8")
            problems = validate.validate_file(path)
            if problems:
                checks.ok(f"rejects a file with {what}: {problems[0]}")
            else:
                checks.fail(f"rejects a file with {what}", ["the file was accepted"])

    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


def minimal_trace():
    """One head, two tokens, d_model = d_k = d_v = 2, causal: every stage hand-written."""
    def stage(name, symbol, head, data, attention=False):
        rows, cols = len(data), len(data[0])
        return {"name": name, "symbol": symbol, "head": head, "shape": [rows, cols],
                "row_axis": "queries" if attention else "tokens", "col_axis": "keys" if attention else "dimensions",
                "row_labels": ["a", "b"], "col_labels": ["a", "b"] if attention else [f"d{j}" for j in range(cols)],
                "data": data}
    eye = [[1.0, 0.0], [0.0, 1.0]]
    return {
        "format": "attnviz-trace", "version": 1,
        "generator": {"name": "attnviz", "version": "0.1.0"},
        "input": {"sentence": "A b"},
        "tokens": ["a", "b"],
        "config": {"embeddings": "toy", "model": "identity", "backend": "cpu", "heads": 1, "d_model": 2,
                   "d_k": 2, "d_v": 2, "scale": 0.70710677, "temperature": 1.0, "causal": True,
                   "positions": "none", "future_option": 3},
        "stages": [
            stage("embeddings", "X", None, eye),
            stage("queries", "Q", 0, eye), stage("keys", "K", 0, eye), stage("values", "V", 0, eye),
            stage("scores", "S", 0, eye, True),
            stage("scaled_scores", "S'", 0, [[0.70710677, None], [0.0, 0.70710677]], True),
            stage("weights", "P", 0, [[1.0, 0.0], [0.33023086, 0.66976914]], True),
            stage("context", "A", 0, [[1.0, 0.0], [0.33023086, 0.66976914]]),
            stage("concat", "A", None, [[1.0, 0.0], [0.33023086, 0.66976914]]),
            stage("output", "O", None, [[1.0, 0.0], [0.33023086, 0.66976914]]),
        ],
        "notes": [],
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv))
