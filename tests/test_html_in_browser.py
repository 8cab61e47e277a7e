#!/usr/bin/python3
"""CTest `html.in_browser`: the `--html` page opened in a real browser (headless Chromium).

    /usr/bin/python3 tests/test_html_in_browser.py PATH/TO/attnviz

1. Pages of real runs (the toy model with a causal mask; the identity model with two heads): the DOM that
   Chromium rendered has one heatmap table per stage of the JSON trace of the same run, rows × columns
   cells, the labels of the trace, and each cell's number and exact value (hover text) match the trace.
2. A hostile sentence and an embeddings file whose name and labels are markup: the page shows the
   characters and runs nothing, with its Content-Security-Policy and also without it (so the escaping
   alone holds). A canary page that does run a script proves the check can see a script run.
3. A screenshot of the mouse lesson's page is not blank (many colours, much non-white), and printed to PDF
   it shows every stage, also those folded on screen.

Prints one line per check and a final "N passed, M failed"; exits 0 when nothing failed. Without Chromium
it prints SKIP and exits 0, unless ATTNVIZ_REQUIRE_BROWSER is set (CI sets it), when that is a failure.
"""

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-extensions", "--mute-audio"]


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, what, problems):
        if problems:
            self.failed += 1
            print(f"FAIL {what}")
            for line in problems[:10]:
                print(f"     {line}")
            if len(problems) > 10:
                print(f"     … and {len(problems) - 10} more")
        else:
            self.passed += 1
            print(f"PASS {what}")


