"""The admins' notices about the list key (issue 11, "The list key": the
admins are told 60, 30, 7 and 1 days before a list key expires) through
the real tlpmaild, real gpg and a real SMTP sink, with the daemon's clock
moved by libfaketime to the days before the key of ops@ expires:

  - 60 days before, the admin (and only the admin) gets one notice, signed
    by the list key and encrypted to the admin, that names the key and
    `tlpmailctl extend-list-key`;
  - a reload and a restart run the job again and send nothing more, also
    when the job's record of its last run is lost (the notice's outbox id
    refuses the repeat);
  - 30 days before, the next notice, once.

One daemon at a time, one sink; test-only keys made at test time. Standard
library only (plus gpg)."""

import email
import email.policy
import os
import signal
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import harness  # noqa: E402
from delivery_test import armored_of, wait_for  # noqa: E402
from intake_security_test import PeopleSiteCase, Site, alice_and_bob  # noqa: E402
from list_keys_test import Clock, ClockDaemon, KeyView  # noqa: E402

OPS = "ops@" + harness.LIST_DOMAIN
DAY = 86400
# --job-tick-ms 200: the periodic jobs look every 200 ms whether they are
# due; --outbox-poll-ms 200: queued notices go out at once.
DAEMON_ARGS = ("--retry-seconds", "1", "--job-tick-ms", "200", "--outbox-poll-ms", "200")
JOB_OK = r" - job job=list-key-notices status=ok"


class ListKeyNoticeTest(PeopleSiteCase):

    @classmethod
    def setUpClass(cls):
        cls.alice, cls.bob = alice_and_bob()
        cls.people = [cls.alice, cls.bob]
        cls.sink = harness.Sink()
        cls.sink.start()
        cls.site = Site(cls.people, {"ops": ("AMBER", cls.people)}, cls.sink.port)
        cls.clock = Clock(cls.make_root("tlpn"))
        cls.start_daemon()
        cls.fpr, cls.public = cls.site.list_key(OPS)
        cls.expires = int(KeyView(cls.public).expires[0])
        cls.alice.home.import_keys(cls.public)

    @classmethod
    def start_daemon(cls):
        cls.site.daemon = ClockDaemon(cls.site.config, DAEMON_ARGS, cls.clock.env())
        cls.site.daemons.append(cls.site.daemon)
        cls.site.daemon.start()

    def notices(self, person, days):
        subject = f"[ops] the list key expires in {days} days"
        out = []
        for meta, raw in self.sink.messages():
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            if meta["rcpt_to"] == [person.email] and str(msg["Subject"]) == subject:
                out.append(raw)
        return out

    def job_run(self, since):
        return self.site.daemon.wait_log(JOB_OK, since=since)

    def test_each_notice_once_across_reloads_and_restarts(self):
        self.job_run(0)  # at start: the key has 3 years left
        self.assertTrue(self.expires > time.time() + 1000 * DAY, self.expires)
        # An hour after the 60-day moment: the daily job is overdue.
        now = self.expires - 60 * DAY + 3600
        mark = self.site.daemon.mark()
        self.clock.set(now - time.time())
        raw = wait_for(lambda: self.notices(self.alice, 60), "the 60-day notice",
                       log=self.log)[0]
        m = self.job_run(mark)
        self.assertIn(f"{OPS}: the list key expires in 60 days", m.string)
        p = self.alice.home.run("--status-fd", "2", "--decrypt", "--output", "-",
                                data=armored_of(raw), check=False, faketime=now)
        self.assertEqual(p.returncode, 0, p.stderr)
        valid = [l.split()[-1] for l in p.stderr.decode().splitlines()
                 if l.startswith("[GNUPG:] VALIDSIG ")]
        self.assertEqual(valid, [self.fpr])  # signed by the list key
        text = email.message_from_bytes(p.stdout, policy=email.policy.default)
        body = (text if text.get_content_type() == "text/plain"
                else text.get_payload()[0]).get_content()
        self.assertIn(self.fpr, body)
        self.assertIn(time.strftime("%Y-%m-%d", time.gmtime(self.expires)), body)
        self.assertIn("tlpmailctl extend-list-key " + OPS, body)
        self.assertEqual(self.notices(self.bob, 60), [])  # members are not told

        # A reload runs the job again: nothing more.
        mark = self.site.daemon.mark()
        self.site.daemon.signal(signal.SIGHUP)
        self.site.daemon.wait_log(r" - reload status=ok lists=", since=mark)
        self.assertIn("0 notices", self.job_run(mark).string)
        # A restart, with the job's record of its last run lost: the run
        # looks one day back and finds the 60-day moment again, and the
        # outbox refuses the notice's id.
        self.assertEqual(self.site.daemon.stop(), 0, self.log())
        db = self.site.db()
        with db:
            db.execute("DELETE FROM maintenance_runs WHERE job = 'list-key-notices'")
        db.close()
        self.start_daemon()
        m = self.job_run(0)
        self.assertIn("0 notices, 1 sent before", m.string)
        time.sleep(1)  # several outbox passes
        self.assertEqual(len(self.notices(self.alice, 60)), 1)
        ids = [r[0] for r in self.site.query(
            "SELECT id FROM outbox_messages WHERE id LIKE 'listkey-expiry.%'")]
        self.assertEqual(ids, [f"listkey-expiry.{self.fpr}.{self.expires}.60.{self.alice.email}"])

        # 30 days before: the next notice, once.
        mark = self.site.daemon.mark()
        self.clock.set(self.expires - 30 * DAY + 3600 - time.time())
        wait_for(lambda: self.notices(self.alice, 30), "the 30-day notice", log=self.log)
        self.job_run(mark)
        time.sleep(1)
        self.assertEqual(len(self.notices(self.alice, 30)), 1)
        self.assertEqual(len(self.notices(self.alice, 60)), 1)


if __name__ == "__main__":
    unittest.main()
