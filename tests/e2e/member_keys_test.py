"""Members' keys through the real tlpmaild, real gpg and a real SMTP sink
(issue 11, "Member keys: expiry, refresh, revocation"):

  UpdateKeyTest    update-key with the pinned fingerprint extends the key as
                   `tlpmailctl --json keys` and the next my-key show it (the
                   daemon reloads its keys at once); another fingerprint or
                   a secret key is refused and changes nothing; a
                   revocation sent with update-key, or put into keys_dir
                   (no reload: the daemon's keys watch sees the file),
                   withholds the member from everything at once; a broken
                   file in keys_dir keeps the old keys;
                   `tlpmailctl keys --export` writes the merged key.
  ExpiryNoticeTest under libfaketime: a key expiring in 40 days gets one
                   notice 30, 7 and 1 days before, each once, across key
                   checks, reloads and a restart.
  DigestTest       under libfaketime: the admins get one digest a day that
                   lists every key problem instead of a notice per message;
                   the audit log still names who was withheld.

The daemon's clock is moved with libfaketime (FAKETIME_TIMESTAMP_FILE, read
at every call; the monotonic clock is left alone, so timers behave); gpg
under the daemon sees the same time, and the test's own gpg runs use
--faked-system-time with it. Test-only keys made at test time; standard
library only."""

import email
import email.policy
import email.utils
import json
import os
import re
import signal
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
from corpus_mime import (as_part, base64_lines, boundary, encrypted_multipart,  # noqa: E402
                         entity, multipart_body)
from delivery_test import Person, armored_of, posting, wait_for  # noqa: E402
from intake_security_test import (OPS, PeopleSiteCase, Site, alice_and_bob,  # noqa: E402
                                  header_block, message, text_entity)

TLPMAILCTL = os.environ.get("TLPMAILCTL", "build/daemon/tlpmailctl")
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
REQUEST = "ops-request@" + harness.LIST_DOMAIN
DAY = 86400
KEY_REASON = "key not usable (missing, expired, revoked or too weak)"
# --job-tick-ms: the periodic jobs look every 200 ms whether they are due;
# --keys-poll-ms: keys_dir and keys.d are looked at every 300 ms (not 10 s).
DAEMON_ARGS = ("--retry-seconds", "1", "--job-tick-ms", "200", "--keys-poll-ms", "300")


def utc_date(t):
    return time.strftime("%Y-%m-%d", time.gmtime(t))


class ExpiringPerson(Person):
    """A member whose key (primary and encryption subkey) expires `days`
    days after it is made, at `made` (Unix time, default an hour ago: gpg
    will not encrypt to a subkey made in its future)."""

    def __init__(self, email_address, name, clearance, days, made=None):
        self.email, self.name, self.clearance, self.kind = email_address, name, clearance, "person"
        self.home = Home(helpers.short_tempdir("tlpm"))
        made = int(made or time.time() - 3600)
        self.fpr = self.home.generate(f"{name} <{email_address}>", "ed25519", "sign,cert",
                                      f"{days}d", faketime=made)
        self.home.add_subkey(self.fpr, "cv25519", "encr", f"{days}d", faketime=made + 60)
        self.subkey = next(r[4] for r in self.home.colons(self.fpr) if r[0] == "sub")

    def extend(self, faketime=None):
        """Moves the expiry of the key and its subkeys 2 years ahead."""
        self.home.run("--quick-set-expire", self.fpr, "2y", faketime=faketime)
        self.home.run("--quick-set-expire", self.fpr, "2y", "*", faketime=faketime)


def revocation_certificate(person):
    """The revocation certificate gpg wrote when the key was made."""
    with open(os.path.join(person.home.path, "openpgp-revocs.d", person.fpr + ".rev"), "rb") as f:
        return f.read().replace(b":-----BEGIN PGP PUBLIC KEY BLOCK",
                                b"-----BEGIN PGP PUBLIC KEY BLOCK")


