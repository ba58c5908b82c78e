"""End-to-end tests of tlpmaild: the real daemon on 127.0.0.1, real
clients (python smtplib for SMTP and LMTP, swaks, Postfix's smtp-source,
raw sockets for byte-exact checks), real gpg keys made at test time, a
real certificate for STARTTLS, real signals. Every message answered 250
must be in state/spool/msg and in tlpmail.db. The kill -9 test is the
class KillTest (run on its own by ctest as e2e.tlpmaild_kill9)."""

import json
import os
import random
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import LIST_DOMAIN, Raw, message, queued_id, smtp_send  # noqa: E402

# Intake tests send unsigned test messages: to the -request addresses,
# which are spooled as received. A list's posting address gets the
# verifier's verdict (tests/e2e/verdict_test.py).
OPS = "ops-request@" + LIST_DOMAIN
OPS_LIST = "ops@" + LIST_DOMAIN  # the list itself (its key)
ALICE = "alice@a.example"

KEYS = harness.ModuleKeys()
setUpModule, tearDownModule = KEYS.open, KEYS.close


class DaemonCase(harness.DaemonCase):
    """One site and one daemon for the whole class."""

    keys = KEYS

    def assert_spooled(self, queue_id, data, sender=ALICE, recipients=(OPS,)):
        """The message is in spool/msg with exactly these bytes and in the
        database as received, with its envelope."""
        self.assertIsNotNone(queue_id)
        self.assertIn(queue_id, self.site.spool_files())
        self.assertEqual(self.site.spool_bytes(queue_id), data)
        row = self.site.db_messages().get(queue_id)
        self.assertIsNotNone(row, "no database row for " + queue_id)
        self.assertEqual(row["state"], "received")
        self.assertEqual(row["sender"], sender)
        self.assertEqual(row["size"], len(data))
        self.assertEqual(row["recipients"], list(recipients))


