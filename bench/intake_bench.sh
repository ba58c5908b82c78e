#!/usr/bin/env bash
# Verification cost at intake (issue: intake cost per message;
# docs/performance.md "Verification at intake"). Makes a member key and a
# list key with real gpg (tests/fixtures helpers, TEST-ONLY keys in a short
# temp folder), N distinct PGP/MIME messages per shape (signed only,
# signed+encrypted; 10 KB and 1 MB bodies), then runs bench/intake_bench
# (pipeline::Verifier::verify on each, no record()) and prints its table.
# Not a test: it prints figures. Knobs (environment):
#   BUILD_DIR (build), SMALL_COUNT (50), LARGE_COUNT (20)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
SMALL_COUNT=${SMALL_COUNT:-50}
LARGE_COUNT=${LARGE_COUNT:-20}

cmake --build "$BUILD_DIR" --target intake_bench -j2 >/dev/null
WORK=$(mktemp -d /tmp/tlpb-XXXXXX)
cleanup() {
  for h in "$WORK"/s "$WORK"/l "$WORK"/g; do
    [ -d "$h" ] && gpgconf --homedir "$h" --kill all >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

PYTHONPATH=tests/fixtures python3 - "$WORK" "$SMALL_COUNT" "$LARGE_COUNT" <<'EOF'
import base64, os, secrets, sys, time
from corpus_gpg import Home
from corpus_mime import (as_part, crlf, date_header, encrypted_multipart, entity,
                         signed_multipart)

work, small, large = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
LIST, MEMBER = "ops@lists.example.org", "alice@a.example"
sender, lst = Home(os.path.join(work, "s")), Home(os.path.join(work, "l"))
m_fpr = sender.generate("Alice Example <%s>" % MEMBER, "ed25519", "sign,cert")
sender.add_subkey(m_fpr, "cv25519", "encr")
l_fpr = lst.generate("ops list <%s>" % LIST, "ed25519", "sign,cert")
lst.add_subkey(l_fpr, "cv25519", "encr")
sender.import_keys(lst.export_public(l_fpr))
# A second member (public key only), so the list has a recipient other
# than the sender.
b_fpr = sender.generate("Bob Beispiel <bob@b.example>", "ed25519", "sign,cert")
sender.add_subkey(b_fpr, "cv25519", "encr")

def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)

cfg = os.path.join(work, "config")
write(os.path.join(cfg, "tlpmail.toml"),
      '[server]\nhostname = "lists.example.org"\nlisten = ["127.0.0.1:10030"]\n'
      'protocol = "smtp"\n\n[relay]\nhost = "127.0.0.1"\nport = 10031\nstarttls = "off"\n\n'
      '[paths]\nstate_dir = "state"\ndirectory = "directory.toml"\n'
      'lists_dir = "lists.d"\nkeys_dir = "keys"\n')
write(os.path.join(cfg, "directory.toml"),
      '[[person]]\nemail = "%s"\nname = "Alice Example"\norganization = "A"\n'
      'country = "AT"\nfingerprint = "%s"\nclearance = "RED"\nkind = "person"\n\n'
      '[[person]]\nemail = "bob@b.example"\nname = "Bob Beispiel"\norganization = "B"\n'
      'country = "DE"\nfingerprint = "%s"\nclearance = "RED"\nkind = "person"\n'
      % (MEMBER, m_fpr, b_fpr))
write(os.path.join(cfg, "lists.d", "ops.toml"),
      'address = "%s"\ndescription = "bench"\ntlp_ceiling = "AMBER"\n'
      'tlp_default = "AMBER"\nmembers = ["%s", "bob@b.example"]\nadmins = ["%s"]\n'
      'deliver_to_sender = true\n' % (LIST, MEMBER, MEMBER))
write(os.path.join(cfg, "keys", "alice.TEST-ONLY.asc"), sender.export_public(m_fpr))
write(os.path.join(cfg, "keys", "bob.TEST-ONLY.asc"), sender.export_public(b_fpr))
write(os.path.join(work, "list.sec.asc"), lst.export_secret(l_fpr))

def body(size):
    """TLP:GREEN, then 76-column lines of base64 of random bytes: like an
    attachment, it compresses about as little as real mail does, so the
    encrypted shapes carry as many bytes as the signed ones."""
    lines = ["TLP:GREEN", ""]
    total = 11
    while total < size:
        lines.append(base64.b64encode(os.urandom(57)).decode())
        total += 78
    return crlf("\n".join(lines) + "\n")

def headers(tag, ctype):
    return crlf("From: Alice Example <%s>\nTo: %s\nSubject: bench %s\nDate: %s\n"
                "Message-ID: <%s.%s@a.example>\nMIME-Version: 1.0\n"
                % (MEMBER, LIST, tag, date_header(int(time.time())), tag,
                   secrets.token_hex(8)))

def plain_part(size):
    return entity([("Content-Type", "text/plain; charset=utf-8"),
                   ("Content-Transfer-Encoding", "7bit")], body(size))

def signed(size, tag):
    part = plain_part(size)
    ctype, b = signed_multipart(part, sender.detach_sign(m_fpr, part))
    return headers(tag, ctype) + as_part(ctype, b)

def signed_encrypted(size, tag):
    armored = sender.encrypt([l_fpr, m_fpr], plain_part(size), signer=m_fpr)
    ctype, b = encrypted_multipart(armored)
    return headers(tag, ctype) + as_part(ctype, b)

for name, make, size, n in [("signed-10KB", signed, 10 * 1024, small),
                            ("signed+encrypted-10KB", signed_encrypted, 10 * 1024, small),
                            ("signed-1MB", signed, 1024 * 1024, large),
                            ("signed+encrypted-1MB", signed_encrypted, 1024 * 1024, large)]:
    for i in range(n):
        write(os.path.join(work, "m", name, "%04d.eml" % i), make(size, "%s-%d" % (name, i)))
sender.kill_agent()
lst.kill_agent()
EOF

echo "# intake_bench $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$BUILD_DIR"/bench/intake_bench "$WORK/config/tlpmail.toml" "$WORK/g" ops@lists.example.org \
  "$WORK/list.sec.asc" "$WORK/m/signed-10KB" "$WORK/m/signed+encrypted-10KB" \
  "$WORK/m/signed-1MB" "$WORK/m/signed+encrypted-1MB"
