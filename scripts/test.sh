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

echo "==> building the plugins from source"
export GENOPS_TEST_PLUGINS="$GENOPS_CACHE_DIR/test-plugins"
rm -rf "$GENOPS_TEST_PLUGINS"
scripts/build-plugins.sh "$GENOPS_TEST_PLUGINS"

echo "==> cargo clippy"
cargo clippy --quiet --workspace --all-targets -- -D warnings

echo "==> tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
  cargo test --quiet --workspace --doc
else
  cargo test --workspace --no-fail-fast
fi
