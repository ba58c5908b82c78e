#!/usr/bin/env bash
# Installs what is missing, builds tlpmail with warnings as errors and runs
# the whole test suite (unit and end-to-end). With --sanitize, does the same
# in a second build folder with AddressSanitizer + UndefinedBehaviorSanitizer.
# With --static, then runs scripts/static-analysis.sh (clang-tidy, cppcheck);
# with --fuzz N, then runs every libFuzzer target N seconds (scripts/fuzz.sh).
# Usage: scripts/test.sh [--sanitize] [--static] [--fuzz N] [--no-install]
set -euo pipefail
cd "$(dirname "$0")/.."

install=1
sanitize=0
static=0
fuzz_seconds=0
usage() { echo "usage: scripts/test.sh [--sanitize] [--static] [--fuzz N] [--no-install]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitize) sanitize=1 ;;
    --static) static=1 ;;
    --fuzz) [ $# -ge 2 ] && [[ "$2" =~ ^[0-9]+$ ]] || usage; fuzz_seconds=$2; shift ;;
    --no-install) install=0 ;;
    *) usage ;;
  esac
  shift
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
if [ "$static" = 1 ]; then
  # Uses build/compile_commands.json and the dependency files of the build
  # above; exits 1 on any finding (docs/development.md, "Static analysis").
  # clang-tidy and cppcheck over every file of lib/ and daemon/ (clang-tidy
  # takes about 20 minutes on 2 cores). TLPMAIL_STATIC_BASE=REF, a commit
  # known to be clean (e.g. the last one CI passed), limits clang-tidy to
  # the files whose source or headers changed since REF: as good, faster.
  base=${TLPMAIL_STATIC_BASE:-all}
  if [ "$base" = all ]; then
    echo "== static analysis (clang-tidy, cppcheck: every file)"
    bash scripts/static-analysis.sh
  else
    # A REF this clone does not hold (shallow) means every file.
    echo "== static analysis (clang-tidy since $base, cppcheck)"
    bash scripts/static-analysis.sh --changed-since "$base"
  fi
fi
if [ "$fuzz_seconds" -gt 0 ]; then
  # Builds build-fuzz (clang-16) and runs each target; exits 1 on a crash,
  # leak, timeout or out-of-memory, 2 if the build fails.
  echo "== fuzzing, $fuzz_seconds s per target (build-fuzz/)"
  # Without the ASan options of the suite above: fuzz.sh runs its targets
  # with libFuzzer's own settings, as when it is run by hand.
  env -u ASAN_OPTIONS -u UBSAN_OPTIONS bash scripts/fuzz.sh --seconds "$fuzz_seconds"
fi
