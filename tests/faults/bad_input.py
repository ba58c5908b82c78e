#!/usr/bin/env python3
"""Bad input over SMTP against the real tlpmaild, one session each: a 1 MB
header line, 10,000 header fields, 100-deep MIME nesting, a message over
max_message_size with and without SIZE=, binary garbage with and without
bare CR/LF (NUL bytes in both), invalid UTF-8 in MAIL FROM and RCPT TO,
garbage in a PGP/MIME encrypted part, a "key" attachment to -request
over max_message_size. Each must get a clear refusal (a 4xx/5xx reply with
an enhanced status code and a text), the daemon must stay up, its peak RSS
(VmHWM) must stay under --rss-mib, and a valid posting sent afterwards must
still reach every member. Then a member's update-key request to
ops-request@ (signed and encrypted, as a member sends it) with a 5 MiB
"key" attachment (--key-mib), under max_message_size: -request mail is
spooled unverified, so the intake answers 250 (docs/requests.md); the
request stage must then answer the member that the attachment is larger
than the key limit (1 MiB) and change nothing (no file in keys.d). The
decompression bomb is bench/decompression_bomb.py; the e2e tests
(intake_security_test, intake_limits_test, member_keys_test) check the
exact replies.

  python3 tests/faults/bad_input.py [--rss-mib 256]

Prints one figure line; exit status 0 when every input was refused clearly
and the daemon stayed up within the bound; 1 otherwise."""

import base64
import email
import email.policy
import os
import random
import re
import socket
import sys
import time

import faultlib
from faultlib import OPS, say
from corpus_mime import boundary, encrypted_multipart, entity, multipart_body  # noqa: E402
from delivery_test import armored_of  # noqa: E402
from intake_security_test import header_block, message  # noqa: E402

CLEAR = re.compile(r"^[45]\d\d [245]\.\d{1,3}\.\d{1,3} \S")
MAX_SIZE = 10485760  # delivery_test.Site's max_message_size
REQUEST = "ops-request@" + faultlib.harness.LIST_DOMAIN
KEY_LIMIT = "1024 KiB"  # openpgp::kMaxPublicKeyFileSize, as the answer names it


