"""End-to-end tests of the outgoing side (issue 5): the real tlpmaild takes a
signed+encrypted PGP/MIME posting over SMTP, fans it out and relays one
encrypted copy per cleared member to tests/e2e/sink.py on 127.0.0.1. Checked
at the sink: who got copies, that each decrypts with its member's key only,
the list's signature, banner, attachment bytes, header fields, envelope;
relay faults (4xx then recovery, 5xx and the admins' notice, relay down at
start), members withheld for their keys, and kill -9 in the middle of a
200-member fan-out (KillFanoutTest, run on its own as e2e.delivery_kill9).
Real gpg, keys made at test time; standard library only."""

import base64
import email
import email.policy
import email.utils
import hashlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import harness  # noqa: E402
import helpers  # noqa: E402
from corpus_gpg import Home, dearmor, packets  # noqa: E402
from corpus_mime import (as_part, base64_lines, boundary, crlf, date_header,  # noqa: E402
                         encrypted_multipart, entity, multipart_body)

DOMAIN = harness.LIST_DOMAIN
OPS = "ops@" + DOMAIN
BOUNCES = "ops-bounces@" + DOMAIN
# Copies and notices leave from ops-bounces+TOKEN@ (VERP, issue 12).
VERP_RE = re.compile(r"^ops-bounces\+[a-z2-7]{26}@" + re.escape(DOMAIN) + "$")
REQUEST = "ops-request@" + DOMAIN
DESCRIPTION = "Delivery test list"
DAY = 86400
# --retry-seconds 1: a deferred copy is tried again after 1 s, 2 s, 4 s, 8 s.
DAEMON_ARGS = ("--retry-seconds", "1")
WAIT = 60.0  # seconds: upper bound of every wait for the daemon or the sink

AMBER_LINE = ("TLP:AMBER: Recipients may share this only on a need-to-know basis within "
              "their own organisation and with its clients, to protect them.")
# Autocrypt: the list's key for mail clients (issue 11; on by default).
COPY_FIELDS = ["From", "To", "Reply-To", "Subject", "Date", "Message-ID", "List-Id",
               "List-Post", "List-Help", "Autocrypt", "MIME-Version", "Content-Type"]
NOTICE_FIELDS = ["From", "To", "Subject", "Date", "Message-ID", "List-Id", "Auto-Submitted",
                 "MIME-Version", "Content-Type"]
INNER_FIELDS = ["Content-Type", "Subject", "From", "To", "Reply-To", "Message-ID", "Date"]
ARMOR_RE = re.compile(rb"-----BEGIN PGP MESSAGE-----\r?\n.*?-----END PGP MESSAGE-----", re.S)


def wait_for(condition, what, timeout=WAIT, log=lambda: ""):
    """Polls condition() (bounded) until it returns something true."""
    return harness.wait_for(condition, what, timeout, log)


def grouped(fpr):
    return " ".join(fpr[i:i + 4] for i in range(0, 40, 4))


def header_fields(raw):
    """[(name, unfolded value)] of a message's or entity's header."""
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode("utf-8", "replace")
    fields = []
    for line in head.split("\n"):
        if line[:1] in (" ", "\t") and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + " " + line.strip())
        else:
            name, _, value = line.partition(":")
            fields.append((name, value.strip()))
    return fields


def armored_of(raw):
    m = ARMOR_RE.search(raw)
    if not m:
        raise AssertionError("no PGP MESSAGE armor in:\n" + raw.decode("utf-8", "replace"))
    return m.group(0)


def key_packets(binary):
    """[(tag, what)] of the packets of binary OpenPGP key data: the v4
    fingerprint of a (sub)key packet, the text of a user ID, None for the
    rest."""
    out = []
    for tag, offsets in packets(binary):
        body = bytes(binary[o] for o in offsets)
        if tag in (6, 14) and body[:1] == b"\x04":
            frame = b"\x99" + len(body).to_bytes(2, "big") + body
            out.append((tag, hashlib.sha1(frame).hexdigest().upper()))
        elif tag == 13:
            out.append((tag, body.decode("utf-8")))
        else:
            out.append((tag, None))
    return out


def pkesk_key_ids(armored):
    """Key ids (16 hex digits) of the session key packets of a message."""
    binary = dearmor(armored)
    out = []
    for tag, offsets in packets(binary):
        if tag == 1:  # v3 PKESK: version, 8-octet key id, algorithm, ...
            out.append(bytes(binary[o] for o in offsets[1:9]).hex().upper())
    return out


