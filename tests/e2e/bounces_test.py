"""Bounces (issue 12) through the real tlpmaild, real gpg and a real SMTP
sink: every copy leaves from its own VERP address (ops-bounces+TOKEN@);
what comes back there is read and, when it is a permanent failure, marks
exactly that copy `bounced` (tlpmailctl --json audit and queue). A
temporary DSN is recorded and changes nothing; a bounce without a token,
with an unknown token or with a token already used, and a vacation reply,
are dropped with a log line; nothing of a bounce's text reaches the log.
Three bounces in a row flag the member in `tlpmailctl members` and, the
next day (libfaketime), in the admins' daily digest; the queue's counter
of mail not yet fanned out goes back to 0. Test-only keys made at test
time; standard library only (plus gpg, libfaketime)."""

import email
import email.policy
import json
import os
import re
import secrets
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import harness  # noqa: E402
from comcheck_test import dsn, send_bounce  # noqa: E402
from corpus_mime import crlf, date_header  # noqa: E402
from delivery_test import Person, armored_of, posting, wait_for  # noqa: E402
from intake_security_test import OPS, PeopleSiteCase, alice_and_bob  # noqa: E402
from member_keys_test import Clock, KeySite  # noqa: E402

DOMAIN = harness.LIST_DOMAIN
BOUNCES = "ops-bounces@" + DOMAIN
VERP_RE = re.compile(r"^ops-bounces\+([a-z2-7]{26})@" + re.escape(DOMAIN) + "$")
DAEMON_ARGS = ("--retry-seconds", "1", "--job-tick-ms", "200")
DAY = 86400
DIAGNOSTIC = "550 5.1.1 <{r}>: Recipient address rejected: mailbox of {r} is gone"


def qmail_bounce(verp, recipient):
    """A bounce that is not a report (qmail's), matched by its VERP token."""
    return crlf(f"""From: MAILER-DAEMON@mx.e.example
To: {verp}
Subject: failure notice
Date: {date_header(time.time())}
Message-ID: <{secrets.token_hex(8)}@mx.e.example>

Hi. This is the qmail-send program at mx.e.example.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<{recipient}>:
550 5.1.1 sorry, no mailbox here by that name

--- Below this line is a copy of the message.
""")


def vacation(verp, person):
    return crlf(f"""From: "{person.name}" <{person.email}>
To: {verp}
Subject: Out of office: your message
Date: {date_header(time.time())}
Auto-Submitted: auto-replied
Message-ID: <{secrets.token_hex(8)}@e.example>

I am away until Monday.
""")


