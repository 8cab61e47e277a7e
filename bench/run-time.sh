#!/usr/bin/env bash
# Whole-process time of the demo of one sentence (issue: at most 20 ms on a 2-core machine), as the median
# of repeated runs measured by hyperfine (Debian package `hyperfine`).
# Usage: bench/run-time.sh [path/to/attnviz]
set -euo pipefail
cd "$(dirname "$0")/.."
exe=${1:-build/release/attnviz}
command -v hyperfine >/dev/null || { echo "needs hyperfine: apt-get install hyperfine" >&2; exit 1; }
sentence="Mickey Mouse is an American cartoon character co-created in 1928 by Walt Disney and Ub Iwerks"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
hyperfine -N --warmup 10 --runs 200 --export-json "$out" \
  "$exe run '$sentence' --color never" "$exe demo mouse --color never" >/dev/null
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(uname -sr)"
echo "binary:  $exe ($(grep -m1 CMAKE_BUILD_TYPE "$(dirname "$exe")/CMakeCache.txt" 2>/dev/null | cut -d= -f2))"
python3 - "$out" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    t = sorted(r["times"])
    print(f"median {r['median']*1000:6.2f} ms   p90 {t[int(0.9*len(t))]*1000:6.2f} ms   runs {len(t)}   {r['command']}")
PY