class Person:
    """A member with its own GnuPG home (so that decrypting proves whose key
    a copy is for). key: "std" (ed25519 + cv25519), "expired" (made 20
    days ago, expired 4 days ago), "revoked"."""

    def __init__(self, email_address, name, clearance, kind="person", key="std"):
        self.email = email_address
        self.name = name
        self.clearance = clearance
        self.kind = kind
        self.home = Home(helpers.short_tempdir("tlpm"))
        uid = f"{name} <{email_address}>"
        if key == "expired":
            made = int(time.time()) - 20 * DAY
            self.fpr = self.home.generate(uid, "ed25519", "sign,cert", "16d", faketime=made)
            self.home.add_subkey(self.fpr, "cv25519", "encr", "16d", faketime=made + 600)
        else:
            self.fpr = self.home.generate(uid, "ed25519", "sign,cert")
            self.home.add_subkey(self.fpr, "cv25519", "encr")
            if key == "revoked":
                self.home.revoke(self.fpr)
        self.subkey = next(r[4] for r in self.home.colons(self.fpr) if r[0] == "sub")

    def public(self):
        return self.home.export_public(self.fpr)

    def toml(self):
        return helpers.person_toml(self.email, self.name, self.fpr, self.clearance, self.kind)

    def decrypt(self, armored):
        """(exit status, plaintext, status lines without "[GNUPG:] ")."""
        p = self.home.run("--status-fd", "2", "--decrypt", "--output", "-",
                          data=armored, check=False)
        status = [l[9:] for l in p.stderr.decode("utf-8", "replace").splitlines()
                  if l.startswith("[GNUPG:] ")]
        return p.returncode, p.stdout, status

    def close(self):
        self.home.kill_agent()
        shutil.rmtree(self.home.path, ignore_errors=True)


PEOPLE = {}


def people():
    """The members of the small list, made once per process (lazily: the
    kill -9 test has its own 200)."""
    if not PEOPLE:
        for key, args in (
                ("alice", ("alice@a.example", "Alice Example", "RED")),
                ("bob", ("bob@b.example", "Bob Beispiel", "AMBER")),
                ("carol", ("carol@c.example", "Carol Exemple", "GREEN")),
                ("soc", ("soc@s.example", "SOC Duty Desk", "AMBER", "team")),
                ("dave", ("dave@d.example", "Dave Expired", "AMBER", "person", "expired")),
                ("erin", ("erin@e.example", "Erin Revoked", "AMBER", "person", "revoked"))):
            PEOPLE[key] = Person(*args)
    return PEOPLE


def tearDownModule():
    for p in PEOPLE.values():
        p.close()
    PEOPLE.clear()


def posting(sender, list_fpr, subject, text, attachment=None, extra_headers=()):
    """A PGP/MIME message signed and encrypted in one OpenPGP message (gpg
    --sign --encrypt, to the list key and the sender) with protected header
    fields (From, To, Subject), and the sender's client and MTA header
    fields that copies must not carry."""
    parts = [entity([("Content-Type", "text/plain; charset=utf-8"),
                     ("Content-Transfer-Encoding", "8bit")], text)]
    if attachment is not None:
        parts.append(entity([("Content-Type", 'application/octet-stream; name="dump.bin"'),
                             ("Content-Disposition", 'attachment; filename="dump.bin"'),
                             ("Content-Transfer-Encoding", "base64")],
                            base64_lines(attachment)))
    # The client protects its header fields (Thunderbird does): the label in
    # the Subject is signed, so it may set any label up to the ceiling.
    bnd = boundary()
    inner = as_part(f'multipart/mixed; boundary="{bnd}"; protected-headers="v1"',
                    multipart_body(parts, bnd),
                    [("From", f'"{sender.name}" <{sender.email}>'), ("To", OPS),
                     ("Subject", subject)])
    armored = sender.home.encrypt([list_fpr, sender.fpr], inner, signer=sender.fpr)
    ctype, body = encrypted_multipart(armored)
    domain = sender.email.split("@")[1]
    now = int(time.time())
    headers = [
        ("Received", f"from mail.{domain} (mail.{domain} [192.0.2.25])\r\n\tby mx.{DOMAIN} "
                     f"(Postfix) with ESMTPS id 4Xy7Q;\r\n\t{date_header(now)}"),
        ("From", f'"{sender.name}" <{sender.email}>'),
        ("To", OPS),
        ("Subject", subject),
        ("Date", date_header(now)),
        ("Message-ID", f"<{secrets.token_hex(8)}@{domain}>"),
        ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Thunderbird/115.9.0"),
        ("X-Mailer", "TestMailer 1.0"),
        ("X-Originating-IP", "[198.51.100.7]"),
    ] + list(extra_headers) + [("MIME-Version", "1.0")]
    return b"".join(crlf(f"{n}: {v}\n") for n, v in headers) + as_part(ctype, body)


def body_text(marker):
    return (f"Hi all,\n\nthe capture of the C2 traffic is attached.\nCase {marker}.\n\n"
            "-- \nAlice\n")