class BounceTest(PeopleSiteCase):

    @classmethod
    def setUpClass(cls):
        cls.clock = Clock(cls.make_root("tlpb"))
        cls.alice, cls.bob = alice_and_bob()
        cls.erin = Person("erin@e.example", "Erin Gone", "AMBER")
        people = [cls.alice, cls.bob, cls.erin]
        cls.start_site(people, {"ops": ("AMBER", people)}, *DAEMON_ARGS, site_class=KeySite,
                       site_args=(cls.clock,))
        cls.ops_fpr = cls.list_fprs[OPS]

    def ctl_json(self, *args):
        code, out, err = self.site.ctl("--json", *args)
        try:
            return json.loads(out)
        except ValueError:
            raise AssertionError(f"tlpmailctl --json {' '.join(args)}: {code} {out}{err}")

    def post(self, n):
        """Posts message n from Alice; returns (queue id, {recipient: envelope
        sender}) of its copies (the sink's new messages from a VERP address)."""
        before = self.sink.count()
        data = posting(self.alice, self.ops_fpr, f"[TLP:AMBER] bounce test {n}", f"Body {n}.\n")
        code, text = harness.smtp_send(self.site.daemon.port, self.alice.email, [OPS], data)
        self.assertEqual(code, 250, text)
        qid = harness.queued_id(text)

        def copies():
            got = {m["rcpt_to"][0]: m["mail_from"] for m, _ in self.sink.messages()[before:]
                   if VERP_RE.match(m["mail_from"])}
            return got if len(got) >= 3 else None
        return qid, wait_for(copies, f"the copies of post {n}", log=self.log)

    def bounce(self, verp, data, outcome):
        """Sends `data` to `verp` (MAIL FROM:<>); waits for its log line."""
        mark = self.site.daemon.mark()
        qid = send_bounce(self.site, verp, data)
        return self.site.daemon.wait_log(
            rf" {qid} bounce list={re.escape(OPS)} token=(\w+) .*outcome={outcome} "
            r"reason=(.*)$", since=mark)

    def delivery(self, qid):
        """{recipient: state} of posting `qid` in tlpmailctl --json audit."""
        entries = [e for e in self.ctl_json("audit", "--list", OPS)["entries"]
                   if e["queue_id"] == qid]
        self.assertEqual(len(entries), 1)
        return entries[0]["delivery"]

    def members(self):
        return {m["email"]: m for m in self.ctl_json("members", OPS)["members"]}

    def test_bounces_mark_copies_and_flag_the_member(self):
        qid1, senders = self.post(1)
        self.assertEqual(sorted(senders), sorted(p.email for p in self.people))
        tokens = {r: VERP_RE.match(s).group(1) for r, s in senders.items()}
        self.assertEqual(len(set(tokens.values())), 3)  # one token per copy
        erin_verp = senders[self.erin.email]
        wait_for(lambda: self.delivery(qid1).get(self.erin.email) == "delivered",
                 "erin's copy delivered", log=self.log)

        # No token, an unknown token: dropped, nothing changes.
        m = self.bounce(BOUNCES, dsn(BOUNCES, self.erin.email), "dropped")
        self.assertEqual(m.group(1), "missing")
        unknown = f"ops-bounces+{'a' * 26}@{DOMAIN}"
        m = self.bounce(unknown, dsn(unknown, self.erin.email), "dropped")
        self.assertEqual(m.group(1), "unknown")
        # A delay is recorded, the copy stays delivered.
        m = self.bounce(erin_verp, dsn(erin_verp, self.erin.email, "4.4.7", "delayed",
                                       "451 4.4.7 try again later"), "recorded")
        self.assertIn("temporary", m.group(2))
        # A vacation reply to the envelope sender is not a bounce.
        m = self.bounce(erin_verp, vacation(erin_verp, self.erin), "dropped")
        self.assertIn("automatic reply", m.group(2))
        self.assertEqual(self.delivery(qid1)[self.erin.email], "delivered")

        # The permanent failure: exactly Erin's copy is bounced.
        m = self.bounce(erin_verp, dsn(erin_verp, self.erin.email, diagnostic=DIAGNOSTIC),
                        "bounced")
        self.assertEqual(m.group(1), "ok")
        d = self.delivery(qid1)
        self.assertEqual(d[self.erin.email], "bounced")
        self.assertEqual(d[self.bob.email], "delivered")
        self.assertEqual(d[self.alice.email], "delivered")
        rows = self.site.query("SELECT status, action, outcome FROM bounce_reports ORDER BY id")
        self.assertEqual(rows, [("4.4.7", "delayed", "recorded"),
                                ("5.1.1", "failed", "bounced")])
        reply = self.site.query("SELECT last_reply FROM outbox_copies WHERE recipient = ? "
                                "AND state = 'bounced'", (self.erin.email,))
        self.assertEqual(len(reply), 1)
        self.assertTrue(reply[0][0].startswith("bounced: 5.1.1"), reply)
        # The same bounce again: the token is used up.
        m = self.bounce(erin_verp, dsn(erin_verp, self.erin.email), "dropped")
        self.assertEqual(m.group(1), "reused")
        # A bounce's text never reaches the log, only its status fields.
        self.assertNotIn("Recipient address rejected", self.site.log())
        self.assertNotIn("mailbox of", self.site.log())
        self.assertFalse(self.members()[self.erin.email]["bounce_flagged"])

        # Two more messages, two more bounces (one not a report at all).
        qid2, senders2 = self.post(2)
        wait_for(lambda: self.delivery(qid2).get(self.erin.email) == "delivered",
                 "erin's second copy delivered", log=self.log)
        self.bounce(senders2[self.erin.email], qmail_bounce(senders2[self.erin.email],
                                                            self.erin.email), "bounced")
        qid3, senders3 = self.post(3)
        wait_for(lambda: self.delivery(qid3).get(self.erin.email) == "delivered",
                 "erin's third copy delivered", log=self.log)
        self.assertNotEqual(senders3[self.erin.email], senders2[self.erin.email])
        self.bounce(senders3[self.erin.email], dsn(senders3[self.erin.email], self.erin.email),
                    "bounced")
        self.assertEqual(self.delivery(qid2)[self.erin.email], "bounced")

        # Flagged after bounce_threshold (3) in a row; nobody else.
        members = self.members()
        self.assertTrue(members[self.erin.email]["bounce_flagged"])
        self.assertEqual(members[self.erin.email]["bounce_streak"], 3)
        self.assertFalse(members[self.bob.email]["bounce_flagged"])
        code, out, err = self.site.ctl("members", OPS)
        self.assertEqual(code, 0, err)
        erin_line = next(l for l in out.splitlines() if l.startswith(self.erin.email))
        self.assertIn("bounced 3 in a row", erin_line)
        self.assertNotIn("bounced", next(l for l in out.splitlines()
                                         if l.startswith(self.bob.email)))

        # Mail to -request and -bounces is processed, not left waiting:
        # the monitoring counter goes back to 0.
        wait_for(lambda: self.ctl_json("queue")["spooled"] == 0,
                 "no message left in the spool", log=self.log)
        q = self.ctl_json("queue")
        self.assertEqual(q["copies"]["bounced"], 3)
        code, out, err = self.site.ctl("queue")
        self.assertIn("not yet fanned out: 0", out)
        self.assertIn("3 bounced", out)

        # The next day the admins' digest names Erin.
        self.clock.set(DAY + 3600)
        raw = wait_for(lambda: self.site.notices_to(self.alice.email, self.sink, "daily digest"),
                       "the daily digest", log=self.log)[0]
        code, plain, status = self.alice.decrypt(armored_of(raw))
        self.assertEqual(code, 0, status)
        text = email.message_from_bytes(plain, policy=email.policy.default).get_content()
        self.assertIn("Members whose copies bounced", text)
        self.assertRegex(text, r"(?m)^  erin@e\.example: the last 3 copies in a row did not "
                               r"arrive")
        self.assertNotIn("bob@b.example:", text)

        # The flag keeps nobody out: a fourth post still has a copy for Erin.
        _, senders4 = self.post(4)
        self.assertIn(self.erin.email, senders4)


