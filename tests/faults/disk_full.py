#!/usr/bin/env python3
"""tlpmaild's state folder on a small tmpfs that this script mounts and then
fills with a ballast file: while it is full, intake must answer 4xx (never
250 for what it could not store, never 5xx for a valid posting), copies it
already holds must still go out when the relay is there, intake must come
back (250) once the ballast is removed, and every posting answered 250 must
reach every member. Needs root (mount -t tmpfs); without it prints a SKIP
line and exits 77. It does not fill the disk under the spool's fsync (a
tmpfs fsync cannot fail); tests/unit's fault-injection Env does that.

  python3 tests/faults/disk_full.py [--size-mib 24] [--messages 8]

Prints one figure line; exit status 0 when the guarantees held, 1 when not,
77 when the tmpfs could not be mounted."""

import errno
import os
import shutil
import subprocess
import sys
import time

import faultlib
from faultlib import say


def mount_tmpfs(path, size_mib):
    os.makedirs(path, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mib}m,mode=0700",
                        "tmpfs", path], capture_output=True, text=True)
    if p.returncode != 0:
        raise PermissionError((p.stderr or p.stdout).strip() or f"mount exited {p.returncode}")


def fill(path):
    """Writes a ballast file until the filesystem is full; returns its size."""
    ballast = os.path.join(path, "ballast")
    size = 0
    with open(ballast, "wb", buffering=0) as f:
        chunk = b"\0" * 65536
        while True:
            try:
                size += f.write(chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break
        # Whatever a 64 KiB chunk did not fit: the last pages too.
        while True:
            try:
                size += f.write(b"\0" * 512)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break
    return ballast, size


def main():
    args = faultlib.arguments(
        __doc__,
        size_mib=(24, "size of the tmpfs that holds the state folder"),
        messages=(8, "postings in each of the four phases"),
        full_seconds=(20.0, "how long the filesystem stays full (at least)"),
        held_delivery=("require", "require: fail when copies held before the fill are "
                       "not delivered while it is full; report: only print it (a known "
                       "gap, see docs/reliability.md)"))
    if os.geteuid() != 0:
        print("disk_full: SKIP: not root, cannot mount a tmpfs", flush=True)
        return faultlib.SKIP
    mounted = []

    def mount(state):
        try:
            mount_tmpfs(state, args.size_mib)
        except (PermissionError, OSError) as e:
            raise PermissionError(f"cannot mount a tmpfs on {state}: {e}")
        mounted.append(state)

    try:
        bench = faultlib.Bench(args.members, state_mount=mount)
    except PermissionError as e:
        print(f"disk_full: SKIP: {e}", flush=True)
        return faultlib.SKIP
    n = args.messages

    def body(failures):
        state = bench.site.state
        sink, _ = bench.open()
        postings = bench.postings(4 * n, tag="disk-full")
        a, b, c, d = (postings[i * n:(i + 1) * n] for i in range(4))
        acked = {}

        # A: relay up (the copies of A that are not out before B are held too).
        s = faultlib.Sender(bench.daemon.port, a, threads=2).start()
        s.join(120)
        acked.update(s.acked)
        # B: relay down, so that its copies wait in the outbox.
        sink.stop()
        s = faultlib.Sender(bench.daemon.port, b, threads=2).start()
        s.join(120)
        acked.update(s.acked)
        harness_wait(lambda: not bench.spool_states().get("received"),
                     "B fanned out", 60)
        waiting = bench.outbox_states().get("deferred", 0) + bench.outbox_states().get(
            "queued", 0)

        held_before, _ = bench.copies()
        # Full: the ballast takes every free page.
        ballast, size = fill(state)
        full_at = time.monotonic()
        df = shutil.disk_usage(state)
        s = faultlib.Sender(bench.daemon.port, c, threads=1, retry_4xx=False).start()
        s.join(120)
        c_codes = dict(s.codes)
        c_acked = dict(s.acked)
        # A 250 while full must be a stored posting: its copies are checked below.
        c_refused = list(s.refused)
        # The relay comes back while the disk is still full: the copies of B
        # must go out.
        bench.start_sink()
        relay_up = time.monotonic()
        # Held: every copy of A and B not at the first sink before the fill.
        b_want = {(q, m) for q in acked for m in bench.persons} - set(held_before)

        def b_delivered():
            got, _ = bench.copies()
            return len(b_want & set(got))
        # At least 10 s with the relay up: a deferred copy waits 8 s at most.
        deadline = max(full_at + args.full_seconds, relay_up + 10)
        while time.monotonic() < deadline and b_delivered() < len(b_want):
            time.sleep(0.2)
        while_full = b_delivered()
        free_while_full = shutil.disk_usage(state).free
        if not bench.daemon.running():
            failures.append("the daemon died while the disk was full")

        acked.update(c_acked)
        # Space back: intake must answer 250 again (4xx retried for 60 s).
        os.remove(ballast)
        freed_at = time.monotonic()
        s = faultlib.Sender(bench.daemon.port, d, threads=2, give_up_after=60).start()
        s.join(180)
        acked.update(s.acked)
        first_250 = min((t for t, code in s.replies if code == 250), default=None)
        recovery = (first_250 - freed_at) if first_250 else None
        d_codes = dict(s.codes)

        missing, got, waited = bench.wait_delivered(acked, 120)
        mine, duplicates = faultlib.acked_copies(got, acked)
        expected = len(acked) * len(bench.persons)
        if missing:
            failures.append(f"{len(missing)} copies of acknowledged postings never arrived "
                            f"(a 250 for what was not stored?), e.g. {missing[:3]}")
        not_4xx = {code: k for code, k in c_codes.items() if not 400 <= code < 500}
        if c_refused:
            failures.append(f"valid postings refused with 5xx while full: {c_refused[:3]}")
        if not c_codes or (not_4xx and set(not_4xx) != {250}):
            failures.append(f"replies while full: {c_codes}")
        claim_errors = bench.site.log().count(" outbox op=claim reason=")
        if while_full < len(b_want) and args.held_delivery == "require":
            failures.append(f"copies held before the disk filled: {while_full} of "
                            f"{len(b_want)} delivered while it was full")
        if len(s.acked) != len(d):
            failures.append(f"after space came back only {len(s.acked)} of {len(d)} "
                            f"postings were acknowledged: {d_codes}")
        c_text = ", ".join(f"{k} x {v}" for k, v in sorted(c_codes.items()))
        return (f"disk_full: state on a {args.size_mib} MiB tmpfs filled ({size >> 10} KiB "
                f"ballast, {free_while_full} bytes free), {len(c)} postings while full "
                f"answered {c_text} ({len(c_acked)} x 250), {while_full} of {len(b_want)} "
                f"held copies delivered while full ({claim_errors} outbox claim errors logged), "
                f"intake back "
                + (f"{recovery:.2f} s after space returned" if recovery is not None else "never")
                + f", {len(acked)} postings acknowledged, {expected} copies expected, "
                f"{len(mine)} delivered, lost {len(missing)}, duplicates {duplicates}")
        say(f"disk usage when full: {df}; waiting copies before the fill: {waiting}")

    root = bench.site.root
    try:
        return faultlib.run("disk_full: aborted", args, bench, body, tail=60)
    finally:
        for path in mounted:
            subprocess.run(["umount", path], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def harness_wait(condition, what, timeout):
    return faultlib.harness.wait_for(condition, what, timeout)


if __name__ == "__main__":
    sys.exit(main())