class Site(harness.DaemonSite):
    """Configuration (one list, ops@) and state in a short temp folder;
    [relay] points at `relay_port`."""

    def __init__(self, directory, members, admins, relay_port, max_connections=4, server=""):
        """`server`: more lines for [server] ("key = value" each)."""
        super().__init__("tlpd")
        keys = os.path.join(self.config_dir, "keys")
        os.makedirs(keys)
        os.makedirs(os.path.join(self.config_dir, "lists.d"))
        with open(os.path.join(keys, "members.asc"), "wb") as f:
            f.write(directory.public_keys())
        helpers.write(os.path.join(self.config_dir, "directory.toml"), directory.toml())
        quoted = lambda xs: ", ".join(f'"{x}"' for x in xs)  # noqa: E731
        helpers.write(os.path.join(self.config_dir, "lists.d", "ops.toml"), f"""
            address = "{OPS}"
            description = "{DESCRIPTION}"
            tlp_ceiling = "RED"
            members = [{quoted(members)}]
            admins = [{quoted(admins)}]
            """)
        helpers.write(self.config, f"""
            [server]
            hostname = "{harness.HOSTNAME}"
            listen = ["127.0.0.1:{self.port}"]
            protocol = "smtp"
            max_message_size = 10485760
            {server}

            [relay]
            host = "127.0.0.1"
            port = {relay_port}
            starttls = "off"
            max_connections = {max_connections}

            [paths]
            state_dir = "../state"

            [log]
            level = "info"
            """)

    def start(self, *args):
        return super().start(*DAEMON_ARGS, *args)

    def list_key(self, address=OPS):
        """(fingerprint, armored public key) of ops@ (made at the first
        start) unless another list is named."""
        return super().list_key(address)

    def send(self, sender, data):
        """Sends over SMTP; returns the queue id (asserts 250)."""
        code, text = harness.smtp_send(self.daemon.port, sender.email, [OPS], data)
        qid = harness.queued_id(text)
        if code != 250 or not qid:
            raise AssertionError(f"posting refused: {code} {text}\n{self.daemon.log()}")
        return qid

    def outbox(self):
        """[(kind, message id, recipient, state, attempts, last_reply, reported)]."""
        if not os.path.exists(os.path.join(self.state, "tlpmail.db")):
            return []
        return self.query(
            "SELECT m.kind, m.id, c.recipient, c.state, c.attempts, c.last_reply, c.reported"
            " FROM outbox_copies c JOIN outbox_messages m ON c.message = m.id ORDER BY c.id")


class Directory:
    """directory.toml and keys/members.asc from Person objects."""

    def __init__(self, persons):
        self.persons = list(persons)

    def toml(self):
        return "".join(p.toml() for p in self.persons)

    def public_keys(self):
        return b"".join(p.public() for p in self.persons)


class DeliveryCase(unittest.TestCase):
    """A fresh site, sink and daemon per test; the small list's people."""

    list_members = ("alice", "bob", "carol", "soc")
    sink_options = ()

    @classmethod
    def setUpClass(cls):
        cls.p = people()

    def setUp(self):
        self.sink = harness.Sink(self.sink_options)
        self.addCleanup(self.sink.close)
        self.sink.start()
        self.make_site(self.sink.port)
        self.site.start()
        self.list_fpr, list_pub = self.site.list_key()
        for person in self.p.values():
            person.home.import_keys(list_pub)

    def make_site(self, relay_port):
        persons = [self.p[k] for k in self.list_members]
        self.site = Site(Directory(persons), [p.email for p in persons],
                         [self.p["alice"].email], relay_port)
        self.addCleanup(self.site.close)

    def log(self):
        return "daemon stderr:\n" + self.site.log() + "\nsink stderr:\n" + self.sink.log()

    def post(self, subject, marker, attachment=None, sender="alice"):
        who = self.p[sender]
        return self.site.send(who, posting(who, self.list_fpr, subject, body_text(marker),
                                           attachment))

    def wait_outbox(self, want, what):
        """Waits until the outbox's (kind, recipient, state) rows, sorted,
        are `want`; returns the rows."""
        def done():
            rows = self.site.outbox()
            return rows if sorted((r[0], r[2], r[3]) for r in rows) == sorted(want) else None
        return wait_for(done, what, log=lambda: f"outbox: {self.site.outbox()}\n" + self.log())

    def stop_daemon(self):
        self.site.daemon.wait_no_sessions()
        self.assertEqual(self.site.daemon.stop(), 0, self.log())

    def by_recipient(self, messages):
        out = {}
        for meta, raw in messages:
            self.assertEqual(len(meta["rcpt_to"]), 1, meta)
            out.setdefault(meta["rcpt_to"][0], []).append((meta, raw))
        return out

    def open_copy(self, person, raw, others=()):
        """Decrypts a copy with `person`'s key; asserts a good signature by
        the list key and that none of `others` can decrypt it. Returns the
        plaintext."""
        armored = armored_of(raw)
        self.assertEqual(pkesk_key_ids(armored), [person.subkey])
        code, plain, status = person.decrypt(armored)
        self.assertEqual(code, 0, status)
        self.assertIn("DECRYPTION_OKAY", [s.split()[0] for s in status])
        valid = [s.split() for s in status if s.startswith("VALIDSIG ")]
        self.assertEqual(len(valid), 1, status)
        self.assertEqual(valid[0][-1], self.list_fpr)  # primary key fingerprint
        self.assertTrue(any(s.startswith("GOODSIG ") for s in status), status)
        for other in others:
            code, leaked, status = other.decrypt(armored)
            self.assertNotEqual(code, 0, f"{other.email} decrypted the copy")
            self.assertEqual(leaked, b"")
            self.assertIn("NO_SECKEY", [s.split()[0] for s in status])
            self.assertNotIn("DECRYPTION_OKAY", [s.split()[0] for s in status])
        return plain

    def assert_notice(self, raw, admin, others=()):
        """An admin notice: frame fields, then its decrypted text."""
        fields = header_fields(raw)
        self.assertEqual([n for n, _ in fields], NOTICE_FIELDS)
        f = dict(fields)
        self.assertEqual(email.utils.parseaddr(f["From"]), ("ops list", REQUEST))
        self.assertEqual(f["To"], admin.email)
        self.assertEqual(f["Auto-Submitted"], "auto-generated")
        self.assertEqual(f["List-Id"], f"{DESCRIPTION} <ops.{DOMAIN}>")
        plain = self.open_copy(admin, raw, others)
        notice = email.message_from_bytes(plain, policy=email.policy.default)
        self.assertEqual(notice.get_content_type(), "text/plain")
        self.assertEqual(notice["Subject"], f["Subject"])
        return notice.get_content().replace("\r\n", "\n")


