#!/usr/bin/env python3
"""The daemon part of the demo: runs tlpmaild on a copy of the example
configuration (test-only keys) on a free loopback port, with a local SMTP
sink (tests/e2e/sink.py) standing in for the site's MTA as the relay. Alice
signs a [TLP:AMBER] message with her test-only key (PGP/MIME, RFC 3156) and
sends it to the operational list with smtplib. The demo shows the 250 with
its queue id, then every copy arriving at the sink re-encrypted: one per
eligible member, each decrypted with that member's test-only key (and not
with another's), the list's signature checked, the banner shown; the member
whose clearance is too low got nothing. Then three messages the list must
refuse (unsigned; TLP:RED above the list's ceiling; the same signature
again), the audit log and the delivery queue. Usage: demo_intake.py BUILD_DIR"""

import os
import re
import shutil
import smtplib
import subprocess
import sys
import tempfile
import time
import email
import email.policy
import glob
import json

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIST = "csirt-ops@lists.example.org"
ALICE = "alice@csirt-a.example"

sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from harness import free_port  # noqa: E402 (the e2e tests' port picker)


def signed_message(gnupg_home, label="AMBER", subject="Phishing wave against energy sector",
                   message_id=None):
    """A PGP/MIME signed message from Alice, signature over the exact
    CRLF bytes of the signed part."""
    part = ("Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 7bit\r\n\r\n"
            f"TLP:{label}\r\n\r\n"
            "Phishing wave against the energy sector since 06:00 UTC.\r\n"
            f"Case reference {os.urandom(4).hex()}.\r\n").encode()
    sig = subprocess.run(
        ["gpg", "--homedir", gnupg_home, "--batch", "--quiet", "--armor",
         "--detach-sign", "--digest-algo", "SHA256", "--local-user", ALICE],
        input=part, capture_output=True, check=True).stdout
    boundary = "tlpmail-demo-boundary"
    head = (f"From: Alice Example <{ALICE}>\r\n"
            f"To: {LIST}\r\n"
            f"Subject: [TLP:{label}] {subject}\r\n"
            f"Message-ID: <{message_id or os.urandom(6).hex()}@csirt-a.example>\r\n"
            "MIME-Version: 1.0\r\n"
            f'Content-Type: multipart/signed; boundary="{boundary}";\r\n'
            ' micalg=pgp-sha256; protocol="application/pgp-signature"\r\n\r\n')
    return (head.encode() + f"--{boundary}\r\n".encode() + part +
            f"\r\n--{boundary}\r\n".encode() +
            b"Content-Type: application/pgp-signature; name=signature.asc\r\n\r\n" +
            sig.replace(b"\n", b"\r\n") + f"\r\n--{boundary}--\r\n".encode())


EXPECTED_COPIES = 5  # csirt-ops members cleared for AMBER (elena's clearance is GREEN)


