"""Nested ciphertext is refused wherever a client could render it (issue 10,
class 4): the real tlpmaild, real gpg, real SMTP. Every message is validly
signed by a member (some also encrypted to the list key, signed in the same
pass), so only the nested content decides. The nested ciphertext is real
gpg output encrypted to the list's own key (the daemon could decrypt it):
in text/html split by <br>, after leading text on the BEGIN line, with
CR-only line ends, as an image/png whose data is Marker + PKESK + SEIPD,
inside a compressed packet, and inside signed+encrypted mail. Each gets
550 5.7.1 message contains nested encrypted content, and its plaintext
marker is never in the daemon's log, state (spool, database) or relay.
Controls: a signed message and a signed+encrypted one with innocuous
attachments are accepted. Test-only keys made at test time; stdlib only."""

import base64
import email.utils
import os
import re
import secrets
import struct
import subprocess
import sys
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402

TLPMAILCTL = os.environ.get("TLPMAILCTL", "build/daemon/tlpmailctl")
OPS = "ops@" + harness.LIST_DOMAIN
ALICE = "alice@a.example"
NESTED = (550, "5.7.1 message contains nested encrypted content")
MARKER_PACKET = b"\xa8\x03PGP"  # RFC 4880 5.8, old format


# --- MIME by hand (CRLF, exact bytes) ---

def crlf(data):
    if isinstance(data, str):
        data = data.encode()
    return re.sub(rb"\r?\n", b"\r\n", data)


def new_boundary():
    return "b-" + secrets.token_hex(8)


def part(headers, body):
    """An entity: header lines (name, value), a blank line, the body (bytes)."""
    head = "".join(f"{n}: {v}\r\n" for n, v in headers).encode()
    return head + b"\r\n" + body


def multipart(subtype, parts, extra=""):
    bnd = new_boundary()
    body = b"".join(b"--" + bnd.encode() + b"\r\n" + p + b"\r\n" for p in parts)
    body += b"--" + bnd.encode() + b"--\r\n"
    return part([("Content-Type", f'multipart/{subtype}; boundary="{bnd}"{extra}')], body)


def text(body, subtype="plain"):
    return part([("Content-Type", f"text/{subtype}; charset=utf-8"),
                 ("Content-Transfer-Encoding", "8bit")], crlf(body))


def b64_part(ctype, data, filename=None):
    headers = [("Content-Type", ctype + (f'; name="{filename}"' if filename else ""))]
    if filename:
        headers.append(("Content-Disposition", f'attachment; filename="{filename}"'))
    headers.append(("Content-Transfer-Encoding", "base64"))
    return part(headers, crlf(base64.encodebytes(data)))


def png_1x1():
    """A real 1x1 PNG (signature, IHDR, IDAT, IEND with their CRCs)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def compressed_packet(inner):
    """An OpenPGP compressed data packet (tag 8, new format, five-octet
    length), algorithm 1 (ZIP: raw deflate), holding `inner`."""
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = b"\x01" + z.compress(inner) + z.flush()
    return b"\xc8\xff" + struct.pack(">I", len(body)) + body


class Gpg:
    """gpg in the Keys' home (alice's and bob's test-only secret keys,
    and the list's public key once imported)."""

    def __init__(self, home):
        self.home = home

    def run(self, args, data=b""):
        p = subprocess.run(["gpg", "--homedir", self.home, "--batch", "--yes", "--no-tty",
                            "--pinentry-mode", "loopback", "--passphrase", "",
                            "--trust-model", "always"] + args,
                           input=data, capture_output=True, timeout=120)
        if p.returncode != 0:
            raise AssertionError(f"gpg {args}: {p.stderr.decode()}")
        return p.stdout


