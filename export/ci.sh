#!/usr/bin/env bash
# CI for the C runtime: host Release, ASan+UBSan and aarch64 (qemu) presets with ctest, the JNI bridge
# under the desktop JVM (the live stream against lgrin_live), the Android arm64 library build, a bounded
# libFuzzer run, the code size and the WebAssembly builds' known answers under node.
# Run from anywhere; needs root (or the packages below) and a JDK (javac/java).
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS="${LGRIN_FUZZ_SECONDS:-45}"
PKGS=(cmake make gcc gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static clang-14 lld-14
      libclang-rt-14-dev android-libnativehelper-dev binutils wasi-libc nodejs)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "== installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v javac >/dev/null; then
  echo "javac not found: install a JDK (default-jdk)" >&2
  exit 1
fi
JOBS="$(nproc)"

for preset in host-release host-sanitize aarch64-linux; do
  echo "== preset $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$JOBS"
  ctest --preset "$preset"
done

echo "== android-arm64 (library only)"
cmake --preset android-arm64 >/dev/null
cmake --build --preset android-arm64 -j "$JOBS"
so=build/android-arm64/export/liblgrin_jni.so
file "$so"
if [ -n "$(nm -D --undefined-only "$so")" ]; then
  echo "liblgrin_jni.so for Android has undefined symbols:" >&2
  nm -D --undefined-only "$so" >&2
  exit 1
fi

