#!/usr/bin/env python3
"""Memory after many messages: one tlpmaild, a 10-member list (fan-out on,
to a sink), --messages mixed good and bad messages sent over --senders
concurrent sessions; tlpmaild's VmRSS is read after the first --first
messages and again after all of them, each time once the spool and the
outbox have drained (--step N: also every N messages in between, which
tells caches that fill up and stay from a leak that grows with every
message). The growth between the two figures must stay within
--bound-pct % of the first (and is forgiven up to --floor-mib MiB, so that
a few pages of allocator noise on a small figure do not fail it). Every
good posting must be answered 250 and reach every member, every bad one
must be refused with 5xx. Does not measure speed (bench/fanout_load.py).
Takes minutes (5,000 messages: 8 here), so it is not in ctest.

Kinds (a good posting every --good-every messages, the others in turn):
signed+encrypted [TLP:AMBER] postings (good); unsigned mail; a
multipart/signed whose signed part was changed after signing (bad
signature); over max_message_size (1 MiB here) with SIZE= and without;
[TLP:RED] on this AMBER-ceiling list; binary garbage; garbage in a PGP/MIME
encrypted part. The postings are made in advance, before each phase.

  python3 tests/faults/rss_growth.py [--messages 10000] [--first 1000] [--step 3000]

Prints one figure line: `rss after 1000: X MiB, after 10000: Y MiB, growth
Z %`, the replies per kind and lost; exit status 0 when the growth is within
the bound and nothing was lost or wrongly answered, 1 otherwise."""

import base64
import os
import random
import re
import smtplib
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import faultlib
from faultlib import OPS, say
from corpus_mime import as_part, encrypted_multipart  # noqa: E402
from intake_security_test import header_block, message, signed_entity, text_entity  # noqa: E402

MAX_SIZE = 1048576  # this site's max_message_size (the Site's 10 MiB rewritten)
BAD_KINDS = ("unsigned", "bad_signature", "oversize_declared", "oversize", "tlp_red",
             "garbage", "pgp_garbage")


