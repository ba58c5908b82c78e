"""Intake security (issue 10) through the real tlpmaild, real gpg and a
real SMTP sink: each class of input that got around docs/threat-model.md
before, with the reply the daemon gives now.

  1. decryption output is bounded: a compressed message inflating to 64 MiB
     gets 552 5.3.4 and the daemon's memory does not follow;
  2. a label no signature covers can raise, never lower; thread inheritance
     reads the signed In-Reply-To/References too;
  3. protected headers are binding (From, To/Cc), the copy shows the signed
     Subject (sign-then-encrypt too), unsigned root fields are not carried;
  5. no membership oracle: an old or replayed signature of a non-member is
     "too old" / "replay", never "not a member";
  7. a cross-post encrypted to two lists is accepted by both; garbage in an
     encrypted part and AEAD (rnp --aead) are refused with their own reasons.

One daemon and one sink for the class; test-only keys made at test time.
Every check here failed on the code before issue 10 (docs/threat-model.md
names each test). Standard library only (plus gpg, rnp)."""

import email
import email.policy
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
from corpus_gpg import Home  # noqa: E402
from corpus_mime import (as_part, boundary, crlf, date_header, encrypted_multipart,  # noqa: E402
                         entity, multipart_body, signed_multipart)
from delivery_test import DAY, DOMAIN, OPS, Person, armored_of, wait_for  # noqa: E402

RED = "red@" + DOMAIN
MAX_SIZE = 1048576  # [server] max_message_size of this site


def header_block(sender, to, subject, extra=()):
    domain = sender.email.split("@")[1]
    fields = [("From", f'"{sender.name}" <{sender.email}>'), ("To", to),
              ("Subject", subject), ("Date", date_header(time.time())),
              ("Message-ID", f"<{secrets.token_hex(8)}@{domain}>")] + list(extra)
    return fields + [("MIME-Version", "1.0")]


def message(fields, ctype, body):
    return b"".join(crlf(f"{n}: {v}\n") for n, v in fields) + as_part(ctype, body)


def text_entity(text, protected=None):
    """A text/plain entity; `protected` (name, value) pairs make it carry
    protected header fields (Content-Type ... protected-headers="v1")."""
    ctype = "text/plain; charset=utf-8"
    fields = [("Content-Type", ctype + ('; protected-headers="v1"' if protected else ""))]
    return entity(fields + list(protected or []), text)


def signed_entity(person, part, extra=()):
    """A multipart/signed entity over `part` (exact bytes); `extra` fields
    go on the multipart/signed itself (outside the signature)."""
    signature = person.home.detach_sign(person.fpr, part)
    ctype, body = signed_multipart(part, signature)
    return as_part(ctype, body, extra)


class OldPerson(Person):
    """A person whose key (no expiry) was made 20 days ago, so that it can
    make signatures dated in the past."""

    def __init__(self, email_address, name, clearance):
        self.email, self.name, self.clearance, self.kind = email_address, name, clearance, "person"
        self.home = Home(helpers.short_tempdir("tlpm"))
        made = int(time.time()) - 20 * DAY
        self.fpr = self.home.generate(f"{name} <{email_address}>", "ed25519", "sign,cert",
                                      faketime=made)
        self.home.add_subkey(self.fpr, "cv25519", "encr", faketime=made + 600)
        self.subkey = next(r[4] for r in self.home.colons(self.fpr) if r[0] == "sub")


class Site(harness.DaemonSite):
    """ops@ (ceiling RED, default AMBER) and red@ (ceiling RED, default
    RED); [relay] points at the sink."""

    def __init__(self, persons, lists, relay_port):
        super().__init__("tlpi")
        keys = os.path.join(self.config_dir, "keys")
        os.makedirs(keys)
        with open(os.path.join(keys, "members.asc"), "wb") as f:
            f.write(b"".join(p.public() for p in persons))
        helpers.write(os.path.join(self.config_dir, "directory.toml"),
                      "".join(p.toml() for p in persons))
        for name, (default, members) in lists.items():
            helpers.write(os.path.join(self.config_dir, "lists.d", name + ".toml"),
                          helpers.list_toml(f"{name}@{DOMAIN}", [m.email for m in members],
                                            tlp_ceiling="RED", tlp_default=default))
        helpers.write(self.config, f"""
            [server]
            hostname = "{harness.HOSTNAME}"
            listen = ["127.0.0.1:{self.port}"]
            protocol = "smtp"
            max_message_size = {MAX_SIZE}

            [relay]
            host = "127.0.0.1"
            port = {relay_port}

            [paths]
            state_dir = "../state"

            [log]
            level = "info"
            """)


