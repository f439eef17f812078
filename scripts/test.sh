#!/usr/bin/env bash
# The README's test command: install packages, build (Release), run the whole ctest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# The peers (official TFLite in WebAssembly, ONNX Runtime) from the npm registry, for oracle tests.
peers_setup="${QDET_SHARED:-../shared}/peers/setup.sh"
if [ -x "$peers_setup" ]; then
  export QDET_PEERS_DIR="${QDET_PEERS_DIR:-$HOME/.cache/qdet-peers}"
  "$peers_setup" >/dev/null
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
