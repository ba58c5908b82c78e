#!/usr/bin/env python3
"""SIGHUP under load: while members stream postings to ops@, the list file
is first broken (the reload must fail and keep the old configuration),
then changed (one member removed, one person of the directory added) and
the reload must take it. Every posting answered 250 must reach exactly the
members of the configuration in force when it was answered: the old set
before the change, the new one after it (either one for the postings whose
session spans the reload); a copy for the removed member after the change
is a failure, like a lost copy. Does not change the [server] section.

  python3 tests/faults/sighup.py [--messages 45] [--members 5]

Prints one figure line; exit status 0 when no copy was lost or misdirected,
both reloads ended as they must and the daemon stopped cleanly."""

import os
import signal
import sys
import time

import faultlib
from faultlib import harness


def list_text(members, admin):
    quoted = ", ".join(f'"{m}"' for m in members)
    return (f'address = "{faultlib.OPS}"\ndescription = "{faultlib.delivery_test.DESCRIPTION}"\n'
            f'tlp_ceiling = "RED"\nmembers = [{quoted}]\nadmins = ["{admin}"]\n')


def main():
    args = faultlib.arguments(
        __doc__,
        messages=(45, "postings sent in all"),
        settle=(120.0, "seconds to wait for every copy after the last posting"))
    bench = faultlib.Bench(args.members, outsiders=1)

    def body(failures):
        old = set(bench.persons)
        ordered = sorted(old)
        admin, leaver = ordered[0], ordered[-1]
        newcomer = sorted(set(bench.everyone) - old)[0]
        new = (old - {leaver}) | {newcomer}
        list_file = os.path.join(bench.site.config_dir, "lists.d", "ops.toml")
        _, d = bench.open()
        postings = bench.postings(args.messages, tag="sighup",
                                  senders=sorted(old - {leaver}))
        # Slow enough that both reloads land in the middle of the stream.
        sender = faultlib.Sender(d.port, postings, threads=2, interval=0.1).start()
        # The broken file at a sixth of the stream, the change at a third:
        # two thirds are answered under the new configuration.
        sixth = max(1, args.messages // 6)

        sender.wait_acked(sixth, 120)
        mark = d.mark()
        with open(list_file, "w") as f:
            f.write(list_text(sorted(old), admin) + "members = [\n")  # not TOML
        d.signal(signal.SIGHUP)
        broken = d.wait_log(r" - reload status=failed .*kept=\"old configuration\"",
                            timeout=60, since=mark).group(0)

        sender.wait_acked(2 * sixth, 120)
        mark = d.mark()
        with open(list_file, "w") as f:
            f.write(list_text(sorted(new), admin))
        change_sent = time.monotonic()
        d.signal(signal.SIGHUP)
        d.wait_log(r" - reload status=ok", timeout=60, since=mark)
        change_seen = time.monotonic()

        if not sender.join(300):
            failures.append("the senders did not finish within 300 s")
        acked = dict(sender.acked)
        # Wait for the spool and outbox to empty, then compare.
        bench.persons = {e: bench.everyone[e] for e in old | new}
        harness.wait_for(lambda: (not bench.spool_states().get("received") and not sum(
            bench.outbox_states().get(s, 0) for s in ("queued", "in_flight", "deferred"))),
            "spool and outbox done", args.settle)
        got, _ = bench.copies()
        by_qid = {}
        for (qid, rcpt), n in got.items():
            by_qid.setdefault(qid, {})[rcpt] = n
        lost = wrong = ambiguous = 0
        counts = {"old": 0, "new": 0}
        examples = []
        for qid in acked:
            began, ended = sender.spans[qid]
            have = set(by_qid.get(qid, {}))
            if ended < change_sent:
                want = [("old", old)]
            elif began > change_seen:
                want = [("new", new)]
            else:
                ambiguous += 1
                want = [("old", old), ("new", new)]
            match = [name for name, members in want if have == members]
            if match:
                counts[match[0]] += 1
                continue
            best = min(want, key=lambda w: len(w[1] - have))[1]
            lost += len(best - have)
            wrong += len(have - best)
            examples.append((qid, sorted(have ^ best)))
        _, duplicates = faultlib.acked_copies(got, acked)
        leaver_after = sum(1 for qid in acked if sender.spans[qid][0] > change_seen
                           and leaver in by_qid.get(qid, {}))
        if lost or wrong:
            failures.append(f"copies lost {lost}, sent against the configuration {wrong}: "
                            f"{examples[:3]}")
        if sender.refused or len(acked) != len(postings):
            failures.append(f"postings not acknowledged: {len(postings) - len(acked)}, "
                            f"refused {sender.refused[:3]}")
        return (f"sighup: broken list file reloaded ({broken.split(' - ')[1]}) and a changed "
                f"one (member removed, member added) under a stream of {len(postings)} "
                f"postings: {len(acked)} acknowledged, {counts['old']} went to the old "
                f"members, {counts['new']} to the new ({ambiguous} answered during the "
                f"reload), copies lost {lost}, to a member not in force {wrong} (removed "
                f"member after the change: {leaver_after}), duplicates {duplicates}")

    return faultlib.run("sighup: aborted", args, bench, body)


if __name__ == "__main__":
    sys.exit(main())
