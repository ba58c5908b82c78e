"""What the three real-MTA tests (mta_postfix_test.py, mta_exim_test.py,
mta_opensmtpd_test.py) share: the packaged configuration (config/packaged/)
set up the way docs/operator-guide.md says, members with their own GnuPG
homes and local maildirs, a signed and encrypted posting, the guide's
end-to-end check read from the guide itself, and MtaCase, the scenario
every MTA must pass. Each MTA module supplies only how to start and stop
its MTA on 127.0.0.1 from the snippets in docs/mta/. Standard library only;
only processes started here are signalled, always by PID."""

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
from corpus_mime import as_part, date_header, encrypted_multipart, entity  # noqa: E402
from delivery_test import Person  # noqa: E402

SOURCE = os.environ.get("TLPMAIL_SOURCE_DIR", os.path.join(HERE, "..", ".."))
TLPMAILCTL = os.environ.get("TLPMAILCTL", "build/daemon/tlpmailctl")
PACKAGED = os.path.join(SOURCE, "config", "packaged")
GUIDE = os.path.join(SOURCE, "docs", "operator-guide.md")
MTA_DIR = os.path.join(SOURCE, "docs", "mta")
DOMAIN = "lists.example.org"
OPS = "ops@" + DOMAIN
WAIT = 90.0  # seconds: bound of every wait for mail to arrive
ARMOR_RE = re.compile(rb"-----BEGIN PGP MESSAGE-----\r?\n.*?-----END PGP MESSAGE-----", re.S)
# The MTA tests fetch their MTA's Debian packages into this folder
# (scripts/install-deps.sh fills it ahead of time).
DEB_CACHE = os.environ.get("TLPMAIL_DEB_CACHE", "/var/cache/tlpmail-test-debs")


def snippet(name):
    """A file of docs/mta/ (what the guide shows), as text."""
    with open(os.path.join(MTA_DIR, name)) as f:
        return f.read()


def guide_block(marker):
    """The first fenced code block after the line `<!-- test: MARKER -->` in
    docs/operator-guide.md: the commands the guide tells operators to run."""
    with open(GUIDE) as f:
        text = f.read()
    at = text.index(f"<!-- test: {marker} -->")
    m = re.compile(r"```[a-z]*\n(.*?)```", re.S).search(text, at)
    return m.group(1)


def wait_for(condition, what, timeout=WAIT, log=lambda: ""):
    return harness.wait_for(condition, what, timeout, log, interval=0.1)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=kw.pop("timeout", 120), **kw)


def extract_debs(packages, root):
    """Fetches `packages` (apt-get download, into DEB_CACHE unless there)
    and unpacks them into `root` with dpkg -x. Returns None, or why not."""
    os.makedirs(DEB_CACHE, exist_ok=True)
    for p in packages:
        if not any(n.startswith(p + "_") and n.endswith(".deb") for n in os.listdir(DEB_CACHE)):
            r = run(["apt-get", "download", p], cwd=DEB_CACHE, timeout=300)
            if r.returncode != 0:
                return f"apt-get download {p} failed: {r.stderr.strip()[-300:]}"
    for p in packages:
        deb = sorted(n for n in os.listdir(DEB_CACHE) if n.startswith(p + "_") and n.endswith(".deb"))[-1]
        r = run(["dpkg", "-x", os.path.join(DEB_CACHE, deb), root])
        if r.returncode != 0:
            return f"dpkg -x {deb} failed: {r.stderr.strip()}"
    return None


def unpacked_mta(work, folder, packages, what):
    """The root work/folder with `packages` unpacked into it (extract_debs);
    skips the MTA's tests when `what` cannot be installed here."""
    root = os.path.join(work, folder)
    why = extract_debs(packages, root)
    if why:
        skip(f"{what} cannot be installed here: {why}")
    return root


def skip(why):
    """Skips the MTA's tests: only for an MTA that cannot be installed. The
    marker makes ctest report the test as skipped (SKIP_REGULAR_EXPRESSION)."""
    print(f"SKIP-MTA: {why}", file=sys.stderr, flush=True)
    raise unittest.SkipTest(f"SKIP-MTA: {why}")


