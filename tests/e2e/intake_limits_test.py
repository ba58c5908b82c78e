"""End-to-end tests of the intake's memory budget and fair sharing
(docs/smtp.md, "Connection limits" and "Memory"): the real tlpmaild on
127.0.0.1 and raw SMTP clients, some bound to other loopback addresses
(127.0.0.N) to stand for other MTAs.

- MemoryBudgetTest: with a small max_message_memory, of two concurrent
  large messages one gets 452 4.3.1 and the other 250; the retry gets 250.
- PerClientTest / PerClientEvictTest: connections over
  max_connections_per_client get 421 4.7.0 naming the limit, other
  addresses are served; an idle session of the client gives its slot up.
- SessionTimeTest: max_session_time closes a NOOP-every-200-ms client and
  a slow DATA with 421 4.4.2 (the message aborted, nothing spooled).
- OverloadTest: 250 idle connections, then a normal client gets its 250
  at once; the idle ones are closed within the overload read limit.

Messages go to the -request address (spooled as received, no signature
needed). Every wait is bounded."""

import contextlib
import os
import select
import smtplib
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import LIST_DOMAIN, Raw, message, smtp_send  # noqa: E402

OPS = "ops-request@" + LIST_DOMAIN
ALICE = "alice@a.example"
HOST = harness.HOSTNAME
MiB = 1 << 20

KEYS = harness.ModuleKeys()
setUpModule, tearDownModule = KEYS.open, KEYS.close


class LimitSite(harness.Site):
    """harness.Site plus extra [server] lines (the new keys)."""

    def __init__(self, keys, extra=(), **server):
        self.extra = list(extra)
        super().__init__(keys, **server)

    def write_main(self, **overrides):
        super().write_main(**overrides)
        with open(self.config) as f:
            text = f.read()
        lines = "".join(line + "\n" for line in self.extra)
        with open(self.config, "w") as f:
            f.write(text.replace("[server]\n", "[server]\n" + lines, 1))


@contextlib.contextmanager
def closing_all(connections):
    """Yields the list `connections` (the test may add to it) and closes
    every connection in it at the end, whatever happened."""
    try:
        yield connections
    finally:
        for c in connections:
            c.close()


class From(Raw):
    """harness.Raw from a chosen loopback source address."""

    def __init__(self, port, source="127.0.0.1", timeout=20):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                             source_address=(source, 0))
        self.buf = b""


def big_body(size, subject="big"):
    """Exactly `size` octets of message content: CRLF lines, no dots."""
    head = message(subject=subject, to=OPS, body="")[:-2]  # headers and the blank line
    line = b"x" * 98 + b"\r\n"
    n, rest = divmod(size - len(head), len(line))
    return head + line * n + (b"y" * (rest - 2) + b"\r\n" if rest >= 2 else b"")


def open_data(c, size=None):
    """Greeting, EHLO, MAIL (with SIZE= when given), RCPT, DATA: the session
    is then in DATA. Returns the DATA reply line."""
    c.line()
    c.send("EHLO client.example\r\n")
    c.reply()
    param = f" SIZE={size}" if size is not None else ""
    c.send(f"MAIL FROM:<{ALICE}>{param}\r\nRCPT TO:<{OPS}>\r\nDATA\r\n")
    replies = [c.line() for _ in range(3)]
    assert replies[0].startswith("250") and replies[1].startswith("250"), replies
    return replies[2]


def send_message(port, body, declare_size, source="127.0.0.1"):
    """One whole message; the reply line to its end of DATA."""
    with From(port, source, timeout=60) as c:
        data = open_data(c, len(body) if declare_size else None)
        assert data.startswith("354"), data
        c.send(body + b".\r\n")
        return c.line()


def readable(c):
    """Bytes are waiting (the server spoke first, e.g. its 421)."""
    return bool(c.buf) or bool(select.select([c.sock], [], [], 0)[0])


def wait_eof(c, deadline):
    """Reads until the server closes (True) or `deadline` passes (False)."""
    while time.monotonic() < deadline:
        c.sock.settimeout(max(0.05, min(1.0, deadline - time.monotonic())))
        try:
            chunk = c.sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return True
        if not chunk:
            return True
        c.buf += chunk
    return False


