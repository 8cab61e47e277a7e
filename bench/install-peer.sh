#!/usr/bin/env bash
# Installs the benchmark's peer, ONNX Runtime for the CPU: Debian's python3-onnx (to write the model file)
# and npm's onnxruntime-node into bench/peer/node_modules (ignored by git). ONNXRUNTIME_NODE_INSTALL=skip:
# the package's install step would otherwise try to download GPU libraries; its CPU library is in the
# package itself. Not part of scripts/test or CI (they must not depend on the network beyond Debian).
set -euo pipefail
cd "$(dirname "$0")"
command -v node >/dev/null && command -v npm >/dev/null || missing="nodejs npm"
/usr/bin/python3 -c 'import onnx' 2>/dev/null || missing="${missing:-} python3-onnx"
if [[ -n "${missing:-}" ]]; then
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo=sudo
  $sudo apt-get install -y $missing
fi
cd peer
ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund
node -e "const o = require('onnxruntime-node'); console.log('onnxruntime-node', require('onnxruntime-node/package.json').version, 'ready')"