def ensure_system_user(name, home="/nonexistent"):
    """Creates the system user `name` (as the MTA's package would) unless it exists."""
    if run(["getent", "passwd", name]).returncode == 0:
        return None
    r = run(["useradd", "--system", "--user-group", "--home-dir", home, "--no-create-home",
             "--shell", "/usr/sbin/nologin", name])
    return None if r.returncode == 0 else f"useradd {name}: {r.stderr.strip()}"


class Member(Person):
    """A person of the directory with a GnuPG home of its own (so that a
    successful decryption proves whose key a copy is for): delivery_test's
    Person with an ed25519 + cv25519 key, and its mailbox name as user."""

    def __init__(self, address, name, clearance="RED"):
        super().__init__(address, name, clearance)
        self.user = address.split("@")[0]


def replace_once(text, old, new):
    if text.count(old) != 1:
        raise AssertionError(f"{old!r} is not in the packaged configuration exactly once")
    return text.replace(old, new)


class PackagedSite(harness.DaemonSite):
    """config/packaged/ copied and filled in as the operator guide says: the
    people in directory.toml, their keys in keys/, lists.d/ops.toml made
    from ops.toml.example. Only the ports and the state folder differ from
    what an operator would have (the test's own)."""

    def __init__(self, members, admin, relay_port):
        super().__init__("tlpk")
        shutil.copytree(PACKAGED, self.config_dir)
        with open(self.config) as f:
            main = f.read()
        main = replace_once(main, 'listen = ["127.0.0.1:10030"]', f'listen = ["127.0.0.1:{self.port}"]')
        main = replace_once(main, "port = 10031", f"port = {relay_port}")
        main = replace_once(main, 'state_dir = "/var/lib/tlpmail"', 'state_dir = "../state"')
        with open(self.config, "w") as f:
            f.write(main)
        with open(os.path.join(self.config_dir, "directory.toml"), "a") as f:
            f.write("".join(m.toml() for m in members))
        for m in members:
            with open(os.path.join(self.config_dir, "keys", m.email + ".asc"), "wb") as f:
                f.write(m.home.export_public(m.fpr))
        lists = os.path.join(self.config_dir, "lists.d")
        with open(os.path.join(lists, "ops.toml.example")) as f:
            ops = f.read()
        ops = re.sub(r"members = \[.*?\]\n", "members = [%s]\n" % ", ".join(
            f'"{m.email}"' for m in members), ops, count=1, flags=re.S)
        ops = re.sub(r'admins = \[.*?\]', f'admins = ["{admin.email}"]', ops, count=1)
        with open(os.path.join(lists, "ops.toml"), "w") as f:
            f.write(ops)

    def ctl(self, *args):
        p = run([os.path.abspath(TLPMAILCTL), "--config", self.config] + list(args))
        if p.returncode != 0:
            raise AssertionError(f"tlpmailctl {' '.join(args)}: exit {p.returncode}\n{p.stderr}")
        return p.stdout

    def start(self):
        return super().start("--retry-seconds", "1")

    def list_key(self):
        m = self.daemon.wait_log(rf" - list-key list={re.escape(OPS)} fingerprint=([0-9A-F]{{40}})")
        return m.group(1), self.ctl("list-key", OPS).encode()


def posting(sender, list_fpr, subject, text):
    """A PGP/MIME message signed and encrypted to the list key (and the
    sender), as a member's client sends it."""
    inner = entity([("Content-Type", "text/plain; charset=utf-8")], text)
    armored = sender.home.encrypt([list_fpr, sender.fpr], inner, signer=sender.fpr)
    ctype, body = encrypted_multipart(armored)
    head = [("From", f'"{sender.name}" <{sender.email}>'), ("To", OPS), ("Subject", subject),
            ("Date", date_header(time.time())),
            ("Message-ID", f"<{secrets.token_hex(8)}@{sender.email.split('@')[1]}>"),
            ("MIME-Version", "1.0")]
    return b"".join(f"{n}: {v}\r\n".encode() for n, v in head) + as_part(ctype, body)


def unsigned(sender, subject, text):
    return (f"From: {sender.email}\r\nTo: {OPS}\r\nSubject: {subject}\r\n"
            f"Date: {date_header(time.time())}\r\nMessage-ID: <{secrets.token_hex(8)}@x.example>\r\n"
            f"\r\n{text}\r\n").encode()


