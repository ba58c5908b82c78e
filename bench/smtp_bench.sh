#!/usr/bin/env bash
# Intake benchmark (issue: SMTP intake; docs/performance.md). Starts a real
# tlpmaild on 127.0.0.1 with durable commits in a state folder on disk, then
#  - throughput with Postfix's smtp-source: messages/s at 1, 10 and 50
#    concurrent connections, for 10 KB and 1 MB messages;
#  - latency with bench/smtp_latency.py: p50/p99 from the end of DATA to the
#    250 (the fsync'd commit), same grid;
#  - the daemon's peak RSS (VmHWM) after the runs.
# Not a test: it prints figures. Knobs (environment):
#   BUILD_DIR (build), STATE_PARENT (/var/tmp), SMALL_COUNT (500), LARGE_COUNT (50)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
STATE_PARENT=${STATE_PARENT:-/var/tmp}
SMALL_COUNT=${SMALL_COUNT:-500}
LARGE_COUNT=${LARGE_COUNT:-50}
SMTP_SOURCE=${SMTP_SOURCE:-/usr/sbin/smtp-source}

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target tlpmaild >/dev/null

work=$(mktemp -d "$STATE_PARENT/tlpb-XXXXXX")
daemon_pid=""
cleanup() {
  if [ -n "$daemon_pid" ]; then kill -TERM "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; fi
  gpgconf --homedir "$work/state/gnupg" --kill all >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The example configuration (test-only keys), with the state folder and a
# free port of our own.
cp -r config "$work/config"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -i -e "s|^state_dir = .*|state_dir = \"$work/state\"|" \
       -e "s|^listen = .*|listen = [\"127.0.0.1:$port\"]|" \
       -e "/^\[server\]/,/^\[/ s|^max_connections = .*|max_connections = 200|" \
       "$work/config/tlpmail.toml"

"$BUILD_DIR/daemon/tlpmaild" --config "$work/config/tlpmail.toml" 2>"$work/daemon.log" &
daemon_pid=$!
for _ in $(seq 1 300); do
  grep -q ' ready ' "$work/daemon.log" && break
  kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/daemon.log"; exit 1; }
  sleep 0.1
done
grep -q ' ready ' "$work/daemon.log" || { echo "tlpmaild did not become ready"; cat "$work/daemon.log"; exit 1; }

# The list's -request address: spooled without verification, so this
# measures the SMTP and durable-spool path alone (the benchmark's messages
# are unsigned, and a posting address would refuse them). The cost of
# verification is measured by bench/intake_bench.sh.
rcpt=csirt-ops-request@lists.example.org
echo "tlpmaild $(git rev-parse --short HEAD 2>/dev/null || echo '?') on $(nproc) cores, state in $work (ext4: $(findmnt -no FSTYPE -T "$work" 2>/dev/null || echo '?'))"
echo
printf '%-6s %-6s %-9s %12s %12s %10s %10s\n' size conns messages "smtp-source" "probe msg/s" "p50 ms" "p99 ms"
for size in 10240 1048576; do
  if [ "$size" = 10240 ]; then count=$SMALL_COUNT; label=10KB; else count=$LARGE_COUNT; label=1MB; fi
  for conns in 1 10 50; do
    total=$(( count > conns ? count : conns ))
    # Throughput with smtp-source (-c counts, -s sessions in parallel, -m messages, -l size).
    start=$(date +%s.%N)
    "$SMTP_SOURCE" -s "$conns" -m "$total" -l "$size" -f bench@sender.example \
                   -t "$rcpt" "127.0.0.1:$port" >/dev/null
    end=$(date +%s.%N)
    rate=$(python3 -c "print(round($total/($end-$start),1))")
    # Latency from the end of DATA to 250 with the probe.
    per=$(( (total + conns - 1) / conns ))
    json=$(python3 bench/smtp_latency.py 127.0.0.1 "$port" "$rcpt" "$conns" "$per" "$size")
    read -r prate p50 p99 failed < <(python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(d['messages_per_second'], d['p50_ms'], d['p99_ms'], d['failed'])" "$json")
    [ "$failed" = 0 ] || echo "warning: $failed messages not accepted: $json"
    printf '%-6s %-6s %-9s %12s %12s %10s %10s\n' "$label" "$conns" "$total" "$rate" "$prate" "$p50" "$p99"
  done
done
echo
echo "peak RSS of tlpmaild: $(awk '/VmHWM/ {print $2, $3}' /proc/$daemon_pid/status)"
echo "messages in the spool: $(ls "$work/state/spool/msg" | wc -l)"
