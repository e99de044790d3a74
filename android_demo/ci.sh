#!/usr/bin/env bash
# What can be checked of the Android demo without the Android SDK (see android_demo/README.md):
#   1. pack_assets.py's own tests, then packing DIST's int8 models and samples (sha256 against manifest.json);
#   2. the JNI library built for the host (CMake preset host-release);
#   3. the demo's platform-independent Java code and its desktop tests compiled with javac and run with java
#      against that library: the C runtime must reproduce the export's Python verification (logits_c, 1e-4);
#   4. the LiteRT backend's int8 I/O (Java quantiser) with the real .tflite, where ai-edge-litert is installed;
#   5. the live modes (LiveSession) on a recorded WAV (microphone) and motion CSV (sensors): the same
#      timeline as the C tool lgrin_live prints for the same files;
#   6. the JNI library built for Android arm64 (preset android-arm64) and its ELF file inspected, and the
#      app's NDK form of it (with the live stream, linking Android's libc and libm) likewise.
# usage: android_demo/ci.sh DIST     (DIST: an export folder with manifest.json and samples.npz)
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DIST  (an export folder: python -m lgrin_edge.export ... --out DIST)" >&2
    exit 2
fi
[ -d "$1" ] || { echo "ci.sh: export folder $1 does not exist" >&2; exit 2; }
dist=$(cd "$1" && pwd)
demo=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$demo")
build=$demo/build/ci
py=${PYTHON:-python3}
step() { printf '\n== %s\n' "$*"; }

step "tools"
pkgs=()
command -v cmake >/dev/null || pkgs+=(cmake)
command -v javac >/dev/null || pkgs+=(openjdk-17-jdk-headless)
command -v readelf >/dev/null || pkgs+=(binutils)
command -v cc >/dev/null || pkgs+=(gcc libc6-dev)
command -v make >/dev/null || pkgs+=(make)
grep -q '"Ninja"' "$root/CMakePresets.json" 2>/dev/null && ! command -v ninja >/dev/null && pkgs+=(ninja-build)
"$py" -c 'import numpy' 2>/dev/null || pkgs+=(python3-numpy)
if grep -q '"android-arm64"' "$root/CMakePresets.json" 2>/dev/null; then
    command -v clang-14 >/dev/null || pkgs+=(clang-14)
    command -v ld.lld-14 >/dev/null || pkgs+=(lld-14)
    [ -f /usr/include/android/nativehelper/jni.h ] || pkgs+=(android-libnativehelper-dev) # jni.h
