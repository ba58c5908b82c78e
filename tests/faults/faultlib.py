"""What the fault scripts of tests/faults share: a throwaway site (the
delivery tests' Site: one list ops@ whose members are all cleared RED,
[relay] at a tests/e2e/sink.py on 127.0.0.1), signed+encrypted postings made
in advance, a sender that records exactly which postings were answered 250,
the final count of copies per acknowledged posting at the sink, and the
frame each script runs in (run: the daemon stopped, the failures and the
one figure line printed, the exit status). It reuses tests/e2e (harness,
delivery_test) by import for the daemon's control; it decides nothing
about a fault, each script does."""

import argparse
import os
import random
import re
import smtplib
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
E2E = os.path.join(HERE, "..", "e2e")
sys.path.insert(0, E2E)
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import harness  # noqa: E402
import delivery_test  # noqa: E402

OPS = delivery_test.OPS
# The Message-ID of a list copy: <tlpmail.QUEUEID.RANDOM@lists.example.org>.
COPY_ID_RE = re.compile(rb"(?mi)^Message-ID:\s*<tlpmail\.([0-9a-f]{16})\.")
SKIP = 77  # ctest's SKIP_RETURN_CODE for what this machine cannot do


def arguments(doc, **defaults):
    """The options every script takes, plus the script's own (defaults as
    keyword arguments: name=(default, help)); the help describes the script
    with the first paragraph of `doc` (its docstring)."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument("--tlpmaild", default=os.environ.get("TLPMAILD", "build/daemon/tlpmaild"),
                   help="the daemon to test (default $TLPMAILD or build/daemon/tlpmaild)")
    p.add_argument("--members", type=int, default=5, help="members of the list")
    p.add_argument("--seed", type=int, default=None, help="random seed (printed)")
    p.add_argument("--log", default=None, help="write the daemon's whole log (every run) here")
    for name, (value, text) in defaults.items():
        p.add_argument("--" + name.replace("_", "-"), type=type(value), default=value, help=text)
    args = p.parse_args()
    harness.TLPMAILD = args.tlpmaild
    # tlpmailctl (for the list key) from the same build unless $TLPMAILCTL says.
    harness.TLPMAILCTL = os.environ.get(
        "TLPMAILCTL", os.path.join(os.path.dirname(args.tlpmaild), "tlpmailctl"))
    if not os.access(args.tlpmaild, os.X_OK):
        p.error(f"{args.tlpmaild}: not an executable (set --tlpmaild or $TLPMAILD)")
    return args


def say(text):
    print(text, file=sys.stderr, flush=True)


def seeded(args):
    """(seed, random.Random) from --seed, or from a random seed (printed)."""
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    return seed, random.Random(seed)


def run(aborted, args, bench, body, tail=40, first=None, daemon="the daemon"):
    """The frame of every script: body(failures) does the work, appends
    what failed and returns the figure line; then the daemon (the last
    run) is stopped (stop_daemon, `daemon` names it in the failure) and the
    line ends in ", daemon exit CODE". An exception is a failure with its
    reason (the figure line is then `aborted`). Then first() (when given),
    the log saved to --log, the bench closed; the failures and the last
    `tail` lines of the daemon log go to stderr, the figure line to stdout.
    Returns the exit status (1 when anything failed)."""
    failures = []
    line = aborted
    try:
        figures = body(failures)
        line = f"{figures}, daemon exit {stop_daemon(bench.daemon, failures, daemon)}"
    except Exception as e:  # a broken harness step is a failure, with its reason
        failures.append(f"{type(e).__name__}: {e}")
    finally:
        if first is not None:
            first()
        bench.save_log(args.log)
        log_tail = "\n".join(bench.site.log().splitlines()[-tail:])
        bench.close()
    if failures:
        say("daemon log (last lines):\n" + log_tail)
        for f in failures:
            say("FAIL: " + f)
    print(line + ("" if not failures else " -- FAILED"), flush=True)
    return 1 if failures else 0


def stop_daemon(daemon, failures, what="the daemon"):
    """Stops `daemon` when it still runs; a death or an exit other than 0
    is a failure. Returns the exit code (None when it had died)."""
    running = daemon.running()
    code = daemon.stop() if running else None
    if code != 0:
        failures.append(f"{what} {'exited ' + str(code) if running else 'died'}")
    return code


class Bench:
    """Members (keys made by one gpg run), a sink, the site; start() starts
    tlpmaild (with --retry-seconds 1: deferred copies retried after 1, 2,
    4, 8, 8, ... s) and imports the list key the first time."""

    def __init__(self, members, sink_options=(), relay_port=None, max_connections=2,
                 state_mount=None, outsiders=0):
        # `outsiders` more people are in the directory but not on the list.
        self.keys = delivery_test.BatchKeys(members + outsiders)
        self.everyone = {x.email: x for x in self.keys.persons}
        emails = sorted(self.everyone)[:members]
        self.persons = {e: self.everyone[e] for e in emails}
        self.sinks = []
        self.relay_port = relay_port or harness.free_port()
        self.sink_options = sink_options
        self.site = delivery_test.Site(delivery_test.ManyDirectory(self.keys), emails,
                                       [emails[0]], self.relay_port,
                                       max_connections=max_connections)
        if state_mount is not None:
            try:
                state_mount(self.site.state)
            except BaseException:
                self.site.close()
                self.keys.close()
                raise
        self.list_fpr = None
        self.daemon = None

    def start_sink(self):
        """A new sink process on the relay port, writing into its own folder."""
        sink = harness.Sink(self.sink_options, port=self.relay_port)
        self.sinks.append(sink)
        sink.start()
        return sink

    def open(self):
        """The first sink and the first daemon run; returns (sink, daemon)."""
        sink = self.start_sink()
        return sink, self.start()

    def start(self, *args):
        self.daemon = self.site.start(*args)
        if self.list_fpr is None:
            self.list_fpr, pub = self.site.list_key()
            self.keys.home.import_keys(pub)
        return self.daemon

    def postings(self, count, label="AMBER", tag="fault", senders=None):
        """`count` postings [(sender email, bytes)], each signed and
        encrypted by a member (in turn; or by those of `senders`) to the
        list key; made two at a time."""
        senders = [self.everyone[e] for e in (senders or sorted(self.persons))]

        def make(i):
            who = senders[i % len(senders)]
            return who.email, delivery_test.posting(
                who, self.list_fpr, f"[TLP:{label}] {tag} {i}",
                delivery_test.body_text(f"{tag}-{i}"))
        with ThreadPoolExecutor(2) as pool:
            return list(pool.map(make, range(count)))

    # --- what arrived ---

    def copies(self):
        """{(queue id, recipient): number of copies} over every sink run,
        and the number of other messages (notices) the sinks took."""
        out, other = {}, 0
        for sink in self.sinks:
            for meta, raw in sink.messages():
                m = COPY_ID_RE.search(raw.split(b"\r\n\r\n", 1)[0])
                if not m or b"\r\nAuto-Submitted:" in raw.split(b"\r\n\r\n", 1)[0]:
                    other += 1
                    continue
                for rcpt in meta["rcpt_to"]:
                    key = (m.group(1).decode(), rcpt)
                    out[key] = out.get(key, 0) + 1
        return out, other

    def outbox_states(self):
        if not os.path.exists(os.path.join(self.site.state, "tlpmail.db")):
            return {}
        return dict(self.site.query("SELECT state, COUNT(*) FROM outbox_copies GROUP BY state"))

    def spool_states(self):
        return dict(self.site.query("SELECT state, COUNT(*) FROM spool_messages GROUP BY state"))

    def wait_delivered(self, acked, timeout):
        """Waits until every acknowledged posting has a copy at the sink
        for every member and nothing is left to send (spool all done,
        outbox without queued/in_flight/deferred copies). Returns
        (missing [(qid, member)], copies dict, seconds waited)."""
        want = {(q, m) for q in acked for m in self.persons}
        t0 = time.monotonic()
        deadline = t0 + timeout
        while True:
            got, _ = self.copies()
            missing = want - set(got)
            states = self.outbox_states()
            busy = sum(states.get(s, 0) for s in ("queued", "in_flight", "deferred"))
            spool = self.spool_states()
            if not missing and not busy and not spool.get("received"):
                return [], got, time.monotonic() - t0
            if time.monotonic() > deadline or (self.daemon and not self.daemon.running()):
                say(f"waiting ended: outbox {states}, spool {spool}, missing {len(missing)}")
                return sorted(missing), got, time.monotonic() - t0
            time.sleep(0.2)

    def save_log(self, path):
        """The log of every daemon run (and the sinks') into `path`, when given."""
        if path:
            with open(path, "w") as f:
                f.write(self.site.log() + "\n---- sinks ----\n" +
                        "\n".join(s.log() for s in self.sinks) + "\n")

    def close(self):
        for sink in self.sinks:
            sink.close()
        self.site.close()
        self.keys.close()


def count_duplicates(got):
    return sum(n - 1 for n in got.values() if n > 1)


def acked_copies(got, acked):
    """The part of copies() that belongs to the acknowledged postings
    (`acked`: queue ids), and the copies beyond one each among them."""
    mine = {k: n for k, n in got.items() if k[0] in acked}
    return mine, count_duplicates(mine)


class Sender:
    """Sends postings over SMTP, one session each, from `threads` threads,
    and records what came of each: acked {qid: index} for a 250, the codes
    of refusals, and postings whose end of DATA got no reply (the daemon
    died under them: not acknowledged, and not sent again, since a second
    copy of the same signature would be a replay). A posting is sent again
    (same bytes) when the connection was refused or lost before DATA's
    end, or on a 4xx reply when `retry_4xx` is set; never after a 5xx."""

    def __init__(self, port, postings, threads=3, retry_4xx=True, pause=0.05,
                 give_up_after=120.0, interval=0.0):
        self.port = port
        self.interval = interval  # seconds each thread waits after a posting
        self.todo = list(enumerate(postings))
        self.threads = threads
        self.retry_4xx = retry_4xx
        self.pause = pause
        self.give_up_after = give_up_after
        self.lock = threading.Lock()
        self.acked = {}          # qid -> posting index
        self.codes = {}          # reply code -> count (the reply that ended each session)
        self.refused = []        # (index, code, text) of 5xx replies
        self.unanswered = []     # indexes whose DATA got no reply
        self.given_up = []       # indexes still 4xx/unreachable after give_up_after
        self.replies = []        # (monotonic time, code) of every end-of-DATA reply
        self.spans = {}          # qid -> (monotonic time the session began, of its 250)
        self.finished = 0        # postings done with (acked, refused, unanswered, given up)
        self.changed = threading.Condition(self.lock)
        self.workers = []

    def start(self):
        for _ in range(self.threads):
            t = threading.Thread(target=self._run, daemon=True)
            t.start()
            self.workers.append(t)
        return self

    def join(self, timeout):
        deadline = time.monotonic() + timeout
        for t in self.workers:
            t.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self.workers)

    def _next(self):
        with self.lock:
            return self.todo.pop(0) if self.todo else None

    def _run(self):
        while True:
            item = self._next()
            if item is None:
                return
            index, (sender, data) = item
            first = time.monotonic()
            while True:
                began = time.monotonic()
                outcome, code, text = send_once(self.port, sender, OPS, data)
                with self.lock:
                    if code is not None:
                        self.codes[code] = self.codes.get(code, 0) + 1
                        self.replies.append((time.monotonic(), code))
                    if outcome == "reply" and code == 250:
                        qid = harness.queued_id(text)
                        self.acked[qid] = index
                        self.spans[qid] = (began, time.monotonic())
                    elif outcome == "reply" and code >= 500:
                        self.refused.append((index, code, text))
                    elif outcome == "unanswered":
                        self.unanswered.append(index)
                    self.changed.notify_all()
                retry = outcome in ("noconnect", "early") or (
                    outcome == "reply" and 400 <= code < 500 and self.retry_4xx)
                if retry and time.monotonic() - first > self.give_up_after:
                    with self.lock:
                        self.given_up.append(index)
                    retry = False
                if not retry:
                    with self.lock:
                        self.finished += 1
                        self.changed.notify_all()
                    time.sleep(self.interval)
                    break
                time.sleep(self.pause)

    def wait_acked(self, n, timeout):
        """Waits until at least n postings were acknowledged (or all sent)."""
        return self._wait(lambda: len(self.acked) >= n, timeout)

    def wait_finished(self, n, timeout):
        """Waits until at least n postings are done with, whatever came of them."""
        return self._wait(lambda: self.finished >= n, timeout)

    def _wait(self, reached, timeout):
        deadline = time.monotonic() + timeout
        with self.lock:
            while not reached() and (self.todo or any(t.is_alive() for t in self.workers)):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(min(left, 0.5))
            return reached()


