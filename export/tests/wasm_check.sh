#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The lgrin-edge authors
# wasm_check.sh - the C runtime as WebAssembly: the kernel tests, the runtime's known answers and
# lgrin_bench, built for wasm32-wasi (clang, wasm-ld, wasi-libc) twice, with -msimd128 (kernel families
# simd128 and portable) and without (portable), and run under node's WASI (tests/wasi_run.mjs). Every
# family must pass the tests that the native families pass: the same integers and logits.
#
#   export/tests/wasm_check.sh [BUILD_DIR]
#
# BUILD_DIR keeps the modules (test_kernels, test_runtime, lgrin_bench .wasm for each build); by default a
# temporary folder, removed at the end. Exit 0: passed; 1: a check failed; 77: a tool is missing (one
# line names it). CLANG, WASM_LD, WASI_SYSROOT and NODE override the tools.
set -euo pipefail
out=""
if [ $# -ge 1 ]; then # before the cd below: a relative BUILD_DIR is the caller's
  mkdir -p "$1"
  out="$(cd "$1" && pwd)"
fi
cd "$(dirname "$0")/../.."
root="$(pwd)"

CLANG="${CLANG:-clang-14}"
WASM_LD="${WASM_LD:-$(command -v wasm-ld-14 || command -v wasm-ld || echo wasm-ld-14)}"
WASI_SYSROOT="${WASI_SYSROOT:-/usr}"
NODE="${NODE:-node}"
PACKAGES="clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 nodejs (20 or later)"

skip() {
  echo "skipped: $1: install $PACKAGES" >&2
  exit 77
}
command -v "$CLANG" >/dev/null || skip "no $CLANG"
command -v "$WASM_LD" >/dev/null || skip "no wasm-ld ($WASM_LD)"
[ -f "$WASI_SYSROOT/lib/wasm32-wasi/libc.a" ] || skip "no wasi-libc under $WASI_SYSROOT/lib/wasm32-wasi"
command -v "$NODE" >/dev/null || skip "no node"
"$NODE" -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || skip "node older than 20"
echo 'int main(void) { return 0; }' | "$CLANG" --target=wasm32-wasi --sysroot="$WASI_SYSROOT" \
  -fuse-ld="$WASM_LD" -x c - -o /dev/null 2>/dev/null || skip "$CLANG cannot link for wasm32-wasi"

if [ -z "$out" ]; then
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
fi

# The runtime's sources are CMake's (LGRIN_SOURCES), read through lgrin_edge/export/c_facts.py as
# export/ci.sh does; the library is compiled with warnings as errors, the tests and the tool as they are.
read -ra runtime_src <<<"$(python3 -c 'import importlib.util as u
s = u.spec_from_file_location("c_facts", "lgrin_edge/export/c_facts.py"); m = u.module_from_spec(s)
s.loader.exec_module(m); print(*("export/" + f for f in m.SOURCES))')"
CFLAGS=(--target=wasm32-wasi "--sysroot=$WASI_SYSROOT" -std=c99 -O2 -ffp-contract=off -Iexport/include)
WARN=(-Wall -Wextra -Wpedantic -Wshadow -Werror)

# build NAME FLAG...: the library and the three programs of one build into $out/NAME
build() {
  local name="$1" src prog objs=()
  shift
  mkdir -p "$out/$name"
  for src in "${runtime_src[@]}"; do
    objs+=("$out/$name/$(basename "$src" .c).o")
    "$CLANG" "${CFLAGS[@]}" "${WARN[@]}" "$@" -c "$src" -o "${objs[-1]}"
  done
  for prog in tests/test_kernels tests/test_runtime tools/lgrin_bench; do
    "$CLANG" "${CFLAGS[@]}" "$@" -Iexport/src -fuse-ld="$WASM_LD" "export/$prog.c" "${objs[@]}" -lm \
      -o "$out/$name/$(basename "$prog").wasm"
  done
}

data="$root/export/tests/data"
failed=0
# run BUILD PROGRAM ARG...: one module under node, its output also in $out/run.log; a failure is
# counted, and the rest still run
run() {
  local name="$1" prog="$2" rc=0
  shift 2
  echo "== $name: $prog $*"
  "$NODE" --no-warnings "$root/export/tests/wasi_run.mjs" --dir "$data" "$out/$name/$prog.wasm" "$@" \
    >"$out/run.log" 2>&1 || rc=$?
  cat "$out/run.log"
  if [ "$rc" -ne 0 ]; then
    echo "FAILED ($rc): $name build, $prog $*" >&2
    failed=$((failed + 1))
  fi
}

build simd128 -msimd128
build portable
for family in simd128 portable; do
  run simd128 test_kernels "$family"
  run simd128 test_runtime "$data" "$family"
done
# lgrin_load's choice in the simd128 build: the best family it holds
run simd128 test_runtime "$data"
grep -q "lgrin_load chose simd128" "$out/run.log" ||
  { echo "FAILED: the simd128 build did not choose the simd128 kernels" >&2; failed=$((failed + 1)); }
run portable test_kernels portable
run portable test_runtime "$data" portable
for name in simd128 portable; do
  run "$name" lgrin_bench "$data/kat_int8.lgrn" 10
done

if [ "$failed" -ne 0 ]; then
  echo "wasm_check: $failed check(s) failed" >&2
  exit 1
fi
echo "wasm_check: all WebAssembly checks passed (builds simd128 and portable, node $("$NODE" --version))"
