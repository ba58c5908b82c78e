#!/usr/bin/env python3
"""Slow clients against a normal one: --slow connections from ten loopback
addresses (127.0.0.2-11) that send their commands one byte at a time
(a byte per connection every --byte-interval seconds, reconnecting when
the daemon closes them), while a normal client sends signed+encrypted
postings one after the other. Its latency (end of DATA -> reply) under
that load must stay within --factor times its latency alone, every posting
must be acknowledged (a 421 at connect is retried and counted) and reach
every member. Does not measure throughput (bench/fanout_load.py does).

  python3 tests/faults/load.py [--slow 500] [--postings 20]

Prints one figure line; exit status 0 when the bound held and nothing was
lost; 1 otherwise."""

import re
import smtplib
import socket
import statistics
import sys
import threading
import time

import faultlib
from faultlib import OPS


def timed_send(port, sender, data, give_up_after=60.0):
    """One posting, retried while the connection is refused or answered
    421. Returns (reply code, text, seconds end of DATA -> reply, retries)."""
    retries = 0
    deadline = time.monotonic() + give_up_after
    while True:
        try:
            s = smtplib.SMTP("127.0.0.1", port, timeout=60)
            try:
                s.ehlo("normal.example")
                code, text = s.mail(sender)
                if code == 250:
                    code, text = s.rcpt(OPS)
                if code == 250:
                    code, text = s.docmd("DATA")
                if code == 354:
                    body = re.sub(rb"(?m)^\.", b"..", data)
                    s.send(body if body.endswith(b"\r\n") else body + b"\r\n")
                    t0 = time.monotonic()
                    s.send(b".\r\n")
                    code, text = s.getreply()
                    return code, text.decode(errors="replace"), time.monotonic() - t0, retries
                if not 400 <= code < 500:
                    return code, text.decode(errors="replace"), None, retries
            finally:
                s.close()
        except (OSError, smtplib.SMTPException):
            pass
        retries += 1
        if time.monotonic() > deadline:
            return None, "gave up", None, retries
        time.sleep(0.1)


class SlowClients:
    """`count` connections, each writing one byte of its script at a time."""

    SCRIPT = b"EHLO slow.example\r\nMAIL FROM:<slow@slow.example>\r\n" + b"NOOP\r\n" * 1000

    def __init__(self, port, count, interval):
        self.port, self.count, self.interval = port, count, interval
        self.stop = threading.Event()
        self.reconnects = 0
        self.open = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _connect(self, i):
        s = socket.socket()
        s.bind((f"127.0.0.{2 + i % 10}", 0))
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", self.port))
        except BlockingIOError:
            pass
        return [s, 0]

    def _run(self):
        conns = [self._connect(i) for i in range(self.count)]
        while not self.stop.is_set():
            started = time.monotonic()
            alive = 0
            for i, c in enumerate(conns):
                s, pos = c
                try:
                    try:
                        if s.recv(65536) == b"":
                            raise ConnectionError("closed")
                    except BlockingIOError:
                        pass
                    s.send(self.SCRIPT[pos % len(self.SCRIPT):pos % len(self.SCRIPT) + 1])
                    c[1] = pos + 1
                    alive += 1
                except (BlockingIOError, InterruptedError):
                    alive += 1  # still connecting
                except OSError:
                    s.close()
                    conns[i] = self._connect(i)
                    self.reconnects += 1
            self.open = alive
            self.stop.wait(max(0.0, self.interval - (time.monotonic() - started)))
        for s, _ in conns:
            s.close()

    def start(self):
        self.thread.start()
        return self

    def close(self):
        self.stop.set()
        self.thread.join(30)


def summary(latencies):
    ms = sorted(x * 1000 for x in latencies)
    return statistics.median(ms), ms[-1]


def main():
    args = faultlib.arguments(
        __doc__,
        slow=(500, "byte-by-byte connections"),
        postings=(20, "postings of the normal client, alone and under load each"),
        byte_interval=(1.0, "seconds between two bytes of one slow connection"),
        factor=(5.0, "bound: p50 under load / p50 alone"))
    bench = faultlib.Bench(args.members)
    slow = []  # the slow clients, closed before the bench

    def body(failures):
        _, d = bench.open()
        postings = bench.postings(2 * args.postings, tag="load")
        acked = []

        def run(batch):
            out, retries = [], 0
            for sender, data in batch:
                code, text, seconds, r = timed_send(d.port, sender, data)
                retries += r
                if code == 250:
                    acked.append(faultlib.harness.queued_id(text))
                    out.append(seconds)
                else:
                    failures.append(f"posting answered {code} {text}")
            return out, retries

        alone, _ = run(postings[:args.postings])
        slow.append(SlowClients(d.port, args.slow, args.byte_interval).start())
        time.sleep(3 * args.byte_interval + 2)  # every slow session under way
        loaded, retries = run(postings[args.postings:])
        open_at_end, reconnects = slow[0].open, slow[0].reconnects
        slow[0].close()
        _, hwm = faultlib.tlpmaild_rss_kib(d.proc.pid)
        missing, got, _ = bench.wait_delivered(set(acked), 120)
        if missing:
            failures.append(f"{len(missing)} copies never arrived")
        if not alone or not loaded:
            raise RuntimeError("no posting was acknowledged")
        p50a, maxa = summary(alone)
        p50l, maxl = summary(loaded)
        if p50l > args.factor * max(p50a, 1.0):
            failures.append(f"p50 under load {p50l:.0f} ms is over {args.factor} x "
                            f"{p50a:.0f} ms")
        return (f"load: {args.slow} byte-by-byte connections from 10 addresses ({open_at_end} "
                f"open at the end, {reconnects} closed by the daemon and reopened); a normal "
                f"client's end of DATA -> 250: alone p50 {p50a:.0f} ms max {maxa:.0f} ms, "
                f"under load p50 {p50l:.0f} ms max {maxl:.0f} ms ({p50l / max(p50a, 1.0):.1f}x; "
                f"bound {args.factor}x), {retries} connection attempts refused and retried; "
                f"{len(acked)} of {2 * args.postings} acknowledged, lost {len(missing)}, "
                f"peak RSS {hwm >> 10} MiB")

    return faultlib.run("load: aborted", args, bench, body,
                        first=lambda: [s.close() for s in slow])


if __name__ == "__main__":
    sys.exit(main())
