"""The list key's lifecycle (issue 11, "The list key") through the real
tlpmaild, the real tlpmailctl, real gpg and a real SMTP sink:

  - copies carry an Autocrypt header whose keydata is the list key (primary,
    the list's user ID, the encryption subkey), none with autocrypt = false;
  - rotate-list-key announces the new key to every member (encrypted to
    each, signed by the old and the new key, the new key attached and
    certified by the old one, its fingerprint in the text), makes it the
    key the list signs with, and accepts mail to the old key in the grace
    period; `lists --json` shows the key in grace;
  - with the grace period over (--grace 0; and --grace 3 with the daemon's
    clock moved 2 and 3 days ahead by libfaketime) mail to the old key is
    refused with a reason that names the new key; the old secret key stays
    until retire-list-key deletes it, which refuses the current key;
  - lists/keys warn 60 days before a list key expires (tlpmailctl's clock
    moved by libfaketime);
  - extend-list-key moves the expiry; a key as tlpmail made them before
    (one user ID, no expiry) keeps working, gets the -request user ID at
    start and an expiry from extend-list-key;
  - wkd writes the Web Key Directory files under their z-base-32 names.

One daemon and one sink for the class; test-only keys made at test time.
Standard library only (plus gpg)."""

import base64
import email
import email.policy
import hashlib
import json
import os
import re
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
from corpus_mime import as_part, boundary, encrypted_multipart, entity, multipart_body  # noqa: E402
from delivery_test import Person, armored_of, grouped, wait_for  # noqa: E402
from intake_security_test import Site, header_block, message  # noqa: E402

TLPMAILCTL = os.environ.get("TLPMAILCTL", "build/daemon/tlpmailctl")
DOMAIN = harness.LIST_DOMAIN
DAY = 86400
# --outbox-poll-ms 200: the daemon looks at the outbox every 200 ms (not
# every 30 s), so an announcement queued by tlpmailctl goes out at once.
DAEMON_ARGS = ("--retry-seconds", "1", "--outbox-poll-ms", "200")
ANNOUNCE_WAIT = 20.0
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


def faketime_env(**variables):
    """libfaketime preloaded with `variables`. In the ASan build
    (scripts/test.sh --sanitize) the ASan runtime refuses to start when a
    preloaded library comes before it; libfaketime only wraps the clock
    calls, so that check is turned off."""
    asan = os.environ.get("ASAN_OPTIONS", "")
    return dict(variables, LD_PRELOAD=FAKETIME_LIB, FAKETIME_DONT_FAKE_MONOTONIC="1",
                ASAN_OPTIONS=(asan + ":" if asan else "") + "verify_asan_link_order=0")


class Clock:
    """The daemon's fake clock: an offset in seconds from the real time in
    the file libfaketime reads at every call (the monotonic clock is left
    alone, so timers behave); gpg under the daemon sees the same time."""

    def __init__(self, folder):
        self.file = os.path.join(folder, "faketime")
        self.set(0)

    def set(self, seconds):
        with open(self.file, "w") as f:
            f.write("%+d\n" % int(seconds))

    def env(self):
        return faketime_env(FAKETIME_TIMESTAMP_FILE=self.file, FAKETIME_NO_CACHE="1")


class ClockDaemon(harness.Daemon):
    """harness.Daemon with libfaketime's variables in its environment."""

    def __init__(self, config, args, extra_env):
        super().__init__(config, args)
        self.extra_env = extra_env

    def spawn(self, cmd, env=None):
        env = dict(os.environ if env is None else env)
        env.update(self.extra_env)
        return super().spawn(cmd, env)


def addr(name):
    return name + "@" + DOMAIN


def zbase32(data):
    alphabet = "ybndrfg8ejkmcpqxot1uwisza345h769"
    bits = "".join(f"{b:08b}" for b in data)
    bits += "0" * (-len(bits) % 5)
    return "".join(alphabet[int(bits[i:i + 5], 2)] for i in range(0, len(bits), 5))


def wkd_hash(local):
    return zbase32(hashlib.sha1(local.lower().encode()).digest())