class NestedTest(unittest.TestCase):
    """One site (ops@, alice and bob), one daemon, one sink as the relay."""

    @classmethod
    def setUpClass(cls):
        cls.keys = harness.Keys((ALICE, "bob@b.example"))
        cls.gpg = Gpg(cls.keys.gpg.home)
        cls.alice = cls.keys.fingerprints[ALICE]
        cls.sink = harness.Sink()
        cls.sink.start()
        cls.site = harness.Site(cls.keys)
        # The relay: this test's sink, never whatever listens on the default port.
        with open(cls.site.config, "a") as f:
            f.write(f'\n[relay]\nhost = "127.0.0.1"\nport = {cls.sink.port}\n'
                    'starttls = "off"\n')
        cls.daemon = cls.site.start(hold_spool=False)
        m = cls.daemon.wait_log(rf" - list-key list={re.escape(OPS)} "
                                r"fingerprint=([0-9A-F]{40}) created=")
        cls.list_fpr = m.group(1)
        p = subprocess.run([os.path.abspath(TLPMAILCTL), "--config", cls.site.config,
                            "list-key", OPS], capture_output=True, timeout=120)
        if p.returncode != 0:
            raise AssertionError("tlpmailctl list-key: " + p.stderr.decode())
        cls.gpg.run(["--import"], p.stdout)
        cls.markers = []

    @classmethod
    def tearDownClass(cls):
        cls.site.close()
        cls.sink.close()
        cls.keys.close()

    # --- building blocks ---

    def nested(self, armor=True):
        """Ciphertext to the list's own key whose plaintext is a fresh
        marker; (marker, armored text or binary bytes)."""
        marker = "NESTED-PLAINTEXT-" + secrets.token_hex(8)
        self.markers.append(marker)
        args = ["--encrypt", "-r", self.list_fpr] + (["--armor"] if armor else [])
        out = self.gpg.run(args, (marker + "\n").encode())
        return marker, (out.decode() if armor else out)

    def headers(self, subject):
        return crlf(f"From: Alice <{ALICE}>\nTo: {OPS}\nSubject: {subject}\n"
                    f"Date: {email.utils.formatdate()}\n"
                    f"Message-ID: <{secrets.token_hex(12)}@a.example>\nMIME-Version: 1.0\n")

    def signed(self, subject, entity):
        """PGP/MIME multipart/signed (RFC 3156) by alice over `entity`."""
        sig = self.gpg.run(["--armor", "--detach-sign", "--digest-algo", "SHA256",
                            "-u", self.alice], entity)
        bnd = new_boundary()
        body = (b"--" + bnd.encode() + b"\r\n" + entity + b"\r\n--" + bnd.encode() + b"\r\n"
                + part([("Content-Type", 'application/pgp-signature; name="signature.asc"')],
                       crlf(sig))
                + b"\r\n--" + bnd.encode() + b"--\r\n")
        return (self.headers(subject)
                + crlf(f'Content-Type: multipart/signed; micalg=pgp-sha256;\n'
                       f' protocol="application/pgp-signature"; boundary="{bnd}"\n\n') + body)

    def signed_encrypted(self, subject, entity):
        """PGP/MIME multipart/encrypted to the list key, signed by alice in
        the same pass (what Thunderbird sends)."""
        armored = self.gpg.run(["--armor", "--encrypt", "--sign", "-r", self.list_fpr,
                                "-u", self.alice], entity)
        bnd = new_boundary()
        body = crlf(f"--{bnd}\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n"
                    f"--{bnd}\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\n\n")
        body += crlf(armored) + crlf(f"\n--{bnd}--\n")
        return (self.headers(subject)
                + crlf(f'Content-Type: multipart/encrypted;\n'
                       f' protocol="application/pgp-encrypted"; boundary="{bnd}"\n\n') + body)

    def send(self, data):
        return harness.smtp_send(self.daemon.port, ALICE, [OPS], data, timeout=60)

    # --- the nested forms ---

    def html_with_armor(self):
        _, arm = self.nested()
        lines = arm.strip().splitlines()
        html = ("<html><body><p>Forwarded from our partner:</p><p>"
                + "<br>".join(lines) + "</p></body></html>\n")
        return multipart("alternative", [text("Forwarded from our partner, see the HTML part.\n"),
                                         text(html, "html")])

    def cases(self):
        out = []
        out.append(("ciphertext in text/html, lines joined by <br>",
                    self.signed("[TLP:GREEN] Forwarded report", self.html_with_armor())))

        _, arm = self.nested()
        out.append(("armor BEGIN line with leading text",
                    self.signed("[TLP:GREEN] Forwarded report",
                                text("Hi all,\n\nForwarded: " + arm + "\n-- \nAlice\n"))))

        _, arm = self.nested()
        cr_only = ("Hi all,\r\rsee below.\r\r" + arm.replace("\n", "\r")).encode()
        out.append(("CR-only line ends (base64 text/plain)",
                    self.signed("[TLP:GREEN] Forwarded report",
                                b64_part("text/plain; charset=utf-8", cr_only))))

        _, binary = self.nested(armor=False)
        out.append(("image/png whose data is Marker + PKESK + SEIPD",
                    self.signed("[TLP:GREEN] Chart", multipart("mixed", [
                        text("The chart is attached.\n"),
                        b64_part("image/png", MARKER_PACKET + binary, "chart.png")]))))

        _, binary = self.nested(armor=False)
        out.append(("application/octet-stream: compressed packet around PKESK + SEIPD",
                    self.signed("[TLP:GREEN] Capture", multipart("mixed", [
                        text("The capture is attached.\n"),
                        b64_part("application/octet-stream", compressed_packet(binary),
                                 "capture.bin")]))))

        out.append(("signed+encrypted: ciphertext in its text/html",
                    self.signed_encrypted("[TLP:GREEN] Forwarded report",
                                          self.html_with_armor())))

        _, binary = self.nested(armor=False)
        out.append(("signed+encrypted: image/png with Marker + PKESK + SEIPD",
                    self.signed_encrypted("[TLP:GREEN] Chart", multipart("mixed", [
                        text("The chart is attached.\n"),
                        b64_part("image/png", MARKER_PACKET + binary, "chart.png")]))))
        return out

    def controls(self):
        key = self.gpg.run(["--armor", "--export", self.alice])
        body = ("Hi all,\n\nthe chart and my key are attached. Encrypted replies start with "
                "BEGIN PGP MESSAGE, as usual.\n\n-- \nAlice\n")
        mixed = multipart("mixed", [text(body), b64_part("image/png", png_1x1(), "chart.png"),
                                    b64_part("application/pgp-keys", key, "alice.asc")])
        return [("signed, innocuous attachments", self.signed("[TLP:GREEN] Chart", mixed)),
                ("signed+encrypted, innocuous attachments",
                 self.signed_encrypted("[TLP:GREEN] Chart", mixed))]

    # --- the test ---

    def test_nested_ciphertext_is_refused_and_never_decrypted(self):
        cases = self.cases()
        got = {}
        for name, data in cases:
            got[name] = self.send(data)
        for name, data in self.controls():
            code, reply = self.send(data)
            with self.subTest(control=name):
                self.assertEqual(code, 250, reply)
                self.assertIsNotNone(harness.queued_id(reply), reply)
        wrong = {n: r for n, r in got.items() if r != NESTED}
        self.assertEqual(wrong, {}, "cases not refused as nested (name: reply):\n"
                         + "\n".join(f"  {n}: {r}" for n, r in wrong.items()))

        # The accepted controls are fanned out and relayed: the daemon ran
        # its whole path while the nested messages sat beside them.
        self.sink.wait_count(2, why="(copies of the accepted controls)")
        self.daemon.wait_no_sessions()

        rows = self.site.query("SELECT verdict, reason, smtp_reply FROM audit_log ORDER BY id")
        refused = [r for r in rows if r[0] == "refused"]
        self.assertEqual(refused, [("refused", NESTED[1][6:], "550 5.7.1")] * len(cases))
        self.assertEqual(sum(1 for r in rows if r[0] == "accepted"), 2, rows)
        log = self.daemon.log()
        self.assertEqual(len(re.findall(
            r" s\d+ reject reason=\"?message contains nested encrypted content\"? ", log)),
            len(cases), log)

        # Never decrypted: no plaintext marker in the log, the state folder
        # (spool, database; the list's GnuPG home aside) or what was relayed.
        self.assertEqual(self.daemon.stop(), 0)
        blobs = [("log", self.site.log().encode())]
        for folder, _, files in os.walk(self.site.state):
            if "gnupg" in os.path.relpath(folder, self.site.state).split(os.sep):
                continue
            for name in files:
                with open(os.path.join(folder, name), "rb") as f:
                    blobs.append((os.path.join(folder, name), f.read()))
        for meta, eml in self.sink.messages():
            blobs.append(("relayed message", eml))
        self.assertTrue(self.markers)
        for marker in self.markers:
            for where, blob in blobs:
                self.assertNotIn(marker.encode(), blob, where)


if __name__ == "__main__":
    unittest.main()
