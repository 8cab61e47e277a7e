#!/usr/bin/env bash
# The GPU check (see docs/cuda.md, "Running the GPU check"): one script that
#   1. records the machine (nvidia-smi, nvcc, the CPU),
#   2. builds attnviz with ATTNVIZ_CUDA=ON for this GPU's architecture (build/gpu), or, with --prebuilt,
#      uses a build made on the Debian machine (no build here),
#   3. runs the test suite (all of it, except the two Python-driven checks that need Debian's python3),
#      then the CUDA tests alone with their output (they must not say "skipped"),
#   4. runs the benchmark grid of docs/benchmarks.md with attnviz bench --backend cuda-flash: n = 512 …
#      16384, d = 64 and 128, 16 heads, causal and not; kernels v5 to v2 everywhere, v1 up to n = 4096
#      (ATTNVIZ_GPU_VERSIONS, ATTNVIZ_GPU_SEQS and ATTNVIZ_GPU_SKIP="version:d …" choose fewer), then the
#      default kernel for each head width,
#   5. runs bench/torch_sdpa.py on the same grid (float32 and float16) when PyTorch with CUDA is there,
#      and names the kernels PyTorch's float32 attention launches,
#   6. writes everything, and a Markdown table to paste into docs/benchmarks.md, under the output folder.
#
# Usage: scripts/gpu-check.sh [--prebuilt BUILD_DIR] [OUTPUT_DIR]   (default output: $OUT when set, else gpu-results/)
#
# On a machine without Debian's packages (the device machines), first run scripts/gpu-pack.sh on the Debian
# machine and carry .deps/gpu: the build then finds Eigen, CLI11, fmt, nlohmann_json and Catch2 there.
# --prebuilt BUILD_DIR takes attnviz and tests/ from a build made on the Debian machine with CUDA in it (carry
# BUILD_DIR/attnviz, BUILD_DIR/CTestTestfile.cmake and BUILD_DIR/tests): its test binary holds the source
# path it was built in, so that path is linked to this checkout when it does not exist here.
# Stops at the first failure of steps 2-3's build; a test or benchmark that fails is recorded and the
# script goes on, so one call gives every figure. Exit status: that of the test suite.
set -uo pipefail
cd "$(dirname "$0")/.."
prebuilt=""
if [ "${1:-}" = "--prebuilt" ]; then
  prebuilt="${2:?--prebuilt needs a build folder}"
  shift 2
fi
out="${1:-${OUT:-gpu-results}}"
mkdir -p "$out"
log="$out/gpu-check.log"
exec > >(tee "$log") 2>&1
# The Python that has PyTorch: on the device machines the python3 on PATH, on Debian /usr/bin/python3.
python=python3
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" > /dev/null && "$candidate" -c 'import torch' 2> /dev/null; then python="$candidate"; break; fi
done
t0=$(date +%s)
step() { echo "== [$(( $(date +%s) - t0 )) s] $*"; }

step "machine"
date -u +%Y-%m-%dT%H:%MZ
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,compute_cap --format=csv || echo "nvidia-smi failed"
nvcc --version | tail -1
grep -m1 "model name" /proc/cpuinfo
echo "cores: $(nproc); checkout: $PWD; python: $python"
git log --oneline -1 2> /dev/null || true
[ -d .deps/gpu/lib ] && export LD_LIBRARY_PATH="$PWD/.deps/gpu/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

if [ -n "$prebuilt" ]; then
  step "prebuilt: $prebuilt"
  built_in="$(cat .deps/gpu/source-dir 2> /dev/null || true)"
  if [ -n "$built_in" ] && [ "$built_in" != "$PWD" ] && [ ! -e "$built_in" ]; then
    mkdir -p "$(dirname "$built_in")" && ln -s "$PWD" "$built_in" && echo "linked $built_in -> $PWD"
  fi
  build="$prebuilt"
  [ -n "$built_in" ] && build="$built_in/$prebuilt"
else
  step "build (ATTNVIZ_CUDA=ON)"
  arch="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2> /dev/null | head -1 | tr -d '.')"
  prefix=()
  [ -d .deps/gpu/usr ] && prefix=(-DCMAKE_PREFIX_PATH="$PWD/.deps/gpu/usr")
  cmake -S . -B build/gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DATTNVIZ_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES="${arch:-90}" "${prefix[@]}" || exit 1
  cmake --build build/gpu -j"$(nproc)" || exit 1
  build=build/gpu
fi
exe="$build/attnviz"
tests="$build/tests/attnviz_tests"
"$exe" --version || exit 1

step "CUDA tests alone, with their messages"
(cd "$build/tests" && timeout 300 ./attnviz_tests "[cuda]" -s -r compact 2>&1 | tail -60) | tee "$out/cuda-tests.txt"
grep -i "skipped" "$out/cuda-tests.txt" && echo "!! a CUDA test was skipped on a GPU machine"

step "the whole test suite (without schema.* and html.*, which need Debian's python3 and Chromium)"
(cd "$build" && timeout 420 ctest -j"$(nproc)" --output-on-failure -E '^(schema|html)\.') > "$out/ctest.txt" 2>&1
tests_rc=$?
tail -15 "$out/ctest.txt"