def find_chromium():
    for name in (os.environ.get("ATTNVIZ_CHROMIUM"), "chromium", "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def chromium(browser, tmp, *args):
    """Runs headless Chromium with a fresh profile; returns its standard output."""
    profile = tempfile.mkdtemp(prefix="profile-", dir=tmp)
    env = {"PATH": "/usr/bin:/bin", "HOME": profile, "LANG": "C.UTF-8"}
    proc = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=90, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"chromium exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return proc.stdout


def dump_dom(browser, tmp, page):
    return chromium(browser, tmp, "--dump-dom", Path(page).resolve().as_uri())


class Dom(HTMLParser):
    """The parts of a rendered page the checks read: element counts, the title, the sentence line, and each
    heatmap table (caption, column labels, rows of (row label, cells))."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags = {}
        self.attributes = []  # (tag, name, value) of every attribute
        self.title = ""
        self.sentences = []
        self.tables = []
        self.stack = []
        self.text_target = None
        self.text = ""  # all the text of the page
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self.attributes += [(tag, k, v or "") for k, v in attrs]
        if tag == "table" and "heatmap" in (a.get("class") or "").split():
            self.tables.append({"caption": "", "columns": [], "rows": []})
        table = self.tables[-1] if self.tables and "table" in self.stack else None
        if tag == "title":
            self.text_target = ["title"]
        elif tag == "p" and a.get("class") == "sentence":
            self.sentences.append("")
            self.text_target = ["sentence"]
        elif table is not None and tag == "caption":
            self.text_target = ["caption", table]
        elif table is not None and tag == "tr" and "tbody" in self.stack:
            table["rows"].append({"label": "", "cells": []})
        elif table is not None and tag == "th" and "thead" in self.stack and "corner" not in (a.get("class") or ""):
            table["columns"].append("")
            self.text_target = ["column", table]
        elif table is not None and tag == "th" and "tbody" in self.stack:
            self.text_target = ["row", table]
        elif table is not None and tag == "td":
            table["rows"][-1]["cells"].append({"text": "", "title": a.get("title") or "",
                                               "style": a.get("style") or "", "class": a.get("class") or ""})
            self.text_target = ["cell", table]
        if tag not in ("meta", "br", "img", "input", "link"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass
        if tag in ("title", "p", "caption", "th", "td"):
            self.text_target = None

    def handle_data(self, data):
        self.text += data
        t = self.text_target
        if t is None:
            return
        if t[0] == "title":
            self.title += data
        elif t[0] == "sentence":
            self.sentences[-1] += data
        elif t[0] == "caption":
            t[1]["caption"] += data
        elif t[0] == "column":
            t[1]["columns"][-1] += data
        elif t[0] == "row":
            t[1]["rows"][-1]["label"] += data
        elif t[0] == "cell":
            t[1]["rows"][-1]["cells"][-1]["text"] += data


def f32(x):
    """The float32 that a JSON number stands for, as a Python float (exactly)."""
    return struct.unpack("f", struct.pack("f", x))[0]


def shown(value, precision=3):
    """A cell's number as attnviz prints it (render.hpp format_number): fixed decimals, no "-0.000"."""
    if value is None:
        return "−∞"
    text = f"{f32(value):.{precision}f}"
    return text[1:] if text.startswith("-") and set(text[1:]) <= set("0.") else text


def check_tables_against_trace(checks, label, dom, trace):
    stages = trace["stages"]
    checks.check(f"{label}: one heatmap table per stage ({len(stages)})",
                 [] if len(dom.tables) == len(stages) else [f"{len(dom.tables)} tables in the rendered DOM"])
    problems = []
    cells_checked = 0
    for table, stage in zip(dom.tables, stages):
        where = f"{stage['name']} head {stage['head']}"
        rows, cols = stage["shape"]
        if len(table["rows"]) != rows or any(len(r["cells"]) != cols for r in table["rows"]):
            problems.append(f"{where}: {len(table['rows'])} rows of {[len(r['cells']) for r in table['rows']]} cells, "
                            f"want {rows} × {cols}")
            continue
        attention = stage["name"] in ("scores", "scaled_scores", "weights")
        axes = "rows: queries · columns: keys" if attention else "rows: tokens · columns: dimensions"
        if table["caption"].strip() != axes:
            problems.append(f"{where}: caption {table['caption']!r}, want {axes!r}")
        if table["columns"] != stage["col_labels"]:
            problems.append(f"{where}: column labels {table['columns']} != {stage['col_labels']}")
        if [r["label"] for r in table["rows"]] != stage["row_labels"]:
            problems.append(f"{where}: row labels differ from the trace's")
        symbol = stage["symbol"]
        for i, row in enumerate(table["rows"]):
            for j, cell in enumerate(row["cells"]):
                value = stage["data"][i][j]
                cells_checked += 1
                if cell["text"] != shown(value):
                    problems.append(f"{where} [{i}][{j}]: shows {cell['text']!r}, the trace says {value} -> {shown(value)!r}")
                first = cell["title"].split("\n")[0]
                m = re.match(re.escape(f"{symbol}[{i}][{j}] = ") + r"(\S+)", first)
                if not m:
                    problems.append(f"{where} [{i}][{j}]: hover text {first!r} does not start with {symbol}[{i}][{j}] =")
                elif value is None:
                    if m.group(1) != "−∞":
                        problems.append(f"{where} [{i}][{j}]: masked, but the hover text says {m.group(1)}")
                elif f32(float(m.group(1))) != f32(value):
                    problems.append(f"{where} [{i}][{j}]: hover value {m.group(1)} != trace {value}")
                if "background:" not in cell["style"]:
                    problems.append(f"{where} [{i}][{j}]: no background colour")
                if value is None and "background:#303030" not in cell["style"]:
                    problems.append(f"{where} [{i}][{j}]: masked but not grey: {cell['style']}")
                if stage["name"] == "weights" and value is not None and "exp(" not in cell["title"]:
                    problems.append(f"{where} [{i}][{j}]: the weight's hover text lacks its softmax arithmetic")
    checks.check(f"{label}: labels, {cells_checked} cell values and hover values match the JSON trace", problems)


def check_self_contained(checks, label, dom):
    problems = []
    for tag in ("script", "img", "iframe", "link", "object", "embed"):
        if dom.tags.get(tag):
            problems.append(f"{dom.tags[tag]} <{tag}> element(s)")
    for tag, name, value in dom.attributes:
        if name in ("src", "href", "action", "srcset") and not value.startswith("#"):
            problems.append(f"<{tag} {name}={value!r}> points outside the page")
        if name.startswith("on"):
            problems.append(f"<{tag}> has an event handler attribute {name}")
    checks.check(f"{label}: no script, no external reference, no event handler in the rendered DOM", problems)


def run(exe, args, check=True):
    proc = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    if check and proc.returncode != 0:
        raise RuntimeError(f"attnviz {' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc


def tokens_of(sentence):
    """The toy tokenizer for ASCII text: lower case, split on white space, drop punctuation but hyphens."""
    words = [re.sub(r"[^a-z0-9-]", "", w.lower()).strip("-") for w in sentence.split()]
    return [w for w in words if w]


def png_stats(path):
    """Width, height, distinct colours, and the share of pixels that are not (near) white."""
    from PIL import Image  # python3-pil (scripts/install-deps --test)
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        width, height = rgb.size
        colours = len(rgb.getcolors(maxcolors=width * height))
        grey_levels = rgb.convert("L").histogram()
    return width, height, colours, sum(grey_levels[:235]) / (width * height)


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip())
        return 1
    exe = Path(argv[1]).resolve()
    browser = find_chromium()
    if browser is None:
        if os.environ.get("ATTNVIZ_REQUIRE_BROWSER"):
            print("FAIL chromium is not installed and ATTNVIZ_REQUIRE_BROWSER is set (scripts/install-deps --test)")
            print("0 passed, 1 failed")
            return 1
        print("SKIP html.in_browser: chromium is not installed (scripts/install-deps --test installs it)")
        return 0

    checks = Checks()
    with tempfile.TemporaryDirectory(prefix="attnviz-html-") as tmp:
        tmp = Path(tmp)
        # First every page, then every browser run at once (each takes a second or two, mostly waiting).
        # 1. Real runs, to check against their JSON traces.
        runs = {
            "toy, causal": ["the cat chased the mouse", "--causal"],
            "identity, 2 heads": ["the cat chased the mouse", "--model", "identity", "--heads", "2", "--precision", "3"],
        }
        pages, traces = {}, {}
        for k, (label, args) in enumerate(runs.items()):
            pages[label], trace_path = tmp / f"run{k}.html", tmp / f"run{k}.json"
            run(exe, ["run", *args, "--html", str(pages[label]), "--json", str(trace_path), "--color", "never"])
            traces[label] = json.loads(trace_path.read_text(encoding="utf-8"))

        # 2. Hostile text: the sentence, the embeddings' name and its dimension labels.
        sentence = ("<script>document.title='pwned'</script> \"mouse\" & 'cat' "
                    "<img src=x onerror=document.title='pwned2'> mat")
        words = tokens_of(sentence)
        embeddings = {"format": "attnviz-embeddings", "version": 1, "name": "<b>toy</b> \"name\" & 'more'", "dim": 2,
                      "dimension_labels": ["<script>document.title='pwned3'</script>", "<i>\"q\"</i> & 'a'"],
                      "vectors": {w: [0.1 * (k + 1), 1.0 - 0.1 * k] for k, w in enumerate(dict.fromkeys(words))}}
        emb_path = tmp / "hostile-embeddings.json"
        emb_path.write_text(json.dumps(embeddings), encoding="utf-8")
        hostile, trace_path = tmp / "hostile.html", tmp / "hostile.json"
        proc = run(exe, ["run", sentence, "--embeddings", str(emb_path), "--model", "identity", "--html", str(hostile),
                         "--json", str(trace_path), "--color", "never"], check=False)
        checks.check("hostile sentence: attnviz writes its page", [proc.stderr.strip()] if proc.returncode else [])
        hostile_pages = {}
        if proc.returncode == 0:
            traces["hostile"] = json.loads(trace_path.read_text(encoding="utf-8"))
            # The same page without its CSP: the escaping alone must keep the script from running.
            no_csp = tmp / "hostile-no-csp.html"
            stripped = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", hostile.read_text(encoding="utf-8"))
            no_csp.write_text(stripped, encoding="utf-8")
            checks.check("hostile sentence: the copy without a CSP really lacks it",
                         [] if "Content-Security-Policy" not in stripped else ["the CSP is still there"])
            hostile_pages = {"hostile sentence": hostile, "hostile sentence without the CSP": no_csp}

        # A canary page that does run a script, to prove the check sees a script run.
        canary = tmp / "canary.html"
        canary.write_text("<!DOCTYPE html><title>before</title><script>document.title='pwned'</script>", encoding="utf-8")

        # 3. The mouse lesson, for a screenshot.
        mouse, shot, pdf = tmp / "mouse.html", tmp / "mouse.png", tmp / "mouse.pdf"
        run(exe, ["demo", "mouse", "--html", str(mouse), "--stages", "weights", "--color", "never"])

        # 4. A wide run (GloVe's 100 dimensions), printed: the tables wrap into blocks on paper as in the terminal.
        # A copy whose print style keeps the screen's one wide table shows that the check sees a cut table.
        wide, wide_pdf = tmp / "wide.html", tmp / "wide.pdf"
        run(exe, ["run", "the cat sat on the floor", "--embeddings", "glove", "--html", str(wide), "--color", "never"])
        cut, cut_pdf = tmp / "wide-cut.html", tmp / "wide-cut.pdf"
        wide_text = wide.read_text(encoding="utf-8")
        cut_text = wide_text.replace(".print-only { display: block; }", ".print-only { display: none; }", 1)
        cut_text = cut_text.replace("@media print {", "@media print {\n  details > :not(summary) { display: block; }", 1)
        cut.write_text(cut_text, encoding="utf-8")

        jobs = {label: (dump_dom, page) for label, page in {**pages, **hostile_pages, "canary": canary}.items()}
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = {label: pool.submit(fn, browser, tmp, page) for label, (fn, page) in jobs.items()}
            futures["print"] = pool.submit(chromium, browser, tmp, f"--print-to-pdf={pdf}", "--no-pdf-header-footer",
                                           mouse.resolve().as_uri())
            for label, page, out in (("print wide", wide, wide_pdf), ("print cut", cut, cut_pdf)):
                futures[label] = pool.submit(chromium, browser, tmp, f"--print-to-pdf={out}", "--no-pdf-header-footer",
                                             page.resolve().as_uri())
            futures["screenshot"] = pool.submit(chromium, browser, tmp, f"--screenshot={shot}", "--window-size=1280,2000",
                                                "--hide-scrollbars", mouse.resolve().as_uri())
            doms = {label: f.result() for label, f in futures.items()}

        for label in pages:
            dom = Dom(doms[label])
            check_tables_against_trace(checks, label, dom, traces[label])
            check_self_contained(checks, label, dom)
            checks.check(f"{label}: the sentence line shows the sentence",
                         [] if dom.sentences == [f"“{traces[label]['input']['sentence']}”"] else [f"found {dom.sentences}"])

        for label in hostile_pages:
            dom = Dom(doms[label])
            problems = []
            if dom.title != f"attnviz: “{sentence}”":  # the script would have made it "pwned"
                problems.append(f"document title is {dom.title!r}")
            if dom.sentences != [f"“{sentence}”"]:
                problems.append(f"the sentence line reads {dom.sentences}")
            if not dom.tables or dom.tables[0]["columns"] != embeddings["dimension_labels"]:
                problems.append(f"embeddings column labels read {dom.tables[0]['columns'] if dom.tables else None}")
            if f"{embeddings['name']} (2 dimensions)" not in dom.text:
                problems.append("the embeddings' name is not shown as text")
            checks.check(f"{label}: shown as text (title, sentence, labels), not run", problems)
            check_self_contained(checks, label, dom)
            check_tables_against_trace(checks, label, dom, traces["hostile"])

        dom = Dom(doms["canary"])
        checks.check("canary: a page that does run a script is seen to (the check can fail)",
                     [] if dom.title == "pwned" and dom.tags.get("script") else [f"title {dom.title!r}"])

        if not shot.exists():
            checks.check("mouse lesson: screenshot", ["chromium wrote no screenshot"])
        else:
            width, height, colours, non_white = png_stats(shot)
            problems = []
            if (width, height) != (1280, 2000):
                problems.append(f"size {width} × {height}")
            if colours < 100:
                problems.append(f"only {colours} distinct colours")
            if non_white < 0.10:
                problems.append(f"only {non_white:.1%} of the pixels are not white")
            checks.check(f"mouse lesson: the screenshot is not blank ({colours} colours, {non_white:.0%} not white)", problems)

        # On paper every stage is unfolded (only the weights are open on screen, from --stages weights).
        if not pdf.exists():
            checks.check("mouse lesson: printed", ["chromium wrote no PDF"])
        else:
            text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                                  timeout=60).stdout
            legends = text.count("legend:")
            checks.check(f"mouse lesson: printed to PDF, every stage unfolded ({legends} legends)",
                         [] if legends == 20 and "embeddings X" in text else [f"{legends} legends in the PDF's text, want 20"])

        # On paper the 100 columns of X come in blocks, every dimension there (it used to stop at d18, silently).
        def printed_dimensions(pdf):
            if not pdf.exists():
                return None
            text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=60).stdout
            start = text.find("embeddings X")
            section = text[start:text.find("queries Q", start)] if start >= 0 else ""
            return {int(d) for d in re.findall(r"\bd(\d+)\b", section)}
        shown, cut_shown = printed_dimensions(wide_pdf), printed_dimensions(cut_pdf)
        checks.check(f"GloVe page printed: embeddings X shows all 100 dimensions ({len(shown or ())} found)",
                     ["chromium wrote no PDF"] if shown is None else
                     [] if shown == set(range(100)) else [f"missing d{min(set(range(100)) - shown, default=-1)} and more"])
        checks.check("GloVe page printed with the screen's one table (control): the check sees it cut",
                     ["chromium wrote no PDF"] if cut_shown is None else
                     [] if cut_shown != set(range(100)) else ["all 100 dimensions found: the check cannot see a cut"])

    print(f"{checks.passed} passed, {checks.failed} failed")
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