class FanoutTest(DeliveryCase):
    """Test 1: a TLP:AMBER posting with a binary attachment."""

    def test_amber_copy_per_cleared_member(self):
        p = self.p
        marker = "BODY-MARKER-" + secrets.token_hex(10)
        blob = secrets.token_bytes(5000)
        subject = "[TLP:AMBER] Capture of the C2 traffic"
        qid = self.post(subject, marker, attachment=blob)

        cleared = ("alice", "bob", "soc")
        rows = self.wait_outbox([("copy", p[k].email, "delivered") for k in cleared],
                                "three delivered copies")
        self.assertEqual({r[1] for r in rows}, {qid})
        self.stop_daemon()
        got = self.by_recipient(self.sink.messages())
        # alice (RED, the sender), bob (AMBER), soc (team, AMBER); not carol (GREEN).
        self.assertEqual(sorted(got), sorted(p[k].email for k in ("alice", "bob", "soc")))

        audit = self.site.query("SELECT list_message_id FROM audit_log WHERE queue_id = ?",
                                (qid,))
        self.assertEqual(len(audit), 1)
        list_message_id = audit[0][0]
        self.assertRegex(list_message_id or "", rf"^tlpmail\.{qid}\.[0-9a-f]+@{re.escape(DOMAIN)}$")

        members = [p[k] for k in ("alice", "bob", "carol", "soc")]
        [list_subkey] = [r for r in p["alice"].home.colons(self.list_fpr) if r[0] == "sub"]
        self.assertEqual(list_subkey[11], "e")
        for key in ("alice", "bob", "soc"):
            person = p[key]
            with self.subTest(member=person.email):
                [(meta, raw)] = got[person.email]
                self.assertRegex(meta["mail_from"], VERP_RE)
                self.assertEqual(meta["rcpt_to"], [person.email])
                self.assertNotIn(marker.encode(), raw)

                # The outer frame: exactly the fields of docs/outgoing.md.
                fields = header_fields(raw)
                self.assertEqual([n for n, _ in fields], COPY_FIELDS)
                f = dict(fields)
                self.assertEqual(email.utils.parseaddr(f["From"]),
                                 ("Alice Example via ops", OPS))
                self.assertEqual(f["To"], OPS)
                self.assertEqual(f["Reply-To"], OPS)
                self.assertEqual(f["Subject"], subject)
                self.assertEqual(f["Message-ID"], f"<{list_message_id}>")
                self.assertEqual(f["List-Id"], f"{DESCRIPTION} <ops.{DOMAIN}>")
                self.assertEqual(f["List-Post"], f"<mailto:{OPS}>")
                self.assertEqual(f["List-Help"], f"<mailto:{REQUEST}>")
                # Autocrypt: the list key (primary key, the list's user ID,
                # the encryption subkey, each self-signature), folded.
                prefix = f"addr={OPS}; prefer-encrypt=mutual; keydata="
                self.assertEqual(f["Autocrypt"][:len(prefix)], prefix)
                keydata = base64.b64decode("".join(f["Autocrypt"][len(prefix):].split()),
                                           validate=True)
                got_packets = key_packets(keydata)
                self.assertEqual(got_packets[:3], [(6, self.list_fpr),
                                                   (13, f"{DESCRIPTION} <{OPS}>"), (2, None)])
                self.assertEqual([t for t, _ in got_packets[3:]], [14, 2])
                self.assertEqual(got_packets[3][1][24:], list_subkey[4])
                head = raw.split(b"\r\n\r\n", 1)[0]
                self.assertTrue(all(len(l) <= 78 for l in head.split(b"\r\n")), head)
                for gone in (b"Received:", b"User-Agent:", b"X-Mailer:", b"X-Originating-IP",
                             b"192.0.2.25", b"198.51.100.7", b"Thunderbird"):
                    self.assertNotIn(gone, raw)
                outer = email.message_from_bytes(raw, policy=email.policy.default)
                self.assertEqual(outer.get_content_type(), "multipart/encrypted")
                self.assertEqual(outer.get_param("protocol"), "application/pgp-encrypted")
                version, data = outer.get_payload()
                self.assertEqual(version.get_content_type(), "application/pgp-encrypted")
                self.assertIn(b"Version: 1", version.get_payload(decode=True))
                self.assertEqual(data.get_content_type(), "application/octet-stream")

                # Only this member's key opens it; signed by the list key.
                plain = self.open_copy(person, raw, [m for m in members if m is not person])
                inner = email.message_from_bytes(plain, policy=email.policy.default)
                self.assertEqual([n for n, _ in header_fields(plain)], INNER_FIELDS)
                self.assertEqual(inner.get_content_type(), "multipart/mixed")
                self.assertEqual(inner.get_param("protected-headers"), "v1")
                self.assertEqual(inner["Subject"], subject)
                banner, content = inner.get_payload()
                self.assertEqual(banner.get_content_type(), "text/plain")
                self.assertEqual(banner.get_content().splitlines(), [
                    AMBER_LINE,
                    f"Sent by Alice Example (Test Org) alice@a.example, signature verified, "
                    f"key {grouped(p['alice'].fpr)}"])
                self.assertEqual(content.get_content_type(), "multipart/mixed")
                text, attachment = content.get_payload()
                self.assertIn(marker, text.get_content())
                self.assertEqual(attachment.get_filename(), "dump.bin")
                self.assertEqual(attachment.get_payload(decode=True), blob)

        # Outbox: one row per copy, all delivered; the message decided once.
        self.assertEqual(sorted((r[0], r[2], r[3], r[4]) for r in self.site.outbox()),
                         sorted(("copy", p[k].email, "delivered", 1) for k in cleared))
        # No plaintext of the body anywhere in the state (gnupg/ aside), nor in the log.
        self.assertNotIn(marker, self.site.log())
        found = []
        for folder, dirs, files in os.walk(self.site.state):
            dirs[:] = [d for d in dirs if not (folder == self.site.state and d == "gnupg")]
            for name in files:
                with open(os.path.join(folder, name), "rb") as fh:
                    data = fh.read()
                if marker.encode() in data or blob[:64] in data:
                    found.append(os.path.join(folder, name))
        self.assertEqual(found, [])
        # The fan-out's log line names who was withheld ("-": nobody);
        # per-message withheld notices are gone (the admins' daily digest).
        # Every member key here is Curve25519: tlpmaild encrypted the copies
        # itself, and the members' gpg read them above.
        self.assertRegex(self.site.log(), rf"(?m) {qid} fanout list={re.escape(OPS)} "
                                          rf"message_id={re.escape(list_message_id)} "
                                          r"label=AMBER copies=3 withheld=- encryption=tlpmaild "
                                          r"decryption=intake$")

    def test_a_posting_spooled_before_a_restart_is_decrypted_again(self):
        """The intake's decryption waits for the fan-out in memory only
        (openpgp::Handoff): a posting spooled before a restart is decrypted
        by the fan-out's own gpg run, and its copies go out all the same."""
        p = self.p
        self.stop_daemon()
        self.site.start("--hold-spool")
        qid = self.post("[TLP:AMBER] Held over a restart", "HELD-" + secrets.token_hex(8))
        self.stop_daemon()
        self.site.start()
        self.wait_outbox([("copy", p[k].email, "delivered") for k in ("alice", "bob", "soc")],
                         "three delivered copies after the restart")
        self.assertRegex(self.site.log(), rf"(?m) {qid} fanout list={re.escape(OPS)} .* "
                                          r"encryption=tlpmaild decryption=gpg$")


