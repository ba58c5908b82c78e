#!/usr/bin/env bash
# Static analysis of lib/ and daemon/ (issue 14): clang-tidy (the checks of
# .clang-tidy: bugprone-*, cert-*, clang-analyzer-*, performance-*, minus the
# ones it justifies disabling) and cppcheck (warning, performance,
# portability) over every .cc, with the flags of build/compile_commands.json.
# Prints one summary line per tool (files checked, findings) and exits 1 on
# any finding, 2 on a usage or set-up error. Does not fix anything and does
# not analyse tests/, bench/ or tools/. Reports go to build/static-analysis/.
#
#   scripts/static-analysis.sh [--changed-since REF] [--tidy-only|--cppcheck-only] [FILE...]
#
# FILE...: clang-tidy only over these .cc files of lib/ and daemon/ (paths
# from the top of the tree), e.g. while fixing the findings of a few files.
# --changed-since REF: clang-tidy only over the .cc files that differ from
# REF (committed or not) and those that include a header that differs,
# directly or not (the dependency files of build/); over every file when
# .clang-tidy, this script or a CMake file differs. As good as a full run
# when REF was clean and the tools are the same: a file's findings depend
# only on it and what it includes. A REF git does not know (a shallow
# clone) means every file: more, never less. cppcheck always runs over
# every file (seconds). Two jobs at most, under the shared build lock
# /tmp/tlpmail-build.lock (not taken again when an ancestor process
# already holds it, e.g. `flock ... bash .ci/run`). clang-tidy is
# $CLANG_TIDY, default clang-tidy-16 (clang-tidy-14 cannot parse lib/smtp:
# parenthesized aggregate initialisation, P0960).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOCK=/tmp/tlpmail-build.lock
BUILD="$ROOT/build"
OUT="$BUILD/static-analysis"
TIDY="${CLANG_TIDY:-clang-tidy-16}"
JOBS=2
since=""
run_tidy=1
run_cppcheck=1
only=()

usage() { sed -n '2,/^set -e/{/^#/s/^# \{0,1\}//p}' "$0"; exit 2; }
ARGS=("$@")  # kept for the re-run under the lock (the loop below shifts them away)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --changed-since) [[ $# -ge 2 ]] || usage; since="$2"; shift 2 ;;
    --tidy-only) run_cppcheck=0; shift ;;
    --cppcheck-only) run_tidy=0; shift ;;
    -h|--help) usage ;;
    -*) echo "static-analysis.sh: unknown argument $1" >&2; usage ;;
    *) only+=("$1"); shift ;;
  esac
done

# The lock: taken once for the whole run, unless an ancestor holds it
# already (flock(1) holds it in its own process, which /proc/locks names;
# taking it again from a child would wait for ever).
ancestor_holds_lock() {
  [[ -e "$LOCK" ]] || return 1
  local inode holders pid
  inode=$(stat -c %i "$LOCK")
  holders=$(awk -v ino="$inode" '$2 == "FLOCK" { split($6, a, ":"); if (a[3] == ino) print $5 }' /proc/locks)
  [[ -n "$holders" ]] || return 1
  pid=$$
  while [[ "$pid" -gt 1 ]]; do
    grep -qx "$pid" <<<"$holders" && return 0
    pid=$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 1)
  done
  return 1
}
if [[ -z "${TLPMAIL_STATIC_LOCKED:-}" ]] && ! ancestor_holds_lock; then
  exec env TLPMAIL_STATIC_LOCKED=1 flock "$LOCK" "$0" "${ARGS[@]}"
fi

command -v "$TIDY" >/dev/null || { echo "static-analysis.sh: $TIDY not found (apt-get install clang-tidy-16)" >&2; exit 2; }
command -v cppcheck >/dev/null || { echo "static-analysis.sh: cppcheck not found (apt-get install cppcheck)" >&2; exit 2; }
[[ -f "$BUILD/compile_commands.json" ]] || {
  echo "static-analysis.sh: $BUILD/compile_commands.json missing (cmake -S . -B build)" >&2; exit 2; }