class Mix:
    """The messages of one phase: [(kind, sender email, bytes, SIZE= or 0)]."""

    def __init__(self, bench, rnd, good_every):
        self.bench, self.rnd, self.good_every = bench, rnd, good_every
        self.made = 0  # messages made so far (for the kinds' order and tags)
        self.persons = [bench.persons[e] for e in sorted(bench.persons)]
        # One detached signature per member, over a part that is then
        # changed: every bad-signature message differs, gpg runs 10 times.
        self.signed = {}
        self.big = None

    def _signed_part(self, who):
        if who.email not in self.signed:
            part = text_entity("signed text, changed after signing: 0000000000\n")
            self.signed[who.email] = (part, signed_entity(who, part))
        return self.signed[who.email]

    def make(self, count):
        kinds = []
        for i in range(self.made, self.made + count):
            if i % self.good_every == 0:
                kinds.append("good")
            else:
                kinds.append(BAD_KINDS[(i - i // self.good_every - 1) % len(BAD_KINDS)])
        base = self.made
        self.made += count
        good = self.bench.postings(kinds.count("good"), tag=f"rss-good-{base}")
        red = self.bench.postings(kinds.count("tlp_red"), label="RED", tag=f"rss-red-{base}")
        out = []
        for n, kind in enumerate(kinds):
            i = base + n
            who = self.persons[i % len(self.persons)]
            if kind == "good":
                out.append((kind,) + good.pop() + (0,))
            elif kind == "tlp_red":
                out.append((kind,) + red.pop() + (0,))
            else:
                out.append((kind, who.email, self._bad(kind, who, i), 0))
            if kind == "oversize_declared":
                out[-1] = out[-1][:3] + (MAX_SIZE + 1 + i,)
        self.rnd.shuffle(out)
        return out

    def _bad(self, kind, who, i):
        fields = header_block(who, OPS, f"[TLP:AMBER] rss {kind} {i}")
        if kind == "unsigned":
            return message(fields, "text/plain; charset=utf-8",
                           f"unsigned message {i}\r\n".encode())
        if kind == "bad_signature":
            part, whole = self._signed_part(who)
            changed = part.replace(b"0000000000", b"%010d" % i)
            head = b"".join(b"%s: %s\r\n" % (n.encode(), v.encode()) for n, v in fields)
            return head + whole.replace(part, changed)
        if kind in ("oversize", "oversize_declared"):
            # One object for all: hundreds of 1 MiB copies would not fit here.
            if self.big is None:
                line = b"z" * 998 + b"\r\n"
                self.big = message(fields, "text/plain", line * (MAX_SIZE // len(line) + 8))
            return self.big
        if kind == "garbage":
            return self.rnd.randbytes(8192)
        if kind == "pgp_garbage":
            junk = base64.encodebytes(self.rnd.randbytes(6000)).replace(b"\n", b"\r\n")
            armored = (b"-----BEGIN PGP MESSAGE-----\r\n\r\n" + junk +
                       b"-----END PGP MESSAGE-----\r\n")
            ctype, body = encrypted_multipart(armored)
            return message(fields, ctype, body)
        raise ValueError(kind)


class Sending:
    """Sends the messages of a phase from `threads` threads, one session
    each; a refused connection, a broken session or a 4xx is tried again
    (same bytes). Records the replies per kind and the acknowledged
    postings."""

    def __init__(self, port, threads):
        self.port, self.threads = port, threads
        self.lock = threading.Lock()
        self.replies = {}   # kind -> {code: count}
        self.acked = set()  # queue ids of good postings answered 250
        self.wrong = []     # (kind, code, text): a good one refused, a bad one accepted
        self.retries = 0
        self.sample = {}    # kind -> the first reply text (printed: the reasons)

    def run(self, items, give_up_after=300.0):
        todo = list(items)

        def worker():
            while True:
                with self.lock:
                    if not todo:
                        return
                    item = todo.pop()
                self._send(item, give_up_after)
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(self.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _send(self, item, give_up_after):
        kind, sender, data, declared = item
        deadline = time.monotonic() + give_up_after
        while True:
            code, text = self._once(sender, data, declared)
            retry = code is None or 400 <= code < 500
            if retry and time.monotonic() < deadline:
                with self.lock:
                    self.retries += 1
                time.sleep(0.2)
                continue
            with self.lock:
                counts = self.replies.setdefault(kind, {})
                counts[code] = counts.get(code, 0) + 1
                self.sample.setdefault(kind, f"{code} {text}"[:160])
                # A good posting must get 250, a bad one a 5xx (a 4xx was
                # retried until give_up_after: it counts as wrong too).
                if kind == "good" and code == 250:
                    self.acked.add(faultlib.harness.queued_id(text))
                elif kind == "good" or code is None or code < 500:
                    self.wrong.append((kind, code, text))
            return

    def _once(self, sender, data, declared):
        try:
            s = smtplib.SMTP("127.0.0.1", self.port, timeout=120)
        except (OSError, smtplib.SMTPException):
            return None, ""
        try:
            s.ehlo("rss.example")
            code, text = s.mail(sender, ["SIZE=%d" % declared] if declared else [])
            if code == 250:
                code, text = s.rcpt(OPS)
            if code == 250:
                code, text = s.docmd("DATA")
            if code != 354:
                return code, text.decode(errors="replace")
            body = re.sub(rb"(?m)^\.", b"..", data)
            try:
                s.send((body if body.endswith(b"\r\n") else body + b"\r\n") + b".\r\n")
            except (OSError, smtplib.SMTPServerDisconnected):
                pass  # refused before the end (over the size): the reply is waiting
            code, text = s.getreply()
            return code, text.decode(errors="replace")
        except (OSError, smtplib.SMTPException):
            return None, ""
        finally:
            try:
                s.close()
            except OSError:
                pass


def wait_drained(bench, timeout):
    """Waits until the spool holds nothing received and the outbox nothing
    queued, in flight or deferred. Returns the seconds waited, or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        spool = bench.spool_states()
        out = bench.outbox_states()
        if not spool.get("received") and not any(out.get(s) for s in
                                                  ("queued", "in_flight", "deferred")):
            return time.monotonic() - t0
        if not bench.daemon.running():
            return None
        time.sleep(1.0)
    say(f"not drained after {timeout} s: spool {bench.spool_states()}, "
        f"outbox {bench.outbox_states()}")
    return None


def configure(site):
    """max_message_size 1 MiB (over-size inputs stay cheap), the list's
    ceiling AMBER (so that [TLP:RED] is refused)."""
    with open(site.config) as f:
        text = f.read()
    with open(site.config, "w") as f:
        f.write(text.replace("max_message_size = 10485760", f"max_message_size = {MAX_SIZE}"))
    path = os.path.join(site.config_dir, "lists.d", "ops.toml")
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace('tlp_ceiling = "RED"', 'tlp_ceiling = "AMBER"'))


def main():
    args = faultlib.arguments(
        __doc__,
        messages=(10000, "messages in all"),
        first=(1000, "messages before the first RSS figure"),
        good_every=(2, "one good posting every N messages"),
        senders=(4, "concurrent SMTP sessions"),
        bound_pct=(20.0, "bound: RSS growth from the first figure to the last, in %%"),
        floor_mib=(4.0, "growth up to this many MiB passes whatever the %%"),
        step=(0, "also read VmRSS (queue drained) every N messages after --first "
                 "(0: only at the end); the figures are printed as the curve"),
        drain_seconds=(1800, "longest wait for the queue to drain, per phase"))
    if "--members" not in sys.argv:
        args.members = 10
    seed, rnd = faultlib.seeded(args)
    say(f"seed {seed}")
    bench = faultlib.Bench(args.members)
    configure(bench.site)
    figures = {}

    def phase(mix, sending, count, name):
        t0 = time.monotonic()
        items = mix.make(count)
        made = time.monotonic() - t0
        t0 = time.monotonic()
        sending.run(items)
        sent = time.monotonic() - t0
        drained = wait_drained(bench, args.drain_seconds)
        time.sleep(1.0)  # the last copies' sessions closed
        rss, hwm = faultlib.tlpmaild_rss_kib(bench.daemon.proc.pid)
        say(f"{name}: {count} made in {made:.0f} s, sent in {sent:.0f} s, drained "
            f"{'never' if drained is None else f'{drained:.0f} s'} later; VmRSS {rss} KiB, "
            f"VmHWM {hwm} KiB; replies {sending.replies}")
        figures[name] = (rss, hwm, drained)
        return drained is not None

    def body(failures):
        _, d = bench.open()
        mix = Mix(bench, rnd, args.good_every)
        sending = Sending(d.port, args.senders)
        ok = phase(mix, sending, args.first, "first")
        done, curve = args.first, []
        while ok and done < args.messages:
            n = min(args.step or args.messages, args.messages - done)
            done += n
            ok = phase(mix, sending, n, "last" if done == args.messages else f"at {done}")
            curve.append(figures.get("last" if done == args.messages else f"at {done}")[0])
        if not ok:
            failures.append("the queue did not drain (or the daemon died)")
        for kind, text in sorted(sending.sample.items()):
            say(f"{kind}: {text}")
        got, _ = bench.copies()
        want = {(q, m) for q in sending.acked for m in bench.persons}
        lost = len(want - set(got))
        dups = faultlib.count_duplicates({k: n for k, n in got.items() if k[0] in sending.acked})
        if lost:
            failures.append(f"{lost} copies of acknowledged postings never arrived")
        for kind, code, text in sending.wrong[:10]:
            failures.append(f"{kind} answered {code} {text[:120]}")
        if len(sending.wrong) > 10:
            failures.append(f"... {len(sending.wrong)} wrong replies in all")
        rss1 = figures.get("first", (0, 0, None))[0]
        rss2, hwm, _ = figures.get("last", (0, 0, None))
        growth = rss2 - rss1
        pct = 100.0 * growth / rss1 if rss1 else 0.0
        if ok and growth > (args.floor_mib * 1024) and pct > args.bound_pct:
            failures.append(f"RSS grew {growth >> 10} MiB ({pct:.1f} %), over the bound of "
                            f"{args.bound_pct} % (and {args.floor_mib} MiB)")
        kinds = "; ".join(
            f"{k} " + "/".join(f"{n}x{c}" for c, n in sorted(v.items(), key=str))
            for k, v in sorted(sending.replies.items()))
        return (f"rss after {args.first}: {rss1 / 1024:.1f} MiB, after {args.messages}: "
                f"{rss2 / 1024:.1f} MiB, growth {pct:.1f} % (bound {args.bound_pct} %, "
                f"floor {args.floor_mib} MiB); peak {hwm >> 10} MiB; "
                + (f"every {args.step}: " + ", ".join(f"{k / 1024:.1f}" for k in curve) +
                   " MiB; " if args.step else "") +
                f"{args.members} members, "
                f"{args.senders} senders; replies: {kinds}; {sending.retries} retried; "
                f"{len(sending.acked)} acknowledged, {len(want)} copies expected, lost {lost}, "
                f"duplicates {dups}")

    return faultlib.run("rss_growth: aborted", args, bench, body)


if __name__ == "__main__":
    sys.exit(main())