fi
if [ ${#pkgs[@]} -gt 0 ]; then
    echo "installing ${pkgs[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
fi
"$py" -c 'import numpy' 2>/dev/null || py=python3 # the apt numpy belongs to the system python
# CMake's FindJNI looks in JAVA_HOME first; Debian's JDK package sets none
export JAVA_HOME=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}
javac -version

step "pack_assets.py tests"
"$py" -m unittest discover -s "$demo/tests" -t "$demo/tests"

step "pack $dist into the app's assets layout"
rm -rf "$build"
mkdir -p "$build"
"$py" "$demo/pack_assets.py" --dist "$dist" --out "$build/assets" --require c

step "JNI library for the host (preset host-release)"
cd "$root"
cmake --preset host-release -B "$build/host" >"$build/host-configure.log" || { cat "$build/host-configure.log"; exit 1; }
cmake --build "$build/host" --target lgrin_jni lgrin_live -j "$(nproc)"
jni=$(find "$build/host" -name liblgrin_jni.so -print -quit)
[ -n "$jni" ] || { echo "ci.sh: the host build made no liblgrin_jni.so" >&2; exit 1; }
echo "built $jni"

step "desktop JVM: compile the platform-independent code and tests, run them against the host library"
classes=$build/classes
mkdir -p "$classes"
javac -Xlint:all -Werror --release 11 -d "$classes" \
    $(find "$root/export/java" "$demo/core/src/main/java" -name '*.java')
javac -Xlint:all --release 17 -cp "$classes" -d "$classes" $(find "$demo/core/src/test/java" -name '*.java')
java -Xcheck:jni -Djava.library.path="$(dirname "$jni")" -cp "$classes" org.lgrin.edge.demo.DesktopTests "$build/assets"

# The input rules (GraphRule, MotionResampler, LandmarkFrames, compiled above) against numpy's known answers
# in export/tests/data/input/: every graph index and every frame bit for bit.
step "desktop JVM: the input rules reproduce Python's known answers"
java -cp "$classes" org.lgrin.edge.demo.InputTests "$root/export/tests/data/input"

# The microphone and motion modes below the Activity: LiveReplay feeds LiveSession as AudioRecord (100 ms
# chunks of a WAV) and SensorManager (a gyroscope then an accelerometer event per CSV line) would; its
# timeline must be lgrin_live's, line for line. The models are random (make_live_inputs.py): the check is
# the Java path against the C tool, not the labels.
step "live modes on the desktop JVM: LiveSession's timeline equals lgrin_live's (WAV and motion CSV)"
java -cp "$classes" org.lgrin.edge.demo.LiveInputTests
live_tool=$(find "$build/host" -name lgrin_live -type f -print -quit)
[ -n "$live_tool" ] || { echo "ci.sh: the host build made no lgrin_live" >&2; exit 1; }
"$py" "$demo/tests/make_live_inputs.py" "$build/live"
for pair in "speech.lgrn tones.wav" "motion.lgrn motion.csv"; do
    read -r model recording <<<"$pair"
    "$live_tool" "$build/live/$model" "$build/live/$recording" >"$build/live/$recording.c.txt"
    java -Xcheck:jni -Djava.library.path="$(dirname "$jni")" -cp "$classes" org.lgrin.edge.demo.LiveReplay \
        "$build/live/$model" "$build/live/$recording" >"$build/live/$recording.java.txt"
    diff "$build/live/$recording.c.txt" "$build/live/$recording.java.txt"
    [ -s "$build/live/$recording.c.txt" ] || { echo "ci.sh: no decision on $recording" >&2; exit 1; }
    echo "$recording: $(wc -l <"$build/live/$recording.c.txt") decisions, the same lines in Java and C"
done

step "LiteRT backend I/O: Java int8 quantisation + the int8 .tflite in LiteRT's Python binding"
"$py" "$demo/tests/check_litert_io.py" "$build/assets" "$classes" "$dist"

step "JNI library for Android arm64 (preset android-arm64)"
if ! cmake --list-presets 2>/dev/null | grep -q '"android-arm64"'; then
    echo "ci.sh: CMakePresets.json has no android-arm64 preset" >&2
    exit 1
fi
cmake --preset android-arm64 -B "$build/android-arm64" >"$build/android-configure.log" \
    || { cat "$build/android-configure.log"; exit 1; }
cmake --build "$build/android-arm64" --target lgrin_jni -j "$(nproc)"
so=$(find "$build/android-arm64" -name liblgrin_jni.so -print -quit)
[ -n "$so" ] || { echo "ci.sh: the android-arm64 build made no liblgrin_jni.so" >&2; exit 1; }
"$py" "$demo/tests/check_android_so.py" "$so"

# The app's Gradle build (NDK, not freestanding) links the live stream into liblgrin_jni.so with Android's
# libm for the front-end. This machine has no NDK: stand-ins of libc.so and libm.so define the functions
# Android's have that the runtime may call, and --no-undefined fails the link on any other.
step "JNI library with the live stream for Android arm64, linked as the NDK build links it"
stubs=$build/android-stubs
mkdir -p "$stubs"
printf 'void %s(void) {}\n' memcpy memmove memset memcmp >"$stubs/c.c"
printf 'void %s(void) {}\n' sqrt sqrtf cos cosf sin sinf tan atan atan2 exp expf exp2 log logf log10 log2 \
    pow powf floor ceil fabs fmod round lround rint >"$stubs/m.c"
for lib in c m; do
    clang-14 --target=aarch64-linux-android24 -fPIC -fno-builtin -w -nostdlib -shared -fuse-ld=lld \
        -Wl,-soname,lib$lib.so "$stubs/$lib.c" -o "$stubs/lib$lib.so"
done
cmake --preset android-arm64 -B "$build/android-arm64-ndk" -DLGRIN_FREESTANDING=OFF -DCMAKE_C_FLAGS=-ffreestanding \
    "-DCMAKE_SHARED_LINKER_FLAGS=-fuse-ld=lld -nostdlib -L$stubs -lc -Wl,--no-undefined -Wl,-z,max-page-size=16384" \
    >"$build/android-ndk-configure.log" || { cat "$build/android-ndk-configure.log"; exit 1; }
cmake --build "$build/android-arm64-ndk" --target lgrin_jni -j "$(nproc)"
so=$(find "$build/android-arm64-ndk" -name liblgrin_jni.so -print -quit)
"$py" "$demo/tests/check_android_so.py" "$so" "$root/export/java/org/lgrin/edge/LGrinNative.java" \
    "$root/export/java/org/lgrin/edge/LGrinStream.java"

step "android_demo: all checks passed"
