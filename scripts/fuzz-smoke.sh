#!/usr/bin/env bash
# Runs every fuzz target of tests/fuzz/ for a short while (FUZZ_SECONDS each, 20 by default), from
# its corpus, as a smoke test that the parsers still hold. The build is cached outside the
# clone ($GENOPS_CACHE_DIR/target-fuzz), so a warm run costs the fuzzing time and a link.
# cargo fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain take them.
# Usage: scripts/fuzz-smoke.sh [target...]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
# shellcheck source=scripts/env.sh
source scripts/env.sh
export CARGO_TARGET_DIR="$GENOPS_CACHE_DIR/target-fuzz"
export RUSTC_BOOTSTRAP=1
seconds="${FUZZ_SECONDS:-20}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "error: cargo fuzz is missing; run scripts/install.sh (or: cargo install cargo-fuzz --locked)" >&2
  exit 1
fi

cd tests/fuzz
if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi
# Address sanitizer is off: the code under test has no unsafe code of its own, and what the
# smoke looks for is panics, hangs and huge allocations, which libFuzzer sees without it.
echo "==> building ${#targets[@]} fuzz targets"
cargo fuzz build -s none
for target in "${targets[@]}"; do
  echo "==> fuzzing $target for ${seconds}s"
  # The committed corpus is read but not written: new inputs go to a scratch folder.
  scratch=$(mktemp -d)
  corpus=()
  [ -d "corpus/$target" ] && corpus=("corpus/$target")
  if ! cargo fuzz run -s none "$target" "$scratch" "${corpus[@]}" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 >"$scratch.log" 2>&1; then
    tail -n 40 "$scratch.log" >&2
    echo "error: fuzz target $target failed; the input is in tests/fuzz/artifacts/$target (see docs/fuzzing.md)" >&2
    rm -rf "$scratch"
    exit 1
  fi
  grep -E '^stat::number_of_executed_units' "$scratch.log" || true
  rm -rf "$scratch" "$scratch.log"
done
echo "==> fuzz smoke passed"