# The files: every .cc of lib/ and daemon/ that the compile database knows
# (a file it does not know would be analysed without its flags).
known=$(python3 -c '
import json, os, sys
root = sys.argv[1]
for e in json.load(open(os.path.join(root, "build/compile_commands.json"))):
    f = os.path.relpath(os.path.join(e["directory"], e["file"]), root)
    if f.startswith(("lib/", "daemon/")) and f.endswith(".cc"):
        print(f)' "$ROOT" | sort -u)
missing=$(comm -23 <(find lib daemon -name '*.cc' | sort) <(echo "$known"))
if [[ -n "$missing" ]]; then
  echo "static-analysis.sh: not in build/compile_commands.json (re-run cmake): $missing" >&2
  exit 2
fi
all_files="$known"
files="$known"
if [[ -n "$since" ]] && ! git rev-parse --verify -q "$since^{commit}" >/dev/null; then
  echo "static-analysis.sh: git does not know $since: clang-tidy over every file"
  since=""
fi
# What decides the findings besides the sources: the checks, this script
# and the compile flags. When one of them changed, every file.
if [[ -n "$since" ]] && [[ -n "$(git diff --name-only "$since" -- .clang-tidy scripts/static-analysis.sh CMakeLists.txt cmake '*/CMakeLists.txt')" ]]; then
  echo "static-analysis.sh: .clang-tidy, this script or the CMake files differ from $since: clang-tidy over every file"
  since=""
fi
if [[ -n "$since" ]]; then
  changed=$( { git diff --name-only "$since" -- lib daemon; git ls-files --others --exclude-standard -- lib daemon; } | sort -u)
  pick=$(grep -E '\.cc$' <<<"$changed" || true)
  headers=$(grep -E '\.h$' <<<"$changed" || true)
  if [[ -n "$headers" ]]; then
    # Every .cc that includes a changed header, directly or through another:
    # the dependency lists g++ wrote when it built build/ (-MD, next to each
    # object). A .cc without one (not built yet) is taken: more, never less.
    # shellcheck disable=SC2086  # one header a word
    pick+=$'\n'$(python3 - "$ROOT" $headers <<'PY'
import json, os, shlex, sys
root = sys.argv[1]
changed = {os.path.join(root, h) for h in sys.argv[2:]}
for e in json.load(open(os.path.join(root, "build/compile_commands.json"))):
    src = os.path.relpath(os.path.join(e["directory"], e["file"]), root)
    if not src.startswith(("lib/", "daemon/")):
        continue
    args = shlex.split(e["command"])
    out = args[args.index("-o") + 1] if "-o" in args else None
    dep = os.path.join(e["directory"], out + ".d") if out else None
    if not dep or not os.path.exists(dep):
        print(src)
        continue
    deps = {os.path.normpath(d) for d in open(dep).read().replace("\\\n", " ").split()[1:]}
    if deps & changed:
        print(src)
PY
)
  fi
  files=$(comm -12 <(echo "$known") <(grep -v '^$' <<<"$pick" | sort -u))
fi
if [[ ${#only[@]} -gt 0 ]]; then
  [[ -z "$since" ]] || { echo "static-analysis.sh: FILE... and --changed-since exclude each other" >&2; exit 2; }
  for f in "${only[@]}"; do
    grep -qxF -- "$f" <<<"$known" || {
      echo "static-analysis.sh: $f is not a .cc of lib/ or daemon/ in build/compile_commands.json" >&2; exit 2; }
  done
  files=$(printf '%s\n' "${only[@]}" | sort -u)
fi
nfiles=$(grep -c . <<<"$files" || true)
nall=$(grep -c . <<<"$all_files" || true)
mkdir -p "$OUT"
rm -f "$OUT"/*.log

start_all=$(date +%s)
status=0

if [[ $run_tidy == 1 ]]; then
  t0=$(date +%s)
  tidy_log="$OUT/clang-tidy.log"
  : >"$tidy_log"
  if [[ $nfiles -gt 0 ]]; then
    mkdir -p "$OUT/tidy"
    rm -f "$OUT"/tidy/*
    # One output file per source file, so two parallel jobs never interleave.
    # A file clang-tidy cannot parse is a finding (clang-diagnostic-error).
    export TIDY BUILD OUT
    # Each file's seconds go to tidy/seconds (the slowest are printed).
    xargs -P"$JOBS" -n1 sh -c 's=$(date +%s)
      "$TIDY" -p "$BUILD" --quiet "$1" >"$OUT/tidy/$(echo "$1" | tr / _).txt" 2>&1 || true
      echo "$(( $(date +%s) - s )) $1" >>"$OUT/tidy/seconds"' _ <<<"$files"
    cat "$OUT"/tidy/*.txt >"$tidy_log"
  fi
  # A header's finding shows once per file including it: count it once.
  # The analyzer does not model C++20 coroutines nor Asio's type-erased
  # executors: following a co_await into Asio's coroutine frame
  # (impl/awaitable.hpp) it reports pointers it never saw set, and copying
  # an any_io_executor it assumes an empty one (a posting to an executor the
  # daemon always sets). Such a finding lies inside Boost.Asio, where it can
  # be neither fixed nor suppressed inline: printed, not counted. Any other
  # finding, also in another system header, counts.
  asio_re='^/usr/include/boost/asio/'
  grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error): ' "$tidy_log" | sort -u >"$OUT/clang-tidy.all" || true
  grep -vE "$asio_re" "$OUT/clang-tidy.all" >"$OUT/clang-tidy.findings" || true
  n=$(wc -l <"$OUT/clang-tidy.findings")
  skipped=$(grep -cE "$asio_re" "$OUT/clang-tidy.all" || true)
  echo "clang-tidy: $nfiles files, $n findings, $(( $(date +%s) - t0 )) s ($TIDY; $OUT/clang-tidy.findings)"
  if [[ -s "$OUT/tidy/seconds" ]]; then
    echo "    slowest: $(sort -rn "$OUT/tidy/seconds" | head -5 | awk '{printf "%s%s %d s", (NR > 1 ? ", " : ""), $2, $1}')"
  fi
  if [[ $skipped -gt 0 ]]; then
    echo "    not counted: $skipped inside Boost.Asio (paths in $tidy_log):"
    grep -E "$asio_re" "$OUT/clang-tidy.all" | sed 's/^/      /'
  fi
  if [[ $n -gt 0 ]]; then
    sed 's/.*\[\([^]]*\)\]$/\1/' "$OUT/clang-tidy.findings" | sort | uniq -c | sort -rn | sed 's/^/    /'
    status=1
  fi
fi

if [[ $run_cppcheck == 1 ]]; then
  t0=$(date +%s)
  cpp_log="$OUT/cppcheck.log"
  : >"$cpp_log"
  if [[ $nall -gt 0 ]]; then
    filters=()
    while read -r f; do filters+=("--file-filter=$ROOT/$f"); done <<<"$all_files"
    # System headers are not given to cppcheck (it would parse Boost for
    # hours and gain little): it analyses the project's own code with the
    # project's include path and defines, and is told not to report them.
    # missingReturn is off: cppcheck 2.10 does not know co_return and
    # reports every coroutine (11 findings, all coroutines); a function
    # that can end without a return is a g++ error already (-Wreturn-type
    # is in -Wall, and the build uses -Werror).
    cppcheck --project="$BUILD/compile_commands.json" "${filters[@]}" \
      --enable=warning,performance,portability --inline-suppr --error-exitcode=1 \
      --suppress=missingIncludeSystem --suppress=missingReturn --std=c++20 -j"$JOBS" --quiet \
      --cppcheck-build-dir="$(mkdir -p "$OUT/cppcheck-cache" && echo "$OUT/cppcheck-cache")" \
      --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
      2>"$cpp_log" >/dev/null || true
  fi
  grep -E '^[^ ]+:[0-9]+:[0-9]+: [a-z]+: ' "$cpp_log" | sort -u >"$OUT/cppcheck.findings" || true
  n=$(wc -l <"$OUT/cppcheck.findings")
  echo "cppcheck: $nall files, $n findings, $(( $(date +%s) - t0 )) s (cppcheck $(cppcheck --version | awk '{print $2}'); $OUT/cppcheck.findings)"
  if [[ $n -gt 0 ]]; then
    sed 's/.*\[\([^]]*\)\]$/\1/' "$OUT/cppcheck.findings" | sort | uniq -c | sort -rn | sed 's/^/    /'
    status=1
  fi
fi

echo "static analysis: $(( $(date +%s) - start_all )) s, $([[ $status == 0 ]] && echo clean || echo "FINDINGS (see $OUT)")"
exit $status