class SmtpTest(DaemonCase):
    site_options = {"max_message_size": 1048576}
    lists = ["ops", "sec"]

    def test_smtplib_message_is_spooled_byte_exact(self):
        data = message(subject="exact", body="line one\r\n.leading dot\r\n\r\nlast")
        code, text = smtp_send(self.port, ALICE, [OPS], data)
        self.assertEqual(code, 250, text)
        qid = queued_id(text)
        # smtplib dot-stuffs ".leading dot"; the spool holds it unstuffed.
        self.assert_spooled(qid, data)
        self.daemon.wait_log(rf"^\S+ \S+ info: {qid} spool session=s\d+ from={ALICE} "
                             rf"to={OPS} size={len(data)} tls=no$")

    def test_message_larger_than_one_batch(self):
        # ~700 KB: several 256 KiB batches to the spool before the commit.
        body = "\r\n".join(f"{i:06d} " + "x" * 70 for i in range(9000))
        data = message(subject="big", body=body)
        self.assertGreater(len(data), 600_000)
        code, text = smtp_send(self.port, ALICE, [OPS], data)
        self.assertEqual(code, 250, text)
        self.assert_spooled(queued_id(text), data)

    def test_several_recipients_and_unknown_one(self):
        data = message(subject="two lists")
        sec = "sec-request@" + LIST_DOMAIN
        code, text = smtp_send(self.port, ALICE, [OPS, "nobody@" + LIST_DOMAIN, sec], data)
        self.assertEqual(code, 250, text)
        self.assert_spooled(queued_id(text), data, recipients=(OPS, sec))

    def test_unknown_recipient_gets_550_5_1_1(self):
        with smtplib.SMTP("127.0.0.1", self.port, timeout=20) as s:
            s.ehlo("client.example")
            s.mail(ALICE)
            code, text = s.rcpt("nobody@" + LIST_DOMAIN)
            self.assertEqual(code, 550)
            self.assertEqual(text.decode(), f"5.1.1 <nobody@{LIST_DOMAIN}>: Recipient address "
                                            "rejected: not a list address on this server")
            s.rset()
            with self.assertRaises(smtplib.SMTPRecipientsRefused):
                s.sendmail(ALICE, ["alice@a.example"], message())
        self.daemon.wait_log(r"reject command=\"rcpt TO:<nobody@lists\.example\.org>\" "
                             r"reply=\"550 5\.1\.1 ")  # smtplib's spelling, kept as sent

    def test_oversized_message_gets_552(self):
        big = message(body="\r\n".join("y" * 98 for _ in range(11_000)))
        self.assertGreater(len(big), 1048576)
        before = self.site.spool_files()
        # Declared with SIZE=: refused at MAIL (RFC 1870).
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as s:
            with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
                s.sendmail(ALICE, [OPS], big)
            self.assertEqual(cm.exception.smtp_code, 552)
        # Not declared: counted while receiving, refused after the data.
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as s:
            s.ehlo("client.example")
            self.assertEqual(s.mail(ALICE)[0], 250)
            self.assertEqual(s.rcpt(OPS)[0], 250)
            code, text = s.data(big)
            self.assertEqual(code, 552)
            self.assertEqual(text.decode(),
                             "5.3.4 Error: message size exceeds the limit of 1048576 bytes")
            # The session goes on.
            self.assertEqual(s.mail(ALICE)[0], 250)
        self.assertEqual(self.site.spool_files(), before)
        self.daemon.wait_log(r"abort reason=message_too_big")

    def test_pipelined_transaction_in_one_write(self):
        with Raw(self.port) as c:
            self.assertTrue(c.line().startswith("220 lists.example.org ESMTP"))
            c.send("EHLO client.example\r\nMAIL FROM:<alice@a.example>\r\n"
                   f"RCPT TO:<{OPS}>\r\nDATA\r\nSubject: piped\r\n\r\nbody\r\n.\r\n"
                   "NOOP\r\nQUIT\r\n")
            ehlo = c.reply()
            self.assertIn("250-PIPELINING", ehlo)
            self.assertEqual(ehlo[-1], "250 8BITMIME")
            self.assertEqual(c.line(), "250 2.1.0 Ok")
            self.assertEqual(c.line(), "250 2.1.5 Ok")
            self.assertEqual(c.line(), "354 End data with <CR><LF>.<CR><LF>")
            queued = c.line()
            self.assertRegex(queued, r"^250 2\.0\.0 Ok: queued as [0-9a-f]{16}$")
            self.assertEqual(c.line(), "250 2.0.0 Ok")
            self.assertEqual(c.line(), "221 2.0.0 Bye")
            self.assertTrue(c.at_eof())
        self.assert_spooled(queued.split()[-1], b"Subject: piped\r\n\r\nbody\r\n")

    def test_many_idle_connections_do_not_slow_a_sender(self):
        idle = [Raw(self.port) for _ in range(15)]
        try:
            for c in idle:
                self.assertTrue(c.line().startswith("220 "))
            start = time.monotonic()
            code, text = smtp_send(self.port, ALICE, [OPS], message(subject="past the idle"))
            self.assertEqual(code, 250, text)
            self.assertLess(time.monotonic() - start, 2.0)
        finally:
            for c in idle:
                c.close()

    def test_8bit_body_is_kept_byte_for_byte(self):
        data = ("Subject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\n"
                "Content-Transfer-Encoding: 8bit\r\n\r\nGr\u00fc\u00dfe aus \u00d6sterreich "
                "\u2013 \u20ac\r\n").encode("utf-8") + bytes([0xff, 0x80, 0x0d, 0x0a])
        with Raw(self.port) as c:
            c.line()
            c.send("EHLO client.example\r\n")
            c.reply()
            c.send(f"MAIL FROM:<{ALICE}> BODY=8BITMIME\r\nRCPT TO:<{OPS}>\r\nDATA\r\n")
            self.assertEqual([c.line(), c.line(), c.line()[:3]], ["250 2.1.0 Ok", "250 2.1.5 Ok",
                                                                  "354"])
            c.send(data + b".\r\n")
            queued = c.line()
        self.assert_spooled(queued.split()[-1], data)

    def test_endless_command_line_is_refused_and_the_session_goes_on(self):
        with Raw(self.port) as c:
            c.line()
            c.send(b"NOOP " + b"A" * 2_000_000 + b"\r\nNOOP\r\n")
            self.assertEqual(c.line(), "500 5.5.2 Error: line too long")
            self.assertEqual(c.line(), "250 2.0.0 Ok")

    def test_swaks_smtp(self):
        p = subprocess.run(["swaks", "--server", f"127.0.0.1:{self.port}",
                            "--from", ALICE, "--to", OPS, "--body", "from swaks",
                            "--h-Subject", "swaks smtp"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        m = re.search(r"<-  250 2\.0\.0 Ok: queued as ([0-9a-f]{16})", p.stdout)
        self.assertIsNotNone(m, p.stdout)
        self.assertIn(m.group(1), self.site.db_messages())
        self.assertIn(b"from swaks", self.site.spool_bytes(m.group(1)))

    def test_smtp_source_parallel_sessions(self):
        before = set(self.site.db_messages())
        p = subprocess.run(["/usr/sbin/smtp-source", "-s", "4", "-m", "40", "-l", "2000",
                            "-f", ALICE, "-t", OPS, f"127.0.0.1:{self.port}"],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        new = set(self.site.db_messages()) - before
        self.assertEqual(len(new), 40)
        for qid in new:
            self.assertIn(qid, self.site.spool_files())


class LmtpTest(DaemonCase):
    site_options = {"protocol": "lmtp"}
    lists = ["ops", "sec"]

    def test_one_reply_per_accepted_recipient(self):
        sec = "sec-request@" + LIST_DOMAIN
        with Raw(self.port) as c:
            self.assertEqual(c.line(), "220 lists.example.org LMTP tlpmail")
            c.send("LHLO client.example\r\n")
            self.assertEqual(c.reply()[-1], "250 8BITMIME")
            c.send(f"MAIL FROM:<{ALICE}>\r\nRCPT TO:<{OPS}>\r\n"
                   f"RCPT TO:<nobody@{LIST_DOMAIN}>\r\nRCPT TO:<{sec}>\r\nDATA\r\n")
            self.assertEqual(c.line(), "250 2.1.0 Ok")
            self.assertEqual(c.line(), "250 2.1.5 Ok")
            self.assertTrue(c.line().startswith("550 5.1.1 "))
            self.assertEqual(c.line(), "250 2.1.5 Ok")
            self.assertTrue(c.line().startswith("354 "))
            c.send("Subject: lmtp\r\n\r\nhi\r\n.\r\n")
            first, second = c.line(), c.line()
            self.assertRegex(first, r"^250 2\.0\.0 Ok: queued as [0-9a-f]{16}$")
            self.assertEqual(first, second)
            c.send("QUIT\r\n")
            self.assertEqual(c.line(), "221 2.0.0 Bye")
        self.assert_spooled(first.split()[-1], b"Subject: lmtp\r\n\r\nhi\r\n",
                            recipients=(OPS, sec))

    def test_smtplib_lmtp(self):
        data = message(subject="smtplib lmtp")
        with smtplib.LMTP("127.0.0.1", self.port, timeout=20) as s:
            refused = s.sendmail(ALICE, [OPS], data)
            self.assertEqual(refused, {})
        self.daemon.wait_log(rf"spool session=s\d+ from={ALICE} to={OPS} size={len(data)} ")

    def test_swaks_lmtp(self):
        p = subprocess.run(["swaks", "--protocol", "LMTP", "--server", f"127.0.0.1:{self.port}",
                            "--from", ALICE, "--to", OPS, "--body", "from swaks lmtp"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        m = re.search(r"<-  250 2\.0\.0 Ok: queued as ([0-9a-f]{16})", p.stdout)
        self.assertIsNotNone(m, p.stdout)
        self.assertIn(b"from swaks lmtp", self.site.spool_bytes(m.group(1)))

    def test_smtp_source_lmtp(self):
        before = set(self.site.db_messages())
        p = subprocess.run(["/usr/sbin/smtp-source", "-L", "-s", "2", "-m", "10", "-l", "500",
                            "-f", ALICE, "-t", OPS, f"127.0.0.1:{self.port}"],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(len(set(self.site.db_messages()) - before), 10)


class TlsTest(DaemonCase):
    @classmethod
    def setUpClass(cls):
        cls.certdir = harness.helpers.short_tempdir("tlpc")
        cls.cert, cls.key = harness.make_certificate(cls.certdir)
        cls.site_options = {"tls": (cls.cert, cls.key)}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            harness.shutil.rmtree(cls.certdir, ignore_errors=True)

    def context(self):
        ctx = ssl.create_default_context(cafile=self.cert)
        ctx.check_hostname = False  # CN=localhost, we dial 127.0.0.1
        return ctx

    def test_ready_line_reports_tls(self):
        self.daemon.wait_log(r" - ready listen=\S+ protocol=smtp pending=\d+ tls=yes$")

    def test_starttls_with_smtplib(self):
        data = message(subject="over tls")
        code, text = smtp_send(self.port, ALICE, [OPS], data, tls_context=self.context())
        self.assertEqual(code, 250, text)
        qid = queued_id(text)
        self.assert_spooled(qid, data)
        self.daemon.wait_log(r" starttls version=TLSv1\.[23] cipher=\S+$")
        self.daemon.wait_log(rf"{qid} spool session=s\d+ .* tls=yes$")

    def test_starttls_offered_only_before_tls(self):
        with smtplib.SMTP("127.0.0.1", self.port, timeout=20) as s:
            s.ehlo("client.example")
            self.assertTrue(s.has_extn("starttls"))
            s.starttls(context=self.context())
            s.ehlo("client.example")
            self.assertFalse(s.has_extn("starttls"))
            self.assertTrue(s.has_extn("8bitmime"))

    def test_failed_handshake_closes_the_connection(self):
        with Raw(self.port) as c:
            c.line()
            c.send("EHLO client.example\r\n")
            c.reply()
            c.send("STARTTLS\r\n")
            self.assertEqual(c.line(), "220 2.0.0 Ready to start TLS")
            c.send(b"this is not a TLS ClientHello\r\n" * 4)
            self.assertTrue(c.at_eof(10))
        self.daemon.wait_log(r" starttls status=failed error=")

    def test_swaks_tls(self):
        p = subprocess.run(["swaks", "--tls", "--server", f"127.0.0.1:{self.port}",
                            "--from", ALICE, "--to", OPS, "--body", "swaks over tls"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"<~  250 2\.0\.0 Ok: queued as [0-9a-f]{16}")

    def test_commands_pipelined_after_starttls_are_discarded(self):
        # CVE-2011-0411: plaintext injected behind STARTTLS must not run
        # inside the TLS session.
        with Raw(self.port) as c:
            c.line()
            c.send("EHLO client.example\r\n")
            c.reply()
            injected = "EHLO evil.example\r\nMAIL FROM:<mallory@evil.example>\r\n"
            c.send("STARTTLS\r\n" + injected)
            self.assertEqual(c.line(), "220 2.0.0 Ready to start TLS")
            self.assertEqual(c.buf, b"")  # nothing else was answered in plaintext
            tls = self.context().wrap_socket(c.sock, server_hostname="localhost")
            f = tls.makefile("rwb")
            # Had the injected EHLO run, MAIL would be accepted (or nested).
            f.write(b"MAIL FROM:<alice@a.example>\r\n")
            f.flush()
            self.assertEqual(f.readline(), b"503 5.5.1 Error: send EHLO first\r\n")
            f.write(b"EHLO client.example\r\nMAIL FROM:<alice@a.example>\r\nQUIT\r\n")
            f.flush()
            lines = []
            while True:
                line = f.readline()
                if not line:
                    break
                lines.append(line)
            self.assertEqual(lines[-2:], [b"250 2.1.0 Ok\r\n", b"221 2.0.0 Bye\r\n"])
            tls.close()
        self.daemon.wait_log(rf"starttls status=discarded bytes={len(injected)} ")


class LimitsTest(DaemonCase):
    site_options = {"max_connections": 2}
    timeouts_ms = 3000

    def setUp(self):
        # The previous test's connections must be gone on the server side
        # too, or they count against max_connections.
        self.daemon.wait_no_sessions()

    def test_excess_connection_gets_421_4_3_2(self):
        a, b = Raw(self.port), Raw(self.port)
        try:
            self.assertTrue(a.line().startswith("220 "))
            self.assertTrue(b.line().startswith("220 "))
            c = Raw(self.port)
            self.assertEqual(c.line(),
                             "421 4.3.2 lists.example.org Error: too many connections")
            self.assertTrue(c.at_eof())
            c.close()
            self.daemon.wait_log(r"reject client=127\.0\.0\.1:\d+ reason=\"too many "
                                 r"connections\" limit=2 reply=\"421 4\.3\.2\"")
            mark = self.daemon.mark()
            a.send("QUIT\r\n")
            self.assertEqual(a.line(), "221 2.0.0 Bye")
            self.daemon.wait_log(r" disconnect ", since=mark)
            d = Raw(self.port)
            self.assertTrue(d.line().startswith("220 "))
            d.close()
        finally:
            a.close()
            b.close()

    def test_idle_connection_times_out_and_does_not_block_others(self):
        with Raw(self.port) as idle:
            self.assertTrue(idle.line().startswith("220 "))
            start = time.monotonic()
            code, text = smtp_send(self.port, ALICE, [OPS], message(subject="meanwhile"))
            self.assertEqual(code, 250, text)
            # Well before the idle connection's deadline (3 s after its greeting).
            self.assertLess(time.monotonic() - start, 2.5)
            self.assertEqual(idle.line(), "421 4.4.2 lists.example.org Error: timeout exceeded")
            waited = time.monotonic() - start
            self.assertGreater(waited, 2.0)
            self.assertLess(waited, 15.0)
            self.assertTrue(idle.at_eof())
        self.daemon.wait_log(r" timeout client=127\.0\.0\.1:\d+ phase=command$")

    def test_stalled_data_times_out_and_nothing_is_spooled(self):
        before = self.site.spool_files()
        with Raw(self.port) as c:
            c.start_data("client.example", ALICE, OPS)
            c.send("Subject: never finished\r\n\r\npartial")
            self.assertEqual(c.line(), "421 4.4.2 lists.example.org Error: timeout exceeded")
        self.daemon.wait_log(r" abort reason=timeout$")
        self.assertEqual(self.site.spool_files(), before)


class ReloadTest(DaemonCase):
    def rcpt(self, address):
        with smtplib.SMTP("127.0.0.1", self.port, timeout=20) as s:
            s.ehlo("client.example")
            s.mail(ALICE)
            return s.rcpt(address)[0]

    def reload(self, outcome):
        mark = self.daemon.mark()
        self.daemon.signal(signal.SIGHUP)
        self.daemon.wait_log(rf" - reload status={outcome}", since=mark)
        return mark

    def test_sighup_adds_a_list_for_new_sessions_only(self):
        new = "fresh-request@" + LIST_DOMAIN
        self.assertEqual(self.rcpt(new), 550)
        with smtplib.SMTP("127.0.0.1", self.port, timeout=20) as old_session:
            old_session.ehlo("client.example")
            self.site.write_list("fresh")
            self.reload("ok")
            # A session that started before keeps its configuration.
            old_session.mail(ALICE)
            self.assertEqual(old_session.rcpt(new)[0], 550)
        code, text = smtp_send(self.port, ALICE, [new], message(to=new))
        self.assertEqual(code, 250, text)

    def test_sighup_with_broken_config_keeps_the_old_one(self):
        path = self.site.write_list("broken", text="""
            address = "broken@lists.example.org"
            tlp_celing = "AMBER"
            members = ["alice@a.example"]
            """)
        try:
            mark = self.reload("failed")
            self.daemon.wait_log(r" - config severity=error problem=\"\S+/config/lists\.d/"
                                 r"broken\.toml:2: unknown key 'tlp_celing'", since=mark)
            self.daemon.wait_log(r"reload status=failed errors=\d+ kept=\"old configuration\"",
                                 since=mark)
            self.assertTrue(self.daemon.running())
            self.assertEqual(self.rcpt("broken@" + LIST_DOMAIN), 550)
            code, text = smtp_send(self.port, ALICE, [OPS], message(subject="still serving"))
            self.assertEqual(code, 250, text)
        finally:
            os.remove(path)
            self.reload("ok")


class LifecycleTest(unittest.TestCase):
    """A fresh site and daemon per test: stopping is what is tested."""

    def setUp(self):
        self.site = harness.Site(KEYS)
        self.addCleanup(self.site.close)

    def test_sigterm_aborts_data_in_progress_and_exits_0(self):
        d = self.site.start()
        with Raw(d.port) as c:
            c.start_data("c.example", ALICE, OPS)
            c.send("Subject: interrupted\r\n\r\nhalf a message\r\n")
            # Read or not yet read by the server: the message is in DATA either way.
            d.signal(signal.SIGTERM)
            self.assertEqual(c.line(), "421 4.3.2 lists.example.org Error: service "
                                       "shutting down, closing connection")
            self.assertTrue(c.at_eof())
        self.assertEqual(d.stop(), 0, d.log())
        d.wait_log(r" abort reason=shutdown$")
        d.wait_log(r" - stopped$")
        self.assertEqual(self.site.spool_files(), set())
        self.assertEqual(os.listdir(os.path.join(self.site.state, "spool", "tmp")), [])

    def test_sigterm_with_idle_client_is_prompt(self):
        d = self.site.start()
        with Raw(d.port) as c:
            c.line()
            start = time.monotonic()
            self.assertEqual(d.stop(), 0, d.log())
            self.assertLess(time.monotonic() - start, 10)
            self.assertTrue(c.line().startswith("421 4.3.2 "))

    def test_restart_reports_pending_messages(self):
        d = self.site.start()
        self.assertEqual(d.ready["pending"], 0)
        for i in range(3):
            code, text = smtp_send(d.port, ALICE, [OPS], message(subject=f"m{i}"))
            self.assertEqual(code, 250, text)
        self.assertEqual(d.stop(), 0, d.log())
        d2 = self.site.start()
        self.assertEqual(d2.ready["pending"], 3)
        d2.wait_log(r" - recovery pending=3 temp_removed=0 orphans_removed=0 ")
        self.assertEqual(d2.stop(), 0, d2.log())

    def test_state_dir_is_created_private(self):
        d = self.site.start()
        self.assertEqual(os.stat(self.site.state).st_mode & 0o777, 0o700)
        self.assertTrue(os.path.isfile(os.path.join(self.site.state, "tlpmail.db")))
        self.assertTrue(os.path.isdir(os.path.join(self.site.state, "gnupg")))
        self.assertEqual(d.stop(), 0, d.log())

    def test_config_error_exits_1_with_file_line(self):
        self.site.write_list("ops", text="""
            address = "ops@lists.example.org"
            tlp_ceiling = "ORANGE"
            members = ["alice@a.example"]
            """)
        code, out, err = harness.run_daemon_once(self.site.config)
        self.assertEqual(code, 1, err)
        self.assertIn("lists.d/ops.toml:2: invalid TLP label 'ORANGE'", err)
        self.assertIn("tlpmaild: not started: the configuration has errors", err)
        self.assertFalse(os.path.exists(os.path.join(self.site.state, "tlpmail.db")))

    def test_missing_key_exits_1(self):
        os.remove(os.path.join(self.site.config_dir, "keys", "bob@b.example.asc"))
        code, _, err = harness.run_daemon_once(self.site.config)
        self.assertEqual(code, 1, err)
        self.assertRegex(err, r"directory\.toml:\d+: no key with fingerprint [0-9A-F]{40} "
                              r"for bob@b\.example")

    def test_busy_port_exits_1(self):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", self.site.port))
            s.listen()
            code, _, err = harness.run_daemon_once(self.site.config)
        self.assertEqual(code, 1, err)
        self.assertIn(f"cannot listen on 127.0.0.1:{self.site.port}: Address already in use",
                      err)

    def test_bad_certificate_exits_1(self):
        bad = os.path.join(self.site.root, "bad.pem")
        with open(bad, "w") as f:
            f.write("not a certificate\n")
        self.site.write_main(tls=(bad, bad))
        code, _, err = harness.run_daemon_once(self.site.config)
        self.assertEqual(code, 1, err)
        self.assertIn("tlpmaild: tls_certificate " + bad + ": ", err)

    def test_command_line(self):
        code, out, _ = harness.run_daemon_once(None, "--help")
        self.assertEqual(code, 0)
        self.assertTrue(out.startswith("usage: tlpmaild [--config PATH]\n"))
        code, out, _ = harness.run_daemon_once(None, "--version")
        self.assertEqual((code, out), (0, "tlpmaild 0.1.0\n"))
        for args, want in ((["--bogus"], "tlpmaild: unknown option '--bogus'\n"),
                           (["--config"], "tlpmaild: --config needs a path\n"),
                           (["--timeouts-ms", "soon"], "tlpmaild: --timeouts-ms: 'soon' is "
                                                       "not a number from 1 to 86400000\n"),
                           (["extra"], "tlpmaild: unexpected argument 'extra'\n")):
            code, _, err = harness.run_daemon_once(None, *args)
            self.assertEqual(code, 2, args)
            self.assertTrue(err.startswith(want), err)


class ListKeyTest(unittest.TestCase):
    """List keys: made at first start, reused after, made for a list added by
    SIGHUP, taken over from an import, and a start that fails without one.
    tlpmailctl ($TLPMAILCTL) reads what the daemon made."""

    KEY_RE = r" - list-key list={} fingerprint=([0-9A-F]{{40}}) created=(yes|no)$"

    def setUp(self):
        self.site = harness.Site(KEYS, lists=["ops", "intel"])
        self.addCleanup(self.site.close)

    def ctl(self, *args):
        ctl = os.environ.get("TLPMAILCTL", "build/daemon/tlpmailctl")
        p = subprocess.run([os.path.abspath(ctl), "--config", self.site.config] + list(args),
                           capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout, p.stderr

    def list_key(self, d, name, since=0):
        m = d.wait_log(self.KEY_RE.format(re.escape(name + "@" + LIST_DOMAIN)), since=since)
        return m.group(1), m.group(2)

    def gpg_home(self):
        return os.path.join(self.site.state, "gnupg")

    def gpg(self, *args, data=None):
        return subprocess.run(["gpg", "--homedir", self.gpg_home(), "--batch", "--quiet"] +
                              list(args), input=data, check=True, capture_output=True)

    def test_first_start_creates_keys_and_the_next_reuses_them(self):
        d = self.site.start()
        made = {n: self.list_key(d, n) for n in ("ops", "intel")}
        self.assertEqual({n: c for n, (_, c) in made.items()}, {"ops": "yes", "intel": "yes"})
        self.assertNotEqual(made["ops"][0], made["intel"][0])
        self.assertEqual(os.stat(self.gpg_home()).st_mode & 0o777, 0o700)
        self.assertEqual(d.stop(), 0, d.log())

        d2 = self.site.start()
        for n in ("ops", "intel"):
            self.assertEqual(self.list_key(d2, n), (made[n][0], "no"))
        # tlpmailctl sees the same keys while the daemon runs.
        code, out, err = self.ctl("--json", "lists")
        self.assertEqual((code, err), (0, ""))
        got = {r["address"]: r["key_fingerprint"] for r in json.loads(out)["lists"]}
        self.assertEqual(got, {n + "@" + LIST_DOMAIN: made[n][0] for n in made})
        code, armored, err = self.ctl("list-key", OPS_LIST)
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(d2.stop(), 0, d2.log())

        # What members get: the public key, ed25519 signing and cv25519
        # encryption, user ID with the list's address.
        home = harness.helpers.short_tempdir("tlpg")
        self.addCleanup(shutil.rmtree, home, True)
        self.addCleanup(subprocess.run, ["gpgconf", "--homedir", home, "--kill", "all"],
                        capture_output=True)
        subprocess.run(["gpg", "--homedir", home, "--batch", "--quiet", "--import"],
                       input=armored.encode(), check=True, capture_output=True)
        listing = subprocess.run(["gpg", "--homedir", home, "--with-colons", "--list-keys"],
                                 check=True, capture_output=True, text=True).stdout
        rows = [l.split(":") for l in listing.splitlines()]
        self.assertEqual([(r[0], r[16], r[11]) for r in rows if r[0] in ("pub", "sub")],
                         [("pub", "ed25519", "scESC"), ("sub", "cv25519", "e")])
        self.assertIn(made["ops"][0], [r[9] for r in rows if r[0] == "fpr"])
        self.assertIn("<" + OPS_LIST + ">", [r[9] for r in rows if r[0] == "uid"][0])
        # No secret key material was exported.
        secret = subprocess.run(["gpg", "--homedir", home, "--with-colons", "-K"],
                                capture_output=True, text=True).stdout
        self.assertNotIn("sec:", secret)

    def test_sighup_gives_a_new_list_its_key(self):
        d = self.site.start()
        ops, _ = self.list_key(d, "ops")
        mark = d.mark()
        self.site.write_list("fresh")
        d.signal(signal.SIGHUP)
        d.wait_log(r" - reload status=ok", since=mark)
        self.assertEqual(self.list_key(d, "ops", since=mark), (ops, "no"))
        fresh, created = self.list_key(d, "fresh", since=mark)
        self.assertEqual(created, "yes")
        self.assertNotEqual(fresh, ops)
        self.assertEqual(d.stop(), 0, d.log())

    def test_imported_key_is_used_and_none_is_created(self):
        gpg = harness.helpers.GnuPG()
        self.addCleanup(gpg.close)
        fpr = gpg.generate("Ops <" + OPS_LIST + ">")
        path = os.path.join(self.site.root, "ops-secret.asc")
        with open(path, "wb") as f:
            f.write(gpg.run("--armor", "--export-secret-keys", fpr).stdout)
        code, out, err = self.ctl("import-list-key", OPS_LIST, path)
        self.assertEqual((code, err), (0, ""))
        self.assertIn(fpr, out)
        d = self.site.start()
        self.assertEqual(self.list_key(d, "ops"), (fpr, "no"))
        self.assertEqual(self.list_key(d, "intel")[1], "yes")
        self.assertEqual(d.stop(), 0, d.log())

    def two_keys_for(self, address):
        """Two usable secret keys for `address` in the daemon's home (made
        with gpg behind tlpmail's back): the daemon must refuse to choose."""
        gpg = harness.helpers.GnuPG()
        self.addCleanup(gpg.close)
        data = b""
        for name in ("One", "Two"):
            fpr = gpg.generate(f"{name} <{address}>")
            data += gpg.run("--armor", "--export-secret-keys", fpr).stdout
        os.makedirs(self.gpg_home(), mode=0o700, exist_ok=True)
        self.gpg("--import", data=data)

    def test_start_fails_when_a_list_key_is_ambiguous(self):
        self.two_keys_for(OPS_LIST)
        code, _, err = harness.run_daemon_once(self.site.config)
        self.assertEqual(code, 1, err)
        self.assertIn(f"tlpmaild: list key for {OPS_LIST}: 2 usable list keys for {OPS_LIST}", err)
        self.assertTrue(err.endswith("tlpmaild: not started\n"), err)
        self.assertFalse(os.path.exists(os.path.join(self.site.state, "tlpmail.db")))

    def test_reload_keeps_the_old_configuration_when_a_list_key_fails(self):
        d = self.site.start()
        self.list_key(d, "ops")
        self.two_keys_for("dup@" + LIST_DOMAIN)
        self.site.write_list("dup")
        mark = d.mark()
        d.signal(signal.SIGHUP)
        d.wait_log(r" - config severity=error problem=\"list key for dup@", since=mark)
        d.wait_log(r" - reload status=failed errors=1 kept=\"old configuration\"", since=mark)
        with smtplib.SMTP("127.0.0.1", d.port, timeout=20) as s:
            s.ehlo("client.example")
            s.mail(ALICE)
            self.assertEqual(s.rcpt("dup@" + LIST_DOMAIN)[0], 550)
        self.assertEqual(d.stop(), 0, d.log())


class KillTest(unittest.TestCase):
    """kill -9 while messages are being sent: everything answered 250 is
    there after a restart, byte for byte, and reported pending."""

    SENDERS = 5
    PER_SENDER = 10

    def setUp(self):
        self.site = harness.Site(KEYS)
        self.addCleanup(self.site.close)

    def test_kill9_loses_nothing_acknowledged(self):
        d = self.site.start()
        acked = {}  # queue id -> bytes
        lock = threading.Lock()
        kill_after = random.randint(5, self.SENDERS * self.PER_SENDER - 10)
        enough = threading.Event()

        def sender(n):
            try:
                with smtplib.SMTP("127.0.0.1", d.port, timeout=30) as s:
                    s.ehlo("client.example")
                    for i in range(self.PER_SENDER):
                        filler = "\r\n".join("z" * 70 for _ in range(random.randint(1, 300)))
                        data = message(subject=f"kill test {n}/{i}",
                                       body=f"{n}-{i}-{random.getrandbits(64):x}\r\n" + filler)
                        s.mail(ALICE)
                        s.rcpt(OPS)
                        code, text = s.data(data)
                        if code == 250:
                            with lock:
                                acked[queued_id(text.decode())] = data
                                if len(acked) >= kill_after:
                                    enough.set()
            except (smtplib.SMTPException, OSError):
                pass  # the daemon died under us: expected

        threads = [threading.Thread(target=sender, args=(n,)) for n in range(self.SENDERS)]
        for t in threads:
            t.start()
        enough.wait(60)
        d.kill()
        for t in threads:
            t.join(60)
        with lock:
            acknowledged = dict(acked)
        self.assertGreaterEqual(len(acknowledged), kill_after)

        d2 = self.site.start()
        rows = self.site.db_messages()
        files = self.site.spool_files()
        for qid, data in acknowledged.items():
            self.assertIn(qid, files)
            self.assertEqual(self.site.spool_bytes(qid), data, qid)
            self.assertEqual(rows[qid]["state"], "received")
            self.assertEqual(rows[qid]["recipients"], [OPS])
        received = [q for q, r in rows.items() if r["state"] == "received"]
        # Committed but not yet answered when killed: kept too (a duplicate
        # for the client that retries, never a loss).
        self.assertGreaterEqual(len(received), len(acknowledged))
        self.assertEqual(d2.ready["pending"], len(received))
        self.assertEqual(set(received), files)
        self.assertEqual(os.listdir(os.path.join(self.site.state, "spool", "tmp")), [])
        code, text = smtp_send(d2.port, ALICE, [OPS], message(subject="after restart"))
        self.assertEqual(code, 250, text)
        self.assertEqual(d2.stop(), 0, d2.log())


if __name__ == "__main__":
    unittest.main()