class RelayFaultTest(DeliveryCase):
    """Tests 2-4: what the relay answers decides each copy's state."""

    EXPECTED = ("alice", "bob", "soc")

    def deliver_lines(self):
        """{copy id: [(state, attempt)]} from the daemon's deliver log lines."""
        out = {}
        for m in re.finditer(r" copy-(\d+) deliver to=(\S+) state=(\w+) attempt=(\d+)",
                             self.site.log()):
            out.setdefault(int(m.group(1)), []).append((m.group(3), int(m.group(4))))
        return out

    def start_with_relay_down(self):
        """Starts the site with its relay port reserved by a sink that is not
        started yet (self.sink.start() brings the relay up); the members
        hold the list key."""
        self.relay_port = harness.free_port()
        self.sink = harness.Sink(port=self.relay_port)
        self.addCleanup(self.sink.close)
        self.make_site(self.relay_port)
        self.site.start()
        self.list_fpr, list_pub = self.site.list_key()
        for person in self.p.values():
            person.home.import_keys(list_pub)


class DeferFirstTest(RelayFaultTest):
    sink_options = ("--defer-first", "2")

    def test_4xx_is_retried_until_delivered(self):
        p = self.p
        qid = self.post("[TLP:AMBER] Retry me", "BODY-MARKER-" + secrets.token_hex(8))
        rows = self.wait_outbox([("copy", p[k].email, "delivered") for k in self.EXPECTED],
                                "every copy delivered after the 451s")
        self.stop_daemon()
        self.assertEqual(sorted(r[4] for r in rows), [1, 2, 2])  # two were deferred once
        got = self.by_recipient(self.sink.messages())
        self.assertEqual(sorted(got), sorted(p[k].email for k in self.EXPECTED))
        self.assertEqual([len(v) for v in got.values()], [1, 1, 1])
        self.assertEqual(self.sink.log().count(" reply=451"), 2, self.sink.log())
        lines = self.deliver_lines()
        deferred = [c for c, seq in lines.items() if seq[0][0] == "deferred"]
        self.assertEqual(len(deferred), 2, self.log())
        for c in deferred:
            self.assertEqual(lines[c], [("deferred", 1), ("delivered", 2)], self.log())
        self.assertRegex(self.site.log(),
                         r" copy-\d+ deliver to=\S+ state=deferred attempt=1 retry_in=1s "
                         r"reply=\"?451 4\.3\.0 Error: try again later")
        for person in (p[k] for k in self.EXPECTED):
            self.open_copy(person, got[person.email][0][1])
        self.assertEqual({r[1] for r in rows}, {qid})