def alice_and_bob():
    """The two people every site here has: Alice (RED), who comes first and
    so is the lists' admin, and Bob (AMBER)."""
    return (Person("alice@a.example", "Alice Example", "RED"),
            Person("bob@b.example", "Bob Beispiel", "AMBER"))


class PeopleSiteCase(unittest.TestCase):
    """A test class on one Site: its people (own GnuPG homes), its lists, a
    sink as the relay, the daemon started; every person holds every list's
    public key, `cls.list_fprs[address]` its fingerprint. Subclasses call
    start_site from setUpClass; everything is closed after the class."""

    root = None  # a folder of the class's own (a fake clock's), removed at the end

    @classmethod
    def start_site(cls, people, lists, *daemon_args, site_class=None, site_args=()):
        cls.people = people
        cls.sink = harness.Sink()
        cls.sink.start()
        cls.site = (site_class or Site)(people, lists, cls.sink.port, *site_args)
        cls.configure_site()
        cls.site.start(*daemon_args)
        cls.list_fprs = {}
        for name in lists:
            address = f"{name}@{DOMAIN}"
            cls.list_fprs[address], public = cls.site.list_key(address)
            for p in people:
                p.home.import_keys(public)

    @classmethod
    def make_root(cls, prefix):
        """The class's own folder (cls.root, removed after the class)."""
        cls.root = helpers.short_tempdir(prefix)
        return cls.root

    @classmethod
    def configure_site(cls):
        """Called between writing the site's files and starting the daemon."""

    @classmethod
    def tearDownClass(cls):
        cls.site.close()
        cls.sink.close()
        for p in cls.people:
            p.close()
        if cls.root:
            shutil.rmtree(cls.root, ignore_errors=True)

    def log(self):
        return "daemon stderr:\n" + self.site.log()

    def send(self, person, data, to=OPS):
        return harness.smtp_send(self.site.daemon.port, person.email, [to], data)