class Clock:
    """The daemon's fake clock: an offset in seconds from the real time,
    written to the file libfaketime reads at every call."""

    def __init__(self, folder):
        self.file = os.path.join(folder, "faketime")
        self.offset = 0
        self.set(0)

    def set(self, seconds):
        self.offset = int(seconds)
        with open(self.file, "w") as f:
            f.write("%+d\n" % self.offset)

    def now(self):
        return time.time() + self.offset

    def env(self):
        return {"LD_PRELOAD": FAKETIME_LIB, "FAKETIME_TIMESTAMP_FILE": self.file,
                "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}


class ClockDaemon(harness.Daemon):
    """harness.Daemon with libfaketime's variables in its environment."""

    def __init__(self, config, args, extra_env):
        super().__init__(config, args)
        self.extra_env = extra_env

    def start(self):
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        env.pop("NOTIFY_SOCKET", None)
        env.update(self.extra_env)
        self.spawn([os.path.abspath(harness.TLPMAILD), "--config", self.config] + self.args, env)
        m = self.wait_log(harness.READY_RE, timeout=harness.READY_TIMEOUT)
        self.ready = {"listen": m.group(1), "protocol": m.group(2), "pending": int(m.group(3))}
        self.port = int(self.ready["listen"].split(",")[0].rsplit(":", 1)[1])
        return self.ready


class KeySite(Site):
    """intake_security_test's site (ops@, admins: the first member) with an
    optional fake clock for the daemon and for tlpmailctl."""

    def __init__(self, persons, lists, relay_port, clock=None):
        super().__init__(persons, lists, relay_port)
        self.clock = clock

    def start(self, *args):
        if self.clock is None:
            return super().start(*args)
        self.daemon = ClockDaemon(self.config, args, self.clock.env())
        self.daemons.append(self.daemon)
        self.daemon.start()
        return self.daemon

    def ctl(self, *args):
        env = dict(os.environ)
        if self.clock is not None:
            env.update(self.clock.env())
        p = subprocess.run([os.path.abspath(TLPMAILCTL), "--config", self.config] + list(args),
                           capture_output=True, text=True, timeout=120, env=env)
        return p.returncode, p.stdout, p.stderr

    def keys_json(self):
        """tlpmailctl --json keys, by e-mail."""
        _, out, err = self.ctl("--json", "keys")
        try:
            return {k["email"]: k for k in json.loads(out)["keys"]}
        except ValueError:
            raise AssertionError("tlpmailctl --json keys: " + out + err)

    def notices_to(self, address, sink, subject_part):
        """Decryptable letters to `address` whose Subject holds `subject_part`."""
        out = []
        for meta, raw in sink.messages():
            if meta["rcpt_to"] != [address]:
                continue
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            if subject_part in str(msg["Subject"]):
                out.append(raw)
        return out


class KeysCase(PeopleSiteCase):
    """Shared helpers: a request to ops-request@, its answer, a post."""

    clock = None

    @classmethod
    def start_keys_site(cls, people):
        """ops@ with all of `people`, the daemon on the class's clock."""
        cls.start_site(people, {"ops": ("AMBER", people)}, *DAEMON_ARGS, site_class=KeySite,
                       site_args=(cls.clock,))
        cls.ops_fpr = cls.list_fprs[OPS]

    def faketime(self):
        return int(self.clock.now()) if self.clock else None

    def request(self, person, text, attachments=()):
        """A request signed by `person` and encrypted to the list key and
        to `person`; `attachments` are (file name, type, bytes)."""
        protected = [("To", REQUEST), ("Subject", "request")]
        if attachments:
            bnd = boundary()
            parts = [entity([("Content-Type", "text/plain; charset=utf-8")], text)]
            for name, ctype, data in attachments:
                parts.append(entity([("Content-Type", f'{ctype}; name="{name}"'),
                                     ("Content-Disposition", f'attachment; filename="{name}"'),
                                     ("Content-Transfer-Encoding", "base64")],
                                    base64_lines(data)))
            inner = as_part(f'multipart/mixed; boundary="{bnd}"; protected-headers="v1"',
                            multipart_body(parts, bnd), protected)
        else:
            inner = text_entity(text, protected=protected)
        armored = person.home.encrypt([self.ops_fpr, person.fpr], inner, signer=person.fpr,
                                      faketime=self.faketime())
        ctype, body = encrypted_multipart(armored)
        return message(header_block(person, REQUEST, "request"), ctype, body)

    def send(self, person, data, to=REQUEST):
        code, text = harness.smtp_send(self.site.daemon.port, person.email, [to], data)
        return code, text

    def answer(self, person, text, attachments=()):
        """Sends a request and returns the decrypted text of its answer."""
        before = len(self.replies_to(person))
        code, reply = self.send(person, self.request(person, text, attachments))
        self.assertEqual(code, 250, reply)
        replies = wait_for(lambda: (r := self.replies_to(person)) and len(r) > before and r,
                           f"an answer to {person.email}", log=self.log)
        code, plain, status = person.decrypt(armored_of(replies[-1]))
        self.assertEqual(code, 0, status)
        valid = [s.split() for s in status if s.startswith("VALIDSIG ")]
        self.assertEqual(valid[0][-1], self.ops_fpr)  # signed by the list key
        inner = email.message_from_bytes(plain, policy=email.policy.default)
        part = inner if inner.get_content_type() == "text/plain" else inner.get_payload()[0]
        return part.get_content().replace("\r\n", "\n")

    def replies_to(self, person):
        return [raw for meta, raw in self.sink.messages()
                if meta["rcpt_to"] == [person.email] and b"answer to your request" in raw]

    def post(self, sender, subject="[TLP:AMBER] key test"):
        """A signed and encrypted post from `sender`; returns the queue id."""
        data = posting(sender, self.ops_fpr, subject, "text\n")
        if self.clock is not None:  # signed at the daemon's time
            data = self.post_at(sender, subject)
        code, text = harness.smtp_send(self.site.daemon.port, sender.email, [OPS], data)
        self.assertEqual(code, 250, f"{text}\n{self.log()}")
        return harness.queued_id(text)

    def post_at(self, sender, subject):
        inner = text_entity("text\n", protected=[("From", f'"{sender.name}" <{sender.email}>'),
                                                 ("To", OPS), ("Subject", subject)])
        armored = sender.home.encrypt([self.ops_fpr, sender.fpr], inner, signer=sender.fpr,
                                      faketime=self.faketime())
        ctype, body = encrypted_multipart(armored)
        return message(header_block(sender, OPS, subject), ctype, body)

    def fanned_out(self, qid):
        """Waits until message `qid` is fanned out; returns (recipients of
        its copies, {address: why} of those left out in its audit row)."""
        wait_for(lambda: self.site.query(
            "SELECT 1 FROM spool_messages WHERE id = ? AND state = 'done'", (qid,)),
            f"message {qid} fanned out", log=self.log)
        copies = [r[0] for r in self.site.query(
            "SELECT c.recipient FROM outbox_copies c JOIN outbox_messages m ON m.id = c.message"
            " WHERE m.source_id = ? AND m.kind = 'copy'", (qid,))]
        left_out = dict(self.site.query(
            "SELECT r.address, r.why FROM audit_recipients r JOIN audit_log a ON a.id = r.audit_id"
            " WHERE a.queue_id = ? AND a.verdict = 'accepted' AND r.chosen = 0", (qid,)))
        return sorted(copies), left_out


# --- update-key and revocations -----------------------------------------------

class UpdateKeyTest(KeysCase):

    @classmethod
    def setUpClass(cls):
        cls.alice = Person("alice@a.example", "Alice Example", "RED")
        cls.bob = ExpiringPerson("bob@b.example", "Bob Beispiel", "AMBER", 20)
        cls.carol = Person("carol@c.example", "Carol Exemple", "AMBER")
        cls.erin = Person("erin@e.example", "Erin Example", "AMBER")
        cls.frank = Person("frank@f.example", "Frank Example", "AMBER")
        cls.start_keys_site([cls.alice, cls.bob, cls.carol, cls.erin, cls.frank])

    def update_file(self, person):
        return os.path.join(self.site.state, "keys.d", person.fpr + ".asc")

    def assert_revoked_is_out(self, person, also_copied=None):
        """`person`'s key is revoked: withheld from Alice's next post (for
        KEY_REASON, while `also_copied` still gets a copy), and a posting
        signed by the revoked key is refused with a 5xx naming it."""
        copies, left_out = self.fanned_out(self.post(self.alice))
        self.assertNotIn(person.email, copies)
        if also_copied:
            self.assertIn(also_copied.email, copies)
        self.assertEqual(left_out.get(person.email), KEY_REASON)
        code, text = self.send(person, posting(person, self.ops_fpr, "[TLP:AMBER] hi", "text\n"),
                               to=OPS)
        self.assertEqual(code // 100, 5, text)
        self.assertIn("revoked", text)

    def test_extended_key_is_used_at_once(self):
        before = self.site.keys_json()[self.bob.email]
        self.assertEqual(before["source"], "keys_dir")
        self.assertLessEqual(before["days_to_expiry"], 20)
        self.bob.extend()
        mark = self.site.daemon.mark()
        text = self.answer(self.bob, "update-key\nmy-key\n",
                           [("bob.asc", "application/pgp-keys", self.bob.public())])
        self.assertIn(f"Your key {self.bob.fpr} was updated:", text)
        self.assertRegex(text, r"the list can use your key until \d{4}-\d\d-\d\d \(was ")
        self.assertIn("The list uses the new version from now on.", text)
        # The daemon loaded its keys again at once.
        self.site.daemon.wait_log(r" - reload status=ok what=keys", since=mark)
        after = self.site.keys_json()[self.bob.email]
        self.assertEqual(after["fingerprint"], self.bob.fpr)
        self.assertEqual(after["status"], "ok")
        self.assertGreater(after["days_to_expiry"], 700)
        self.assertGreater(after["expires"], before["expires"])
        self.assertEqual(after["source"], "update by mail")
        self.assertEqual(after["source_date"], utc_date(time.time()))
        for field in ("email", "fingerprint", "expires", "status", "usable", "detail", "file",
                      "algorithm", "created"):
            self.assertIn(field, after)
        self.assertTrue(os.path.isfile(self.update_file(self.bob)))
        # my-key (answered by the daemon with its new keys) shows it too.
        text = self.answer(self.bob, "my-key\n")
        self.assertIn("expires      " + after["expires"], text)
        self.assertIn("from         your update by mail of " + utc_date(time.time()), text)
        # The same key again changes nothing.
        text = self.answer(self.bob, "update-key\n",
                           [("bob.asc", "application/pgp-keys", self.bob.public())])
        self.assertIn("holds nothing the list does not have already", text)
        # The text table shows days and source before the status.
        _, out, _ = self.site.ctl("keys")
        header = out.splitlines()[0].split()
        self.assertEqual(header[-3:], ["DAYS", "SOURCE", "STATUS"])
        bob = [l for l in out.splitlines() if l.startswith(self.bob.email)][0]
        self.assertRegex(bob, r" 7\d\d +mail \d{4}-\d\d-\d\d +ok$")
        # --export writes the merged key back for the admins.
        export = os.path.join(self.site.root, "export")
        code, out, err = self.site.ctl("keys", "--export", export)
        self.assertEqual(code, 0, err)
        shown = subprocess.run(["gpg", "--batch", "--with-colons", "--show-keys",
                                os.path.join(export, self.bob.email + ".asc")],
                               capture_output=True, text=True)
        pub = [l.split(":") for l in shown.stdout.splitlines() if l.startswith("pub:")][0]
        self.assertGreater(int(pub[6]), time.time() + 700 * DAY)
        self.assertEqual(sorted(os.listdir(export)),
                         sorted(p.email + ".asc" for p in self.people))

    def test_other_fingerprint_or_secret_key_changes_nothing(self):
        before = self.site.keys_json()[self.carol.email]
        other = self.carol.home.generate("Carol New <carol.new@c.example>", "ed25519",
                                         "sign,cert")
        self.carol.home.add_subkey(other, "cv25519", "encr")
        text = self.answer(self.carol, "update-key\n",
                           [("new.asc", "application/pgp-keys",
                             self.carol.home.export_public(other))])
        self.assertIn("Your message holds a key with another primary fingerprint:\n  " + other,
                      text)
        self.assertIn("ask the\nadmins of " + OPS + " to change the fingerprint pinned for you",
                      text)
        self.assertIn("Nothing was changed.", text)
        # A secret key is refused as well, and said so.
        text = self.answer(self.carol, "update-key\n",
                           [("mine.key", "application/octet-stream",
                             self.carol.home.export_secret(self.carol.fpr))])
        self.assertIn('the attachment "mine.key" holds a SECRET key', text)
        # No key at all.
        text = self.answer(self.carol, "update-key\n")
        self.assertIn("No key was found in your message.", text)
        self.assertEqual(self.site.keys_json()[self.carol.email], before)
        self.assertFalse(os.path.exists(self.update_file(self.carol)))

    def test_revocation_by_update_key_withholds_at_once(self):
        mark = self.site.daemon.mark()
        text = self.answer(self.erin, "update-key\n",
                           [("erin.rev", "application/pgp-keys",
                             revocation_certificate(self.erin))])
        self.assertIn("your key is revoked", text)
        self.assertIn("the list sends you nothing and accepts nothing signed by this", text)
        self.site.daemon.wait_log(r" - reload status=ok what=keys", since=mark)
        self.assertEqual(self.site.keys_json()[self.erin.email]["status"], "revoked")
        # Withheld from the next post, and nothing she signs is accepted
        # any more.
        self.assert_revoked_is_out(self.erin, also_copied=self.bob)
        # Nor a request: recorded, not answered (the answer to update-key
        # above was the last letter encrypted to her key).
        before = len(self.replies_to(self.erin))
        code, text = self.send(self.erin, self.request(self.erin, "my-key\n"))
        self.assertEqual(code, 250, text)
        qid = harness.queued_id(text)
        row = wait_for(lambda: self.site.query(
            "SELECT refusal, reason FROM audit_log WHERE queue_id = ? AND verdict = 'request'",
            (qid,)), "the audit row of erin's request", log=self.log)[0]
        self.assertNotEqual(row[0] or "", "", row)
        self.assertIn("revoked", row[1])
        time.sleep(1)  # several outbox passes: nothing goes out to her
        self.assertEqual(len(self.replies_to(self.erin)), before)

    def test_a_broken_file_in_keys_dir_keeps_the_old_keys(self):
        # A secret key in keys_dir is an error: the keys load fails, says
        # why, and the keys in force stay (carol still gets copies).
        path = os.path.join(self.site.config_dir, "keys", "zz-carol-secret.asc")
        mark = self.site.daemon.mark()
        with open(path, "wb") as f:
            f.write(self.carol.home.export_secret(self.carol.fpr))
        self.site.daemon.wait_log(r" - keys-watch changed=", since=mark)
        self.site.daemon.wait_log(r"zz-carol-secret\.asc.*the file holds a secret key", since=mark)
        self.site.daemon.wait_log(r" - reload status=failed what=keys kept=\"old keys\"",
                                  since=mark)
        copies, _ = self.fanned_out(self.post(self.alice))
        self.assertIn(self.carol.email, copies)
        # Taken away again: the next load is fine.
        mark = self.site.daemon.mark()
        os.unlink(path)
        self.site.daemon.wait_log(r" - reload status=ok what=keys", since=mark)

    def test_revocation_in_keys_dir_withholds_without_a_reload(self):
        # Named to sort before members.asc: revocations are imported last.
        path = os.path.join(self.site.config_dir, "keys", "0-frank-revoked.asc")
        mark = self.site.daemon.mark()
        with open(path, "wb") as f:
            f.write(revocation_certificate(self.frank))
        code, _, err = self.site.ctl("check-config")
        self.assertEqual(code, 0, err)
        self.assertIn(f"key {self.frank.fpr} of {self.frank.email} is revoked", err)
        # No signal: the keys watch sees the new file within its period.
        self.site.daemon.wait_log(r" - keys-watch changed=", since=mark, timeout=5)
        self.site.daemon.wait_log(r" - reload status=ok what=keys", since=mark)
        # Withheld from the next post; nothing signed by his key is accepted.
        self.assert_revoked_is_out(self.frank)
        self.assertEqual(self.site.keys_json()[self.frank.email]["status"], "revoked")


# --- expiry notices -------------------------------------------------------------

class ExpiryNoticeTest(KeysCase):

    @classmethod
    def setUpClass(cls):
        cls.clock = Clock(cls.make_root("tlpc"))
        cls.alice = Person("alice@a.example", "Alice Example", "RED")
        cls.carol = ExpiringPerson("carol@c.example", "Carol Exemple", "AMBER", 40)
        cls.start_keys_site([cls.alice, cls.carol])

    def notices(self):
        return self.site.notices_to(self.carol.email, self.sink, "your key expires")

    def key_check(self, mark):
        """Waits for a key check that started after `mark`."""
        self.site.daemon.wait_log(r" - job job=key-check status=ok", since=mark)

    def wait_notices(self, n):
        return wait_for(lambda: (m := self.notices()) and len(m) >= n and m,
                        f"{n} expiry notices", log=self.log)

    def test_notices_at_30_7_and_1_days_once_each(self):
        self.key_check(0)
        self.assertEqual(self.notices(), [])  # 40 days left
        days = []
        for offset, want in ((11 * DAY, 30), (34 * DAY, 7), (39 * DAY + 12 * 3600, 1)):
            mark = self.site.daemon.mark()
            self.clock.set(offset)
            raw = self.wait_notices(len(days) + 1)[-1]
            code, plain, status = self.carol.decrypt(armored_of(raw))
            self.assertEqual(code, 0, status)
            self.assertIn(self.ops_fpr, [s.split()[-1] for s in status
                                         if s.startswith("VALIDSIG ")])
            outer = email.message_from_bytes(raw, policy=email.policy.default)
            self.assertEqual(email.utils.parseaddr(outer["From"])[1], REQUEST)
            text = email.message_from_bytes(plain, policy=email.policy.default).get_content()
            left = (40 * DAY - offset + DAY - 1) // DAY
            self.assertIn("(in %d day%s)" % (left, "" if left == 1 else "s"), text)
            self.assertIn("update-key", text)
            self.assertIn("gpg --quick-set-expire " + self.carol.fpr + " 2y", text)
            self.assertIn("to " + REQUEST, text.replace("\n", " "))
            days.append(want)
            # Another key check (a reload asks for one) sends nothing more.
            mark = self.site.daemon.mark()
            self.site.daemon.signal(signal.SIGHUP)
            self.site.daemon.wait_log(r" - reload status=ok lists=", since=mark)
            self.key_check(mark)
            self.assertEqual(len(self.notices()), len(days))
        rows = self.site.query("SELECT threshold FROM key_expiry_notices WHERE fingerprint = ?"
                               " ORDER BY threshold DESC", (self.carol.fpr,))
        self.assertEqual([r[0] for r in rows], [30, 7, 1])
        # A restart runs the key check again: still three notices.
        self.assertEqual(self.site.daemon.stop(), 0, self.log())
        self.site.start(*DAEMON_ARGS)
        self.key_check(0)
        time.sleep(1)
        self.assertEqual(len(self.notices()), 3)


# --- the admins' daily digest -------------------------------------------------------

class DigestTest(KeysCase):

    @classmethod
    def setUpClass(cls):
        cls.clock = Clock(cls.make_root("tlpc"))
        cls.alice, cls.bob = alice_and_bob()
        cls.dave = Person("dave@d.example", "Dave Expired", "AMBER", key="expired")
        cls.erin = Person("erin@e.example", "Erin Revoked", "AMBER", key="revoked")
        cls.greg = ExpiringPerson("greg@g.example", "Greg Expiring", "AMBER", 10)
        cls.start_keys_site([cls.alice, cls.bob, cls.dave, cls.erin, cls.greg])

    def digests(self):
        return self.site.notices_to(self.alice.email, self.sink, "daily digest")

    def digest_text(self, raw):
        code, plain, status = self.alice.decrypt(armored_of(raw))
        self.assertEqual(code, 0, status)
        text = email.message_from_bytes(plain, policy=email.policy.default).get_content()
        return text.replace("\r\n", "\n")

    def test_one_digest_a_day_instead_of_a_notice_per_message(self):
        first = wait_for(lambda: self.digests(), "the first digest", log=self.log)[0]
        text = self.digest_text(first)
        self.assertIn("== Members' keys (3) ==", text)
        self.assertRegex(text, rf"(?m)^  dave@d\.example: key {self.dave.fpr} expired "
                               r"\(expired on \d{4}-\d\d-\d\d\); gets no mail and cannot post$")
        self.assertRegex(text, rf"(?m)^  erin@e\.example: key {self.erin.fpr} revoked; "
                               "gets no mail and cannot post$")
        self.assertRegex(text, rf"(?m)^  greg@g\.example: key {self.greg.fpr} expires on "
                               r"\d{4}-\d\d-\d\d \(in 10 days\)")
        self.assertNotIn("alice@a.example:", text)
        self.assertNotIn("bob@b.example:", text)

        # Three posts: copies for bob and greg (and alice), no notice per message.
        posts = [self.post(self.alice, f"[TLP:AMBER] post {i}") for i in range(3)]
        for qid in posts:
            copies, left_out = self.fanned_out(qid)
            self.assertEqual(copies, sorted(p.email for p in (self.alice, self.bob, self.greg)))
            self.assertEqual(left_out, {self.dave.email: KEY_REASON,
                                        self.erin.email: KEY_REASON})
        kinds = self.site.query("SELECT id FROM outbox_messages WHERE kind = 'notice'")
        self.assertEqual(sorted(k[0].split(".")[0] for k in kinds), ["digest", "key-expiry"])
        # A reload and a restart later the same day: still one digest.
        mark = self.site.daemon.mark()
        self.site.daemon.signal(signal.SIGHUP)
        self.site.daemon.wait_log(r" - reload status=ok lists=", since=mark)
        self.assertEqual(self.site.daemon.stop(), 0, self.log())
        self.site.start(*DAEMON_ARGS)
        self.site.daemon.wait_log(r" - job job=key-check status=ok")
        time.sleep(1.5)  # several ticks: the digest is not due again today
        self.assertEqual(len(self.digests()), 1)

        # The next day: the second digest counts the messages each missed.
        self.clock.set(DAY + 3600)
        second = wait_for(lambda: (d := self.digests()) and len(d) >= 2 and d[1],
                          "the second digest", log=self.log)
        text = self.digest_text(second)
        self.assertRegex(text, r"(?m)^  dave@d\.example: .*; withheld from 3 messages since ")
        self.assertRegex(text, r"(?m)^  erin@e\.example: .*; withheld from 3 messages since ")
        self.assertRegex(text, r"greg@g\.example: key .* \(in 9 days\)")
        time.sleep(1.5)
        self.assertEqual(len(self.digests()), 2)


if __name__ == "__main__":
    unittest.main()