class RejectRcptTest(RelayFaultTest):
    sink_options = ("--reject-rcpt", "bob@b.example")

    def test_5xx_fails_the_copy_and_the_admins_are_told(self):
        p = self.p
        marker = "BODY-MARKER-" + secrets.token_hex(8)
        subject = "[TLP:AMBER] Secret subject words"
        qid = self.post(subject, marker)
        rows = self.wait_outbox([("copy", p["alice"].email, "delivered"),
                                 ("copy", p["bob"].email, "failed"),
                                 ("copy", p["soc"].email, "delivered"),
                                 ("notice", p["alice"].email, "delivered")],
                                "bob failed, the others and the admin's notice delivered")
        self.stop_daemon()
        bob = [r for r in rows if r[2] == p["bob"].email][0]
        self.assertEqual(bob[1], qid)
        self.assertRegex(bob[5], r"^550 5\.1\.1 <bob@b\.example>: Recipient address rejected")
        self.assertEqual(bob[6], 1)  # reported
        self.assertEqual(bob[4], 1)  # a 5xx is not retried
        self.assertRegex(self.site.log(), r" copy-\d+ deliver to=bob@b\.example state=failed "
                                          r"attempt=1 reply=")

        got = self.by_recipient(self.sink.messages())
        self.assertEqual(sorted(got), sorted([p["alice"].email, p["soc"].email]))
        self.assertEqual(len(got[p["soc"].email]), 1)
        copies, notices = [], []
        for meta, raw in got[p["alice"].email]:
            self.assertRegex(meta["mail_from"], VERP_RE)
            (notices if b"Auto-Submitted:" in raw else copies).append(raw)
        self.assertEqual((len(copies), len(notices)), (1, 1))
        others = [p[k] for k in ("bob", "carol", "soc")]
        text = self.assert_notice(notices[0], p["alice"], others)
        self.assertIn("bob@b.example", text)
        self.assertIn("550 5.1.1 <bob@b.example>: Recipient address rejected", text)
        for secret in (marker, "Secret subject words", "capture of the C2 traffic"):
            self.assertNotIn(secret, text)
            self.assertNotIn(secret.encode(), notices[0])
        self.assertIn("delivery failures", header_fields(notices[0])[2][1])


class DeferAndRejectTest(RelayFaultTest):
    """A 4xx and a 5xx in the same fan-out: the admins' report must still
    come (a report asked for before the failure was on disk once found
    nothing and was never asked for again)."""
    sink_options = ("--defer-rcpt", "soc@s.example", "--reject-rcpt", "bob@b.example")

    def test_failure_is_reported_while_another_copy_is_deferred(self):
        p = self.p
        self.post("[TLP:AMBER] Mixed answers", "BODY-MARKER-" + secrets.token_hex(8))
        rows = self.wait_outbox([("copy", p["alice"].email, "delivered"),
                                 ("copy", p["bob"].email, "failed"),
                                 ("copy", p["soc"].email, "deferred"),
                                 ("notice", p["alice"].email, "delivered")],
                                "bob failed and reported, soc deferred")
        bob = [r for r in rows if r[2] == p["bob"].email][0]
        self.assertEqual(bob[6], 1)  # reported
        self.stop_daemon()


