#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, checks formatting and lints, builds
# every plugin from source, then runs the unit, integration and CLI tests against them.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
source scripts/env.sh

scripts/install.sh

echo "==> cargo fmt --check"
cargo fmt --all -- --check

# The test build comes first and its genops binary builds the plugins: a separate
# `cargo build -p genops-cli` resolves features differently from `--workspace` (the tests'
# dev-dependencies add some) and would compile wasmtime a second time.
echo "==> building the tests"
cargo test --quiet --workspace --no-run

echo "==> building the plugins from source"
export GENOPS_TEST_PLUGINS="$GENOPS_CACHE_DIR/test-plugins"
rm -rf "$GENOPS_TEST_PLUGINS"
GENOPS_BIN="$CARGO_TARGET_DIR/debug/genops" scripts/build-plugins.sh "$GENOPS_TEST_PLUGINS"

echo "==> installing the default model and ONNX Runtime for the tests"
# Kept between runs: the install is skipped when the files are there and intact.
export GENOPS_TEST_DATA="$GENOPS_CACHE_DIR/test-data"
"$CARGO_TARGET_DIR/debug/genops" --data-dir "$GENOPS_TEST_DATA" models install

echo "==> cargo clippy"
cargo clippy --quiet --workspace --all-targets -- -D warnings

echo "==> tests"
if cargo nextest --version >/dev/null 2>&1; then
  # Doc tests first, so the run closes on nextest's summary of every test.
  cargo test --quiet --workspace --doc
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi

echo "==> fuzz smoke"
# A short run of every fuzz target from its corpus (docs/fuzzing.md); its build is cached
# outside the clone.
FUZZ_SECONDS="${FUZZ_SECONDS:-10}" scripts/fuzz-smoke.sh
