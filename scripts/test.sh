#!/usr/bin/env bash
# Installs what is missing, builds tlpmail with warnings as errors and runs
# the whole test suite (unit and end-to-end). With --sanitize, does the same
# in a second build folder with AddressSanitizer + UndefinedBehaviorSanitizer.
# Usage: scripts/test.sh [--sanitize] [--no-install]
set -euo pipefail
cd "$(dirname "$0")/.."

install=1
sanitize=0
for arg in "$@"; do
  case "$arg" in
    --sanitize) sanitize=1 ;;
    --no-install) install=0 ;;
    *) echo "usage: scripts/test.sh [--sanitize] [--no-install]" >&2; exit 2 ;;
  esac
done

[ "$install" = 1 ] && bash scripts/install-deps.sh

jobs=$(nproc 2>/dev/null || echo 2)

run_suite() {
  local dir=$1; shift
  cmake -S . -B "$dir" -DTLPMAIL_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs"
}

echo "== build and test (build/)"
run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [ "$sanitize" = 1 ]; then
  echo "== build and test with ASan+UBSan (build-asan/)"
  # verify_asan_link_order=0: the tests that set the clock preload
  # libfaketime, which then comes before the ASan runtime.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:verify_asan_link_order=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DTLPMAIL_SANITIZE=ON
fi
