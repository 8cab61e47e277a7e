#!/usr/bin/env bash
# attnviz's CPU attention beside ONNX Runtime's on the same shapes, in the same run (docs/benchmarks.md,
# "Attention kernels"), with Eigen's -march=native matrix product as the machine's practical limit.
# Each case runs ROUNDS times alternately (attnviz, then the peer) and the table shows the medians of the
# rounds' medians, by wall time and by process CPU time (every thread; on a machine shared with other work
# the CPU time is the figure contention disturbs least).
# Usage: bench/attention.sh [path/to/attnviz] [ROUNDS]   (default build/release/attnviz, 3 rounds)
# Needs the peer (bench/install-peer.sh) for the ONNX Runtime column; without it that column says "—".
set -euo pipefail
cd "$(dirname "$0")/.."
exe=${1:-build/release/attnviz}
rounds=${2:-3}
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores; $(uname -sr); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "attnviz: $exe; $("$exe" --version | tail -1)"
g++ -O3 -march=native -DNDEBUG -I/usr/include/eigen3 bench/sgemm_native.cpp -o "$tmp/sgemm"
for r in $(seq "$rounds"); do "$tmp/sgemm" >>"$tmp/sgemm.jsonl"; done
peer=yes
[[ -d bench/peer/node_modules/onnxruntime-node ]] || { peer=no; echo "(peer not installed: bench/install-peer.sh)"; }

# case: name | attnviz bench arguments | peer arguments (N D THREADS [causal]) or -
cases=(
  "flash n=4096 1 thread|--seq 4096 --dim 64 --backend flash --threads 1 --min-time 2|4096 64 1"
  "flash n=4096 2 threads|--seq 4096 --dim 64 --backend flash --threads 2 --min-time 2|4096 64 2"
  "flash causal n=4096 1 thread|--seq 4096 --dim 64 --backend flash --threads 1 --causal --min-time 2|4096 64 1 causal"
  "flash causal n=4096 2 threads|--seq 4096 --dim 64 --backend flash --threads 2 --causal --min-time 2|4096 64 2 causal"
  "cpu (reference) n=1024 1 thread|--seq 1024 --dim 64 --backend cpu --threads 1 --min-time 2|1024 64 1"
  "cpu (reference) n=1024 2 threads|--seq 1024 --dim 64 --backend cpu --threads 2 --min-time 2|1024 64 2"
  "flash n=16384 2 threads (memory)|--seq 16384 --dim 64 --backend flash --threads 2 --min-time 0|-"
)
for i in "${!cases[@]}"; do
  IFS='|' read -r name args peer_args <<<"${cases[$i]}"
  for r in $(seq "$rounds"); do
    # shellcheck disable=SC2086
    "$exe" bench $args --json - | "$py" -c 'import json, sys; print(json.dumps(json.load(sys.stdin)))' >>"$tmp/attnviz-$i.jsonl"
    if [[ $peer == yes && $peer_args != - ]]; then
      # shellcheck disable=SC2086
      bench/peer-onnxruntime.sh $peer_args >>"$tmp/peer-$i.jsonl"
    fi
  done
done

"$py" - "$tmp" "${#cases[@]}" "${cases[@]}" <<'PY'
import json, statistics, sys
tmp, count, cases = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def rows(path):
    try:
        return [json.loads(l) for l in open(path) if l.strip()]
    except FileNotFoundError:
        return []
med = statistics.median
sg = rows(f"{tmp}/sgemm.jsonl")
sg_wall, sg_cpu = med(r["gflops"] for r in sg), med(r["gflops_cpu"] for r in sg)
print(f"Eigen SGEMM -march=native, 1024³, 1 thread: {sg_wall:.1f} GFLOP/s (wall), {sg_cpu:.1f} (CPU time); {len(sg)} runs")
print()
print("| case | attnviz GFLOP/s | ONNX Runtime GFLOP/s | attnviz ÷ ORT | attnviz ÷ SGEMM | by CPU time: attnviz, ORT, ÷ ORT, ÷ SGEMM | peak MiB | max abs error |")
print("|---|---|---|---|---|---|---|---|")
for i in range(count):
    name, args, _ = cases[i].split("|")
    a, p = rows(f"{tmp}/attnviz-{i}.jsonl"), rows(f"{tmp}/peer-{i}.jsonl")
    aw, ac = med(r["gflops"] for r in a), med(r["cpu_time"]["gflops"] for r in a)
    mem, err = max(r["peak_rss_mib"] for r in a), max(r["error"]["max_abs"] for r in a)
    if p:
        pw, pc = med(r["gflops"] for r in p), med(r["gflops_cpu"] for r in p)
        peer = f"{pw:.1f} | {aw / pw:.2f}× | {aw / sg_wall:.2f} | {ac:.1f}, {pc:.1f}, {ac / pc:.2f}×, {ac / sg_cpu:.2f}"
    else:
        peer = f"— | — | {aw / sg_wall:.2f} | {ac:.1f}, —, —, {ac / sg_cpu:.2f}"
    print(f"| {name} (`attnviz bench {args}`) | {aw:.1f} | {peer} | {mem:.1f} | {err:.2g} |")
print()
print(f"rounds: {len(rows(f'{tmp}/attnviz-0.jsonl'))} per case; load after: {open('/proc/loadavg').read().split()[:3]}")
PY
