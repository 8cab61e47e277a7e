#!/usr/bin/env bash
# The attention benchmarks of docs/benchmarks.md ("Attention kernels"), each target's run, as one table.
# Usage: bench/attention.sh [path/to/attnviz]   (default: build/release/attnviz)
set -euo pipefail
cd "$(dirname "$0")/.."
exe=${1:-build/release/attnviz}
py=/usr/bin/python3
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| command | GFLOP/s | Eigen GEMM GFLOP/s | ratio | by CPU time: GFLOP/s, GEMM, ratio | peak MiB | max abs error |"
echo "|---|---|---|---|---|---|---|"
run() {
  "$exe" bench "$@" --json - | "$py" -c '
import json, sys
d = json.load(sys.stdin)
c = d["cpu_time"]
print("| `attnviz bench %s` | %.2f | %.2f | %.2f | %.2f, %.2f, %.2f | %.1f | %.2g |" % (" ".join(sys.argv[1:]), d["gflops"],
      d["gemm"]["gflops"], d["ratio"], c["gflops"], d["gemm"]["gflops_cpu_time"], c["ratio"], d["peak_rss_mib"], d["error"]["max_abs"]))' "$@"
}
run --seq 4096 --dim 64 --heads 1 --backend flash --threads 1 --min-time 2
run --seq 4096 --dim 64 --heads 1 --backend flash --threads 2 --min-time 2
run --seq 1024 --dim 64 --heads 1 --backend cpu --threads 1 --min-time 2
run --seq 1024 --dim 64 --heads 1 --backend cpu --threads 2 --min-time 2
run --seq 4096 --dim 64 --heads 1 --backend flash --threads 1 --causal --min-time 2
run --seq 16384 --dim 64 --heads 1 --backend flash --threads 2 --min-time 0
