"""End-to-end tests of how keys_dir is imported (issue 10): the real
tlpmailctl check-config (text and --json) and the real tlpmaild on key files
that hold secret key material in shapes gpg --import accepts, an oversized
file, a key flooded with third-party certifications, and two pinned keys
sharing a subkey (bob binds alice's encryption subkey under his primary
key): refused at check-config and at start, and a SIGHUP with it keeps the
old configuration, keys included, so mail still reaches both. Real gpg,
keys made at test time (test-only); standard library only."""

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import delivery_test  # noqa: E402  (Person, DeliveryCase: the outgoing side's fixtures)
import harness  # noqa: E402
import helpers  # noqa: E402
from corpus_gpg import Home, armor, dearmor, primary_fingerprints  # noqa: E402

TLPMAILCTL = os.environ.get("TLPMAILCTL", "build/daemon/tlpmailctl")
DOMAIN = harness.LIST_DOMAIN
OPS = "ops@" + DOMAIN
# Third-party certifications on the flooded key: enough to make it a
# hundred times its size, bounded for test time (about 10 s to make).
CERTIFIERS = 500
LIMIT = 1024 * 1024  # openpgp::kMaxPublicKeyFileSize

SECRET = "cannot import: the file holds a secret key; keys_dir is for public keys only"

KEYS = {}  # made once per process by keys()


def gpg_homes_to_remove():
    return KEYS.setdefault("_homes", [])


def bind_subkey(owner, holder):
    """`holder`'s public key with `owner`'s encryption subkey bound under
    it too (gpg addkey from an existing keygrip, at the subkey's creation
    time so that its fingerprint stays the same), made in a scratch home
    that holds both secret keys. Returns (armored key, subkey fingerprint)."""
    scratch = Home(helpers.short_tempdir("tlpk"))
    gpg_homes_to_remove().append(scratch.path)
    scratch.import_keys(owner.home.export_secret(owner.fpr))
    scratch.import_keys(holder.home.export_secret(holder.fpr))
    rows = scratch.run("--with-colons", "--with-keygrip", "--list-keys",
                       owner.fpr).stdout.decode().splitlines()
    fields = [r.split(":") for r in rows]
    i = next(n for n, f in enumerate(fields) if f[0] == "sub" and "e" in f[11])
    created = fields[i][5]
    subkey = next(f[9] for f in fields[i + 1:] if f[0] == "fpr")
    keygrip = next(f[9] for f in fields[i + 1:] if f[0] == "grp")
    commands = os.path.join(scratch.path, "addkey.txt")
    with open(commands, "w") as f:
        f.write(f"addkey\n13\n{keygrip}\nQ\n0\nsave\n")
    scratch.run("--expert", "--faked-system-time", created + "!", "--command-file", commands,
                "--edit-key", holder.fpr)
    listing = scratch.run("--with-colons", "--list-keys", holder.fpr).stdout.decode()
    if subkey not in listing:
        raise AssertionError("the scratch home did not bind the subkey:\n" + listing)
    return scratch.export_public(holder.fpr), subkey


def flooded_key():
    """(fingerprint, armored key) of a key certified by CERTIFIERS keys."""
    home = Home(helpers.short_tempdir("tlpk"))
    gpg_homes_to_remove().append(home.path)
    fpr = home.generate("Flood <flood@f.example>", "ed25519", "sign,cert")
    home.add_subkey(fpr, "cv25519", "encr")
    params = "".join(f"Key-Type: eddsa\nKey-Curve: ed25519\nKey-Usage: cert\n"
                     f"Name-Email: certifier{i}@elsewhere.example\nExpire-Date: 0\n"
                     f"%no-protection\n%commit\n" for i in range(CERTIFIERS))
    home.run("--gen-key", data=params.encode())
    certifiers = [f for f in home.fingerprints("@elsewhere.example")]
    args = []
    for c in certifiers:
        args += ["-u", c + "!"]
    home.run(*args, "--quick-sign-key", fpr)
    return fpr, home.export_public(fpr)


