#!/usr/bin/env python3
"""The explorer's screenshot (docs/images/explore.png) from a real terminal screen.

tmux runs `attnviz explore` in a 24-bit-colour pane, the keys are sent, `tmux capture-pane -e` gives the
screen with its colour escapes; this script turns them into an HTML page of coloured spans (a black
terminal, DejaVu Sans Mono) and headless Chromium renders the page to PNG. Nothing is drawn by hand: what
the picture shows is what the terminal showed.

Usage: docs/images/screenshot_explore.py [path/to/attnviz] [OUT.png]
  (defaults: build/release/attnviz, docs/images/explore.png; needs tmux and chromium)
"""
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WIDTH, HEIGHT = 120, 30
SENTENCE = "the cat chased the mouse"
KEYS = ["Down", "Down", "Down", "Down", "Right"]  # the row of "mouse", the key "cat"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                  "--hide-scrollbars", "--mute-audio"]

# xterm's 16 colours, for the escapes tmux may write back.
BASIC = ["#000000", "#cd0000", "#00cd00", "#cdcd00", "#0000ee", "#cd00cd", "#00cdcd", "#e5e5e5",
         "#7f7f7f", "#ff0000", "#00ff00", "#ffff00", "#5c5cff", "#ff00ff", "#00ffff", "#ffffff"]
DEFAULT_FG, DEFAULT_BG = "#d0d0d0", "#1c1c1c"


def xterm256(n):
    if n < 16:
        return BASIC[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return "#{:02x}{:02x}{:02x}".format(steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + 10 * (n - 232)
    return "#{:02x}{:02x}{:02x}".format(v, v, v)


def capture(attnviz):
    socket = f"attnviz-shot-{os.getpid()}"
    tmux = ["tmux", "-L", socket]
    command = (f"env LANG=C.UTF-8 TERM=xterm-256color COLORTERM=truecolor '{attnviz}' explore '{SENTENCE}'; sleep 30")
    subprocess.run(tmux + ["new-session", "-d", "-x", str(WIDTH), "-y", str(HEIGHT), "-s", "t", command], check=True)
    try:
        screen = ""
        for _ in range(100):
            screen = subprocess.run(tmux + ["capture-pane", "-p", "-t", "t"], capture_output=True, text=True).stdout
            if "weights P" in screen:
                break
            time.sleep(0.05)
        for key in KEYS:
            subprocess.run(tmux + ["send-keys", "-t", "t", key], check=True)
        for _ in range(100):
            screen = subprocess.run(tmux + ["capture-pane", "-p", "-t", "t"], capture_output=True, text=True).stdout
            if 'query "mouse" (4)' in screen and 'key "cat" (1)' in screen:
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("the explorer did not reach mouse -> cat:\n" + screen)
        return subprocess.run(tmux + ["capture-pane", "-p", "-e", "-t", "t"], capture_output=True, text=True, check=True).stdout
    finally:
        subprocess.run(tmux + ["kill-server"], capture_output=True)


def to_html(ansi):
    """The captured screen (SGR escapes) as <span>s with the same colours."""
    fg, bg, bold = None, None, False
    out = []
    for line in ansi.rstrip("\n").split("\n")[:HEIGHT]:
        for part in re.split(r"(\x1b\[[0-9;]*m)", line):
            if part.startswith("\x1b["):
                codes = [int(c) if c else 0 for c in part[2:-1].split(";")]
                i = 0
                while i < len(codes):
                    c = codes[i]
                    if c == 0:
                        fg, bg, bold = None, None, False
                    elif c == 1:
                        bold = True
                    elif c == 22:
                        bold = False
                    elif 30 <= c <= 37:
                        fg = BASIC[c - 30]
                    elif 90 <= c <= 97:
                        fg = BASIC[c - 90 + 8]
                    elif 40 <= c <= 47:
                        bg = BASIC[c - 40]
                    elif 100 <= c <= 107:
                        bg = BASIC[c - 100 + 8]
                    elif c == 39:
                        fg = None
                    elif c == 49:
                        bg = None
                    elif c in (38, 48) and i + 1 < len(codes):
                        if codes[i + 1] == 5 and i + 2 < len(codes):
                            colour, i = xterm256(codes[i + 2]), i + 2
                        elif codes[i + 1] == 2 and i + 4 < len(codes):
                            colour, i = "#{:02x}{:02x}{:02x}".format(*codes[i + 2:i + 5]), i + 4
                        else:
                            colour = None
                        if c == 38:
                            fg = colour
                        else:
                            bg = colour
                    i += 1
                continue
            if part:
                style = f"color:{fg or DEFAULT_FG};background:{bg or 'transparent'}" + (";font-weight:bold" if bold else "")
                out.append(f'<span style="{style}">{html.escape(part)}</span>')
        out.append("\n")
    return ("<!doctype html><meta charset=utf-8><style>body{margin:0;background:" + DEFAULT_BG + "}"
            "pre{margin:0;padding:14px 16px;font:15px/1.25 'DejaVu Sans Mono',monospace;color:" + DEFAULT_FG + "}</style>"
            "<pre>" + "".join(out) + "</pre>")


def main():
    attnviz = Path(sys.argv[1] if len(sys.argv) > 1 else "build/release/attnviz").resolve()
    out = Path(sys.argv[2] if len(sys.argv) > 2 else "docs/images/explore.png").resolve()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser or not shutil.which("tmux"):
        sys.exit("needs tmux and chromium (scripts/install-deps --test installs both)")
    page = to_html(capture(attnviz))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "explore.html"
        path.write_text(page, encoding="utf-8")
        # 120 columns of a 15px DejaVu Sans Mono cell (9.03px) and 30 lines of 18.75px, plus the padding.
        size = f"--window-size={int(WIDTH * 9.04) + 32},{int(HEIGHT * 18.75) + 28}"
        env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "LANG": "C.UTF-8"}
        subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp}/profile", size, f"--screenshot={out}", path.as_uri()],
                       check=True, capture_output=True, timeout=120, env=env)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