def show_copies(build, work, sink_dir, conf):
    """Waits for the copies at the sink, then opens each one with its
    member's test-only secret key."""
    deadline = time.time() + 60
    while len(glob.glob(os.path.join(sink_dir, "*.json"))) < EXPECTED_COPIES:
        if time.time() > deadline:
            raise SystemExit("the copies did not arrive at the sink")
        time.sleep(0.1)
    copies = []
    for meta in sorted(glob.glob(os.path.join(sink_dir, "*.json")),
                       key=lambda p: int(os.path.basename(p).split(".")[0])):
        info = json.load(open(meta))
        raw = open(meta[:-5] + ".eml", "rb").read()
        copies.append((info["rcpt_to"][0], info["mail_from"], raw))
    print(f"\n{len(copies)} copies arrived at the relay, one per member cleared for TLP:AMBER "
          "(elena@csirt-e.example, clearance GREEN, got none):")
    for rcpt, mail_from, raw in copies:
        print(f"  MAIL FROM:<{mail_from}> RCPT TO:<{rcpt}> {len(raw)} bytes")
    rcpt, _, raw = next(c for c in copies if c[0] == "bob@csirt-b.example")
    head = raw.split(b"\r\n\r\n", 1)[0].decode()
    print(f"\nThe copy for {rcpt}, its header (nothing from Alice's own mail system):")
    print("".join("  " + l + "\n" for l in head.splitlines()), end="")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    armored = msg.get_payload()[1].get_payload()
    keys = os.path.join(work, "member-keys")
    for member in ("bob@csirt-b.example", "chloe@csirt-c.example"):
        h = os.path.join(keys, member.split("@")[0])
        os.makedirs(h, mode=0o700)
        subprocess.run(["gpg", "--homedir", h, "--batch", "--quiet", "--import",
                        os.path.join(ROOT, "demo/test-only-secret-keys",
                                     member + ".TEST-ONLY.secret.asc")],
                       check=True, capture_output=True)
    bob = os.path.join(keys, "bob")
    # Members get the list's public key once (tlpmailctl list-key) and check
    # every copy's signature with it.
    list_key = subprocess.run([os.path.join(build, "daemon/tlpmailctl"), "--config", conf,
                               "list-key", LIST], capture_output=True, check=True).stdout
    subprocess.run(["gpg", "--homedir", bob, "--batch", "--quiet", "--import"], input=list_key,
                   check=True, capture_output=True)
    out = subprocess.run(["gpg", "--homedir", bob, "--batch", "--status-fd", "2",
                          "--decrypt"], input=armored.encode(), capture_output=True)
    good = [l for l in out.stderr.decode().splitlines() if "GOODSIG" in l or "VALIDSIG" in l]
    print(f"\nBob decrypts it with his key (gpg exit {out.returncode}); the list's signature:")
    print("".join("  " + l + "\n" for l in good), end="")
    inner = email.message_from_bytes(out.stdout, policy=email.policy.default)
    banner = inner.get_payload()[0].get_content()
    print("The banner the list put first (its own MIME part, inside the encryption):")
    print("".join("  " + l + "\n" for l in banner.strip().splitlines()), end="")
    print(f"  ...then Alice's original signed part, unchanged ({inner.get_payload()[1].get_content_type()})")
    other = subprocess.run(["gpg", "--homedir", os.path.join(keys, "chloe"), "--batch",
                            "--decrypt"], input=armored.encode(), capture_output=True)
    print(f"Chloe's key cannot open Bob's copy: gpg exit {other.returncode} "
          f"({'no secret key' if b'No secret key' in other.stderr else 'failed'})")
    for h in (bob, os.path.join(keys, "chloe")):
        subprocess.run(["gpgconf", "--homedir", h, "--kill", "all"], capture_output=True)


