#!/usr/bin/env bash
# The whole test suite: installs missing dependencies, builds, runs ctest.
#   scripts/test.sh             Release build in ./build (what CI runs)
#   scripts/test.sh --sanitize  the same under AddressSanitizer + UBSan, in ./build-asan
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "${1:-}" = "--sanitize" ]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTFORMER_SANITIZE=ON >/dev/null
  cmake --build build-asan
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "$(nproc)"
else
  bash scripts/build.sh
  ctest --test-dir build --output-on-failure -j "$(nproc)"
fi