class QueueCounterTest(unittest.TestCase):
    """tlpmaild --hold-spool keeps what it receives: mail to -request and
    -bounces waits for its stage and is counted apart from the postings
    not yet fanned out (the counter monitoring watches)."""

    def test_service_mail_is_not_counted_as_not_fanned_out(self):
        keys = harness.Keys()
        site = harness.Site(keys)
        try:
            site.start()  # --hold-spool
            port = site.daemon.port
            request = "ops-request@" + DOMAIN
            code, text = harness.smtp_send(port, "stranger@x.example", [request],
                                           harness.message(to=request, body="help"))
            self.assertEqual(code, 250, text)
            verp = f"ops-bounces+{'b' * 26}@{DOMAIN}"
            code, text = harness.smtp_send(port, "", [verp], dsn(verp, "alice@a.example"))
            self.assertEqual(code, 250, text)
            self.assertEqual(len(site.spool_files()), 2)
            code, out, err = self.ctl(site, "--json", "queue")
            self.assertEqual(code, 0, err)
            q = json.loads(out)
            self.assertEqual((q["spooled"], q["spooled_service"]), (0, 2))
            code, out, err = self.ctl(site, "queue")
            self.assertIn("messages in the spool, not yet fanned out: 0\n", out)
            self.assertIn("mail to -request/-bounces addresses, not yet processed: 2\n", out)
            self.assertEqual(site.daemon.stop(), 0)
        finally:
            site.close()
            keys.close()

    def ctl(self, site, *args):
        p = subprocess.run([os.path.abspath(os.environ.get("TLPMAILCTL",
                                                           "build/daemon/tlpmailctl")),
                            "--config", site.config] + list(args),
                           capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout, p.stderr


if __name__ == "__main__":
    unittest.main()
