#!/usr/bin/env bash
# End-to-end fan-out benchmark (issue 5, "Figures"; docs/performance.md
# "Fan-out and delivery"): a Release tlpmaild receives one ~160 KB signed +
# encrypted message over SMTP for a list of N members and relays a copy per
# member to a local SMTP sink; the time from the 250 reply to DATA to the
# last copy accepted by the sink, CPU per member and peak RSS are printed as
# a Markdown table. With --schleuder, Schleuder runs the same message shape
# to the same members right after each tlpmail configuration (the kit in
# ../shared/bench/schleuder, read-only), and the ratio is printed.
# Not a test: it prints figures. Never run two benchmarks at once (2 cores).
#
# usage: bench/fanout_e2e.sh [--schleuder] [--sizes "10 100 1000"]
#            [--algos "ed25519 rsa3072"] [--runs 3] [--sink fast|e2e|postfix|discard|null]
#            [--list-key rsa4096|ed25519] [--no-profile] [--attachment-kib N]
#   --sink null: bench/nullsink.cc dropping every copy with as little CPU as
#   SMTP allows (what the sending side can do when the receiver is not the
#   limit; no checks).
#   --sink discard: Postfix's smtp-sink dropping every copy (no checks; for
#   large messages). --attachment-kib: the attachment of the kit's message
#   in KiB (default 100; 13000 makes a ~25 MB message).
# Environment knobs (defaults in brackets):
#   BUILD_DIR [build-bench]   Release build folder (configured and built here
#                             unless SKIP_BUILD=1)
#   KIT [../shared/bench/schleuder from the repository]  the Schleuder kit
#   BENCH_BASE [/tmp/schleuder-bench]   the kit's key pools and lists
#   SCHLEUDER_RUNS [3]        warm `schleuder work` runs for N < 1000 ...
#   SCHLEUDER_RUNS_1000 [1]   ... and for N >= 1000 (about 3 min each)
#   RESULTS_DIR [/tmp/tlpf-results-DATE]  JSON, daemon logs, Schleuder logs
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

SIZES="10 100 1000"
ALGOS="ed25519 rsa3072"
SCHLEUDER=0
RUNS=3
SINK=fast
LIST_KEY=rsa4096
PROFILE=--profile
ATTACH=0
usage() { sed -n '/^# usage:/,/^#   RESULTS_DIR/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit "$1"; }
while (($# > 0)); do
  case "$1" in
    --schleuder) SCHLEUDER=1 ;;
    --sizes) SIZES=${2:?}; shift ;;
    --algos) ALGOS=${2:?}; shift ;;
    --runs) RUNS=${2:?}; shift ;;
    --sink) SINK=${2:?}; shift ;;
    --list-key) LIST_KEY=${2:?}; shift ;;
    --no-profile) PROFILE= ;;
    --attachment-kib) ATTACH=${2:?}; shift ;;
    -h|--help) usage 0 ;;
    *) echo "fanout_e2e.sh: unknown argument '$1'" >&2; usage 2 ;;
  esac
  shift
done

BUILD_DIR=${BUILD_DIR:-build-bench}
KIT=${KIT:-$(cd "$REPO/../shared/bench/schleuder" 2>/dev/null && pwd || echo /work/shared/bench/schleuder)}
BENCH_BASE=${BENCH_BASE:-/tmp/schleuder-bench}
SCHLEUDER_RUNS=${SCHLEUDER_RUNS:-3}
SCHLEUDER_RUNS_1000=${SCHLEUDER_RUNS_1000:-1}
RESULTS=${RESULTS_DIR:-/tmp/tlpf-results-$(date +%Y%m%d-%H%M%S)}
PY=/usr/bin/python3
HELPER="$REPO/bench/fanout_e2e.py"

for f in make_message.py fastsink.py bench.sh; do
  [[ -f "$KIT/$f" ]] || { echo "fanout_e2e.sh: the Schleuder kit is not at $KIT ($f missing)" >&2; exit 1; }
done
for a in $ALGOS; do
  [[ -f "$BENCH_BASE/keypool-$a/keys.tsv" ]] || {
    echo "fanout_e2e.sh: no key pool $BENCH_BASE/keypool-$a (run $KIT/setup.sh 1000 $a once)" >&2; exit 1; }
done

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  cmake -S "$REPO" -B "$REPO/$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$REPO/$BUILD_DIR" -j2 --target tlpmaild tlpmailctl nullsink >/dev/null
fi
BT=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$REPO/$BUILD_DIR/CMakeCache.txt")

mkdir -p "$RESULTS"
WORK=$(mktemp -d /tmp/tlpf-XXXXXX)
cleanup() {
  for h in "$WORK"/*/state/gnupg "$WORK"/*/s "$WORK"/*/v "$WORK"/lk; do
    if [[ -d "$h" ]]; then gpgconf --homedir "$h" --kill all >/dev/null 2>&1 || true; fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

CMD="bash bench/fanout_e2e.sh"
((SCHLEUDER)) && CMD+=" --schleuder"
CMD+=" --sizes \"$SIZES\" --algos \"$ALGOS\" --runs $RUNS --sink $SINK --list-key $LIST_KEY"
[[ -z "$PROFILE" ]] && CMD+=" --no-profile"
((ATTACH)) && CMD+=" --attachment-kib $ATTACH"
{
  echo "# fanout_e2e $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "command: $CMD"
  echo "commit: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO" status --porcelain 2>/dev/null | grep -q . && echo ' + uncommitted work')"
  echo "build: $BUILD_DIR ($BT)"
  echo "machine: $(nproc) cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), /tmp on $(df -T /tmp | awk 'NR==2{print $2}')"
  echo "gnupg: $(gpg --version | head -1), $(dpkg-query -W -f='libgcrypt20 ${Version}' libgcrypt20 2>/dev/null)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "results: $RESULTS"
} | tee "$RESULTS/header.txt" >&2

files=()
for algo in $ALGOS; do
  for n in $SIZES; do
    $PY "$HELPER" tlpmail --work "$WORK" --n "$n" --algo "$algo" --runs "$RUNS" --sink "$SINK" \
      --list-key "$LIST_KEY" $PROFILE --kit "$KIT" --bench-base "$BENCH_BASE" \
      --attachment-kib "$ATTACH" \
      --tlpmaild "$REPO/$BUILD_DIR/daemon/tlpmaild" --tlpmailctl "$REPO/$BUILD_DIR/daemon/tlpmailctl" \
      --keep-logs "$RESULTS" --out "$RESULTS/tlpmail-$algo-$n.json"
    files+=("$RESULTS/tlpmail-$algo-$n.json")
    if ((SCHLEUDER)); then
      sr=$SCHLEUDER_RUNS
      ((n >= 1000)) && sr=$SCHLEUDER_RUNS_1000
      $PY "$HELPER" schleuder --work "$RESULTS" --n "$n" --algo "$algo" --runs "$sr" \
        --kit "$KIT" --bench-base "$BENCH_BASE" --out "$RESULTS/schleuder-$algo-$n.json" \
        || echo "fanout_e2e.sh: Schleuder N=$n $algo failed, see $RESULTS/schleuder-$algo-$n.log" >&2
      [[ -f "$RESULTS/schleuder-$algo-$n.json" ]] && files+=("$RESULTS/schleuder-$algo-$n.json")
    fi
  done
done

{
  cat "$RESULTS/header.txt"
  echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  $PY "$HELPER" table "${files[@]}"
} | tee "$RESULTS/summary.md"
