"""A decompression bomb against the real tlpmaild: a signed and encrypted
PGP/MIME message to the list key whose compressed literal data inflates to
--inflate bytes (default 1 GiB of one repeated byte, zlib level 9), sent
over SMTP to a daemon with the default max_message_size (25 MiB). Prints
one line: the reply, the message size on the wire, the seconds from the end
of DATA to the reply, and tlpmaild's peak RSS (VmHWM) before and after.

    python3 bench/decompression_bomb.py [--inflate BYTES] [--tlpmaild PATH]

Loopback only; test-only keys made here; bounded in time (the SMTP client
waits at most 10 minutes). Figures: docs/reliability.md."""

import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures"))


def vm_hwm_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmHWM:\s+(\d+) kB", f.read()).group(1)) / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inflate", type=int, default=1 << 30)
    ap.add_argument("--tlpmaild", default=os.path.join(HERE, "..", "build", "daemon", "tlpmaild"))
    ap.add_argument("--tlpmailctl", default=None)
    args = ap.parse_args()
    os.environ["TLPMAILD"] = os.path.abspath(args.tlpmaild)
    os.environ["TLPMAILCTL"] = os.path.abspath(
        args.tlpmailctl or os.path.join(os.path.dirname(args.tlpmaild), "tlpmailctl"))
    import harness  # noqa: E402 (after TLPMAILD is set)
    import intake_security_test as t  # noqa: E402

    alice = t.Person("alice@a.example", "Alice Example", "RED")
    bob = t.Person("bob@b.example", "Bob Beispiel", "AMBER")
    sink = harness.Sink()
    sink.start()
    site = t.Site([alice, bob], {"ops": ("AMBER", [alice, bob])}, sink.port)
    with open(site.config) as f:
        text = f.read()
    with open(site.config, "w") as f:
        f.write(text.replace(f"max_message_size = {t.MAX_SIZE}", "max_message_size = 26214400"))
    try:
        site.start()
        fpr, pub = site.list_key(t.OPS)
        alice.home.import_keys(pub)
        # gpg reads the plaintext from a pipe: one repeated byte, streamed.
        gen = subprocess.Popen(["head", "-c", str(args.inflate), "/dev/zero"],
                               stdout=subprocess.PIPE)
        head = b"Content-Type: text/plain\r\n\r\n"
        enc = subprocess.run(
            ["sh", "-c", "{ printf 'Content-Type: text/plain\\r\\n\\r\\n'; cat; } | gpg "
             f"--homedir {alice.home.path} --batch --yes --no-tty --pinentry-mode loopback "
             f"--passphrase '' --trust-model always --armor --encrypt -r {fpr} "
             f"--sign --local-user {alice.fpr} --compress-algo zlib -z 9 --output -"],
            stdin=gen.stdout, capture_output=True, check=True)
        gen.wait()
        del head
        ctype, body = t.encrypted_multipart(enc.stdout)
        data = t.message(t.header_block(alice, t.OPS, "[TLP:AMBER] bomb"), ctype, body)
        pid = site.daemon.proc.pid
        before = vm_hwm_mib(pid)
        start = time.monotonic()
        code, text = harness.smtp_send(site.daemon.port, alice.email, [t.OPS], data, timeout=600)
        seconds = time.monotonic() - start
        after = vm_hwm_mib(pid)
        print(f"decompression bomb: inflates to {args.inflate} bytes, {len(data)} bytes on the "
              f"wire; reply {code} {text}; {seconds:.1f} s; tlpmaild VmHWM {before:.0f} MiB "
              f"before, {after:.0f} MiB after")
    finally:
        site.close()
        sink.close()
        alice.close()
        bob.close()


if __name__ == "__main__":
    main()
