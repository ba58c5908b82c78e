"""The reply to DATA is the verifier's verdict: the real tlpmaild on the
fixture corpus (tests/fixtures/make_corpus.py), every manifest message sent
in order over SMTP; exact replies, spool, audit rows, no plaintext marker
anywhere. Also exact retries ("already queued as", one spool file), the
one-list-per-transaction rule (452 4.5.3) and LMTP's one reply per
recipient. Standard library only; real gpg."""

import json
import os
import re
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import harness  # noqa: E402
import helpers  # noqa: E402
import make_corpus  # noqa: E402

TLPMAILCTL = os.environ.get("TLPMAILCTL", "build/daemon/tlpmailctl")
OPS = "ops@lists.example.org"
RED = "red@lists.example.org"
ONE_LIST = (452, "4.5.3 one list per message, please send again for this recipient")


class CorpusSite(harness.DaemonSite):
    """The corpus's config tree with this test's port and state folder; the
    lists' secret keys imported with tlpmailctl before the first start."""

    def __init__(self, corpus_dir, protocol="smtp"):
        super().__init__("tlpv")
        self.corpus_dir = corpus_dir
        shutil.copytree(os.path.join(corpus_dir, "config"), self.config_dir)
        with open(self.config) as f:
            text = f.read()
        text = re.sub(r'(?m)^listen\s*=.*$', f'listen = ["127.0.0.1:{self.port}"]', text)
        text = re.sub(r'(?m)^state_dir\s*=.*$', f'state_dir = "{self.state}"', text)
        text = re.sub(r'(?m)^protocol\s*=.*$', f'protocol = "{protocol}"', text)
        if not re.search(r'(?m)^protocol\s*=', text):
            text = text.replace("[server]\n", f'[server]\nprotocol = "{protocol}"\n', 1)
        with open(self.config, "w") as f:
            f.write(text)
        keys = os.path.join(corpus_dir, "list-keys")
        for name in sorted(os.listdir(keys)):
            if not name.endswith(".sec.asc"):
                continue
            address = name[:-len(".sec.asc")]
            p = subprocess.run([os.path.abspath(TLPMAILCTL), "--config", self.config,
                                "import-list-key", address, os.path.join(keys, name)],
                               capture_output=True, text=True, timeout=120)
            if p.returncode != 0:
                raise AssertionError(f"import-list-key {address}: {p.stdout}{p.stderr}")


def send(port, sender, recipients, data):
    """(code, text) of DATA, (None, None) when no recipient was accepted,
    plus the RCPT replies."""
    mail, rcpts, done = harness.smtp_transaction(port, sender, recipients, data, timeout=60)
    assert mail[0] == 250, mail
    return (*(done or (None, None)), rcpts)


def spool_ids(site):
    """Queue ids of every spooled message (any state)."""
    return {r[0] for r in site.query("SELECT id FROM spool_messages")}


