#!/usr/bin/env bash
# Installs the benchmark's peer, ONNX Runtime for the CPU: Debian's python3-onnx (to write the model file),
# nodejs and npm (scripts/install-deps --bench), and npm's onnxruntime-node 1.30.0 into
# bench/peer/node_modules (ignored by git). ONNXRUNTIME_NODE_INSTALL=skip: the package's install step would
# otherwise try to download GPU libraries; its CPU library is in the package itself. Not part of scripts/test or CI (they must not depend on the network beyond Debian).
set -euo pipefail
cd "$(dirname "$0")"
../scripts/install-deps --bench
cd peer
ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund
node -e "const o = require('onnxruntime-node'); console.log('onnxruntime-node', require('onnxruntime-node/package.json').version, 'ready')"
