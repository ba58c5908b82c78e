#!/usr/bin/env python3
"""The list home's gpg-agent (the process whose command line has
--homedir STATE/gnupg, found in /proc) killed with -9 again and again while
members stream signed and encrypted postings to a list: intake may answer
4xx while the agent is gone (the script then sends the same posting again,
as an MTA would), never 5xx to a valid posting; every posting answered 250
must reach every member. Only agents of this script's own site are
signalled, by PID. A stopped (SIGSTOP) agent is tests/e2e/fanout_scale's.

  python3 tests/faults/agent_killed.py [--kills 20] [--messages 60]

Prints one figure line; exit status 0 when nothing was lost or refused and
the daemon stopped cleanly; 1 otherwise."""

import os
import signal
import sys
import threading
import time

import faultlib


def agents_of(home):
    """PIDs of the gpg-agents whose --homedir is `home`."""
    want = os.path.realpath(home)
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                argv = [a.decode(errors="replace") for a in f.read().split(b"\0")]
            cwd = os.readlink(f"/proc/{name}/cwd")
        except OSError:
            continue
        if not argv or os.path.basename(argv[0]) != "gpg-agent":
            continue
        for i, a in enumerate(argv[:-1]):
            if a == "--homedir" and os.path.realpath(os.path.join(cwd, argv[i + 1])) == want:
                out.append(int(name))
    return out


def main():
    args = faultlib.arguments(
        __doc__,
        kills=(20, "kill the agent this many times"),
        messages=(60, "postings sent in all"),
        settle=(180.0, "seconds to wait for every copy after the last posting"))
    seed, rnd = faultlib.seeded(args)
    bench = faultlib.Bench(args.members)

    def body(failures):
        bench.open()
        home = os.path.join(bench.site.state, "gnupg")
        postings = bench.postings(args.messages, tag="agent")
        sender = faultlib.Sender(bench.daemon.port, postings, threads=3,
                                 give_up_after=120).start()
        kills = []
        stop = threading.Event()

        def killer():
            # A kill every 0.2-1.2 s while postings flow; an agent that is
            # not running (not yet restarted by gpg) is waited for.
            while len(kills) < args.kills and not stop.is_set():
                time.sleep(rnd.uniform(0.2, 1.2))
                pids = agents_of(home)
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                        kills.append((time.monotonic(), pid))
                    except ProcessLookupError:
                        pass
        k = threading.Thread(target=killer, daemon=True)
        k.start()
        if not sender.join(timeout=600):
            failures.append("the senders did not finish within 600 s")
        # The stream may end before every kill was made: go on killing while
        # the fan-out works through what it holds, then stop.
        k.join(timeout=60)
        stop.set()
        k.join(5)
        acked = dict(sender.acked)
        missing, got, waited = bench.wait_delivered(acked, args.settle)
        mine, duplicates = faultlib.acked_copies(got, acked)
        expected = len(acked) * len(bench.persons)
        temp = sum(n for code, n in sender.codes.items() if 400 <= code < 500)
        log = bench.site.log()
        stuck = log.count(" fanout status=stuck")
        if missing:
            failures.append(f"{len(missing)} copies never arrived, e.g. {missing[:3]}")
        if sender.refused:
            failures.append(f"{len(sender.refused)} valid postings refused: "
                            f"{sender.refused[:3]}")
        if sender.given_up or len(acked) + len(sender.unanswered) != len(postings):
            failures.append(f"postings not acknowledged: {len(postings) - len(acked)} "
                            f"({len(sender.given_up)} still 4xx after 120 s)")
        if sender.unanswered:
            failures.append(f"{len(sender.unanswered)} postings got no reply at all")
        codes = ", ".join(f"{c} x {n}" for c, n in sorted(sender.codes.items()))
        return (f"agent_killed: list home's gpg-agent killed {len(kills)} times (seed {seed}), "
                f"{len(postings)} postings, replies {codes} ({temp} temporary, each sent "
                f"again), {len(acked)} acknowledged, {expected} copies expected "
                f"({len(acked)} x {len(bench.persons)} members), {len(mine)} delivered, "
                f"lost {len(missing)}, duplicates {duplicates}, fan-outs held after a gpg "
                f"error (then redone) {log.count(' fanout status=error') + stuck}")

    return faultlib.run(f"agent_killed: aborted (seed {seed})", args, bench, body)


if __name__ == "__main__":
    sys.exit(main())
