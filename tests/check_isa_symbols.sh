#!/usr/bin/env bash
# The ODR guard of the kernel paths: each object of attnviz_kernels (isa_baseline.o, isa_avx2.o,
# isa_avx512.o) may define exactly one external symbol, its table function. A weak symbol (an inline
# function or template instantiated there, e.g. from Eigen or the standard library) would be merged by the
# linker with the other paths' copies, and the baseline path could end up running AVX-512 code.
# Usage: tests/check_isa_symbols.sh "OBJ1;OBJ2;..."   (the objects, ';'-separated: $<TARGET_OBJECTS:...>)
set -euo pipefail
IFS=';' read -r -a objects <<<"$1"
[[ ${#objects[@]} -ge 1 ]] || { echo "no objects given" >&2; exit 1; }
status=0
for o in "${objects[@]}"; do
  # External definitions: nm's upper-case types except U (undefined), plus weak (W, V) and unique (u) ones.
  # Weak typeinfo objects (clang's UBSan emits them for function types) are data, the same in every object,
  # never code: they are let through.
  external=$(nm -C --defined-only "$o" | awk '$2 ~ /^[A-TV-Z]$/ || $2 == "u" || $2 == "w" || $2 == "v"' |
             grep -v ' [Vv] typeinfo \(name \)\?for ' || true)
  count=$(printf '%s\n' "$external" | grep -c . || true)
  if [[ $count -ne 1 ]] || ! grep -q ' T attnviz::kernels::table_[a-z0-9]*()$' <<<"$external"; then
    echo "FAIL $(basename "$o"): expected one external symbol (its table function), found $count:" >&2
    printf '%s\n' "$external" | head -20 >&2
    status=1
  else
    echo "ok   $(basename "$o"): $(awk '{$1=""; $2=""; print}' <<<"$external" | sed 's/^ *//')"
  fi
done
exit $status