def send_once(port, sender, recipient, data, timeout=60):
    """One SMTP session. Returns (outcome, code, text): "reply" with the
    reply to DATA (or to MAIL/RCPT when those were refused), "noconnect"
    (nothing reached the daemon), "early" (the session broke before the
    end of DATA was sent: nothing can have been stored), "unanswered" (the
    end of DATA was sent, no reply came)."""
    try:
        s = smtplib.SMTP("127.0.0.1", port, timeout=timeout)
    except (OSError, smtplib.SMTPException):
        return "noconnect", None, None
    phase = "early"
    try:
        s.ehlo("faults.example")
        code, text = s.mail(sender)
        if code != 250:
            return "reply", code, text.decode(errors="replace")
        code, text = s.rcpt(recipient)
        if code != 250:
            return "reply", code, text.decode(errors="replace")
        code, text = s.docmd("DATA")
        if code != 354:
            return "reply", code, text.decode(errors="replace")
        body = re.sub(rb"(?m)^\.", b"..", data)  # the postings' lines end in CRLF
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        s.send(body)
        phase = "unanswered"
        s.send(b".\r\n")
        code, text = s.getreply()
        return "reply", code, text.decode(errors="replace")
    except (OSError, smtplib.SMTPException, socket.timeout):
        return phase, None, None
    finally:
        try:
            s.close()
        except OSError:
            pass


def tlpmaild_rss_kib(pid):
    """(VmRSS, VmHWM) of a process in KiB, from /proc."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    out[line.split(":")[0]] = int(line.split()[1])
    except OSError:
        pass
    return out.get("VmRSS", 0), out.get("VmHWM", 0)