def keys():
    """The people and key files every test uses, made once."""
    if "alice" not in KEYS:
        # Bob first: gpg binds no subkey older than the primary key.
        bob = delivery_test.Person("bob@b.example", "Bob Beispiel", "AMBER")
        alice = delivery_test.Person("alice@a.example", "Alice Example", "RED")
        KEYS["bob"], KEYS["alice"] = bob, alice
        KEYS["bob_with_alice_subkey"], KEYS["alice_subkey"] = bind_subkey(alice, bob)
        KEYS["flood_fpr"], KEYS["flood"] = flooded_key()
    return KEYS


def tearDownModule():
    for name in ("alice", "bob"):
        if name in KEYS:
            KEYS[name].close()
    for path in gpg_homes_to_remove():
        subprocess.run(["gpgconf", "--homedir", path, "--kill", "all"], capture_output=True)
        shutil.rmtree(path, ignore_errors=True)
    KEYS.clear()


class KeySite(harness.DaemonSite):
    """A configuration with the given people on ops@ and one key file per
    entry of `files` (name -> bytes) in keys/."""

    def __init__(self, people, files):
        super().__init__("tlpk")
        self.keys_dir = os.path.join(self.config_dir, "keys")
        os.makedirs(self.keys_dir)
        self.directory = os.path.join(self.config_dir, "directory.toml")
        text = "".join(helpers.person_toml(email, name, fpr) for email, name, fpr in people)
        helpers.write(self.directory, text)
        # The fingerprint line of each person: person_toml gives 8 lines
        # after a blank one, the fingerprint 6th.
        self.line = {email: 6 + 9 * n for n, (email, _, _) in enumerate(people)}
        helpers.write(os.path.join(self.config_dir, "lists.d", "ops.toml"),
                      helpers.list_toml(OPS, [email for email, _, _ in people], tlp_ceiling="RED"))
        helpers.write(self.config, f"""
            [server]
            hostname = "{harness.HOSTNAME}"
            listen = ["127.0.0.1:{self.port}"]

            [paths]
            state_dir = "../state"
            """)
        for name, data in files.items():
            self.key_file(name, data)

    def key_file(self, name, data):
        path = os.path.join(self.keys_dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def at(self, email):
        return f"{self.directory}:{self.line[email]}"

    def check_config(self, *extra):
        p = subprocess.run([os.path.abspath(TLPMAILCTL), "--config", self.config, *extra,
                            "check-config"], capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout, p.stderr

    def gnupg(self, *args):
        """gpg on the daemon's home state/gnupg (its stdout)."""
        home = os.path.join(self.state, "gnupg")
        p = subprocess.run(["gpg", "--homedir", home, "--batch", "--with-colons", *args],
                           capture_output=True, text=True, timeout=60)
        return p.stdout

    def secret_keys(self):
        """Primary fingerprints of the secret keys in state/gnupg (none when
        the home does not exist)."""
        if not os.path.isdir(os.path.join(self.state, "gnupg")):
            return []
        return primary_fingerprints(self.gnupg("--list-secret-keys"))


def secret_shapes(alice):
    """Key files that hold alice's secret key in shapes gpg --import takes
    the secret key from (checked by hand: each reports "secret keys read: 1")
    or that the header check before issue 10 did not see, by file name."""
    pub = dearmor(alice.public())
    sec = dearmor(alice.home.export_secret(alice.fpr))
    return {
        "b-after-public.gpg": pub + sec,
        "c-second-block.asc": armor(pub, "PUBLIC KEY BLOCK") +
                              armor(sec, "PUBLIC KEY BLOCK"),
        "d-one-block.asc": armor(pub + sec, "PUBLIC KEY BLOCK"),
        "e-signature-block.asc": b"Alice's key:\n" + armor(pub, "PUBLIC KEY BLOCK") +
                                 armor(sec, "SIGNATURE"),
        "f-base64-outside.asc": armor(pub, "PUBLIC KEY BLOCK") + b"\n" +
                                 base64.encodebytes(sec),
        "g-message-block.asc": armor(sec, "MESSAGE"),
    }


class CheckConfigTest(unittest.TestCase):
    """tlpmailctl check-config on the bad shapes, text and JSON."""

    @classmethod
    def setUpClass(cls):
        cls.k = keys()

    def site(self, people, files):
        s = KeySite(people, files)
        self.addCleanup(s.close)
        return s

    def alice_only(self, extra):
        a = self.k["alice"]
        files = {"alice.asc": a.public()}
        files.update(extra)
        return self.site([(a.email, a.name, a.fpr)], files)

    def test_secret_key_material_in_any_shape_is_refused(self):
        shapes = secret_shapes(self.k["alice"])
        for name, data in shapes.items():
            with self.subTest(shape=name):
                s = self.alice_only({name: data})
                path = os.path.join(s.keys_dir, name)
                code, out, err = s.check_config()
                self.assertEqual(code, 1, out + err)
                self.assertEqual(err, f"{path}: {SECRET}\n{s.config}: 1 error(s), 0 warning(s)\n")
                code, out, _ = s.check_config("--json")
                self.assertEqual(code, 1)
                doc = json.loads(out)
                self.assertFalse(doc["ok"])
                self.assertEqual(doc["diagnostics"], [{
                    "severity": "error", "file": path, "line": 0, "message": SECRET,
                    "text": f"{path}: {SECRET}"}])

    def test_oversized_key_file_is_refused(self):
        a = self.k["alice"]
        data = a.public() + b"\n" * LIMIT
        s = self.alice_only({"alice.asc": data})
        path = os.path.join(s.keys_dir, "alice.asc")
        code, _, err = s.check_config()
        self.assertEqual(code, 1, err)
        self.assertIn(f"{path}: cannot import: the file is {len(data)} bytes; a key file may "
                      f"have {LIMIT} bytes at most (export the key without third-party "
                      "signatures: gpg --export --export-options export-minimal)\n", err)

    def test_two_pinned_keys_sharing_a_subkey_are_an_error(self):
        a, b = self.k["alice"], self.k["bob"]
        s = self.site([(a.email, a.name, a.fpr), (b.email, b.name, b.fpr)],
                      {"alice.asc": a.public(), "bob.asc": self.k["bob_with_alice_subkey"]})
        message = (f"key {b.fpr} of {b.email} shares the subkey {self.k['alice_subkey']} with "
                   f"key {a.fpr} of {a.email} ({s.at(a.email)}); a subkey belongs to one "
                   "person's key only, so mail to both could not be encrypted: replace the key "
                   "that should not hold it")
        code, out, err = s.check_config()
        self.assertEqual(code, 1, out + err)
        self.assertEqual(err, f"{s.at(b.email)}: {message}\n"
                              f"{s.config}: 1 error(s), 0 warning(s)\n")
        code, out, _ = s.check_config("--json")
        doc = json.loads(out)
        self.assertEqual(code, 1)
        self.assertEqual(doc["diagnostics"], [{
            "severity": "error", "file": s.directory, "line": s.line[b.email],
            "message": message, "text": f"{s.at(b.email)}: {message}"}])
        # With bob's own key it is clean.
        s.key_file("bob.asc", b.public())
        code, out, err = s.check_config()
        self.assertEqual(code, 0, out + err)


class DaemonStartTest(unittest.TestCase):
    """tlpmaild refuses to start, and its GnuPG home receives nothing."""

    @classmethod
    def setUpClass(cls):
        cls.k = keys()

    def test_refused_start_leaves_no_member_secret_in_the_home(self):
        a, b = self.k["alice"], self.k["bob"]
        s = KeySite([(a.email, a.name, a.fpr), (b.email, b.name, b.fpr)],
                    {"alice.asc": a.public(), "bob.asc": b.public()})
        self.addCleanup(s.close)
        # A first start makes the list key: the home's only secret key.
        d = s.start()
        made = d.wait_log(rf" - list-key list={re.escape(OPS)} fingerprint=([0-9A-F]{{40}}) ")
        list_fpr = made.group(1)
        self.assertEqual(d.stop(), 0, s.log())
        self.assertEqual(s.secret_keys(), [list_fpr])
        for name, data in secret_shapes(a).items():
            with self.subTest(shape=name):
                path = s.key_file(name, data)
                code, _, err = harness.run_daemon_once(s.config)
                os.remove(path)
                self.assertEqual(code, 1, err)
                self.assertIn(f"{path}: {SECRET}\n", err)
                self.assertIn("tlpmaild: not started: the configuration has errors\n", err)
                self.assertEqual(s.secret_keys(), [list_fpr])

    def test_shared_subkey_refuses_start(self):
        a, b = self.k["alice"], self.k["bob"]
        s = KeySite([(a.email, a.name, a.fpr), (b.email, b.name, b.fpr)],
                    {"alice.asc": a.public(), "bob.asc": self.k["bob_with_alice_subkey"]})
        self.addCleanup(s.close)
        code, _, err = harness.run_daemon_once(s.config)
        self.assertEqual(code, 1, err)
        self.assertIn(f"{s.at(b.email)}: key {b.fpr} of {b.email} shares the subkey "
                      f"{self.k['alice_subkey']} with key {a.fpr} of {a.email}", err)
        self.assertIn("tlpmaild: not started: the configuration has errors\n", err)
        self.assertEqual(s.secret_keys(), [])  # nothing reached the home

    def test_flooded_key_is_stored_with_its_self_signatures_only(self):
        fpr, data = self.k["flood_fpr"], self.k["flood"]
        s = KeySite([("flood@f.example", "Flood", fpr)], {"flood.asc": data})
        self.addCleanup(s.close)
        code, out, err = s.check_config()
        self.assertEqual(code, 0, out + err)
        d = s.start()
        self.assertEqual(d.stop(), 0, s.log())
        sigs = [l.split(":") for l in s.gnupg("--list-sigs", fpr).splitlines()
                if l.startswith("sig:")]
        issuers = {f[4] for f in sigs}
        self.assertEqual(issuers, {fpr[24:]}, f"{len(sigs)} signatures")
        stored = subprocess.run(["gpg", "--homedir", os.path.join(s.state, "gnupg"), "--batch",
                                 "--export", fpr], capture_output=True).stdout
        in_file = len(dearmor(data))
        self.assertLess(len(stored) * 50, in_file,
                        f"stored {len(stored)} bytes of a {in_file}-byte key")


class ReloadTest(delivery_test.DeliveryCase):
    """A running list with alice and bob; bob's key file is replaced by one
    that binds alice's subkey, then SIGHUP: the reload fails, the daemon
    keeps its configuration and its keys, and the next posting still
    reaches both."""

    list_members = ("alice", "bob")

    @classmethod
    def setUpClass(cls):
        k = keys()
        cls.p = {"alice": k["alice"], "bob": k["bob"]}
        cls.k = k

    def test_sighup_with_a_shared_subkey_keeps_the_old_keys(self):
        alice, bob = self.p["alice"], self.p["bob"]
        first = self.post("[TLP:AMBER] before the reload", "FIRST")
        self.wait_outbox([("copy", alice.email, "delivered"), ("copy", bob.email, "delivered")],
                         "both copies of the first posting")

        members = os.path.join(self.site.config_dir, "keys", "members.asc")
        with open(members, "wb") as f:
            f.write(alice.public() + self.k["bob_with_alice_subkey"])
        d = self.site.daemon
        mark = d.mark()
        d.signal(signal.SIGHUP)
        d.wait_log(r" - reload status=failed errors=1 kept=\"old configuration\"", since=mark)
        d.wait_log(r" - config severity=error problem=\"\S+/directory\.toml:\d+: key "
                   + bob.fpr + " of " + bob.email + " shares the subkey "
                   + self.k["alice_subkey"], since=mark)
        # The home still has bob's key as it was: nothing was imported.
        listing = subprocess.run(["gpg", "--homedir", os.path.join(self.site.state, "gnupg"),
                                  "--batch", "--with-colons", "--list-keys", bob.fpr],
                                 capture_output=True, text=True).stdout
        self.assertNotIn(self.k["alice_subkey"], listing)

        second = self.post("[TLP:AMBER] after the refused reload", "SECOND")
        rows = self.wait_outbox([("copy", alice.email, "delivered"),
                                 ("copy", bob.email, "delivered")] * 2,
                                "both copies of both postings")
        self.assertEqual({r[1] for r in rows}, {first, second})
        self.stop_daemon()


if __name__ == "__main__":
    unittest.main()