class CorpusTest(unittest.TestCase):
    """Every fixture in manifest order; one daemon, one state."""

    @classmethod
    def setUpClass(cls):
        cls.corpus_dir = os.path.join(helpers.short_tempdir("tlpk"), "corpus")
        cls.corpus = make_corpus.generate(cls.corpus_dir)
        with open(os.path.join(cls.corpus_dir, "manifest.json")) as f:
            cls.manifest = __import__("json").load(f)

    @classmethod
    def tearDownClass(cls):
        make_corpus.remove(cls.corpus_dir)
        shutil.rmtree(os.path.dirname(cls.corpus_dir), ignore_errors=True)

    def setUp(self):
        self.site = CorpusSite(self.corpus_dir)
        self.addCleanup(self.site.close)
        self.daemon = self.site.start()

    def message(self, name):
        for m in self.manifest:
            if m["name"] == name:
                with open(os.path.join(self.corpus_dir, m["file"]), "rb") as f:
                    return m, f.read()
        raise KeyError(name)

    def test_every_fixture_gets_its_verdict(self):
        accepted = {}
        for m in self.manifest:
            with open(os.path.join(self.corpus_dir, m["file"]), "rb") as f:
                data = f.read()
            # Spool rows, not files: accepted messages are fanned out (their
            # file removed) while the next fixture is sent.
            before = spool_ids(self.site)
            code, text, _ = send(self.daemon.port, m["envelope_from"], [m["list"]], data)
            with self.subTest(fixture=m["name"]):
                self.assertEqual(code, m["smtp_code"], text)
                if m["expect"] == "accept":
                    self.assertRegex(text, r"^2\.0\.0 Ok: queued as [0-9a-f]{16}$")
                    qid = text.split()[-1]
                    accepted[qid] = m
                    self.assertIn(qid, spool_ids(self.site))
                else:
                    self.assertEqual(text, f'{m["enhanced_code"]} {m["reason"]}')
                    self.assertEqual(spool_ids(self.site), before)
        self.daemon.wait_no_sessions()
        self.assertEqual(self.daemon.stop(), 0)

        rows = self.site.query("SELECT list, queue_id, verdict, reason, smtp_reply, "
                               "signer_fingerprint, label FROM audit_log ORDER BY id")
        self.assertEqual(len(rows), len(self.manifest))
        for row, m in zip(rows, self.manifest):
            with self.subTest(audit=m["name"]):
                lst, qid, verdict, reason, reply, fpr, label = row
                self.assertEqual(lst, m["list"].lower())
                self.assertEqual(reply, f'{m["smtp_code"]} {m["enhanced_code"]}')
                if m["expect"] == "accept":
                    self.assertEqual(verdict, "accepted")
                    self.assertIn(qid, accepted)
                    self.assertEqual(accepted[qid]["name"], m["name"])
                    self.assertEqual(label, m["label"])
                else:
                    self.assertEqual(verdict, "refused")
                    self.assertIsNone(qid)
                    self.assertEqual(reason, m["reason"])

        # Log lines for the verdicts, and no plaintext marker anywhere.
        log = self.daemon.log()
        self.assertRegex(log, r" s\d+ reject reason=\"?message is not signed\"? list=ops@")
        self.assertRegex(log, r" s\d+ accept queue_id=[0-9a-f]{16} list=ops@")
        markers = {x for m in self.manifest for x in (m.get("must_not_contain") or [])}
        self.assertTrue(markers)
        blobs = [log.encode()]
        for folder, _, files in os.walk(self.site.state):
            if os.path.basename(folder) == "gnupg" or "/gnupg" in folder:
                continue
            for name in files:
                with open(os.path.join(folder, name), "rb") as f:
                    blobs.append(f.read())
        for marker in markers:
            for blob in blobs:
                self.assertNotIn(marker.encode(), blob)

    def test_one_list_per_transaction(self):
        m, data = self.message("accept-pgpmime-signed")
        code, text, rcpts = send(self.daemon.port, m["envelope_from"],
                                 [OPS, RED, "ops-request@lists.example.org", OPS], data)
        self.assertEqual([r[0] for r in rcpts], [250, 452, 452, 250])
        self.assertEqual(rcpts[1], ONE_LIST)
        self.assertEqual(code, 250, text)
        self.assertRegex(text, r"^2\.0\.0 Ok: queued as [0-9a-f]{16}$")

    def test_exact_retry_is_already_queued(self):
        # An MTA that never saw our 250 sends the same message again.
        m, data = self.message("accept-replay-original")
        code, text, _ = send(self.daemon.port, m["envelope_from"], [m["list"]], data)
        self.assertEqual(code, 250, text)
        self.assertRegex(text, r"^2\.0\.0 Ok: queued as [0-9a-f]{16}$")
        qid = text.split()[-1]
        self.assertEqual(spool_ids(self.site), {qid})
        code, text, _ = send(self.daemon.port, m["envelope_from"], [m["list"]], data)
        self.assertEqual((code, text), (250, f"2.0.0 Ok: already queued as {qid}"))
        self.assertEqual(spool_ids(self.site), {qid})
        # The same signature with a new Message-ID stays a replay.
        r, replay = self.message("refuse-replay")
        code, text, _ = send(self.daemon.port, r["envelope_from"], [r["list"]], replay)
        self.assertEqual((code, text), (550, "5.7.1 signature was already used (replay)"))
        self.assertEqual(spool_ids(self.site), {qid})
        self.daemon.wait_no_sessions()
        self.assertEqual(self.daemon.stop(), 0)
        rows = self.site.query("SELECT verdict, queue_id, smtp_reply FROM audit_log ORDER BY id")
        spooled = self.site.query("SELECT COUNT(*) FROM spool_messages")[0][0]
        digests = self.site.query("SELECT list, queue_id FROM replay_digests")
        self.assertEqual(rows, [("accepted", qid, "250 2.0.0"), ("duplicate", qid, "250 2.0.0"),
                                ("refused", None, "550 5.7.1")])
        self.assertEqual(spooled, 1)
        self.assertEqual(digests, [(m["list"].lower(), qid)])
        self.assertRegex(self.daemon.log(),
                         rf" s\d+ duplicate queue_id={qid} list={re.escape(m['list'])} ")

    def test_request_addresses_are_spooled_unverified(self):
        unsigned = harness.message(to="ops-request@lists.example.org")
        code, text, rcpts = send(self.daemon.port, "someone@x.example",
                                 ["ops-request@lists.example.org",
                                  "red-bounces@lists.example.org", OPS], unsigned)
        self.assertEqual([r[0] for r in rcpts], [250, 250, 452])
        self.assertEqual(code, 250, text)
        self.assertIn(text.split()[-1], self.site.spool_files())
        # The same unsigned message to the posting address is refused.
        code, text, _ = send(self.daemon.port, "someone@x.example", [OPS], unsigned)
        self.assertEqual((code, text), (550, "5.7.1 message is not signed"))


    def ctl(self, *args):
        return subprocess.run([os.path.abspath(TLPMAILCTL), "--config", self.site.config,
                               *args], capture_output=True, text=True, timeout=60)

    def test_audit_shows_verdicts_and_copies(self):
        m, data = self.message("accept-pgpmime-signed")
        code, text, _ = send(self.daemon.port, m["envelope_from"], [OPS], data)
        self.assertEqual(code, 250, text)
        qid = text.split()[-1]
        code, text, _ = send(self.daemon.port, "someone@x.example", [OPS],
                             harness.message(to=OPS))
        self.assertEqual((code, text), (550, "5.7.1 message is not signed"))
        self.daemon.wait_no_sessions()
        recipients = self.site.query("SELECT address, chosen, why FROM audit_recipients "
                                     "ORDER BY audit_id, position")
        signer, fpr, label = self.site.query(
            "SELECT signer_email, signer_fingerprint, label FROM audit_log "
            "WHERE verdict = 'accepted'")[0]
        want_copies = [a for a, chosen, _ in recipients if chosen]
        want_left = [{"address": a, "why": why} for a, chosen, why in recipients if not chosen]
        self.assertTrue(want_copies)

        # Read while the daemon runs (WAL), plain text.
        p = self.ctl("audit")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")
        lines = p.stdout.splitlines()
        self.assertRegex(lines[0], r"^AT \(UTC\)\s+LIST\s+VERDICT\s+LABEL\s+SIGNER\s+"
                                   r"QUEUE ID\s+REASON$")
        self.assertRegex(lines[1], rf"^\d{{4}}-\d\d-\d\d \d\d:\d\d  {re.escape(OPS)}\s+"
                                   rf"accepted\s+{re.escape(label)}\s+{re.escape(signer)}\s+"
                                   rf"{qid}\s+-$")
        # Each copy may carry its delivery state once the fan-out ran
        # (the relay is down here: queued, in_flight or deferred).
        copies_line = re.sub(r" \[(queued|in_flight|deferred)\]", "", lines[2])
        self.assertEqual(copies_line, "    copies: " + ", ".join(want_copies))
        rest = lines[3:]
        for w in want_left:
            self.assertEqual(rest[0], f"    left out: {w['address']} ({w['why']})")
            rest = rest[1:]
        self.assertEqual(len(rest), 1, p.stdout)
        self.assertRegex(rest[0], rf"^\S+ \S+  {re.escape(OPS)}\s+refused\s+-\s+-\s+-\s+"
                                  r"message is not signed$")

        # JSON, filtered by list (any case) after the daemon stopped.
        self.assertEqual(self.daemon.stop(), 0)
        p = self.ctl("--json", "audit", "--list", OPS.upper())
        self.assertEqual(p.returncode, 0, p.stderr)
        entries = json.loads(p.stdout)["entries"]
        self.assertEqual(len(entries), 2)
        got = entries[0]
        self.assertRegex(got.pop("at"), r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertTrue(got.pop("message_id"))
        got.pop("list_message_id")  # set by the fan-out, which may not have run yet
        delivery = got.pop("delivery")
        self.assertLessEqual(set(delivery), set(want_copies))
        self.assertLessEqual(set(delivery.values()), {"queued", "in_flight", "deferred"})
        self.assertEqual(got, {"list": OPS, "verdict": "accepted", "label": label,
                               "signer_email": signer, "signer_fingerprint": fpr,
                               "queue_id": qid, "refusal": "", "reason": "",
                               "smtp_reply": "250 2.0.0", "copies": want_copies,
                               "left_out": want_left})
        self.assertEqual((entries[1]["verdict"], entries[1]["reason"], entries[1]["smtp_reply"],
                          entries[1]["queue_id"], entries[1]["copies"]),
                         ("refused", "message is not signed", "550 5.7.1", "", []))
        # Other lists and later dates filter everything out.
        p = self.ctl("--json", "audit", "--list", "old@lists.example.org")
        self.assertEqual((p.returncode, json.loads(p.stdout)), (0, {"entries": []}))
        p = self.ctl("--json", "audit", "--since", "2999-01-01")
        self.assertEqual((p.returncode, json.loads(p.stdout)), (0, {"entries": []}))
        p = self.ctl("--json", "audit", "--since", "2000-01-01")
        self.assertEqual(len(json.loads(p.stdout)["entries"]), 2)
        sys.stderr.write("\n--- sample audit output ---\n" + self.ctl("audit").stdout)


class LmtpTest(unittest.TestCase):
    """LMTP: each accepted recipient gets the message's verdict."""

    @classmethod
    def setUpClass(cls):
        cls.corpus_dir = os.path.join(helpers.short_tempdir("tlpk"), "corpus")
        make_corpus.generate(cls.corpus_dir)

    @classmethod
    def tearDownClass(cls):
        make_corpus.remove(cls.corpus_dir)
        shutil.rmtree(os.path.dirname(cls.corpus_dir), ignore_errors=True)

    def test_two_recipients_two_identical_replies(self):
        site = CorpusSite(self.corpus_dir, protocol="lmtp")
        self.addCleanup(site.close)
        daemon = site.start()
        for name, want in (("accept-pgpmime-signed", r"^250 2\.0\.0 Ok: queued as [0-9a-f]{16}$"),
                           ("refuse-unsigned", r"^550 5\.7\.1 message is not signed$")):
            with open(os.path.join(self.corpus_dir, "messages", name + ".eml"), "rb") as f:
                data = f.read()
            c = harness.Raw(daemon.port)
            try:
                c.line()  # greeting
                c.send(b"LHLO client.example\r\n")
                c.reply()
                c.send(f"MAIL FROM:<alice@csirt-a.example>\r\nRCPT TO:<{OPS}>\r\n"
                       f"RCPT TO:<{OPS}>\r\nRCPT TO:<{RED}>\r\nDATA\r\n".encode())
                self.assertEqual(c.line(), "250 2.1.0 Ok")
                self.assertEqual(c.line(), "250 2.1.5 Ok")
                self.assertEqual(c.line(), "250 2.1.5 Ok")
                self.assertEqual(c.line(), "452 " + ONE_LIST[1])
                self.assertTrue(c.line().startswith("354"))
                if not data.endswith(b"\r\n"):
                    data += b"\r\n"
                c.send(re.sub(rb"(?m)^\.", b"..", data) + b".\r\n")
                first, second = c.line(), c.line()
                self.assertRegex(first, want)
                self.assertEqual(first, second)
                c.send(b"QUIT\r\n")
            finally:
                c.close()
        daemon.wait_no_sessions()
        self.assertEqual(daemon.stop(), 0)


if __name__ == "__main__":
    unittest.main()
