#!/usr/bin/env bash
# ONNX Runtime's CPU attention on the shapes of `attnviz bench`: one head of width D, self-attention over N
# tokens, float32, THREADS intra-op threads, causal when asked. Prints one JSON line (median of session.run
# alone, after warm-up). The peer is installed once by bench/install-peer.sh (npm onnxruntime-node, Debian's
# python3-onnx); it is no part of the tests.
# Usage: bench/peer-onnxruntime.sh N D THREADS [causal]
set -euo pipefail
cd "$(dirname "$0")/peer"
[[ $# -ge 3 ]] || { echo "usage: bench/peer-onnxruntime.sh N D THREADS [causal]" >&2; exit 2; }
n=$1 d=$2 threads=$3 causal=${4:-}
[[ -z "$causal" || "$causal" == causal ]] || { echo "the fourth argument is 'causal' or nothing, not '$causal'" >&2; exit 2; }
[[ -d node_modules/onnxruntime-node ]] || { echo "the peer is not installed: run bench/install-peer.sh" >&2; exit 1; }
mkdir -p models
model="models/mha-d$d${causal:+-causal}.onnx"
[[ -f "$model" ]] || /usr/bin/python3 make_model.py "$model" "$d" $causal
node run.js "$model" "$n" "$d" "$threads" "${PEER_MIN_SECONDS:-2}"