class DaemonCase(harness.DaemonCase):
    extra = ()

    @classmethod
    def make_site(cls):
        return LimitSite(KEYS, extra=cls.extra, **cls.site_options)

    def setUp(self):
        self.daemon.wait_no_sessions()


class MemoryBudgetTest(DaemonCase):
    # One 3 MiB message fits in 6 MiB (with its 512 KiB transit allowance),
    # two do not.
    site_options = {"max_message_size": 4 * MiB}
    extra = ["max_message_memory = 6291456"]

    def check_two_at_once(self, second_declares_size):
        before = len(self.site.spool_files())
        first, second = big_body(3 * MiB, "first"), big_body(3 * MiB, "second")
        mark = self.daemon.mark()
        with From(self.port, timeout=60) as a:
            # SIZE= is charged when DATA starts, before the 354 is sent.
            self.assertTrue(open_data(a, len(first)).startswith("354"))
            a.send(first[:MiB])
            got = send_message(self.port, second, second_declares_size)
            self.assertEqual(got, "452 4.3.1 not enough memory for this message now, "
                                  "please try again later")
            a.send(first[MiB:] + b".\r\n")
            self.assertRegex(a.line(), r"^250 2\.0\.0 Ok: queued as [0-9a-f]{16}$")
        # The MTA retries the refused one once the first is done.
        self.assertRegex(send_message(self.port, second, second_declares_size),
                         r"^250 2\.0\.0 Ok: queued as [0-9a-f]{16}$")
        self.daemon.wait_log(r" reject reason=\"memory budget exhausted\" budget=\"\d+ of "
                             r"6291456 bytes in use\" from=alice@a\.example size=\d+ "
                             r"reply=\"452 4\.3\.1 ", since=mark)
        self.assertEqual(len(self.site.spool_files()), before + 2)

    def test_second_message_growing_without_size_gets_452_then_its_retry_250(self):
        self.check_two_at_once(second_declares_size=False)

    def test_second_message_declaring_size_gets_452_then_its_retry_250(self):
        self.check_two_at_once(second_declares_size=True)


class PerClientTest(DaemonCase):
    # The default limit (50 per address): no new key in the configuration.
    site_options = {"max_connections": 60}

    def test_connections_over_the_limit_get_421_4_7_0_and_others_are_served(self):
        with closing_all([]) as held:
            for _ in range(50):
                c = From(self.port, "127.0.0.2")
                held.append(c)
                # In DATA: busy, so no slot is taken back from them.
                self.assertTrue(open_data(c).startswith("354"))
            extra = From(self.port, "127.0.0.2")
            held.append(extra)
            self.assertEqual(extra.line(), f"421 4.7.0 {HOST} Error: too many connections "
                                           "from 127.0.0.2 (limit 50)")
            self.assertTrue(extra.at_eof())
            self.daemon.wait_log(r" reject client=127\.0\.0\.2:\d+ reason=\"too many "
                                 r"connections from this client\" limit=50 reply=\"421 4\.7\.0\"")
            code, text = smtp_send(self.port, ALICE, [OPS], message(subject="other address"))
            self.assertEqual(code, 250, text)


class PerClientEvictTest(DaemonCase):
    extra = ["max_connections_per_client = 3"]

    def test_busy_sessions_keep_their_slots(self):
        with closing_all([From(self.port, "127.0.0.3") for _ in range(3)]) as held:
            for c in held:
                self.assertTrue(open_data(c).startswith("354"))
            time.sleep(2.5)  # older than the 2 s after which an idle one could go
            extra = From(self.port, "127.0.0.3")
            held.append(extra)
            self.assertEqual(extra.line(), f"421 4.7.0 {HOST} Error: too many connections "
                                           "from 127.0.0.3 (limit 3)")

    def test_an_idle_session_of_the_client_gives_its_slot_up(self):
        with closing_all([From(self.port, "127.0.0.4") for _ in range(3)]) as idle:
            for c in idle:
                self.assertTrue(c.line().startswith("220 "))
            time.sleep(2.5)
            with From(self.port, "127.0.0.4") as newcomer:
                self.assertTrue(newcomer.line().startswith("220 "))
                self.assertEqual(idle[0].line(),
                                 f"421 4.3.2 {HOST} Error: server busy, closing idle connection")
                self.assertTrue(idle[0].at_eof())
            self.daemon.wait_log(r" evict client=127\.0\.0\.4:\d+ reason=\"too many connections "
                                 r"from this client\" for=s\d+ idle_ms=\d+ reply=\"421 4\.3\.2\"")


