#!/usr/bin/env python3
"""tlpmaild's state folder on a small tmpfs that this script mounts and then
fills with a ballast file to the last byte: while it is full, intake must
answer 4xx (never 250 for what it could not store, never 5xx for a valid
posting), copies it already holds must still go out when the relay is
there (the daemon gives its reserve file up for that: [server]
min_free_space, queue/space_guard.h), intake must come back (250) once the
ballast is removed, and every posting answered 250 must reach every member.
Needs root (mount -t tmpfs); without it prints a SKIP line and exits 77. It
does not fill the disk under the spool's fsync (a tmpfs fsync cannot
fail); tests/unit's fault-injection Env does that. `--min-free-mib 0` turns
the guard off: the held copies then wait for space, and the script fails.

  python3 tests/faults/disk_full.py [--size-mib 24] [--messages 8] [--min-free-mib 4]

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
    """Writes a ballast file until the filesystem is full; returns its size.
    One fallocate takes what is free at once (so that the daemon's reserve,
    given up when it sees the disk full, is not eaten by this same fill),
    then writes take the last pages."""
    ballast = os.path.join(path, "ballast")
    size = 0
    with open(ballast, "wb", buffering=0) as f:
        free = shutil.disk_usage(path).free
        try:
            os.posix_fallocate(f.fileno(), 0, free)
            size = free
            f.seek(free)
        except OSError as e:
            if e.errno not in (errno.ENOSPC, errno.EOPNOTSUPP, errno.EINVAL):
                raise
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
        min_free_mib=(4, "[server] min_free_space of the daemon, in MiB (0: the guard "
                      "and its reserve off; the held copies then wait for space)"))
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
    # Within the tmpfs: the 8 MiB reserve plus min_free_space plus the state.
    with open(bench.site.config) as f:
        text = f.read()
    with open(bench.site.config, "w") as f:
        f.write(text.replace("[server]\n", f"[server]\nmin_free_space = {args.min_free_mib << 20}\n",
                             1))

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
        first_held = None
        while time.monotonic() < deadline and b_delivered() < len(b_want):
            if first_held is None and b_delivered():
                first_held = time.monotonic() - relay_up
            time.sleep(0.2)
        while_full = b_delivered()
        if first_held is None and while_full:
            first_held = time.monotonic() - relay_up
        # The ballast is still there: the disk stayed full (but for the
        # reserve the daemon gave up) while the held copies went out.
        if not os.path.exists(ballast):
            failures.append("the ballast vanished")
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
        if args.min_free_mib:
            # The reserve is made again within a tick (1 s) of space coming back.
            try:
                bench.daemon.wait_log(r" space status=reserve-made ", timeout=10)
            except AssertionError:
                failures.append("the reserve was not made again within 10 s of space returning")

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
        log = bench.site.log()
        claim_errors = log.count(" outbox op=claim reason=")
        released = log.count(" space status=reserve-released ")
        remade = log.count(" space status=reserve-made ")
        if while_full < len(b_want):
            failures.append(f"copies held before the disk filled: {while_full} of "
                            f"{len(b_want)} delivered while it was full")
        if args.min_free_mib and (released < 1 or remade < 1):
            failures.append(f"the reserve was released {released} times and made again "
                            f"{remade} times (want at least once each)")
        if len(s.acked) != len(d):
            failures.append(f"after space came back only {len(s.acked)} of {len(d)} "
                            f"postings were acknowledged: {d_codes}")
        c_text = ", ".join(f"{k} x {v}" for k, v in sorted(c_codes.items()))
        return (f"disk_full: state on a {args.size_mib} MiB tmpfs filled ({size >> 10} KiB "
                f"ballast; {free_while_full} bytes free then, the reserve given up included), "
                f"{len(c)} postings while full "
                f"answered {c_text} ({len(c_acked)} x 250), {while_full} of {len(b_want)} "
                f"held copies delivered while full"
                + (f" (the first {first_held:.1f} s after the relay came back)"
                   if first_held is not None else "")
                + f", reserve released {released} x and made again {remade} x, "
                f"{claim_errors} outbox claim errors logged, intake back "
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
