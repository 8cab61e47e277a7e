#!/usr/bin/env python3
"""Compile time of source files of the sanitizer build (cmake --preset asan) at the preset's -O1 -g1 and at
RelWithDebInfo's -O2 -g, the same command line otherwise (docs/benchmarks.md, "Build"). Run from the
repository root after configuring the preset; the object goes to /dev/null.

    python3 bench/compile_time.py tests/test_family.cpp src/train/lm.cpp
"""
import json
import re
import subprocess
import sys
import time

if len(sys.argv) < 2:
    sys.exit(__doc__)
commands = json.load(open("build/asan/compile_commands.json"))
for name in sys.argv[1:]:
    entry = next((c for c in commands if c["file"].endswith("/" + name)), None)
    if entry is None:
        sys.exit(f"{name}: not a file of build/asan/compile_commands.json")
    command = re.sub(r"\S*ccache ", "", entry["command"])  # the compiler itself, never a cache hit
    command = re.sub(r" -o \S+", " -o /dev/null", command)
    command = re.sub(r" -MD -MT \S+ -MF \S+", "", command)
    if "-O1 -g1" not in command:
        sys.exit("build/asan was not configured with the preset's -O1 -g1 (cmake --preset asan)")
    for flags in ("-O2 -g", "-O1 -g1"):
        start = time.time()
        subprocess.run(command.replace("-O1 -g1", flags), shell=True, cwd=entry["directory"], check=True)
        print(f"{name:<28} {flags:<8} {time.time() - start:6.1f} s", flush=True)
