#!/usr/bin/env bash
# The GPU check, prepared for a session that has a GPU (see docs/cuda.md): one script that
#   1. records the machine (nvidia-smi, nvcc, the CPU),
#   2. builds attnviz with ATTNVIZ_CUDA=ON for this GPU's architecture (build/gpu),
#   3. runs the whole test suite, then the CUDA tests alone with their output (they must not say "skipped"),
#   4. runs the benchmark grid of docs/benchmarks.md with attnviz bench --backend cuda-flash: n = 512 …
#      16384, d = 64 and 128, 16 heads, causal and not; kernel v2 everywhere, v1 up to n = 4096,
#   5. runs bench/torch_sdpa.py on the same grid (float32 and float16), when PyTorch with CUDA is there,
#   6. writes everything, and a Markdown table to paste into docs/benchmarks.md, under the output folder.
#
# Usage: scripts/gpu-check.sh [OUTPUT_DIR]      (default: $OUT when set, else gpu-results/)
# Budget: about 5 minutes on an H100 (most of it the build and the grid). Stops at the first failure of
# steps 2-3; a benchmark that fails is recorded and the grid goes on.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${1:-${OUT:-gpu-results}}"
mkdir -p "$out"
log="$out/gpu-check.log"
exec > >(tee "$log") 2>&1
python=/usr/bin/python3
[ -x "$python" ] || python=python3

echo "== machine"
date -u +%Y-%m-%dT%H:%MZ
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv || echo "nvidia-smi failed"
nvcc --version | tail -1
grep -m1 "model name" /proc/cpuinfo
git log --oneline -1

echo "== build (ATTNVIZ_CUDA=ON)"
arch="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '.')"
cmake -S . -B build/gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DATTNVIZ_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="${arch:-90}" || exit 1
cmake --build build/gpu -j"$(nproc)" || exit 1
exe=build/gpu/attnviz
"$exe" --version

echo "== tests"
(cd build/gpu && ctest -j"$(nproc)" --output-on-failure) ; tests_rc=$?
echo "== CUDA tests alone, with their messages"
build/gpu/tests/attnviz_tests "[cuda]" -s -r compact 2>&1 | tail -40
build/gpu/tests/attnviz_tests "[cuda]" 2>&1 | grep -i "skipped" && echo "!! a CUDA test was skipped on a GPU machine"
echo "== run --backend cuda --timings"
"$exe" run "the cat chased the mouse" --backend cuda --timings --stages weights --color never
"$exe" run "the cat chased the mouse" --backend cuda-flash --timings --stages output --color never

echo "== attnviz bench --backend cuda-flash (16 heads)"
bench_json="$out/attnviz-bench.jsonl"
: > "$bench_json"
versions="2 1"
if ! "$exe" bench --help > /dev/null 2>&1; then
  echo "!! attnviz bench is not in this build (it comes with the flash branch; see docs/cuda.md): grid skipped"
  versions=""
fi
for version in $versions; do
  for d in 64 128; do
    for n in 512 1024 2048 4096 8192 16384; do
      [ "$version" = 1 ] && [ "$n" -gt 4096 ] && continue  # v1 is the readable kernel: seconds per run beyond
      for causal in "" "--causal"; do
        if ATTNVIZ_FLASH_VERSION=$version "$exe" bench --backend cuda-flash --seq "$n" --dim "$d" --heads 16 $causal \
             --json - > "$out/one.json" 2> "$out/one.err"; then
          "$python" -c 'import json,sys; j=json.load(open(sys.argv[1])); j["kernel_version"]=int(sys.argv[2]); print(json.dumps(j))' \
            "$out/one.json" "$version" >> "$bench_json"
          echo "v$version n=$n d=$d ${causal:-full}: $("$python" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(round(j["gflops"]), "GFLOP/s")' "$out/one.json")"
        else
          echo "v$version n=$n d=$d ${causal:-full}: FAILED: $(cat "$out/one.err")"
        fi
      done
    done
  done
done
rm -f "$out/one.json" "$out/one.err"

echo "== PyTorch scaled_dot_product_attention"
"$python" bench/torch_sdpa.py --json "$out/torch-sdpa.json"

echo "== table for docs/benchmarks.md"
"$python" - "$bench_json" "$out/torch-sdpa.json" > "$out/table.md" <<'PY'
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
torch = json.load(open(sys.argv[2]))["rows"] if os.path.exists(sys.argv[2]) else []
def t(dtype, r):
    for x in torch:
        if x["dtype"] == dtype and x["seq"] == r["seq"] and x["dim"] == r["dim"] and x["causal"] == r["causal"]:
            return f'{x["gflops"]:.0f}'
    return "–"
print("| kernel | n | d | causal | cuda-flash ms | cuda-flash GFLOP/s | PyTorch fp32 GFLOP/s | PyTorch fp16 GFLOP/s |")
print("|---|---|---|---|---|---|---|---|")
for j in rows:
    r = {"seq": j["config"]["seq"], "dim": j["config"]["dim"], "causal": j["config"]["causal"]}
    ms = j.get("seconds_median", j.get("timing", {}).get("seconds_median", 0)) * 1e3
    print(f'| v{j["kernel_version"]} | {r["seq"]} | {r["dim"]} | {"yes" if r["causal"] else "no"} | {ms:.3f} | {j["gflops"]:.0f} | {t("float32", r)} | {t("float16", r)} |')
PY
cat "$out/table.md"
echo "== done: tests rc=$tests_rc; results in $out/"
exit "$tests_rc"