echo "== JNI bridge on the desktop JVM (-Xcheck:jni): LGrinNative, and LGrinStream against lgrin_live"
classes="$(mktemp -d)"
trap 'rm -rf "$classes"' EXIT
javac -Xlint:all -Werror -d "$classes" export/java/org/lgrin/edge/*.java export/java/test/*.java
# jvm CLASS ARG...: a test class under -Xcheck:jni, whose warnings fail it as its errors do
jvm() {
  java -Xcheck:jni -Djava.library.path=build/host-release/export -cp "$classes" "$@" 2>&1 | tee "$classes/jvm.log"
  if grep -E "^(WARNING|Warning)" "$classes/jvm.log" >/dev/null; then
    echo "-Xcheck:jni warned about the JNI bridge" >&2
    return 1
  fi
}
jvm LGrinNativeTest export/tests/data
# The known-answer motion model (3 channels, 50 frames/s) over 240 samples 13 to 57 ms apart: lgrin_live's
# lines, then the Java stream's over the same file pushed in other chunks, must be the same.
awk 'BEGIN { print "time,ax,ay,az"; t = 0
  for (i = 0; i < 240; i++) { t += 0.013 + 0.011 * (i % 5)
    printf "%.6f,%.4f,%.4f,%.4f\n", t, 9.8 * sin(i / 7.0), cos(i / 11.0), (i % 13) / 6.5 - 1 } }' >"$classes/motion.csv"
build/host-release/export/lgrin_live export/tests/data/kat_spec_int8.lgrn "$classes/motion.csv" >"$classes/live.txt"
jvm LGrinStreamTest export/tests/data "$classes/motion.csv" "$classes/live.txt"

echo "== libFuzzer on the loader (${FUZZ_SECONDS}s)"
cmake --preset host-fuzz >/dev/null
cmake --build --preset host-fuzz -j "$JOBS"
corpus="$classes/corpus"
mkdir -p "$corpus"
cp export/tests/data/*.lgrn "$corpus/"
fuzz_rc=0
build/host-fuzz/export/lgrin_fuzz_loader -max_total_time="$FUZZ_SECONDS" -max_len=8192 -rss_limit_mb=2048 \
  "$corpus" >"$classes/fuzz.log" 2>&1 || fuzz_rc=$?
grep -E "^Done|ERROR|SUMMARY" "$classes/fuzz.log" || true
if [ "$fuzz_rc" -ne 0 ]; then
  tail -n 60 "$classes/fuzz.log" >&2
  exit "$fuzz_rc"
fi

echo "== code size (text of the runtime objects)"
# Goals: a dispatching build (every family of its architecture, -O2) <= 49152 bytes: three x86 families
# at about 9 KB each plus the shared loader and run paths measured 32.5 KB, and 48 KB keeps headroom for a
# further family while the code stays under half of the smallest exported model (about 105 KB). A
# single-family build (-DLGRIN_SINGLE_FAMILY) <= 32768 bytes at -O2, and the microcontroller build
# (Cortex-M4, -Os) <= 12288 bytes. Warnings are errors, and every family compiles whatever this machine's
# CPU, so a vector path that only some CPUs run still builds; the tests run the ones this CPU (or qemu) has.
# The runtime is the loader, the run paths, the dispatch and the kernel families; the front-end's files
# (below) have their own goals.
objs="$classes/obj"
# The source lists are CMake's (LGRIN_SOURCES, LGRIN_FRONTEND_SOURCES, LGRIN_INPUT_SOURCES), read through
# lgrin_edge/export/c_facts.py, loaded by path: it needs only the standard library.
c_list() {
  python3 -c 'import importlib.util as u, sys
s = u.spec_from_file_location("c_facts", "lgrin_edge/export/c_facts.py"); m = u.module_from_spec(s)
s.loader.exec_module(m); print(*("export/" + f for n in sys.argv[1:] for f in getattr(m, n)))' "$@"
}
read -ra runtime_src <<< "$(c_list SOURCES)"
read -ra frontend_src <<< "$(c_list FRONTEND_SOURCES INPUT_SOURCES)"
# text_bytes DIR CC FLAGS SOURCE...: compile each source alone into DIR, print the sum of their text
text_bytes() {
  local dir="$1" cc="$2" flags="$3" src
  shift 3
  mkdir -p "$dir"
  for src in "$@"; do
    # shellcheck disable=SC2086 # flags is a list
    "$cc" -std=c99 $flags -ffp-contract=off -Wall -Wextra -Werror -Iexport/include \
      -c "$src" -o "$dir/$(basename "$src" .c).o" || return 1 # a command substitution ignores set -e
  done
  size "$dir"/*.o | awk 'NR > 1 {t += $1} END {print t}'
}
declare -A runtime_text
for spec in "x86-64-dispatch 49152 gcc -O2" "aarch64-dispatch 49152 aarch64-linux-gnu-gcc -O2" \
  "android-arm64-dispatch 49152 clang-14 -O2 --target=aarch64-linux-android24 -ffreestanding" \
  "x86-64-portable 32768 gcc -O2 -DLGRIN_SINGLE_FAMILY" \
  "x86-64-avx2 32768 gcc -O2 -DLGRIN_SINGLE_FAMILY -march=haswell" \
  "x86-64-avx512-vnni 32768 gcc -O2 -DLGRIN_SINGLE_FAMILY -march=icelake-server" \
  "aarch64-neon 32768 aarch64-linux-gnu-gcc -O2 -DLGRIN_SINGLE_FAMILY -march=armv8-a" \
  "aarch64-sdot 32768 aarch64-linux-gnu-gcc -O2 -DLGRIN_SINGLE_FAMILY -march=armv8.2-a+dotprod" \
  "cortex-m4 12288 clang-14 -Os -DLGRIN_SINGLE_FAMILY --target=thumbv7em-none-eabihf -mcpu=cortex-m4 -ffreestanding"; do
  read -r name goal cc flags <<<"$spec"
  text=$(text_bytes "$objs/$name" "$cc" "$flags" "${runtime_src[@]}")
  runtime_text[$name]=$text
  echo "runtime text, $name: $text bytes (goal <= $goal)"
  test "$text" -le "$goal"
done

echo "== code size of the front-end (lgrin_frontend.c + lgrin_input.c), alone and with the runtime"
# Goals: the speech front-end and the input rules (motion, face, graph) <= 24576 bytes on x86-64 at -O2
# (measured 17.5 KiB: 12.3 + 5.2) and <= 20480 bytes on Cortex-M4 at -Os (measured 15.3 KiB: 10.9 + 4.4),
# about 30% headroom for a further descriptor or input rule; on Cortex-M4, runtime + front-end <= 32768
# bytes (measured 23.9 KiB), an eighth of a 256 KiB flash part, leaving the rest to the model's constants
# and the application. The text leaves out libm and the compiler's double-precision helpers, which a
# Cortex-M4 (single-precision FPU) links for the front-end's double arithmetic.
for spec in "x86-64 x86-64-dispatch 24576 - gcc -O2" \
  "cortex-m4 cortex-m4 20480 32768 clang-14 -Os -DLGRIN_SINGLE_FAMILY --target=thumbv7em-none-eabihf -mcpu=cortex-m4 -ffreestanding"; do
  read -r name runtime goal total_goal cc flags <<<"$spec"
  text=$(text_bytes "$objs/frontend-$name" "$cc" "$flags" "${frontend_src[@]}")
  total=$((text + runtime_text[$runtime]))
  echo "front-end text, $name: $text bytes (goal <= $goal); runtime ($runtime) + front-end: $total bytes" \
    "$([ "$total_goal" = - ] && echo "(no goal)" || echo "(goal <= $total_goal)")"
  test "$text" -le "$goal"
  [ "$total_goal" = - ] || test "$total" -le "$total_goal"
done
echo "== code size of the live stream (lgrin_stream.c, its spec reader and the JSON reader)"
# Goals: <= 32768 bytes on x86-64 at -O2 (measured 25.4 KiB: the stream with its sliding and utterance
# modes, its spec reader, the JSON reader) and <= 20480 bytes on Cortex-M4 at -Os (measured 16.5 KiB):
# the stream is a layer over the runtime and the front-end, kept no larger than either of them.
read -ra stream_src <<< "$(c_list STREAM_SOURCES)"
for spec in "x86-64 32768 gcc -O2" \
  "cortex-m4 20480 clang-14 -Os -DLGRIN_SINGLE_FAMILY --target=thumbv7em-none-eabihf -mcpu=cortex-m4 -ffreestanding"; do
  read -r name goal cc flags <<<"$spec"
  text=$(text_bytes "$objs/stream-$name" "$cc" "$flags" "${stream_src[@]}")
  echo "stream text, $name: $text bytes (goal <= $goal)"
  test "$text" -le "$goal"
done
echo "== the runtime as WebAssembly under node's WASI (kernel families simd128 and portable)"
export/tests/wasm_check.sh
echo "== export/ci.sh passed"
