#!/usr/bin/env python3
"""The daemon part of the demo: runs tlpmaild on a copy of the example
configuration (test-only keys) on a free loopback port, has Alice sign a
[TLP:AMBER] message with her test-only key (PGP/MIME, RFC 3156), sends it
to the operational list with smtplib, and shows what the daemon did: the
signature verified against her pinned key, the TLP decision, the 250 with
its queue id, the durable spool entry, the audit rows, the log lines. Then
three messages the list must refuse (unsigned; TLP:RED above the list's
ceiling; the same signature again). Re-encrypted delivery to the members is
the next stage. Usage: demo_intake.py BUILD_DIR"""

import os
import re
import shutil
import smtplib
import socket
import sqlite3
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

        spooled = os.path.join(work, "state/spool/msg", queue_id)
        same = open(spooled, "rb").read() == message
        print(f"\nVerified and durably queued as {queue_id}: {spooled} "
              f"({os.path.getsize(spooled)} bytes, identical to what was sent: {same})")

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

        print("\nThe audit log (state_dir/tlpmail.db; no content, no subject):")
        db = sqlite3.connect(os.path.join(work, "state/tlpmail.db"))
        for row in db.execute("SELECT verdict, smtp_reply, coalesce(label, '-'), "
                              "coalesce(signer_email, '-'), coalesce(reason, '') "
                              "FROM audit_log ORDER BY id"):
            print("  " + "  ".join(row))
        for addr, chosen, why in db.execute(
                "SELECT address, chosen, coalesce(why, '') FROM audit_recipients "
                "WHERE audit_id = (SELECT min(id) FROM audit_log) ORDER BY position"):
            print(f"    {'copy for' if chosen else 'left out:'} {addr} {why}")
        db.close()
        daemon.terminate()
        rest = daemon.stderr.read()
        print("".join("  " + l + "\n" for l in rest.splitlines()), end="")
        print(f"tlpmaild exited with {daemon.wait(timeout=30)} after SIGTERM")
        daemon = None
        print("\nRe-encrypted delivery to the members is the next stage "
              "(see README, Status).")
    finally:
        if daemon is not None:
            daemon.kill()
            daemon.wait()
        for h in (home, os.path.join(work, "state/gnupg")):
            subprocess.run(["gpgconf", "--homedir", h, "--kill", "all"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