class KeyView:
    """What a fresh GnuPG home sees of some key data."""

    def __init__(self, data):
        home = Home(helpers.short_tempdir("tlpv"))
        try:
            home.import_keys(data)
            out = home.run("--with-colons", "--fixed-list-mode", "--check-sigs").stdout.decode()
        finally:
            home.kill_agent()
            shutil.rmtree(home.path, ignore_errors=True)
        self.rows = [line.split(":") for line in out.splitlines()]
        self.fingerprints = []
        want = False
        for r in self.rows:
            if r[0] == "pub":
                want = True
            elif r[0] == "fpr" and want:
                self.fingerprints.append(r[9])
                want = False
        self.uids = [r[9] for r in self.rows if r[0] == "uid"]
        self.subkeys = [r[11] for r in self.rows if r[0] == "sub"]
        self.expires = [r[6] for r in self.rows if r[0] == "pub"]


class ListKeysTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.alice = Person("alice@a.example", "Alice Example", "RED")
        cls.bob = Person("bob@b.example", "Bob Beispiel", "AMBER")
        cls.carol = Person("carol@c.example", "Carol Exemple", "GREEN")
        cls.people = [cls.alice, cls.bob, cls.carol]
        cls.sink = harness.Sink()
        cls.sink.start()
        members = [cls.alice, cls.bob, cls.carol]
        cls.lists = ["ops", "quiet", "rot", "fast", "legacy", "late"]
        cls.site = Site(cls.people, {n: ("GREEN", members) for n in cls.lists}, cls.sink.port)
        with open(os.path.join(cls.site.config_dir, "lists.d", "quiet.toml"), "a") as f:
            f.write("autocrypt = false\n")
        # legacy@: a list key as tlpmail made them before issue 11 (one user
        # ID, no expiry), imported before the first start.
        cls.maker = Home(helpers.short_tempdir("tlpk"))
        cls.legacy_fpr = cls.maker.generate("legacy <" + addr("legacy") + ">", "ed25519",
                                            "sign,cert")
        cls.maker.add_subkey(cls.legacy_fpr, "cv25519", "encr")
        secret = os.path.join(cls.maker.path, "legacy.sec.asc")
        with open(secret, "wb") as f:
            f.write(cls.maker.export_secret(cls.legacy_fpr))
        code, _, err = cls.ctl("import-list-key", addr("legacy"), secret)
        assert code == 0, err
        cls.clock = Clock(cls.maker.path)
        cls.site.daemon = ClockDaemon(cls.site.config, DAEMON_ARGS, cls.clock.env())
        cls.site.daemons.append(cls.site.daemon)
        cls.site.daemon.start()
        cls.fpr, cls.public = {}, {}
        for n in cls.lists:
            cls.fpr[n], cls.public[n] = cls.site.list_key(addr(n))
            for p in cls.people:
                p.home.import_keys(cls.public[n])

    @classmethod
    def tearDownClass(cls):
        cls.site.close()
        cls.sink.close()
        cls.maker.kill_agent()
        shutil.rmtree(cls.maker.path, ignore_errors=True)
        for p in cls.people:
            p.close()

    @classmethod
    def ctl(cls, *args, env=None):
        p = subprocess.run([os.path.abspath(TLPMAILCTL), "--config", cls.site.config] +
                           list(args), capture_output=True, text=True, timeout=180, env=env)
        return p.returncode, p.stdout, p.stderr

    def ctl_later(self, seconds, *args):
        """tlpmailctl (and the gpg it runs) with the clock `seconds` ahead
        (libfaketime); the daemon's clock is left alone."""
        env = dict(os.environ, **faketime_env(FAKETIME="%+d" % int(seconds)))
        return self.ctl(*args, env=env)

    def ctl_json(self, *args):
        code, out, err = self.ctl("--json", *args)
        self.assertEqual(code, 0, err)
        return json.loads(out)

    def log(self):
        return "daemon stderr:\n" + self.site.log()

    def list_row(self, name):
        rows = self.ctl_json("lists")["lists"]
        return next(r for r in rows if r["address"] == addr(name))

    # --- posting --------------------------------------------------------

    def posting(self, sender, name, key_fprs, subject):
        """A PGP/MIME posting to NAME@, signed by `sender` and encrypted to
        `key_fprs` (list keys) and the sender, To/Subject protected."""
        bnd = boundary()
        inner = as_part(f'multipart/mixed; boundary="{bnd}"; protected-headers="v1"',
                        multipart_body([entity([("Content-Type", "text/plain; charset=utf-8")],
                                               "Hello list.\n")], bnd),
                        [("From", f'"{sender.name}" <{sender.email}>'), ("To", addr(name)),
                         ("Subject", subject)])
        armored = sender.home.encrypt(list(key_fprs) + [sender.fpr], inner, signer=sender.fpr)
        ctype, body = encrypted_multipart(armored)
        return message(header_block(sender, addr(name), subject), ctype, body)

    def send(self, sender, name, data):
        return harness.smtp_send(self.site.daemon.port, sender.email, [addr(name)], data)

    def post_as_alice(self, name, key_fprs, subject):
        """Alice posts `subject` to NAME@ encrypted to `key_fprs`; accepted."""
        code, text = self.send(self.alice, name, self.posting(self.alice, name, key_fprs, subject))
        self.assertEqual(code, 250, text)

    def copies_for(self, person, subject):
        out = []
        for meta, raw in self.sink.messages():
            if meta["rcpt_to"] != [person.email]:
                continue
            code, plain, status = person.decrypt(armored_of(raw))
            if code == 0 and subject.encode() in plain:
                out.append((raw, plain, status))
        return out

    def wait_copy(self, person, subject):
        return wait_for(lambda: self.copies_for(person, subject),
                        f"a copy of '{subject}' for {person.email}", log=self.log)[0]

    # --- Autocrypt ------------------------------------------------------

    def test_autocrypt_header_carries_the_list_key(self):
        subject = "[TLP:GREEN] autocrypt check"
        self.post_as_alice("ops", [self.fpr["ops"]], subject)
        raw, _, _ = self.wait_copy(self.bob, subject)
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        headers = msg.get_all("Autocrypt")
        self.assertEqual(len(headers), 1)
        value = re.sub(r"\s+", " ", headers[0]).strip()
        attrs = {}
        for part in value.split(";"):
            k, _, v = part.strip().partition("=")
            attrs[k] = v
        self.assertEqual(attrs["addr"], addr("ops"))
        self.assertEqual(attrs["prefer-encrypt"], "mutual")
        self.assertEqual(set(attrs), {"addr", "prefer-encrypt", "keydata"})
        keydata = base64.b64decode("".join(attrs["keydata"].split()), validate=True)
        seen = KeyView(keydata)
        self.assertEqual(seen.fingerprints, [self.fpr["ops"]])
        self.assertEqual(seen.uids, ["ops <" + addr("ops") + ">"])
        self.assertEqual(seen.subkeys, ["e"])
        # Every header line is folded below 78 columns.
        head = raw.split(b"\r\n\r\n", 1)[0]
        self.assertTrue(all(len(l) <= 78 for l in head.split(b"\r\n")), head)

    def test_autocrypt_off_per_list(self):
        subject = "[TLP:GREEN] quiet list"
        self.post_as_alice("quiet", [self.fpr["quiet"]], subject)
        raw, _, _ = self.wait_copy(self.carol, subject)
        self.assertNotIn(b"\nAutocrypt:", raw)

    # --- rotation in the grace period ---------------------------------------

    def announcement_for(self, person, name):
        def find():
            for meta, raw in self.sink.messages():
                if meta["rcpt_to"] == [person.email] and \
                        b"the list has a new key" in raw and addr(name).encode() in raw:
                    return raw
            return None
        return wait_for(find, f"the {name} announcement for {person.email}",
                        timeout=ANNOUNCE_WAIT, log=self.log)

    def test_rotation_announces_and_accepts_the_old_key_in_grace(self):
        old = self.fpr["rot"]
        before = time.time()
        got = self.ctl_json("rotate-list-key", addr("rot"), "--grace", "30")
        new = got["fingerprint"]
        self.assertRegex(new, r"^[0-9A-F]{40}$")
        self.assertNotEqual(new, old)
        self.assertEqual(got["previous_fingerprint"], old)
        self.assertEqual(sorted(got["announced_to"]), sorted(p.email for p in self.people))
        self.assertEqual(got["not_reached"], [])
        self.assertAlmostEqual(got["grace_until_unix"], before + 30 * DAY, delta=120)

        # lists: the new key is current, the old one in grace for 30 days.
        row = self.list_row("rot")
        self.assertEqual(row["key_fingerprint"], new)
        self.assertEqual([g["fingerprint"] for g in row["keys_in_grace"]], [old])
        self.assertAlmostEqual(row["keys_in_grace"][0]["until_unix"], before + 30 * DAY,
                               delta=120)
        code, out, _ = self.ctl("lists")
        self.assertIn(f"{addr('rot')}: old key {old} still accepted until ", out)
        # The grace period is the old key's expiry: a day before its end the
        # old key is still in grace, a day after it is not (gpg under
        # libfaketime judges it), while the new key stays current.
        until = row["keys_in_grace"][0]["until_unix"]
        for ahead, in_grace in ((until - time.time() - DAY, [old]),
                                (until - time.time() + DAY, [])):
            code, out, err = self.ctl_later(ahead, "--json", "lists")
            later = next(r for r in json.loads(out)["lists"] if r["address"] == addr("rot"))
            self.assertEqual(later["key_fingerprint"], new, err)
            self.assertEqual([g["fingerprint"] for g in later["keys_in_grace"]], in_grace, err)

        # Every member gets the announcement, encrypted to them, from -request@.
        for person in self.people:
            raw = self.announcement_for(person, "rot")
            outer = email.message_from_bytes(raw, policy=email.policy.default)
            self.assertEqual(email.utils.parseaddr(outer["From"])[1], "rot-request@" + DOMAIN)
            self.assertEqual(outer["To"], addr("rot"))
            self.assertEqual(outer["Subject"], "[rot] the list has a new key")
            self.assertEqual(outer.get_content_type(), "multipart/encrypted")
            # gpg exits 2 while it lacks the new key for the second signature.
            code, plain, status = person.decrypt(armored_of(raw))
            self.assertIn("DECRYPTION_OKAY", status)
            for other in self.people:
                if other is not person:
                    self.assertNotEqual(other.decrypt(armored_of(raw))[0], 0, other.email)
            inner = email.message_from_bytes(plain, policy=email.policy.default)
            text_part, key_part = inner.get_payload()
            text = text_part.get_content()
            self.assertIn("New key: " + grouped(new), text)
            self.assertIn("Old key: " + grouped(old), text)
            self.assertIn("still accepted until", text)
            self.assertEqual(key_part.get_content_type(), "application/pgp-keys")
            attached = key_part.get_payload(decode=True)
            seen = KeyView(self.public["rot"] + attached)
            self.assertIn(new, seen.fingerprints)
            new_view = KeyView(attached)
            self.assertEqual(new_view.fingerprints, [new])
            self.assertEqual(new_view.uids, ["rot <" + addr("rot") + ">",
                                             "rot <rot-request@" + DOMAIN + ">"])
            # Signed by both keys: the old one verifies at once; with the
            # attached key imported, both do.
            valid = [s.split()[-1] for s in status if s.startswith("VALIDSIG ")]
            self.assertEqual(valid, [old], status)
            self.assertIn("NO_PUBKEY " + new[24:], status)
            person.home.import_keys(attached)
            code, _, status = person.decrypt(armored_of(raw))
            self.assertEqual(code, 0, status)
            valid = sorted(s.split()[-1] for s in status if s.startswith("VALIDSIG "))
            self.assertEqual(valid, sorted([old, new]), status)
        # The old key certified the new one (checked against the old key).
        view = KeyView(self.public["rot"] + self.announcement_key(self.bob, "rot"))
        self.assertIn(old[24:], [c for c in self.certifiers_of(view, new)])

        # Mail encrypted to the old key only is accepted in the grace period,
        # and the copies are signed with the new key.
        subject = "[TLP:GREEN] to the old key in grace"
        self.post_as_alice("rot", [old], subject)
        _, _, status = self.wait_copy(self.bob, subject)
        self.assertEqual([s.split()[-1] for s in status if s.startswith("VALIDSIG ")], [new])
        # And to the new key, of course.
        subject = "[TLP:GREEN] to the new key"
        self.post_as_alice("rot", [new], subject)
        self.wait_copy(self.carol, subject)
        # list-key gives the new key.
        code, armored, err = self.ctl("list-key", addr("rot"))
        self.assertEqual(code, 0, err)
        self.assertEqual(KeyView(armored.encode()).fingerprints, [new])

        # extend-list-key moves the expiry of the current key.
        got = self.ctl_json("extend-list-key", addr("rot"), "--days", "400")
        self.assertEqual(got["fingerprint"], new)
        self.assertAlmostEqual(got["expires_unix"], time.time() + 400 * DAY, delta=300)
        self.assertEqual(self.list_row("rot")["key_expires"],
                         time.strftime("%Y-%m-%d", time.gmtime(got["expires_unix"])))
        code, armored, _ = self.ctl("list-key", addr("rot"))
        self.assertAlmostEqual(int(KeyView(armored.encode()).expires[0]),
                               got["expires_unix"], delta=5)

    # --- the grace period's end, on the daemon's clock ------------------------

    def test_the_daemon_refuses_old_key_mail_once_the_grace_period_is_over(self):
        old = self.fpr["late"]
        got = self.ctl_json("rotate-list-key", addr("late"), "--grace", "3")
        new = got["fingerprint"]
        self.addCleanup(self.clock.set, 0)
        for person in self.people:
            person.home.import_keys(self.announcement_key(person, "late"))
        # Two days on: still in the grace period, accepted and delivered.
        self.clock.set(2 * DAY)
        subject = "[TLP:GREEN] two days after the rotation"
        code, text = self.send(self.carol, "late", self.posting(self.carol, "late", [old], subject))
        self.assertEqual(code, 250, text)
        self.wait_copy(self.alice, subject)
        # Three days and an hour on: the grace period is over.
        self.clock.set(3 * DAY + 3600)
        code, text = self.send(self.carol, "late", self.posting(
            self.carol, "late", [old], "[TLP:GREEN] three days after the rotation"))
        self.assertEqual((code, text), (550, (
            f"5.7.1 message is encrypted to the list's old key {old}, replaced by {new}; "
            f'encrypt to the new key (send "key" to late-request@{DOMAIN})')), self.log())
        # Mail to the new key is still welcome.
        subject = "[TLP:GREEN] to the new key after the grace period"
        code, text = self.send(self.carol, "late", self.posting(self.carol, "late", [new], subject))
        self.assertEqual(code, 250, text)
        self.wait_copy(self.bob, subject)

    def announcement_key(self, person, name):
        raw = self.announcement_for(person, name)
        _, plain, _ = person.decrypt(armored_of(raw))
        inner = email.message_from_bytes(plain, policy=email.policy.default)
        return inner.get_payload()[1].get_payload(decode=True)

    def certifiers_of(self, view, fpr):
        """Key ids of the good certifications on the first user ID of `fpr`."""
        out, current, in_uid = [], None, False
        for r in view.rows:
            if r[0] == "pub":
                current, in_uid = None, False
            elif r[0] == "fpr" and current is None:
                current = r[9]
            elif r[0] == "uid":
                in_uid = current == fpr and not out
            elif r[0] == "sub":
                in_uid = False
            elif r[0] == "sig" and in_uid and r[1] == "!":
                out.append(r[4])
        return out

    # --- after the grace period, retirement ----------------------------------

    def test_after_the_grace_old_key_mail_is_refused_and_the_key_retired(self):
        old = self.fpr["fast"]
        got = self.ctl_json("rotate-list-key", addr("fast"), "--grace", "0")
        new = got["fingerprint"]
        time.sleep(2)  # the old key's end is one second after the rotation
        self.assertEqual(self.list_row("fast")["keys_in_grace"], [])
        code, text = self.send(self.bob, "fast",
                               self.posting(self.bob, "fast", [old], "[TLP:GREEN] too late"))
        self.assertEqual(code, 550, text)
        self.assertIn(f"encrypted to the list's old key {old}, replaced by {new}", text)
        self.assertIn('send "key" to fast-request@' + DOMAIN, text)
        # Logged too (the harness reads the daemon's stderr on a thread of
        # its own: wait for the line rather than read the log at once).
        self.site.daemon.wait_log(re.escape(f"old key {old}, replaced by {new}"), timeout=10)
        # The announcement says so.
        raw = self.announcement_for(self.carol, "fast")
        _, plain, _ = self.carol.decrypt(armored_of(raw))
        self.assertIn(b"Mail encrypted to the old key is no longer accepted.", plain)

        # The current key cannot be retired; a key of another list neither.
        code, _, err = self.ctl("retire-list-key", addr("fast"), new)
        self.assertEqual(code, 1)
        self.assertIn(f"{new} is the current key of {addr('fast')}: rotate first", err)
        code, _, err = self.ctl("retire-list-key", addr("fast"), self.fpr["ops"])
        self.assertEqual(code, 1)
        self.assertIn(f"{self.fpr['ops']} is not a key of {addr('fast')}", err)
        # The old one can: its secret key is gone from the daemon's home.
        home = os.path.join(self.site.state, "gnupg")
        keygrips = self.keygrips(old)
        self.assertEqual(len(keygrips), 2)  # primary key and encryption subkey
        # Past its grace the old secret key is still there (kept until retired).
        for grip in keygrips:
            self.assertTrue(os.path.exists(os.path.join(home, "private-keys-v1.d",
                                                        grip + ".key")), grip)
        code, out, err = self.ctl("retire-list-key", addr("fast"), old)
        self.assertEqual(code, 0, err)
        self.assertIn(f"list key {old} deleted", out)
        for grip in keygrips:
            self.assertFalse(os.path.exists(os.path.join(home, "private-keys-v1.d",
                                                         grip + ".key")), grip)
        self.assertEqual(self.list_row("fast")["key_fingerprint"], new)
        # Mail to the retired key cannot be decrypted any more: refused.
        code, text = self.send(self.bob, "fast",
                               self.posting(self.bob, "fast", [old], "[TLP:GREEN] retired"))
        self.assertEqual(code, 550, text)
        self.assertIn("not encrypted to this list's key", text)
        # New mail to the new key works; the members take the new key from
        # the announcement (the copies are signed with it).
        for person in self.people:
            person.home.import_keys(self.announcement_key(person, "fast"))
        subject = "[TLP:GREEN] after retirement"
        code, text = self.send(self.bob, "fast", self.posting(self.bob, "fast", [new], subject))
        self.assertEqual(code, 250, text)
        self.wait_copy(self.alice, subject)

    def keygrips(self, fpr):
        """Keygrips of the key `fpr` as the public keys the members hold
        say (the daemon's secret key files are named after them)."""
        out = self.alice.home.run("--with-colons", "--with-keygrip", "--list-keys",
                                  fpr).stdout.decode()
        return [r.split(":")[9] for r in out.splitlines() if r.startswith("grp:")]

    # --- a key made before issue 11 ------------------------------------------

    def test_an_old_list_key_keeps_working_and_can_be_extended(self):
        self.assertEqual(self.fpr["legacy"], self.legacy_fpr)
        row = self.list_row("legacy")
        self.assertEqual(row["key_fingerprint"], self.legacy_fpr)
        self.assertEqual(row["key_expires"], "never")
        # tlpmaild gave it the -request user ID at start (no expiry).
        seen = KeyView(self.public["legacy"])
        self.assertEqual(seen.uids, ["legacy <" + addr("legacy") + ">",
                                     "legacy <legacy-request@" + DOMAIN + ">"])
        self.assertEqual(seen.expires, [""])
        subject = "[TLP:GREEN] legacy key"
        code, text = self.send(self.carol, "legacy",
                               self.posting(self.carol, "legacy", [self.legacy_fpr], subject))
        self.assertEqual(code, 250, text)
        self.wait_copy(self.alice, subject)
        got = self.ctl_json("extend-list-key", addr("legacy"))
        self.assertEqual(got["fingerprint"], self.legacy_fpr)
        self.assertAlmostEqual(got["expires_unix"], time.time() + 3 * 365 * DAY, delta=300)
        self.assertFalse(got["request_user_id_added"])
        self.assertNotEqual(self.list_row("legacy")["key_expires"], "never")

    # --- expiry warnings (libfaketime on tlpmailctl) ----------------------------

    def test_lists_and_keys_warn_60_days_before_the_list_key_expires(self):
        fpr = self.fpr["ops"]
        expires = int(KeyView(self.public["ops"]).expires[0])
        # A new list key is valid for 3 years.
        self.assertAlmostEqual(expires, time.time() + 3 * 365 * DAY, delta=600)
        date = time.strftime("%Y-%m-%d", time.gmtime(expires))
        warning = (f"the list key {fpr} of {addr('ops')} expires on {date} (in 59 days); "
                   f"run tlpmailctl extend-list-key {addr('ops')}")
        # 59 and a half days before the expiry: every listing warns.
        ahead = expires - time.time() - 59.5 * DAY
        code, out, err = self.ctl_later(ahead, "--json", "lists")
        row = next(r for r in json.loads(out)["lists"] if r["address"] == addr("ops"))
        self.assertEqual(row["key_fingerprint"], fpr)
        self.assertEqual(row["key_warning"], warning)
        self.assertIn("tlpmailctl: warning: " + warning + "\n", self.ctl_later(ahead, "lists")[2])
        self.assertIn("tlpmailctl: warning: " + warning + "\n", self.ctl_later(ahead, "keys")[2])
        self.assertIn("tlpmailctl: warning: " + warning + "\n",
                      self.ctl_later(ahead, "--json", "keys")[2])
        # 61 and a half days before: none.
        ahead = expires - time.time() - 61.5 * DAY
        code, out, err = self.ctl_later(ahead, "--json", "lists")
        row = next(r for r in json.loads(out)["lists"] if r["address"] == addr("ops"))
        self.assertNotIn("key_warning", row)
        for args in (("lists",), ("keys",)):
            self.assertNotIn(f"the list key {fpr} ", self.ctl_later(ahead, *args)[2], args)

    # --- WKD ------------------------------------------------------------------

    def test_wkd_files_are_named_by_the_hash_of_the_local_part(self):
        out_dir = helpers.short_tempdir("tlpw")
        self.addCleanup(shutil.rmtree, out_dir, True)
        got = self.ctl_json("wkd", addr("ops"), addr("legacy"), "--out", out_dir)
        files = {f["address"]: f for f in got["files"]}
        self.assertEqual(set(files), {addr("ops"), "ops-request@" + DOMAIN, addr("legacy"),
                                      "legacy-request@" + DOMAIN})
        wks = shutil.which("gpg-wks-client") or "/usr/lib/gnupg/gpg-wks-client"
        for address, f in files.items():
            local = address.split("@")[0]
            h = wkd_hash(local)
            self.assertEqual(f["hash"], h)
            if os.path.exists(wks):
                p = subprocess.run([wks, "--print-wkd-hash", address], capture_output=True,
                                   text=True)
                self.assertEqual(p.stdout.split()[0], h, p.stderr)
            advanced = os.path.join(out_dir, "openpgpkey." + DOMAIN, ".well-known", "openpgpkey",
                                    DOMAIN, "hu", h)
            direct = os.path.join(out_dir, DOMAIN, ".well-known", "openpgpkey", "hu", h)
            self.assertEqual((f["advanced"], f["direct"]), (advanced, direct))
            for path in (advanced, direct):
                self.assertEqual(os.stat(path).st_mode & 0o777, 0o644)
                with open(path, "rb") as fh:
                    data = fh.read()
                self.assertNotEqual(data[:1], b"-")  # binary, not armored
                seen = KeyView(data)
                self.assertEqual(seen.fingerprints, [self.fpr[address.split("@")[0].replace(
                    "-request", "")]])
                self.assertEqual(len(seen.uids), 1)
                self.assertTrue(seen.uids[0].endswith("<" + address + ">"), seen.uids)
        for policy in (os.path.join(out_dir, "openpgpkey." + DOMAIN, ".well-known", "openpgpkey",
                                    DOMAIN, "policy"),
                       os.path.join(out_dir, DOMAIN, ".well-known", "openpgpkey", "policy")):
            self.assertTrue(os.path.isfile(policy), policy)
        # Usage errors and unknown lists.
        code, _, err = self.ctl("wkd", addr("ops"))
        self.assertEqual(code, 2)
        code, _, err = self.ctl("wkd", "nope@" + DOMAIN, "--out", out_dir)
        self.assertEqual((code, err), (1, f"tlpmailctl: no list with address 'nope@{DOMAIN}'\n"))

    def test_usage_errors(self):
        for args in (["rotate-list-key"], ["rotate-list-key", addr("ops"), "--grace", "x"],
                     ["retire-list-key", addr("ops")], ["extend-list-key", addr("ops"), "x"],
                     ["lists", "--grace", "3"], ["rotate-list-key", addr("ops"), "--days", "3"]):
            code, _, err = self.ctl(*args)
            self.assertEqual(code, 2, args)
            self.assertIn("usage:", err)
        code, _, err = self.ctl("rotate-list-key", addr("ops"), "--grace", "400")
        self.assertEqual((code, err), (1, "tlpmailctl: --grace wants 0 to 365 days, got 400\n"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