step "run --backend cuda --timings"
timeout 60 "$exe" run "the cat chased the mouse" --backend cuda --timings --stages weights --color never
timeout 60 "$exe" run "the cat chased the mouse" --backend cuda-flash --timings --stages output --color never

step "attnviz bench --backend cuda-flash (16 heads)"
bench_json="$out/attnviz-bench.jsonl"
: > "$bench_json"
for version in ${ATTNVIZ_GPU_VERSIONS:-5 4 3 2 1}; do
  for d in 64 128; do
    for n in ${ATTNVIZ_GPU_SEQS:-4096 512 1024 2048 8192 16384}; do
      [ "$version" = 1 ] && [ "$n" -gt 4096 ] && continue  # v1 is the readable kernel: seconds per run beyond
      case " ${ATTNVIZ_GPU_SKIP:-} " in *" $version:$d "*) continue ;; esac  # e.g. ATTNVIZ_GPU_SKIP="3:128 4:64"
      for causal in "" "--causal"; do
        if ATTNVIZ_FLASH_VERSION=$version timeout 120 "$exe" bench --backend cuda-flash --seq "$n" --dim "$d" --heads 16 $causal \
             --json - > "$out/one.json" 2> "$out/one.err"; then
          "$python" -c 'import json,sys; j=json.load(open(sys.argv[1])); j["kernel_version"]=int(sys.argv[2]); print(json.dumps(j))' \
            "$out/one.json" "$version" >> "$bench_json"
          echo "v$version n=$n d=$d ${causal:-full}: $("$python" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(round(j["gflops"]), "GFLOP/s, max rel error", "%.2g" % j["error"]["max_rel"])' "$out/one.json")"
        else
          echo "v$version n=$n d=$d ${causal:-full}: FAILED: $(cat "$out/one.err")"
        fi
      done
    done
  done
done
rm -f "$out/one.json" "$out/one.err"

step "the default kernel for each head width"
for d in 64 128; do
  timeout 60 "$exe" bench --backend cuda-flash --seq 4096 --dim "$d" --heads 16 | grep -E "kernel|rate:"
done

step "PyTorch scaled_dot_product_attention"
timeout 240 "$python" bench/torch_sdpa.py --json "$out/torch-sdpa.json" --kernel-names

step "table for docs/benchmarks.md"
"$python" - "$bench_json" "$out/torch-sdpa.json" > "$out/table.md" << 'PY'
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
torch = json.load(open(sys.argv[2]))["rows"] if os.path.exists(sys.argv[2]) else []
def t(dtype, r, key="gflops", fmt="{:.0f}"):
    for x in torch:
        if x["dtype"] == dtype and x["seq"] == r["seq"] and x["dim"] == r["dim"] and x["causal"] == r["causal"] and key in x:
            return fmt.format(x[key])
    return "–"
print("| kernel | n | d | causal | cuda-flash ms | cuda-flash GFLOP/s | max rel. error vs float64 | PyTorch fp32 GFLOP/s | PyTorch fp32 max rel. error | PyTorch fp16 GFLOP/s |")
print("|---|---|---|---|---|---|---|---|---|---|")
rows.sort(key=lambda j: (-j["kernel_version"], j["config"]["dim"], j["config"]["seq"], j["config"]["causal"]))
for j in rows:
    r = {"seq": j["config"]["seq"], "dim": j["config"]["dim"], "causal": j["config"]["causal"]}
    ms = j["timing"]["seconds_median"] * 1e3 if "timing" in j else j.get("seconds_median", 0) * 1e3
    print(f'| v{j["kernel_version"]} | {r["seq"]} | {r["dim"]} | {"yes" if r["causal"] else "no"} | {ms:.3f} | {j["gflops"]:.0f} | {j["error"]["max_rel"]:.1e} | {t("float32", r)} | {t("float32", r, "max_rel_error", "{:.1e}")} | {t("float16", r)} |')
PY
cat "$out/table.md"

# compute-sanitizer (where the machine's runtime lets it see the GPU): out-of-bounds accesses and
# shared-memory races of the fused kernels on a causal problem with a ragged last tile.
if command -v compute-sanitizer > /dev/null && [ "${ATTNVIZ_GPU_SANITIZER:-1}" = 1 ]; then
  for version in ${ATTNVIZ_GPU_SANITIZE_VERSIONS:-5 4 3 2}; do
    for dim in 64 128; do
      for tool in memcheck racecheck; do
        step "compute-sanitizer --tool $tool, kernel v$version, d = $dim"
        ATTNVIZ_FLASH_VERSION=$version timeout 120 compute-sanitizer --tool "$tool" --error-exitcode 9 "$exe" bench --backend cuda-flash \
          --seq 300 --dim "$dim" --heads 2 --causal --min-time 0 2>&1 | grep -E "ERROR SUMMARY|RACECHECK SUMMARY|error|Error|max rel" | head -8
      done
    done
  done
fi
step "done: tests rc=$tests_rc; results in $out/"
exit "$tests_rc"