class IntakeSecurityTest(PeopleSiteCase):

    @classmethod
    def setUpClass(cls):
        cls.alice, cls.bob = alice_and_bob()
        cls.carol = Person("carol@c.example", "Carol Exemple", "GREEN")
        cls.dave = OldPerson("dave@d.example", "Dave Outside", "RED")  # on red@ only
        cls.start_site([cls.alice, cls.bob, cls.carol, cls.dave],
                       {"ops": ("AMBER", [cls.alice, cls.bob, cls.carol]),
                        "red": ("RED", [cls.alice, cls.bob, cls.dave])},
                       "--retry-seconds", "1")
        cls.ops_fpr, cls.red_fpr = cls.list_fprs[OPS], cls.list_fprs[RED]

    def send_ok(self, person, data, to=OPS):
        code, text = self.send(person, data, to)
        qid = harness.queued_id(text)
        self.assertTrue(code == 250 and qid, f"{code} {text}\n{self.log()}")
        return qid

    def audit(self, qid):
        """(label, list_message_id, [chosen recipients]) of an accepted message."""
        rows = self.site.query("SELECT id, label FROM audit_log WHERE queue_id = ? AND"
                               " verdict = 'accepted'", (qid,))
        self.assertEqual(len(rows), 1, rows)
        chosen = [r[0] for r in self.site.query(
            "SELECT address FROM audit_recipients WHERE audit_id = ? AND chosen = 1"
            " ORDER BY position", (rows[0][0],))]
        return rows[0][1], chosen

    def copy_for(self, person, qid):
        """The decrypted copy of message `qid` that `person` received."""
        def found():
            mid = self.site.query("SELECT list_message_id FROM audit_log WHERE queue_id = ?",
                                  (qid,))
            if not mid or not mid[0][0]:
                return None
            for meta, raw in self.sink.messages():
                if meta["rcpt_to"] == [person.email] and mid[0][0].encode() in raw:
                    return raw
            return None
        raw = wait_for(found, f"the copy of {qid} for {person.email}", log=self.log)
        code, plain, status = person.decrypt(armored_of(raw))
        self.assertEqual(code, 0, status)
        return raw, plain

    def combined(self, sender, inner, recipients=None, subject="...", extra=()):
        """multipart/encrypted: `inner` signed and encrypted in one pass to
        the list keys `recipients` (default ops@) and the sender."""
        fprs = recipients or [self.ops_fpr]
        armored = sender.home.encrypt(fprs + [sender.fpr], inner, signer=sender.fpr)
        ctype, body = encrypted_multipart(armored)
        to = ", ".join(OPS if f == self.ops_fpr else RED for f in fprs)
        return message(header_block(sender, to, subject, extra), ctype, body)

    # ---------------------------------------------------------------- 1

    def vm_hwm_kib(self):
        with open(f"/proc/{self.site.daemon.proc.pid}/status") as f:
            return int(re.search(r"VmHWM:\s+(\d+) kB", f.read()).group(1))

    def test_1_decompression_bomb_is_refused_with_memory_bounded(self):
        before = self.vm_hwm_kib()
        inflated = 64 * 1024 * 1024
        inner = b"Content-Type: text/plain\r\n\r\n" + b"A" * inflated
        armored = self.alice.home.encrypt([self.ops_fpr], inner, signer=self.alice.fpr,
                                          extra=("--compress-algo", "zlib", "-z", "9"))
        self.assertLess(len(armored), MAX_SIZE // 4)  # the SMTP limit does not catch it
        ctype, body = encrypted_multipart(armored)
        data = message(header_block(self.alice, OPS, "[TLP:AMBER] bomb"), ctype, body)
        code, text = self.send(self.alice, data)
        self.assertEqual((code, text),
                         (552, f"5.3.4 decrypted content is too large (more than {MAX_SIZE} "
                               "bytes)"), self.log())
        grown_mib = (self.vm_hwm_kib() - before) / 1024
        self.assertLess(grown_mib, 32, f"peak RSS grew by {grown_mib:.0f} MiB")
        # Still up and answering.
        ok = self.combined(self.alice, text_entity("[TLP:AMBER]\n\nafter the bomb\n"))
        self.send_ok(self.alice, ok)

    # ---------------------------------------------------------------- 2

    def test_2_unsigned_subject_label_cannot_lower(self):
        # No label in the signed content; an MTA wrote TLP:CLEAR on the outside.
        plain = self.combined(self.alice, text_entity("Conference call at 10:00.\n"),
                              subject="[TLP:CLEAR] Conference call")
        qid = self.send_ok(self.alice, plain)
        label, chosen = self.audit(qid)
        self.assertEqual(label, "AMBER")  # the list default, not CLEAR
        self.assertEqual(chosen, [self.alice.email, self.bob.email])  # not carol (GREEN)
        _, copy = self.copy_for(self.bob, qid)
        self.assertIn(b"TLP not lowered to CLEAR: that label is not covered by the sender's "
                      b"signature", copy)
        self.assertIn(b"Subject: [TLP:AMBER] Conference call", copy)

        # A signed label (protected Subject) may lower it.
        signed = text_entity("Public advisory.\n", protected=[
            ("From", f"Alice Example <{self.alice.email}>"), ("To", OPS),
            ("Subject", "[TLP:GREEN] Public advisory")])
        qid = self.send_ok(self.alice, self.combined(self.alice, signed))
        self.assertEqual(self.audit(qid),
                         ("GREEN", [self.alice.email, self.bob.email, self.carol.email]))

    def test_2_thread_label_from_signed_references(self):
        first = text_entity("Incident details.\n", protected=[
            ("To", OPS), ("Subject", "[TLP:AMBER] Incident 7")])
        qid = self.send_ok(self.alice, self.combined(self.alice, first))
        wait_for(lambda: self.site.query(
            "SELECT list_message_id FROM audit_log WHERE queue_id = ? AND"
            " list_message_id IS NOT NULL", (qid,)), "the fan-out", log=self.log)
        [(list_mid,)] = self.site.query("SELECT list_message_id FROM audit_log WHERE"
                                        " queue_id = ?", (qid,))
        # The reply names the copy only in its signed header fields.
        reply = text_entity("Seen here too.\n", protected=[
            ("To", OPS), ("Subject", "[TLP:GREEN] Re: Incident 7"),
            ("In-Reply-To", f"<{list_mid}>"), ("References", f"<{list_mid}>")])
        qid = self.send_ok(self.bob, self.combined(self.bob, reply))
        label, chosen = self.audit(qid)
        self.assertEqual(label, "AMBER")
        self.assertNotIn(self.carol.email, chosen)

    # ---------------------------------------------------------------- 3

    def test_3_protected_from_must_be_the_signer(self):
        inner = text_entity("[TLP:AMBER]\n\nSent in Bob's name.\n", protected=[
            ("From", f"Bob <{self.bob.email}>"), ("To", OPS), ("Subject", "[TLP:AMBER] x")])
        code, text = self.send(self.alice, self.combined(self.alice, inner))
        self.assertEqual((code, text),
                         (550, "5.7.1 the signed From header does not match the signing key"))

    def test_3_protected_to_cc_must_name_the_list(self):
        # Carol's private signed mail to Alice, re-sent to the list by Alice.
        private = text_entity("[TLP:AMBER]\n\nJust between us.\n", protected=[
            ("From", f"Carol <{self.carol.email}>"), ("To", self.alice.email),
            ("Subject", "[TLP:AMBER] private")])
        signed = signed_entity(self.carol, private)
        armored = self.alice.home.encrypt([self.ops_fpr], signed)
        ctype, body = encrypted_multipart(armored)
        code, text = self.send(self.carol, message(
            header_block(self.carol, OPS, "..."), ctype, body))
        self.assertEqual((code, text),
                         (550, "5.7.1 the signed To/Cc headers do not name this list"))
        # Cc naming the list is enough.
        cc = text_entity("[TLP:AMBER]\n\nFor the list.\n", protected=[
            ("To", self.alice.email), ("Cc", f"The list <{OPS}>"), ("Subject", "x")])
        self.send_ok(self.carol, self.combined(self.carol, cc))

    def test_3_sign_then_encrypt_copy_shows_the_signed_subject(self):
        signed_part = text_entity("Details inside.\n", protected=[
            ("From", f"Bob <{self.bob.email}>"), ("To", OPS),
            ("Subject", "[TLP:GREEN] Signed subject S1")])
        # The multipart/signed wrapper carries header fields of its own:
        # outside the signature, they must not decide anything.
        wrapper = signed_entity(self.bob, signed_part)
        wrapper = wrapper.replace(b"Content-Type: multipart/signed;",
                                  b"Content-Type: multipart/signed; protected-headers=\"v1\";", 1)
        wrapper = b"Subject: [TLP:CLEAR] Wrapper subject\r\n" + wrapper
        armored = self.bob.home.encrypt([self.ops_fpr, self.bob.fpr], wrapper)
        ctype, body = encrypted_multipart(armored)
        qid = self.send_ok(self.bob, message(header_block(self.bob, OPS, "..."), ctype, body))
        self.assertEqual(self.audit(qid)[0], "GREEN")
        raw, plain = self.copy_for(self.carol, qid)
        outer = email.message_from_bytes(raw, policy=email.policy.default)
        self.assertEqual(outer["Subject"], "[TLP:GREEN] Signed subject S1")
        inner = email.message_from_bytes(plain, policy=email.policy.default)
        self.assertEqual(inner["Subject"], "[TLP:GREEN] Signed subject S1")
        self.assertNotIn(b"Wrapper subject", plain)
        self.assertIn(b"TLP not lowered to CLEAR", plain)

    def test_3_unsigned_root_fields_are_not_carried(self):
        part = text_entity("[TLP:AMBER]\n\nSigned body.\n")
        signature = self.alice.home.detach_sign(self.alice.fpr, part)
        ctype, body = signed_multipart(part, signature)
        fields = header_block(self.alice, OPS, "[TLP:AMBER] root fields",
                              [("Content-Description", "INJECTED-DESCRIPTION"),
                               ("Content-Disposition", "inline; filename=INJECTED.txt")])
        data = b"".join(crlf(f"{n}: {v}\n") for n, v in fields) + as_part(ctype, body)
        qid = self.send_ok(self.alice, data)
        _, plain = self.copy_for(self.bob, qid)
        self.assertIn(b"Signed body.", plain)
        self.assertNotIn(b"INJECTED", plain)

    # ---------------------------------------------------------------- 5

    def test_5_no_membership_oracle(self):
        # Dave is a member of red@ only. His old signature sent to ops@:
        old = int(time.time()) - 10 * DAY
        part = text_entity("[TLP:RED]\n\nOld news.\n")
        signature = self.dave.home.detach_sign(self.dave.fpr, part, faketime=old)
        ctype, body = signed_multipart(part, signature)
        code, text = self.send(self.dave, message(
            header_block(self.dave, OPS, "[TLP:RED] old"), ctype, body))
        self.assertEqual((code, text), (550, "5.7.1 signature is too old"))
        # His fresh message, accepted on red@, then replayed to ops@:
        part = text_entity("[TLP:RED]\n\nFresh news.\n")
        ctype, body = signed_multipart(part, self.dave.home.detach_sign(self.dave.fpr, part))
        data = message(header_block(self.dave, RED, "[TLP:RED] fresh"), ctype, body)
        self.send_ok(self.dave, data, to=RED)
        code, text = self.send(self.dave, data, to=OPS)
        self.assertEqual((code, text), (550, "5.7.1 signature was already used (replay)"))

    # ---------------------------------------------------------------- 7

    def test_7_cross_post_is_accepted_by_each_list(self):
        inner = text_entity("[TLP:AMBER]\n\nTo both lists.\n", protected=[
            ("To", f"{OPS}, {RED}"), ("Subject", "[TLP:AMBER] cross-post")])
        data = self.combined(self.alice, inner, recipients=[self.ops_fpr, self.red_fpr])
        first = self.send_ok(self.alice, data, to=OPS)
        second = self.send_ok(self.alice, data, to=RED)
        self.assertNotEqual(first, second)
        # Each list once: the same bytes again are exact retries.
        self.assertEqual(self.send(self.alice, data, to=RED),
                         (250, f"2.0.0 Ok: already queued as {second}"))

    def test_7_cross_post_is_bound_to_the_first_ciphertext(self):
        # Sign, then encrypt: anyone who can read the signed entity could
        # encrypt it again to another list. Only the lists the first
        # accepted ciphertext named may accept the signature.
        signed = signed_entity(self.alice, text_entity("[TLP:AMBER]\n\nops only.\n", protected=[
            ("To", f"{OPS}, {RED}"), ("Subject", "[TLP:AMBER] bound")]))
        def sent_to(fprs, to):
            ctype, body = encrypted_multipart(self.alice.home.encrypt(fprs, signed))
            return self.send(self.alice, message(header_block(self.alice, to, "..."),
                                                 ctype, body), to=to)
        self.assertEqual(sent_to([self.ops_fpr], OPS)[0], 250)
        self.assertEqual(sent_to([self.ops_fpr, self.red_fpr], RED),
                         (550, "5.7.1 signature was already used (replay)"))

    def test_7_garbage_in_the_encrypted_part(self):
        ctype, body = encrypted_multipart(b"this is not OpenPGP at all\n")
        code, text = self.send(self.alice, message(
            header_block(self.alice, OPS, "[TLP:AMBER] garbage"), ctype, body))
        self.assertEqual((code, text),
                         (550, "5.6.0 the encrypted part is not a valid encrypted OpenPGP "
                               "message"))

    def test_7_aead_is_refused_with_its_own_reason(self):
        if shutil.which("rnp") is None:
            self.skipTest("rnp is not installed (scripts/install-deps.sh installs it)")
        home = helpers.short_tempdir("tlpr")
        self.addCleanup(shutil.rmtree, home, True)
        _, ops_pub = self.site.list_key(OPS)
        key = os.path.join(home, "ops.asc")
        with open(key, "wb") as f:
            f.write(ops_pub)
        rnp = ["rnp", "--homedir", os.path.join(home, "k")]
        os.makedirs(os.path.join(home, "k"), mode=0o700)
        subprocess.run(["rnpkeys", "--homedir", os.path.join(home, "k"), "--import-keys", key],
                       check=True, capture_output=True)
        inner = text_entity("[TLP:AMBER]\n\nAEAD.\n")
        src = os.path.join(home, "msg")
        with open(src, "wb") as f:
            f.write(inner)
        for mode in ("ocb", "eax"):
            with self.subTest(aead=mode):
                out = os.path.join(home, mode + ".asc")
                subprocess.run(rnp + ["--encrypt", f"--aead={mode}", "-r", OPS, "--armor",
                                      src, "--output", out], check=True, capture_output=True)
                with open(out, "rb") as f:
                    ctype, body = encrypted_multipart(f.read())
                code, text = self.send(self.alice, message(
                    header_block(self.alice, OPS, "[TLP:AMBER] aead"), ctype, body))
                self.assertEqual((code, text),
                                 (550, "5.6.0 AEAD-encrypted messages (OCB/EAX) are not "
                                       "supported yet; please encrypt without AEAD"))


if __name__ == "__main__":
    unittest.main()
