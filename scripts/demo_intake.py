#!/usr/bin/env python3
"""The daemon part of the demo: runs tlpmaild on a copy of the example
configuration (test-only keys) on a free loopback port, has Alice sign a
[TLP:AMBER] message with her test-only key (PGP/MIME, RFC 3156), sends it
to the operational list with smtplib, and shows what the daemon did: the
250 with its queue id, the durable spool entry, the log lines. Verification
and re-encrypted delivery are later stages; this shows the intake.
Usage: demo_intake.py BUILD_DIR"""

import os
import re
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIST = "csirt-ops@lists.example.org"
ALICE = "alice@csirt-a.example"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signed_message(gnupg_home):
    """A PGP/MIME signed message from Alice, signature over the exact
    CRLF bytes of the signed part."""
    part = ("Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 7bit\r\n\r\n"
            "TLP:AMBER\r\n\r\n"
            "Phishing wave against the energy sector since 06:00 UTC.\r\n"
            "Indicators follow in the next message.\r\n").encode()
    sig = subprocess.run(
        ["gpg", "--homedir", gnupg_home, "--batch", "--quiet", "--armor",
         "--detach-sign", "--digest-algo", "SHA256", "--local-user", ALICE],
        input=part, capture_output=True, check=True).stdout
    boundary = "tlpmail-demo-boundary"
    head = (f"From: Alice Example <{ALICE}>\r\n"
            f"To: {LIST}\r\n"
            "Subject: [TLP:AMBER] Phishing wave against energy sector\r\n"
            f"Message-ID: <demo-{int(time.time())}@csirt-a.example>\r\n"
            "MIME-Version: 1.0\r\n"
            f'Content-Type: multipart/signed; boundary="{boundary}";\r\n'
            ' micalg=pgp-sha256; protocol="application/pgp-signature"\r\n\r\n')
    return (head.encode() + f"--{boundary}\r\n".encode() + part +
            f"\r\n--{boundary}\r\n".encode() +
            b"Content-Type: application/pgp-signature; name=signature.asc\r\n\r\n" +
            sig.replace(b"\n", b"\r\n") + f"\r\n--{boundary}--\r\n".encode())


def main():
    build = sys.argv[1]
    work = tempfile.mkdtemp(prefix="tlpdemo-", dir="/tmp")
    daemon = None
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
        open(conf, "w").write(text)

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

        spooled = os.path.join(work, "state/spool/msg", queue_id)
        same = open(spooled, "rb").read() == message
        print(f"\nDurably queued as {queue_id}: {spooled} "
              f"({os.path.getsize(spooled)} bytes, identical to what was sent: {same})")
        daemon.terminate()
        rest = daemon.stderr.read()
        print("".join("  " + l + "\n" for l in rest.splitlines()), end="")
        print(f"tlpmaild exited with {daemon.wait(timeout=30)} after SIGTERM")
        daemon = None
        print("\nSignature verification, the TLP decision and re-encrypted delivery "
              "to the members are the next stages (see README, Status).")
    finally:
        if daemon is not None:
            daemon.kill()
            daemon.wait()
        for h in (home, os.path.join(work, "state/gnupg")):
            subprocess.run(["gpgconf", "--homedir", h, "--kill", "all"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