def main():
    build = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tlpdemo-", dir="/tmp")
    daemon = None
    sink = None
    home = os.path.join(work, "alice-gnupg")
    try:
        # Alice's test-only secret key in a throwaway GnuPG home.
        os.makedirs(home, mode=0o700)
        subprocess.run(["gpg", "--homedir", home, "--batch", "--quiet", "--import",
                        os.path.join(ROOT, "demo/test-only-secret-keys",
                                     ALICE + ".TEST-ONLY.secret.asc")],
                       check=True, capture_output=True)
        # The example configuration with our own state folder and port.
        shutil.copytree(os.path.join(ROOT, "config"), os.path.join(work, "config"))
        conf = os.path.join(work, "config/tlpmail.toml")
        port = free_port()
        text = open(conf).read()
        text = re.sub(r'(?m)^state_dir = .*$', f'state_dir = "{work}/state"', text)
        text = re.sub(r'(?m)^listen = .*$', f'listen = ["127.0.0.1:{port}"]', text)

        # The relay: a local SMTP sink that keeps what it receives.
        sink_dir = os.path.join(work, "sink")
        os.makedirs(sink_dir)
        port_file = os.path.join(work, "sink.port")
        sink = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests/e2e/sink.py"),
                                 "--port", "0", "--port-file", port_file, "--dir", sink_dir,
                                 "--exit-after", "300"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while not os.path.exists(port_file) and time.time() < deadline:
            time.sleep(0.05)
        relay_port = int(open(port_file).read())
        text = re.sub(r'(?m)^port = 10031\b', f'port = {relay_port}', text)
        open(conf, "w").write(text)
        print(f"(relay: a local SMTP sink on 127.0.0.1:{relay_port} stands in for the MTA)")

        print(f"$ tlpmaild --config {conf}")
        daemon = subprocess.Popen([os.path.join(build, "daemon/tlpmaild"), "--config", conf],
                                  stderr=subprocess.PIPE, text=True)
        log = []
        deadline = time.time() + 30
        while time.time() < deadline:
            line = daemon.stderr.readline()
            if not line:
                break
            log.append(line)
            print("  " + line.rstrip())
            if " ready " in line:
                break
        else:
            raise SystemExit("tlpmaild did not become ready")

        # The daemon created a key for every list on its first start.
        print(f"\n$ tlpmailctl --config {conf} lists")
        print(subprocess.run([os.path.join(build, "daemon/tlpmailctl"), "--config", conf, "lists"],
                             capture_output=True, text=True).stdout, end="")

        message = signed_message(home)
        print(f"\nAlice sends a signed [TLP:AMBER] message to {LIST} over SMTP:")
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
            s.ehlo("mta.example.org")
            print("  EHLO ->", ", ".join(sorted(s.esmtp_features)))
            code, reply = s.mail(ALICE)
            print(f"  MAIL FROM:<{ALICE}> -> {code}")
            code, reply = s.rcpt(LIST)
            print(f"  RCPT TO:<{LIST}> -> {code}")
            code, reply = s.rcpt("nobody@lists.example.org")
            print(f"  RCPT TO:<nobody@lists.example.org> -> {code} {reply.decode()}")
            code, reply = s.data(message)
            print(f"  DATA -> {code} {reply.decode()}")
            queue_id = reply.decode().split()[-1]

        show_copies(build, work, sink_dir, conf)

        print("\nThree messages the list refuses:")
        unsigned = (f"From: Alice Example <{ALICE}>\r\nTo: {LIST}\r\n"
                    "Subject: [TLP:GREEN] unsigned\r\n\r\nNo signature.\r\n").encode()
        red = signed_message(home, label="RED", subject="Board-level incident")
        for what, data in (("unsigned", unsigned), ("TLP:RED on an AMBER+STRICT list", red),
                           ("the first message again, new Message-ID",
                            message.replace(b"Message-ID: <", b"Message-ID: <again-"))):
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
                try:
                    s.sendmail(ALICE, [LIST], data)
                    print(f"  {what}: accepted (unexpected)")
                except smtplib.SMTPDataError as e:
                    print(f"  {what}: {e.smtp_code} {e.smtp_error.decode()}")

        print(f"\n$ tlpmailctl --config {conf} queue")
        print(subprocess.run([os.path.join(build, "daemon/tlpmailctl"), "--config", conf, "queue"],
                             capture_output=True, text=True).stdout, end="")
        print(f"\n$ tlpmailctl --config {conf} audit   (no content, no subjects)")
        print(subprocess.run([os.path.join(build, "daemon/tlpmailctl"), "--config", conf, "audit"],
                             capture_output=True, text=True).stdout, end="")
        daemon.terminate()
        rest = daemon.stderr.read()
        print("".join("  " + l + "\n" for l in rest.splitlines()), end="")
        print(f"tlpmaild exited with {daemon.wait(timeout=30)} after SIGTERM")
        daemon = None
        sink.terminate()
        sink.wait(timeout=30)
    finally:
        if sink is not None and sink.poll() is None:
            sink.kill()
            sink.wait()
        if daemon is not None:
            daemon.kill()
            daemon.wait()
        for h in (home, os.path.join(work, "state/gnupg")):
            subprocess.run(["gpgconf", "--homedir", h, "--kill", "all"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
