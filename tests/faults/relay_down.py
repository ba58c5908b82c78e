#!/usr/bin/env python3
"""The relay (tests/e2e/sink.py) killed with -9 while copies are being
relayed, down for --seconds while members go on posting, then back on the
same port: every copy of every posting answered 250 must arrive, intake
must go on answering 250 while the relay is down, and copies relayed twice
(in flight at the kill) are counted. Retries are shortened with tlpmaild's
--retry-seconds 1 (1, 2, 4, 8, 8, ... s between attempts); the real
schedule (1 min doubling to 1 h, 5 days) is lib/delivery/retry.h's.

  python3 tests/faults/relay_down.py [--seconds 120] [--messages 30]

Prints one figure line; exit status 0 when nothing acknowledged was lost,
no posting was refused and the daemon stopped cleanly; 1 otherwise."""

import sys
import time

import faultlib


def main():
    args = faultlib.arguments(
        __doc__,
        seconds=(120.0, "how long the relay stays down"),
        messages=(30, "postings: a third before the fault, a third while the relay is "
                      "down, a third after"),
        settle=(120.0, "seconds to wait for every copy once the relay is back"))
    # A slow relay (60 ms per message) so that the kill finds copies in flight.
    bench = faultlib.Bench(args.members, sink_options=("--delay-ms", "60"))

    def body(failures):
        first, _ = bench.open()
        postings = bench.postings(args.messages, tag="relay-down")
        third = max(1, args.messages // 3)
        before, during, after = (postings[:third], postings[third:2 * third],
                                 postings[2 * third:])
        senders = []

        s1 = faultlib.Sender(bench.daemon.port, before, threads=2).start()
        senders.append(s1)
        # Down in the middle of relaying the first third's copies.
        half = len(before) * len(bench.persons) // 2
        first.wait_count(max(1, half), timeout=120, why="before the relay is killed")
        first.proc.kill()
        first.proc.wait()
        down_at = time.monotonic()
        at_kill = first.count()
        s1.join(120)

        # While the relay is down: postings keep coming, spread over the time.
        s2 = faultlib.Sender(bench.daemon.port, during, threads=1,
                             interval=args.seconds / max(1, len(during))).start()
        senders.append(s2)
        s2.join(args.seconds + 120)
        rest = args.seconds - (time.monotonic() - down_at)
        if rest > 0:
            time.sleep(rest)
        states = bench.outbox_states()
        attempts = bench.site.query("SELECT MAX(attempts) FROM outbox_copies "
                                    "WHERE state = 'deferred'")[0][0] or 0
        down_for = time.monotonic() - down_at
        if not states.get("deferred"):
            failures.append(f"no copy was deferred while the relay was down: {states}")

        bench.start_sink()
        up_at = time.monotonic()
        s3 = faultlib.Sender(bench.daemon.port, after, threads=2).start()
        senders.append(s3)
        s3.join(120)
        acked = {}
        for s in senders:
            acked.update(s.acked)
        missing, got, waited = bench.wait_delivered(acked, args.settle)
        back_to_done = time.monotonic() - up_at
        mine, duplicates = faultlib.acked_copies(got, acked)
        expected = len(acked) * len(bench.persons)
        refused = [r for s in senders for r in s.refused]
        not_250 = sum(c for s in senders for code, c in s.codes.items() if code != 250)
        if missing:
            failures.append(f"{len(missing)} copies never arrived, e.g. {missing[:3]}")
        if refused or not_250:
            failures.append(f"intake did not answer 250 to every posting: "
                            f"{[s.codes for s in senders]} {refused[:3]}")
        if len(acked) != len(postings):
            failures.append(f"{len(postings) - len(acked)} postings not acknowledged")
        return (f"relay_down: relay killed at {at_kill} copies and down {down_for:.0f} s "
                f"({len(s2.acked)} postings accepted meanwhile, copies deferred "
                f"{states.get('deferred', 0)}, up to {attempts} attempts each), "
                f"{len(acked)} postings acknowledged, {expected} copies expected "
                f"({len(acked)} x {len(bench.persons)} members), {len(mine)} delivered, "
                f"lost {len(missing)}, duplicates {duplicates}, "
                f"{'all delivered' if not missing else 'gave up'} "
                f"{back_to_done:.1f} s after the relay came back")

    return faultlib.run("relay_down: aborted", args, bench, body)


if __name__ == "__main__":
    sys.exit(main())
