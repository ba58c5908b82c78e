"""Fan-out at scale (issue 15), end to end with the real tlpmaild, gpg and
tests/e2e/sink.py:

- StalledAgentTest: the list home's gpg-agent is stopped (SIGSTOP) before a
  posting arrives. The fan-out's gpg operation passes its deadline (here
  --gpg-deadline-ms 2000), the watchdog kills that agent, one warning is
  logged, the message is tried again at once with a fresh agent, and every
  copy arrives: the fan-out is not stalled beyond the deadline. Without the
  deadline the copies never come (the agent stays stopped).
- FlowControlTest: while the fan-out is stopped (its agent too, with a
  long deadline) and a posting has waited for it longer than
  in_flow_backlog, the reply to a new posting waits in_flow_delay_ms; the
  log says `backlog status=behind` (and /metrics counts the held reply),
  then `status=caught-up` once the agent runs again, and every posting
  reaches every member.
- LargeMessageMemoryTest: a posting with a 1.5 MB attachment to 40 members
  through a sink slower than tlpmaild; tlpmaild's peak RSS (VmHWM) stays
  under a bound that copies built whole (40 x ~2.8 MB queued for the relay)
  would exceed; the precise figures, for 25 MB to 1,000 members, are
  bench/fanout_memory.py's (docs/performance.md).

The postings are signed PGP/MIME (not encrypted): their intake needs no
secret key, so the stopped agent stalls the fan-out and not the intake.
Real gpg, keys made at test time; standard library only."""

import base64
import os
import re
import secrets
import signal
import sys
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import harness  # noqa: E402
from corpus_mime import as_part, crlf, date_header, entity, signed_multipart  # noqa: E402
from delivery_test import (OPS, WAIT, BatchKeys, ManyDirectory, Site,  # noqa: E402
                           armored_of, pkesk_key_ids)

DEADLINE_MS = 2000


def signed_posting(sender, subject, text, attachment=b""):
    """A PGP/MIME signed posting (multipart/signed) from `sender`, with an
    optional base64 attachment."""
    parts = [entity([("Content-Type", "text/plain; charset=utf-8")], text)]
    if attachment:
        b64 = base64.encodebytes(attachment).decode().replace("\n", "\r\n")
        parts.append(entity([("Content-Type", 'application/octet-stream; name="dump.bin"'),
                             ("Content-Transfer-Encoding", "base64")], b64))
    bnd = "b" + secrets.token_hex(8)
    body = b"".join(b"--" + bnd.encode() + b"\r\n" + p.rstrip(b"\r\n") + b"\r\n"
                    for p in parts) + b"--" + bnd.encode() + b"--\r\n"
    part = as_part(f'multipart/mixed; boundary="{bnd}"', body)
    ctype, sbody = signed_multipart(part, sender.home.detach_sign(sender.fpr, part))
    fields = [("From", f'"{sender.name}" <{sender.email}>'), ("To", OPS),
              ("Subject", subject), ("Date", date_header(int(time.time()))),
              ("Message-ID", f"<{secrets.token_hex(8)}@members.example>"),
              ("MIME-Version", "1.0")]
    return b"".join(crlf(f"{n}: {v}\n") for n, v in fields) + as_part(ctype, sbody)


def sanitized():
    """True for an ASan build of tlpmaild (scripts/test.sh --sanitize)."""
    with open(os.path.abspath(harness.TLPMAILD), "rb") as f:
        return b"__asan_init" in f.read()


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM for %d" % pid)


