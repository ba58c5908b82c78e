#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz in build-fuzz (clang, ASan,
# UBSan) and runs each one for a while with its seed corpus and dictionary
# (docs/reliability.md, "Fuzzing"). The repository is not written: the
# seed corpus is copied to a work folder under /tmp, unless --merge is
# given, which then adds the inputs that found new coverage to
# tests/fuzz/corpus/<target>/. Prints one line per target: executions,
# coverage (edges, libFuzzer's "cov:"), corpus size, findings. Exits 1 if
# any target found a crash, leak, timeout or out-of-memory (kept in the
# work folder, whose path is printed) or ended without its final
# statistics; 2 on a usage or build error.
#
#   scripts/fuzz.sh [--seconds N] [--merge] [--keep] [--lock FILE] [TARGET...]
#
# --keep keeps the work folder (corpora, logs) also when nothing was found.
# --lock FILE (default $TLPMAIL_BUILD_LOCK, else none) holds flock(1) on
# FILE while building only, not while fuzzing; on the shared development
# machine: --lock /tmp/tlpmail-build.lock (not when the caller already
# holds that lock: flock would wait for itself). A target that printed no
# final statistics (killed, or died outside libFuzzer) counts as a failure.
# --merge can add hundreds of files: the seed corpora are meant to stay at
# a few dozen small files per target, so review before committing.
#
# TARGET: smtp_server smtp_client mime nested tlp openpgp_packets dsn
# requests config (default: all, one after the other). The compiler is
# $FUZZ_CC/$FUZZ_CXX, default clang-16/clang++-16 (Debian bookworm:
# apt-get install clang-16 libclang-rt-16-dev); clang 14 and 15 cannot
# compile lib/smtp (parenthesized aggregate initialisation, P0960).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build-fuzz"
LOCK="${TLPMAIL_BUILD_LOCK:-}"
ALL=(smtp_server smtp_client mime nested tlp openpgp_packets dsn requests config)
SECONDS_PER_TARGET=60
MERGE=0
KEEP=0
TARGETS=()

usage() { sed -n '2,28s/^# \{0,1\}//p' "$0"; exit 2; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) [[ $# -ge 2 && "$2" =~ ^[0-9]+$ && "$2" -gt 0 ]] || usage; SECONDS_PER_TARGET="$2"; shift 2 ;;
    --merge) MERGE=1; shift ;;
    --keep) KEEP=1; shift ;;
    --lock) [[ $# -ge 2 && -n "$2" ]] || usage; LOCK="$2"; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; usage ;;
    *)
      ok=0
      for t in "${ALL[@]}"; do [[ "$1" == "$t" || "$1" == "fuzz_$t" ]] && ok=1; done
      [[ $ok == 1 ]] || { echo "fuzz.sh: unknown target $1 (known: ${ALL[*]})" >&2; exit 2; }
      TARGETS+=("${1#fuzz_}"); shift ;;
  esac
done
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=("${ALL[@]}")

CC_BIN="${FUZZ_CC:-clang-16}"
CXX_BIN="${FUZZ_CXX:-clang++-16}"
command -v "$CXX_BIN" >/dev/null || {
  echo "fuzz.sh: $CXX_BIN not found (apt-get install clang-16 libclang-rt-16-dev)" >&2; exit 2; }

# Build, under the lock when one is given (two cores shared by everyone);
# the fuzzing itself runs without it.
locked() { if [[ -n "$LOCK" ]]; then flock "$LOCK" "$@"; else "$@"; fi; }
build_start=$(date +%s)
if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then
  locked env CC="$CC_BIN" CXX="$CXX_BIN" cmake -S "$ROOT" -B "$BUILD" \
    -DTLPMAIL_FUZZ=ON -DTLPMAIL_TESTS=OFF -DTLPMAIL_MAN=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    >/dev/null || { echo "fuzz.sh: cmake configure failed" >&2; exit 2; }
fi
locked cmake --build "$BUILD" -j2 --target fuzz_all >"$BUILD/fuzz-build.log" 2>&1 || {
  tail -30 "$BUILD/fuzz-build.log" >&2; echo "fuzz.sh: build failed ($BUILD/fuzz-build.log)" >&2; exit 2; }
echo "build: $(( $(date +%s) - build_start )) s"

dict_of() {
  case "$1" in
    smtp_server|smtp_client) echo smtp ;;
    mime|dsn|nested) echo mime ;;
    tlp) echo tlp ;;
    requests) echo requests ;;
    config) echo config ;;
    openpgp_packets) echo openpgp ;;
  esac
}