class Maildirs:
    """The members' maildirs as the MTA writes them: ROOT/USER/new/*."""

    def __init__(self, root):
        self.root = root

    def messages(self, user):
        out = []
        for sub in ("new", "cur"):
            d = os.path.join(self.root, user, sub)
            if os.path.isdir(d):
                for n in sorted(os.listdir(d)):
                    with open(os.path.join(d, n), "rb") as f:
                        out.append(f.read())
        return out

    def find(self, user, needle):
        return [m for m in self.messages(user) if needle in m]


class MtaCase(unittest.TestCase):
    """The scenario every MTA passes. A subclass sets `mta_name` and
    implements start_mta(), which starts the MTA for self.site on
    127.0.0.1 (MX on self.mx_port, re-injection on self.relay_port,
    maildirs under self.maildirs.root) and registers its stop with
    addClassCleanup; or raises unittest.SkipTest when the MTA cannot be
    installed."""

    mta_name = "?"
    snippets = []  # the files of docs/mta/ this MTA's set-up is made from

    @classmethod
    def setUpClass(cls):
        cls.alice = Member("alice@csirt-a.example", "Alice Example")
        cls.addClassCleanup(cls.alice.close)
        cls.bob = Member("bob@csirt-b.example", "Bob Beispiel", "AMBER")
        cls.addClassCleanup(cls.bob.close)
        cls.mx_port = harness.free_port()
        cls.relay_port = harness.free_port()
        cls.site = PackagedSite([cls.alice, cls.bob], cls.alice, cls.relay_port)
        cls.addClassCleanup(cls.site.close)
        cls.site.ctl("check-config")
        cls.site.start()
        cls.addClassCleanup(cls._stop_daemon)
        cls.list_fpr, pub = cls.site.list_key()
        for m in (cls.alice, cls.bob):
            m.home.import_keys(pub)
        cls.work = helpers.short_tempdir("tlpx")
        os.chmod(cls.work, 0o755)  # the MTA's unprivileged users walk through it
        cls.addClassCleanup(shutil.rmtree, cls.work, True)
        cls.maildirs = Maildirs(os.path.join(cls.work, "mail"))
        cls.start_mta()

    @classmethod
    def _stop_daemon(cls):
        if cls.site.daemon and cls.site.daemon.running():
            code = cls.site.daemon.stop()
            if code != 0:
                raise AssertionError(f"tlpmaild exit {code}\n{cls.site.log()}")

    @classmethod
    def start_mta(cls):
        raise NotImplementedError

    @classmethod
    def mta_log(cls):
        return ""

    def log(self):
        return (f"---- tlpmaild\n{self.site.log()}\n---- {self.mta_name}\n{self.mta_log()}")

    def send_mx(self, sender, recipients, data):
        return harness.smtp_transaction(self.mx_port, sender, recipients, data)

    def assert_copy_for(self, member, marker):
        """Waits for the copy with `marker` in member's maildir: encrypted
        to member's key only, signed by the list key."""
        def arrived():
            for raw in self.maildirs.messages(member.user):
                m = ARMOR_RE.search(raw)
                if not m:
                    continue
                code, plain, status = member.decrypt(m.group(0))
                if code == 0 and marker.encode() in plain:
                    return raw, plain, status
            return None
        raw, plain, status = wait_for(arrived, f"{member.email}'s copy of {marker}",
                                      log=self.log)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.assertTrue(msg["Return-Path"] is None or "ops-bounces+" in msg["Return-Path"],
                        msg["Return-Path"])
        self.assertIn("[ops]", msg["Subject"])
        self.assertTrue(any(s.startswith("VALIDSIG ") and s.split()[-1] == self.list_fpr
                            for s in status), status)
        return msg, plain

    def test_0_guide_shows_the_snippets(self):
        """The guide shows each file of docs/mta/ that the test uses, as a
        fenced block of its own, byte for byte: they cannot drift."""
        with open(GUIDE) as f:
            guide = f.read()
        self.assertTrue(self.snippets)
        for name in self.snippets:
            self.assertIn("```\n" + snippet(name) + "```\n", guide,
                          f"docs/mta/{name} is not shown as written in docs/operator-guide.md")

    def test_1_posting_reaches_members_maildirs(self):
        marker = f"case-{self.mta_name}-{secrets.token_hex(4)}"
        data = posting(self.alice, self.list_fpr, "[TLP:AMBER] Phishing wave",
                       f"Hello all,\n{marker}\n")
        mail, rcpts, done = self.send_mx(self.alice.email, [OPS], data)
        self.assertEqual(rcpts[0][0], 250, rcpts)
        self.assertEqual(done[0], 250, done)
        for member in (self.alice, self.bob):
            msg, plain = self.assert_copy_for(member, marker)
            self.assertIn("[TLP:AMBER]", msg["Subject"])
        # Bob's key cannot open Alice's copy.
        for raw in self.maildirs.messages("alice"):
            m = ARMOR_RE.search(raw)
            if m:
                self.assertNotEqual(self.bob.decrypt(m.group(0))[0], 0)

    def test_2_refusal_bounces_to_sender_with_reason(self):
        marker = f"unsigned-{secrets.token_hex(4)}"
        mail, rcpts, done = self.send_mx(self.alice.email, [OPS],
                                         unsigned(self.alice, f"[TLP:GREEN] {marker}", "hi"))
        self.assertEqual(done[0], 250, done)  # the MTA takes it, tlpmaild refuses it
        bounces = wait_for(lambda: [m for m in self.maildirs.messages("alice")
                                    if b"message is not signed" in m and marker.encode() in m],
                           "the bounce with tlpmail's reason", log=self.log)
        self.assertIn(b"5.7.1", bounces[0])

    def test_3_only_list_addresses_are_taken(self):
        mail, rcpts, done = self.send_mx(
            self.alice.email, ["nosuchlist@" + DOMAIN, "ops-bounces+x1=y.example@" + DOMAIN,
                               "ops-request@" + DOMAIN], b"Subject: x\r\n\r\nx\r\n")
        self.assertEqual(rcpts[0][0] // 100, 5, rcpts)
        self.assertEqual(rcpts[1][0], 250, rcpts)
        self.assertEqual(rcpts[2][0], 250, rcpts)

    def test_4_guide_end_to_end_check(self):
        """The operator guide's end-to-end check, run as written: only the
        MX (mx.lists.example.org) and the admin's GnuPG home differ."""
        script = guide_block("e2e-check")
        self.assertIn("mx.lists.example.org", script)
        script = script.replace("mx.lists.example.org", f"127.0.0.1:{self.mx_port}")
        env = dict(os.environ, GNUPGHOME=self.alice.home.path)
        p = run(["bash", "-euo", "pipefail", "-c", script], cwd=self.work, env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("250", p.stdout)
        for member in (self.alice, self.bob):
            def arrived(member=member):
                for raw in self.maildirs.messages(member.user):
                    m = ARMOR_RE.search(raw)
                    if m and b"end-to-end check" in raw:
                        code, plain, status = member.decrypt(m.group(0))
                        if code == 0 and b"End-to-end check" in plain:
                            return raw
                return None
            raw = wait_for(arrived, f"{member.email}'s copy of the guide's check", log=self.log)
            # "What to look for", item by item.
            msg, plain = self.assert_copy_for(member, "End-to-end check")
            self.assertEqual(msg["Subject"], "[TLP:CLEAR] [ops] tlpmail end-to-end check")
            self.assertIn("Alice Example via ops", msg["From"])
        m = self.site.daemon.wait_log(rf" accept queue_id=(\w+) list={re.escape(OPS)} .*label=CLEAR")
        qid = m.group(1)
        self.site.daemon.wait_log(rf"{qid} spool ")
        self.site.daemon.wait_log(rf"{qid} fanout list={re.escape(OPS)} .*copies=2")
        self.assertIn(self.list_fpr, self.site.ctl("lists"))
        wait_for(lambda: "nothing waits for delivery" in self.site.ctl("queue"),
                 "tlpmailctl queue: nothing waits", log=self.log)
        audit = self.site.ctl("audit", "--list", OPS)
        self.assertRegex(audit, rf"(?m)^\S+ \S+ +{re.escape(OPS)} +accepted +CLEAR .*{qid}")
        self.assertRegex(audit, rf"{qid}.*\n +copies: alice@csirt-a.example \[delivered\], "
                         rf"bob@csirt-b.example \[delivered\]")