class ScaleCase(unittest.TestCase):
    MEMBERS = 5
    SINK = ()
    SERVER = ""

    def setUp(self):
        self.keys = BatchKeys(self.MEMBERS)
        self.addCleanup(self.keys.close)
        self.sink = harness.Sink(self.SINK)
        self.addCleanup(self.sink.close)
        self.sink.start()
        self.emails = [x.email for x in self.keys.persons]
        self.site = Site(ManyDirectory(self.keys), self.emails, [self.emails[0]], self.sink.port,
                         max_connections=2, server=self.SERVER)
        self.addCleanup(self.site.close)

    def log(self):
        return "daemon stderr:\n" + self.site.log() + "\nsink stderr:\n" + self.sink.log()

    def wait_copies(self, n, why, timeout=WAIT):
        harness.wait_for(lambda: self.sink.count() >= n, why, timeout, self.log)

    def check_copies(self, qid, n):
        persons = {x.email: x for x in self.keys.persons}
        got = {}
        for meta, raw in self.sink.messages():
            person = persons[meta["rcpt_to"][0]]
            self.assertEqual(pkesk_key_ids(armored_of(raw)), [person.subkey], meta)
            got[person.email] = got.get(person.email, 0) + 1
        self.assertEqual(set(got), set(persons))
        harness.wait_for(lambda: self.site.query(
            "SELECT COUNT(*) FROM outbox_copies WHERE state = 'delivered' AND message = ?",
            (qid,))[0][0] == n, "every copy delivered", WAIT, self.log)
        return got

    def agents(self):
        """The gpg-agents of the list's GnuPG home."""
        home = os.path.join(self.site.state, "gnupg")
        pids = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if os.path.basename(argv[0]) == b"gpg-agent" and b"--homedir" in argv:
                i = argv.index(b"--homedir")
                if i + 1 < len(argv) and os.path.realpath(os.fsdecode(argv[i + 1])) == \
                        os.path.realpath(home):
                    pids.append(int(pid))
        return pids

    def start_and_stop_agent(self, deadline_ms):
        """Starts tlpmaild with a gpg deadline of `deadline_ms`, sends a first
        posting (the list home's agent runs afterwards), waits for its copies
        and stops that agent (SIGSTOP; killed at cleanup). Returns (daemon,
        the first posting's queue id, the agent's pid)."""
        sender = self.keys.persons[0]
        daemon = self.site.start("--gpg-deadline-ms", str(deadline_ms))
        qid = self.site.send(sender, signed_posting(sender, "[TLP:GREEN] one", "first"))
        self.wait_copies(self.MEMBERS, "the first posting's copies")
        agents = self.agents()
        self.assertEqual(len(agents), 1, agents)
        os.kill(agents[0], signal.SIGSTOP)
        self.addCleanup(lambda: self._kill_quietly(agents[0]))
        return daemon, qid, agents[0]

    @staticmethod
    def _state(pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return "X"

    @staticmethod
    def _kill_quietly(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


class StalledAgentTest(ScaleCase):
    def test_stopped_agent_is_restarted_within_the_deadline(self):
        sender = self.keys.persons[0]
        daemon, _, agent = self.start_and_stop_agent(DEADLINE_MS)
        mark = daemon.mark()
        started = time.monotonic()
        qid = self.site.send(sender, signed_posting(sender, "[TLP:GREEN] two", "second"))
        accepted = time.monotonic() - started
        # Signing needs the agent: the fan-out waits DEADLINE_MS, the
        # watchdog kills the stopped agent, the fan-out is tried again.
        self.wait_copies(2 * self.MEMBERS, "the second posting's copies",
                         timeout=DEADLINE_MS / 1000 * 3 + 20)
        elapsed = time.monotonic() - started
        stall = daemon.wait_log(r" - gpg status=stalled operation=(.+?) home=(\S+) "
                                r"after_ms=(\d+) agents_killed=1 gpg_killed=0", since=mark)
        self.assertGreaterEqual(int(stall.group(3)), DEADLINE_MS)
        daemon.wait_log(rf"{qid} fanout status=error reason=.*gpg did not answer within .* "
                        r"retry_in=0s", since=mark)
        daemon.wait_log(rf"{qid} fanout list={re.escape(OPS)} ", since=mark)
        # One warning for the one stall.
        with daemon.cond:
            tail = "\n".join(daemon.lines[mark:])
        self.assertEqual(len(re.findall(r" gpg status=stalled ", tail)), 1, tail)
        self.assertFalse(os.path.exists(f"/proc/{agent}/cmdline") and
                         self._state(agent) not in ("Z", "X"),
                         "the stopped agent was not killed")
        self.check_copies(qid, self.MEMBERS)
        self.assertEqual(daemon.stop(), 0, self.log())
        sys.stderr.write(f"\nstopped agent: 250 after {accepted:.2f} s, all copies "
                         f"{elapsed:.2f} s after the posting (deadline {DEADLINE_MS} ms)\n")


class FlowControlTest(ScaleCase):
    DELAY_MS = 6000
    SERVER = f"in_flow_backlog = 1\nin_flow_delay_ms = {DELAY_MS}"

    def metric(self, port, name):
        """The value of an unlabelled series on /metrics (None: absent)."""
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=20).read()
        for line in body.decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None

    def test_replies_wait_while_the_fanout_is_behind(self):
        sender = self.keys.persons[0]
        metrics_port = harness.free_port()
        with open(self.site.config, "a") as f:
            f.write(f'\n[metrics]\nlisten = "127.0.0.1:{metrics_port}"\n')
        # A deadline longer than the test: the stopped agent stops the
        # fan-out until it is continued.
        daemon, first, agent = self.start_and_stop_agent(120000)
        qids = [first]
        mark = daemon.mark()
        # Two postings stop the two fan-out workers (each waits for the
        # agent), the third waits for a worker: the backlog.
        for i in range(3):
            qids.append(self.site.send(sender, signed_posting(sender, f"[TLP:GREEN] {i}", "x")))
            time.sleep(1.0)
        # The third has waited a second (in_flow_backlog) by now.
        started = time.monotonic()
        qids.append(self.site.send(sender, signed_posting(sender, "[TLP:GREEN] held", "y")))
        held = time.monotonic() - started
        self.assertGreaterEqual(held, self.DELAY_MS / 1000 - 0.5,
                                "the reply did not wait for the fan-out\n" + self.log())
        daemon.wait_log(r" - backlog status=behind oldest=\d+s in_flow_delay_ms=6000",
                        since=mark)
        os.kill(agent, signal.SIGCONT)
        self.wait_copies(len(qids) * self.MEMBERS, "every posting's copies")
        daemon.wait_log(r" - backlog status=caught-up", since=mark)
        # (A scrape reads the list key's expiry with gpg: not while its
        # agent is stopped.)
        self.assertEqual(self.metric(metrics_port, "tlpmail_intake_flow_delayed_total"), 1)
        self.assertGreaterEqual(
            self.metric(metrics_port, "tlpmail_intake_flow_delay_seconds_total"),
            self.DELAY_MS / 1000 - 0.5)
        for qid in qids:
            daemon.wait_log(rf"{qid} fanout list={re.escape(OPS)} ")
        self.assertEqual(daemon.stop(), 0, self.log())
        sys.stderr.write(f"\nflow control: the reply waited {held:.2f} s "
                         f"(in_flow_delay_ms {self.DELAY_MS})\n")


class LargeMessageMemoryTest(ScaleCase):
    MEMBERS = 40
    ATTACHMENT = 1536 * 1024
    # Copies built whole (before issue 15): 40 x (1.5 MB x 4/3 base64 x 4/3
    # armor + frame) ~ 112 MB queued at once for the relay (the scheduler's
    # window is 64) on top of the ~30 MB tlpmaild needs anyway. Now: one
    # message in a few forms and one shared armor, ~20 MB over that.
    BOUND_MIB = 100

    def test_peak_rss_is_bounded_by_the_message_not_the_members(self):
        sender = self.keys.persons[0]
        daemon = self.site.start()
        base = vm_hwm_kib(daemon.proc.pid)
        posting = signed_posting(sender, "[TLP:GREEN] capture", "the capture",
                                 os.urandom(self.ATTACHMENT))
        qid = self.site.send(sender, posting)
        self.wait_copies(self.MEMBERS, "a copy for every member", timeout=180)
        self.check_copies(qid, self.MEMBERS)
        peak = vm_hwm_kib(daemon.proc.pid)
        sys.stderr.write(f"\n{len(posting) >> 10} KiB posting to {self.MEMBERS} members: "
                         f"VmHWM {base >> 10} MiB at start, {peak >> 10} MiB peak\n")
        if not sanitized():  # ASan's shadow memory and quarantine are not ours
            self.assertLess(peak >> 10, self.BOUND_MIB, self.log())
        self.assertEqual(daemon.stop(), 0, self.log())


if __name__ == "__main__":
    unittest.main()
