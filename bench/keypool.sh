#!/usr/bin/env bash
# Makes (or grows) the Schleuder kit's ed25519 member key pool in the kit's
# own format ($BENCH_BASE/keypool-ed25519: shardS GnuPG homes, keys.tsv of
# "i<TAB>email<TAB>fingerprint<TAB>shard") with batch key generation, one
# gpg process per shard: 10,000 keys in minutes instead of the kit's one
# gpg run per key. The keys are what the kit's setup.sh makes (an ed25519
# primary key with a cv25519 encryption subkey, no expiry, no passphrase);
# setup.sh finds the pool big enough and reuses it. Not a test.
#
# usage: bench/keypool.sh N        (BENCH_BASE [/tmp/schleuder-bench])
set -euo pipefail
N=${1:?usage: bench/keypool.sh N}
BASE=${BENCH_BASE:-/tmp/schleuder-bench}
POOL=$BASE/keypool-ed25519
mkdir -p "$POOL"
[[ -f "$POOL/shards" ]] || nproc > "$POOL/shards"
P=$(cat "$POOL/shards")
have=0
[[ -f "$POOL/keys.tsv" ]] && have=$(wc -l < "$POOL/keys.tsv")
if ((have >= N)); then echo "keypool.sh: $POOL has $have keys (need $N)"; exit 0; fi
echo "keypool.sh: generating $((N - have)) ed25519 keys in $P shards" >&2
t0=$SECONDS
pids=()
for ((s = 0; s < P; s++)); do
  H=$POOL/shard$s
  mkdir -p -m 700 "$H"
  printf '%s\n' 'no-auto-key-retrieve' 'auto-key-locate local' > "$H/gpg.conf"
  printf '%s\n' 'disable-http' 'disable-ldap' > "$H/dirmngr.conf"
  (
    params=""
    for ((i = have + 1; i <= N; i++)); do
      ((i % P == s)) || continue
      email=$(printf 'member%04d@members.example.net' "$i")
      params+="Key-Type: eddsa
Key-Curve: ed25519
Key-Usage: sign
Subkey-Type: ecdh
Subkey-Curve: cv25519
Subkey-Usage: encrypt
Name-Real: Member $i
Name-Email: $email
Expire-Date: 0
%no-protection
%commit
"
    done
    printf '%s' "$params" | gpg --homedir "$H" --batch --quiet --gen-key 2>/dev/null
    gpg --homedir "$H" --batch --with-colons --list-keys 2>/dev/null | awk -F: -v s="$s" '
      $1 == "pub" { fpr = ""; want = 1 }
      $1 == "fpr" && want { fpr = $10; want = 0 }
      $1 == "uid" && fpr != "" {
        if (match($10, /member[0-9]+@members\.example\.net/)) {
          e = substr($10, RSTART, RLENGTH); i = e; sub(/^member/, "", i); sub(/@.*/, "", i)
          printf "%d\t%s\t%s\t%d\n", i + 0, e, fpr, s
        }
        fpr = ""
      }' > "$POOL/keys.shard$s.tsv"
    gpgconf --homedir "$H" --kill all 2>/dev/null || true
  ) &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
cat "$POOL"/keys.shard*.tsv | sort -n -k1,1 | uniq > "$POOL/keys.tsv"
echo "keypool.sh: $(wc -l < "$POOL/keys.tsv") keys in $POOL ($((SECONDS - t0)) s)" >&2