class Session:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buf = b""

    def reply(self):
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return lines[-1] if lines else "EOF (no reply)"
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode("latin-1"))
            if len(line) < 4 or line[3:4] != b"-":
                return lines[-1]

    def command(self, line):
        self.sock.sendall(line + b"\r\n")
        return self.reply()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def transaction(port, data=None, mail=b"<m000@members.example>", rcpt=OPS.encode()):
    """One session; returns the reply that ended the transaction."""
    s = Session(port)
    try:
        s.reply()
        s.command(b"EHLO faults.example")
        r = s.command(b"MAIL FROM:" + mail)
        if not r.startswith("250"):
            return r
        r = s.command(b"RCPT TO:<" + rcpt + b">")
        if not r.startswith("250") or data is None:
            return r
        r = s.command(b"DATA")
        if not r.startswith("354"):
            return r
        body = re.sub(rb"(?m)^\.", b"..", data)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        try:
            s.sock.sendall(body + b".\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the end: the reply is waiting
        return s.reply()
    except OSError as e:
        return f"connection error: {e}"
    finally:
        s.close()


def head(subject="bad input", extra=b""):
    return (b"From: m000@members.example\r\nTo: " + OPS.encode() + b"\r\nSubject: " +
            subject.encode() + b"\r\n" + extra)


def fake_key(rnd, size):
    """`size` bytes that claim to be a key: an armored PUBLIC KEY BLOCK of
    random base64 (no valid packet in it)."""
    lines = base64.encodebytes(rnd.randbytes(size * 3 // 4)).replace(b"\n", b"\r\n")
    return (b"-----BEGIN PGP PUBLIC KEY BLOCK-----\r\n\r\n" + lines[:size] +
            b"\r\n-----END PGP PUBLIC KEY BLOCK-----\r\n")


def key_request(text, key, person=None, list_fpr=None):
    """A request to ops-request@ whose text is `text` with `key` attached as
    key.asc (application/pgp-keys). Signed by `person` and encrypted to the
    list key and to them (as member_keys_test sends update-key), or plain
    and unsigned without a person."""
    bnd = boundary()
    parts = [entity([("Content-Type", "text/plain; charset=utf-8")], text),
             entity([("Content-Type", 'application/pgp-keys; name="key.asc"'),
                     ("Content-Disposition", 'attachment; filename="key.asc"')], key)]
    if person is None:
        return (head("update-key") + b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
                b"boundary=\"" + bnd.encode() + b"\"\r\n\r\n" + multipart_body(parts, bnd))
    inner = (b"Content-Type: multipart/mixed; boundary=\"" + bnd.encode() +
             b"\"; protected-headers=\"v1\"\r\nTo: " + REQUEST.encode() +
             b"\r\nSubject: request\r\n\r\n" + multipart_body(parts, bnd))
    armored = person.home.encrypt([list_fpr, person.fpr], inner, signer=person.fpr)
    ctype, body = encrypted_multipart(armored)
    return message(header_block(person, REQUEST, "request"), ctype, body)


def answer_text(bench, sink, person, timeout):
    """The decrypted text of the first answer from ops-request@ to `person`
    (waits up to `timeout` s), and the seconds waited; (None, timeout)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        for meta, raw in sink.messages():
            if meta["rcpt_to"] == [person.email] and b"answer to your request" in raw:
                p = bench.keys.home.run("--decrypt", "--output", "-", data=armored_of(raw),
                                        check=False)
                inner = email.message_from_bytes(p.stdout, policy=email.policy.default)
                part = inner if inner.get_content_type() == "text/plain" else \
                    inner.get_payload()[0]
                return part.get_content().replace("\r\n", "\n"), time.monotonic() - t0
        time.sleep(0.5)
    return None, timeout


def inputs(rnd):
    """[(name, session function of the port)]."""
    nested = b"Content-Type: text/plain\r\n\r\nleaf\r\n"
    for depth in range(100):
        b = f"b{depth}".encode()
        nested = (b"Content-Type: multipart/mixed; boundary=\"" + b + b"\"\r\n\r\n--" + b +
                  b"\r\n" + nested + b"--" + b + b"--\r\n")
    garbage = bytes(rnd.getrandbits(8) for _ in range(200000))
    # The same bytes in CRLF lines of 76 (no bare CR or LF), NULs kept.
    clean = garbage.replace(b"\r", b"").replace(b"\n", b"")
    nul_lines = b"\r\n".join(clean[i:i + 76] for i in range(0, len(clean), 76))
    pgp_garbage = base64.encodebytes(bytes(rnd.getrandbits(8) for _ in range(30000)))
    encrypted = (b"MIME-Version: 1.0\r\nContent-Type: multipart/encrypted; "
                 b"protocol=\"application/pgp-encrypted\"; boundary=\"x\"\r\n\r\n--x\r\n"
                 b"Content-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n--x\r\n"
                 b"Content-Type: application/octet-stream\r\n\r\n-----BEGIN PGP MESSAGE-----"
                 b"\r\n\r\n" + pgp_garbage.replace(b"\n", b"\r\n") +
                 b"-----END PGP MESSAGE-----\r\n--x--\r\n")
    big = b"\r\n".join([b"y" * 998] * (MAX_SIZE // 1000 + 100))
    return [
        ("1 MB header line", lambda p: transaction(
            p, head(extra=b"X-Long: " + b"a" * (1 << 20) + b"\r\n") + b"\r\nbody\r\n")),
        ("10,000 header fields", lambda p: transaction(
            p, head(extra=b"".join(b"X-F%d: v\r\n" % i for i in range(10000))) + b"\r\nb\r\n")),
        ("100-deep MIME nesting", lambda p: transaction(
            p, head(extra=b"MIME-Version: 1.0\r\n") + nested)),
        ("over max_message_size, SIZE= declared", lambda p: transaction(
            p, None, mail=b"<m000@members.example> SIZE=%d" % (MAX_SIZE + 1))),
        ("over max_message_size, no SIZE=", lambda p: transaction(
            p, head() + b"\r\n" + big)),
        ("binary garbage (bare CR and LF)", lambda p: transaction(
            p, head() + b"\r\n" + garbage)),
        ("NUL bytes and binary garbage in CRLF lines", lambda p: transaction(
            p, head() + b"\r\n" + nul_lines)),
        ("invalid UTF-8 in MAIL FROM", lambda p: transaction(
            p, head() + b"\r\nb\r\n", mail=b"<m\xff\xfe\xc3@members.example>")),
        ("invalid UTF-8 in RCPT TO", lambda p: transaction(
            p, head() + b"\r\nb\r\n", rcpt=b"ops\xc3\x28@lists.example.org")),
        ("garbage in a PGP/MIME encrypted part", lambda p: transaction(
            p, head(extra=b"") + encrypted)),
        ("12 MB \"key\" attachment to -request, no SIZE=", lambda p: transaction(
            p, key_request("update-key\n", fake_key(rnd, 12 << 20)), rcpt=REQUEST.encode())),
    ]


def main():
    args = faultlib.arguments(
        __doc__,
        rss_mib=(256, "bound on tlpmaild's peak RSS (VmHWM) over the run"),
        key_mib=(5, "MiB of the \"key\" attached to the signed update-key request"))
    rnd = random.Random(args.seed or 14)
    bench = faultlib.Bench(args.members)
    results = []

    def body(failures):
        sink, d = bench.open()
        pid = d.proc.pid
        _, hwm_before = faultlib.tlpmaild_rss_kib(pid)
        for name, run in inputs(rnd):
            reply = run(d.port)
            results.append((name, reply))
            say(f"{name}: {reply[:160]}")
            if not CLEAR.match(reply):
                failures.append(f"{name}: no clear refusal: {reply[:200]!r}")
            if not d.running():
                failures.append(f"the daemon died after: {name}")
                break
        _, hwm_refusals = faultlib.tlpmaild_rss_kib(pid)
        # A member's update-key with a multi-MB "key": 250 (under the size
        # limit, -request is not verified at DATA), then an answer naming
        # the key limit, and nothing stored.
        member = bench.persons[sorted(bench.persons)[0]]
        request = key_request("update-key\n", fake_key(rnd, args.key_mib << 20), member,
                              bench.list_fpr)
        reply = transaction(d.port, request, mail=b"<" + member.email.encode() + b">",
                            rcpt=REQUEST.encode())
        say(f"{args.key_mib} MiB key to -request ({len(request) >> 10} KiB message): {reply}")
        answer, waited = answer_text(bench, sink, member, 120)
        say(f"its answer after {waited:.1f} s: {answer!r}")
        key_files = os.listdir(os.path.join(bench.site.state, "keys.d")) \
            if os.path.isdir(os.path.join(bench.site.state, "keys.d")) else []
        if not reply.startswith("250"):
            failures.append(f"the {args.key_mib} MiB key request: {reply[:200]!r}, not 250")
        elif answer is None:
            failures.append(f"the {args.key_mib} MiB key request got no answer in 120 s")
        elif f"is larger than {KEY_LIMIT}" not in answer or "Nothing was changed" not in answer:
            failures.append(f"the answer to the {args.key_mib} MiB key does not name the "
                            f"limit: {answer[:300]!r}")
        if key_files:
            failures.append(f"keys.d holds {key_files} after the refused key")
        if not d.running():
            failures.append("the daemon died after the key request")
        named = "" if answer is None else re.search(r"[^\n]*is larger than[^\n]*", answer)
        request_figure = (f"{args.key_mib} MiB \"key\" attached to a signed+encrypted "
                          f"update-key to -request ({len(request) / 1e6:.1f} MB): "
                          f"{reply[:3]} at DATA, answered after {waited:.1f} s: "
                          f"\"{named.group(0) if named else answer}\", keys.d "
                          f"{'empty' if not key_files else key_files}")
        _, hwm = faultlib.tlpmaild_rss_kib(pid)
        # Still serving: a valid posting gets its 250 and its copies.
        sender = faultlib.Sender(d.port, bench.postings(1, tag="after-bad-input"), threads=1)
        sender.start().join(120)
        missing, got, _ = bench.wait_delivered(sender.acked, 120)
        if len(sender.acked) != 1 or missing:
            failures.append(f"the valid posting afterwards: {sender.codes}, missing {missing}")
        if hwm > args.rss_mib * 1024:
            failures.append(f"peak RSS {hwm >> 10} MiB over the bound of {args.rss_mib} MiB")
        refused = sum(1 for _, r in results if CLEAR.match(r))
        codes = ", ".join(sorted({r[:3] for _, r in results}))
        return (f"bad_input: {len(results)} bad inputs tried, {refused} refused with a clear "
                f"reply ({codes}), daemon up, valid posting afterwards delivered to "
                f"{len(got)} of {len(bench.persons)} members, peak RSS {hwm >> 10} MiB "
                f"({hwm_before >> 10} MiB before, {hwm_refusals >> 10} MiB after the refusals; "
                f"bound {args.rss_mib} MiB); {request_figure}")

    return faultlib.run("bad_input: aborted", args, bench, body)


if __name__ == "__main__":
    sys.exit(main())
