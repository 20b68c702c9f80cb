# Shared settings for the project's scripts; sourced, not run.
# The cargo target directories live outside the clone so that a fresh clone (CI's) reuses
# what an earlier build on the same machine compiled.
export GENOPS_CACHE_DIR="${GENOPS_CACHE_DIR:-$HOME/.cache/genops}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$GENOPS_CACHE_DIR/target}"
export GENOPS_WASM_TARGET_DIR="${GENOPS_WASM_TARGET_DIR:-$GENOPS_CACHE_DIR/target-wasm}"
export PATH="$HOME/.cargo/bin:$PATH"