WORK="$(mktemp -d /tmp/tlpfuzz-XXXXXX)"
findings_total=0
no_stats=()  # targets that ended without libFuzzer's final statistics
printf '%-16s %12s %8s %14s %9s\n' target executions cov corpus findings
for t in "${TARGETS[@]}"; do
  bin="$BUILD/tests/fuzz/fuzz_$t"
  seeds="$ROOT/tests/fuzz/corpus/$t"
  corpus="$WORK/corpus/$t"
  found="$WORK/findings/$t"
  mkdir -p "$corpus" "$found"
  seed_count=0
  if [[ -d "$seeds" ]]; then
    cp -p "$seeds"/* "$corpus"/ 2>/dev/null || true
    seed_count=$(find "$seeds" -type f | wc -l)
  fi
  extra=()
  # Inputs that crashed in code this project's fuzzing may not fix itself:
  # read (never written), so the run fails until they are fixed.
  [[ -d "$ROOT/tests/fuzz/regressions/$t" ]] && extra+=("$ROOT/tests/fuzz/regressions/$t")
  # -timeout is wall time: 30 s, not less, so that a run starved by other
  # work on the machine (two cores shared) is not reported as a hang
  # (inputs of a 10 s "timeout" took 0.5 s when run again alone).
  args=(-max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 -timeout=30
        -rss_limit_mb=2048 -artifact_prefix="$found/")
  d="$(dict_of "$t")"
  [[ -n "$d" && -f "$ROOT/tests/fuzz/dict/$d.dict" ]] && args+=(-dict="$ROOT/tests/fuzz/dict/$d.dict")
  log="$WORK/$t.log"
  ( cd "$WORK" && "$bin" "${args[@]}" "$corpus" "${extra[@]}" ) >"$log" 2>&1 || true
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}' || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}' || true)
  size=$(find "$corpus" -type f | wc -l)
  n=$(find "$found" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  findings_total=$((findings_total + n))
  # No final statistics: the run did not end normally (killed, or a crash
  # outside libFuzzer's handlers), so it proved nothing: a failure.
  [[ -n "$execs" ]] || no_stats+=("$t")
  printf '%-16s %12s %8s %14s %9s\n' "$t" "${execs:-?}" "${cov:-?}" \
    "$size (+$((size - seed_count)))" "$n"
  if [[ $n -gt 0 ]]; then
    grep -m5 -E 'ERROR: |runtime error|INVARIANT BROKEN|SUMMARY' "$log" | sed 's/^/    /'
  fi
  if [[ $MERGE == 1 && $n == 0 ]]; then
    mkdir -p "$seeds"
    "$bin" -merge=1 "$seeds" "$corpus" >"$WORK/$t.merge.log" 2>&1 || true
    echo "    merged: $(find "$seeds" -type f | wc -l) files in tests/fuzz/corpus/$t"
  fi
done

if [[ $findings_total -gt 0 || ${#no_stats[@]} -gt 0 ]]; then
  [[ $findings_total -gt 0 ]] &&
    echo "FINDINGS: $findings_total; inputs and logs in $WORK/findings and $WORK/*.log"
  [[ ${#no_stats[@]} -gt 0 ]] &&
    echo "NO FINAL STATS (killed or died, counted as failed): ${no_stats[*]}; logs in $WORK/*.log"
  exit 1
fi
if [[ $KEEP == 1 ]]; then echo "work folder: $WORK"; else rm -rf "$WORK"; fi
exit 0
