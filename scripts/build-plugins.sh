#!/usr/bin/env bash
# Builds every plugin in this repository (the built-in chunkers and retrievers, the paragraph
# example in four languages, the test plugins) with `genops plugin build`, into one folder that
# holds a plugin folder per plugin.
#
#   scripts/build-plugins.sh [OUT_DIR]        default: $GENOPS_CACHE_DIR/plugins
#
# GENOPS_BIN names the genops binary to use; without it the dev build is built and used.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
source scripts/env.sh

out="${1:-$GENOPS_CACHE_DIR/plugins}"
genops="${GENOPS_BIN:-}"
if [ -z "$genops" ]; then
  cargo build --quiet -p genops-cli
  genops="$CARGO_TARGET_DIR/debug/genops"
fi
mkdir -p "$out"

dirs=(plugins/chunker-* plugins/retriever-* examples/paragraph-* tests/plugins/*)
n=0
for dir in "${dirs[@]}"; do
  [ -f "$dir/genops-plugin.toml" ] || continue
  n=$((n + 1))
  printf '[%d/%d] %s\n' "$n" "${#dirs[@]}" "$dir"
  "$genops" plugin build "$dir" --out "$out"
done
echo "built $n plugins into $out"