class RelayDownTest(RelayFaultTest):
    """Nothing listens on the relay port at first."""

    def setUp(self):
        self.start_with_relay_down()

    def test_copies_wait_for_the_relay(self):
        p = self.p
        self.post("[TLP:AMBER] Relay is down", "BODY-MARKER-" + secrets.token_hex(8))
        self.wait_outbox([("copy", p[k].email, "deferred") for k in self.EXPECTED],
                         "every copy deferred while the relay is down")
        self.assertEqual(self.sink.count(), 0)
        self.sink.start()
        rows = self.wait_outbox([("copy", p[k].email, "delivered") for k in self.EXPECTED],
                                "every copy delivered once the relay is up")
        self.stop_daemon()
        self.assertTrue(all(r[4] >= 2 for r in rows), rows)
        got = self.by_recipient(self.sink.messages())
        self.assertEqual(sorted(got), sorted(p[k].email for k in self.EXPECTED))
        lines = self.deliver_lines()
        self.assertEqual(len(lines), 3, self.log())
        for seq in lines.values():
            self.assertEqual(seq[0], ("deferred", 1), self.log())
            self.assertEqual(seq[-1][0], "delivered", self.log())
            self.assertTrue(all(s == "deferred" for s, _ in seq[:-1]), self.log())
        for person in (p[k] for k in self.EXPECTED):
            self.open_copy(person, got[person.email][0][1])


class WithheldTest(DeliveryCase):
    """Test 5: members whose pinned key is expired or revoked get nothing.
    The admins learn it from their daily digest (lib/digest: one letter a
    day listing every key problem, sent here at start), not from a notice
    per message (issue 11); each message's audit row names who was left
    out and why."""

    list_members = ("alice", "bob", "carol", "soc", "dave", "erin")

    def test_unusable_keys_get_nothing_and_the_admins_are_told(self):
        p = self.p
        marker = "BODY-MARKER-" + secrets.token_hex(8)
        qids = [self.post(f"[TLP:AMBER] Not for stale keys {i}", marker) for i in range(2)]
        self.wait_outbox(2 * [("copy", p[k].email, "delivered") for k in ("alice", "bob", "soc")] +
                         [("notice", p["alice"].email, "delivered")],
                         "three copies of each message and one digest delivered")
        self.stop_daemon()
        got = self.by_recipient(self.sink.messages())
        self.assertEqual(sorted(got), sorted(p[k].email for k in ("alice", "bob", "soc")))
        notices = [raw for meta, raw in got[p["alice"].email] if b"Auto-Submitted:" in raw]
        self.assertEqual(len(notices), 1)  # one digest, no notice per message
        self.assertEqual(len(got[p["alice"].email]), 3)
        text = self.assert_notice(notices[0], p["alice"], [p["bob"], p["soc"]])
        self.assertRegex(text, rf"(?m)^  dave@d\.example: key {p['dave'].fpr} expired ")
        self.assertRegex(text, rf"(?m)^  erin@e\.example: key {p['erin'].fpr} revoked; ")
        self.assertNotIn(marker, text)
        for qid in qids:
            self.assertNotIn(qid, text)
        self.assertIn("[ops] daily digest", header_fields(notices[0])[2][1])
        for qid in qids:
            left_out = dict(self.site.query(
                "SELECT r.address, r.why FROM audit_recipients r JOIN audit_log a"
                " ON a.id = r.audit_id WHERE a.queue_id = ? AND r.chosen = 0", (qid,)))
            self.assertEqual(left_out.get(p["dave"].email),
                             "key not usable (missing, expired, revoked or too weak)")
            self.assertIn(p["erin"].email, left_out)
            self.assertRegex(self.site.log(),
                             rf"(?m) {qid} fanout list={re.escape(OPS)} .* copies=3 "
                             r"withheld=\"?dave@d\.example\(key expired\),"
                             r"erin@e\.example\(key revoked\)\"? encryption=tlpmaild "
                             r"decryption=intake$")


# --- kill -9 in the middle of a big fan-out ---------------------------------

MANY = 200


class BatchKeys:
    """MANY ed25519/cv25519 keys made by one gpg process in one home."""

    def __init__(self, n):
        self.home = Home(helpers.short_tempdir("tlpk"))
        params = "".join(
            "Key-Type: eddsa\nKey-Curve: ed25519\nKey-Usage: sign\n"
            "Subkey-Type: ecdh\nSubkey-Curve: cv25519\nSubkey-Usage: encrypt\n"
            f"Name-Real: Member {i:03d}\nName-Email: m{i:03d}@members.example\n"
            "Expire-Date: 0\n%no-protection\n%commit\n" for i in range(n))
        self.home.run("--gen-key", data=params.encode())
        self.persons = []
        rows = self.home.colons("@members.example")
        current = None
        for r in rows:
            if r[0] == "pub":
                current = BatchPerson(self.home)
                self.persons.append(current)
            elif r[0] == "fpr" and current is not None and not current.fpr:
                current.fpr = r[9]
            elif r[0] == "uid" and current is not None:
                current.name, current.email = email.utils.parseaddr(r[9])
            elif r[0] == "sub" and current is not None:
                current.subkey = r[4]
        self.persons.sort(key=lambda x: x.email)
        if len(self.persons) != n or not all(x.fpr and x.subkey for x in self.persons):
            raise AssertionError("batch key generation made %d keys" % len(self.persons))

    def close(self):
        self.home.kill_agent()
        shutil.rmtree(self.home.path, ignore_errors=True)