class SessionTimeTest(DaemonCase):
    extra = ["max_session_time = 2"]

    def test_a_client_sending_noop_is_closed_after_the_limit(self):
        start = time.monotonic()
        with From(self.port) as c:
            c.line()
            line = ""
            while time.monotonic() - start < 15:
                if not readable(c):  # never write after the server's 421
                    c.send("NOOP\r\n")
                line = c.line()
                if not line.startswith("250"):
                    break
                time.sleep(0.2)
            waited = time.monotonic() - start
            self.assertEqual(line, f"421 4.4.2 {HOST} Error: session time limit exceeded")
            self.assertTrue(c.at_eof())
        self.assertGreater(waited, 1.5)
        self.assertLess(waited, 8)
        self.daemon.wait_log(r" timeout client=127\.0\.0\.1:\d+ phase=session limit_s=2$")

    def test_a_slow_data_is_aborted_at_the_limit(self):
        before = self.site.spool_files()
        start = time.monotonic()
        with From(self.port) as c:
            self.assertTrue(open_data(c).startswith("354"))
            c.sock.settimeout(0.2)
            line = None
            while line is None and time.monotonic() - start < 15:
                if not readable(c):
                    c.send("a line of a message that trickles in\r\n")
                try:
                    line = c.line()
                except socket.timeout:
                    pass
            self.assertEqual(line, f"421 4.4.2 {HOST} Error: session time limit exceeded")
        self.assertLess(time.monotonic() - start, 8)
        self.daemon.wait_log(r" abort reason=timeout$")
        self.assertEqual(self.site.spool_files(), before)

    def test_a_message_within_the_limit_is_accepted(self):
        code, text = smtp_send(self.port, ALICE, [OPS], message(subject="quick"))
        self.assertEqual(code, 250, text)


class OverloadTest(DaemonCase):
    # Idle connections from ten addresses (25 each, under the per-client
    # default); the normal client comes from 127.0.0.1. No new key.
    site_options = {"max_connections": 100}
    IDLE = 250

    def test_a_normal_client_gets_through_hundreds_of_idle_connections(self):
        with closing_all([]) as idle:
            for i in range(self.IDLE):
                idle.append(From(self.port, f"127.0.0.{10 + i % 10}"))
            time.sleep(3)  # they sit there
            start = time.monotonic()
            code, text = None, ""
            while time.monotonic() - start < 20:
                try:
                    code, text = smtp_send(self.port, ALICE, [OPS], message(subject="normal"))
                except (smtplib.SMTPException, OSError) as e:
                    code, text = None, repr(e)
                if code == 250:
                    break
                time.sleep(0.5)
            took = time.monotonic() - start
            self.assertEqual(code, 250, text)
            # A few milliseconds normally; the command timeout is 300 s.
            self.assertLess(took, 5.0)
            self.daemon.wait_log(r" - overload status=on connections=100 limit=100 "
                                 r"read_timeout_ms=10000")
            self.daemon.wait_log(r" evict client=127\.0\.0\.\d+:\d+ reason=\"too many "
                                 r"connections\" for=s\d+ ")
            # The idle ones still open are cut to the overload read limit
            # (10 s) instead of the command timeout (300 s).
            deadline = time.monotonic() + 20
            still_open = [c for c in idle if not wait_eof(c, deadline)]
            self.assertEqual(len(still_open), 0, "idle connections still open; stderr:\n"
                             + self.daemon.log())
            self.daemon.wait_log(r" timeout client=127\.0\.0\.\d+:\d+ phase=command "
                                 r"overload=yes$")



if __name__ == "__main__":
    unittest.main()