class BatchPerson:
    def __init__(self, home):
        self.home = home
        self.fpr = self.subkey = self.name = self.email = ""
        self.clearance, self.kind = "RED", "person"

    def toml(self):
        return helpers.person_toml(self.email, self.name, self.fpr, self.clearance, self.kind)

    def public(self):
        return b""  # all keys are exported at once


class ManyDirectory(Directory):
    def __init__(self, batch):
        super().__init__(batch.persons)
        self.batch = batch

    def public_keys(self):
        return self.batch.home.run("--armor", "--export").stdout


class KillFanoutTest(unittest.TestCase):
    """kill -9 while 200 copies are being relayed (a slow sink), restart on
    the same state: every member gets at least one copy, nobody gets one
    encrypted to someone else, and the outbox ends with 200 delivered."""

    KILL_AT = 40       # copies at the sink when tlpmaild is killed
    SINK_DELAY_MS = 25  # per message: 2 connections, ~80 copies a second at most

    def setUp(self):
        self.keys = BatchKeys(MANY)
        self.addCleanup(self.keys.close)
        self.sink = harness.Sink(("--delay-ms", self.SINK_DELAY_MS))
        self.addCleanup(self.sink.close)
        self.sink.start()
        emails = [x.email for x in self.keys.persons]
        self.site = Site(ManyDirectory(self.keys), emails, [emails[0]], self.sink.port,
                         max_connections=2)
        self.addCleanup(self.site.close)

    def log(self):
        return "daemon stderr:\n" + self.site.log() + "\nsink stderr:\n" + self.sink.log()

    def test_kill9_mid_fanout_every_member_gets_a_copy(self):
        persons = {x.email: x for x in self.keys.persons}
        sender = self.keys.persons[0]
        first = self.site.start()
        list_fpr, list_pub = self.site.list_key()
        self.keys.home.import_keys(list_pub)
        marker = "BODY-MARKER-" + secrets.token_hex(8)
        qid = self.site.send(sender, posting(sender, list_fpr, "[TLP:RED] Two hundred",
                                             body_text(marker)))
        self.sink.wait_count(self.KILL_AT, timeout=WAIT, why="before the kill")
        first.kill()
        at_kill = self.sink.count()
        self.assertLess(at_kill, MANY, "all copies went out before the kill; slow the sink down")
        states = dict(self.site.query("SELECT state, COUNT(*) FROM outbox_copies GROUP BY state"))
        self.assertEqual(sum(states.values()), MANY, states)
        self.assertLess(states.get("delivered", 0), MANY, states)

        second = self.site.start()
        m = second.wait_log(r" - outbox requeued_in_flight=(\d+) waiting=(\d+) failed_total=0")
        requeued = int(m.group(1))
        self.assertEqual(requeued, states.get("in_flight", 0))
        self.assertEqual(int(m.group(2)), MANY - states.get("delivered", 0))

        def all_arrived():
            return {x["rcpt_to"][0] for x, _ in self.sink.messages()} >= set(persons)
        wait_for(all_arrived, "a copy for every member", log=self.log)
        wait_for(lambda: self.site.query(
            "SELECT COUNT(*) FROM outbox_copies WHERE state = 'delivered'")[0][0] == MANY,
            "200 delivered in the outbox", log=lambda: str(self.site.outbox()) + self.log())
        second.wait_no_sessions()
        self.assertEqual(second.stop(), 0, self.log())

        rows = self.site.outbox()
        self.assertEqual(len(rows), MANY)
        self.assertEqual({(r[0], r[1], r[3]) for r in rows}, {("copy", qid, "delivered")})
        self.assertEqual(sorted(r[2] for r in rows), sorted(persons))

        messages = self.sink.messages()
        ids = set()
        for meta, raw in messages:
            self.assertRegex(meta["mail_from"], VERP_RE)
            self.assertEqual(len(meta["rcpt_to"]), 1)
            person = persons.get(meta["rcpt_to"][0])
            self.assertIsNotNone(person, meta)
            # Encrypted to its recipient and nobody else.
            self.assertEqual(pkesk_key_ids(armored_of(raw)), [person.subkey], meta)
            ids.add(dict(header_fields(raw))["Message-ID"])
        self.assertEqual(len(ids), 1, "the message was fanned out more than once")
        # Each duplicate is a copy that was in flight at the kill.
        self.assertLessEqual(len(messages) - MANY, requeued)
        # The content survived: the last copy opens (the home holds every key).
        plain = self.keys.home.run("--decrypt", "--output", "-",
                                   data=armored_of(messages[-1][1])).stdout
        self.assertIn(marker.encode(), plain)
        sys.stderr.write(f"\nkill -9 at {at_kill} copies at the sink, outbox {states}, "
                         f"requeued {requeued}, {len(messages)} copies in all\n")


if __name__ == "__main__":
    unittest.main()
