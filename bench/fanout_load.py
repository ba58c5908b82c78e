#!/usr/bin/env python3
"""Sustained load on the fan-out (issue 15; a benchmark, not a test): C
concurrent SMTP clients send signed PGP/MIME postings from the members of a
10-member list to a real tlpmaild for S seconds (or until the prepared
postings run out), every copy relayed to Postfix's smtp-sink (which drops
them). Printed: postings accepted per second, p50/p99 end of DATA -> reply,
error replies; the spool backlog (accepted, not yet fanned out) at the end
of sending, as a count and in seconds of intake; the fan-out rate during
and after the load; the time until the backlog is gone; tlpmaild's peak RSS.

Postings are signed before the run (a replayed signature is refused, so
each needs its own): ~5 ms of gpg each, 2 in parallel.

With --stall-agent N instead: one posting a second for N + 40 s, the list
home's gpg-agent stopped (SIGSTOP) from second 5 for N seconds (then
SIGCONT, if the watchdog has not killed it). Printed: the longest and
median time from a posting's 250 to its fan-out (spool_messages.updated_at,
1 s resolution), postings lost (not fanned out), and tlpmaild's
"gpg status=stalled" warnings.

usage: bench/fanout_load.py [--senders 50] [--seconds 60] [--postings 6000]
           [--members 10] [--stall-agent N] [--tlpmaild build-bench/daemon/tlpmaild]
           [--server 'in_flow_delay_ms = 0' ...] [--keep-log FILE]
Never run it beside another benchmark (2 cores)."""

import argparse
import concurrent.futures
import json
import os
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

LIST = "load@lists.example.org"


def run(cmd, data=None):
    return subprocess.run(cmd, input=data, capture_output=True, check=True).stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_keys(home, n):
    params = "".join(
        "Key-Type: eddsa\nKey-Curve: ed25519\nKey-Usage: sign\nSubkey-Type: ecdh\n"
        "Subkey-Curve: cv25519\nSubkey-Usage: encrypt\n"
        f"Name-Real: Member {i}\nName-Email: m{i:02d}@members.example\n"
        "Expire-Date: 0\n%no-protection\n%commit\n" for i in range(n))
    run(["gpg", "--homedir", home, "--batch", "--gen-key"], params.encode())
    out = run(["gpg", "--homedir", home, "--batch", "--with-colons", "--list-keys"]).decode()
    members, fpr = [], None
    for line in out.splitlines():
        f = line.split(":")
        if f[0] == "pub":
            fpr = None
        elif f[0] == "fpr" and fpr is None:
            fpr = f[9]
        elif f[0] == "uid" and fpr:
            members.append((f[9].split("<")[1].rstrip(">"), fpr))
            fpr = ""
    return sorted(members)


def posting(home, email, fpr, i):
    bnd = "b" + secrets.token_hex(8)
    text = f"Load test posting {i}.\r\n" + "Indicators: 198.51.100.%d\r\n" % (i % 250) * 20
    part = (f'Content-Type: multipart/mixed; boundary="{bnd}"\r\n\r\n--{bnd}\r\n'
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}--{bnd}--\r\n").encode()
    sig = run(["gpg", "--homedir", home, "--batch", "--armor", "--detach-sign",
               "--local-user", fpr, "--digest-algo", "SHA256", "--output", "-"], part)
    sb = "s" + secrets.token_hex(8)
    body = (b"--" + sb.encode() + b"\r\n" + part + b"\r\n--" + sb.encode() + b"\r\n"
            b"Content-Type: application/pgp-signature; name=\"signature.asc\"\r\n\r\n" +
            sig.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + b"\r\n--" + sb.encode() + b"--\r\n")
    head = (f"From: <{email}>\r\nTo: <{LIST}>\r\nSubject: [TLP:GREEN] load {i}\r\n"
            f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}\r\n"
            f"Message-ID: <{secrets.token_hex(10)}@members.example>\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/signed; micalg=pgp-sha256;\r\n'
            f' protocol="application/pgp-signature"; boundary="{sb}"\r\n\r\n')
    return email, head.encode() + body


def reply(f):
    lines = []
    while True:
        line = f.readline()
        if not line:
            raise ConnectionError("closed")
        lines.append(line)
        if line[3:4] != b"-":
            return int(line[:3])


def sender(port, queue, lock, results, stop_at):
    s = socket.create_connection(("127.0.0.1", port), timeout=120)
    f = s.makefile("rb")
    reply(f)
    s.sendall(b"EHLO load.example\r\n")
    reply(f)
    while time.monotonic() < stop_at:
        with lock:
            if not queue:
                break
            mail, raw = queue.pop()
        s.sendall(f"MAIL FROM:<{mail}>\r\n".encode())
        reply(f)
        s.sendall(f"RCPT TO:<{LIST}>\r\n".encode())
        reply(f)
        s.sendall(b"DATA\r\n")
        reply(f)
        s.sendall(raw.replace(b"\r\n.", b"\r\n..") + b".\r\n")
        t0 = time.monotonic()
        code = reply(f)
        results.append((time.monotonic(), time.monotonic() - t0, code))
        if code >= 400:
            s.sendall(b"RSET\r\n")
            reply(f)
    s.sendall(b"QUIT\r\n")
    s.close()


def backlog(db):
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return c.execute("SELECT COUNT(*) FROM spool_messages WHERE state = 'received'"
                         ).fetchone()[0]
    finally:
        c.close()


def agent_of(home):
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        if os.path.basename(argv[0]) == b"gpg-agent" and b"--homedir" in argv:
            i = argv.index(b"--homedir")
            if os.path.realpath(os.fsdecode(argv[i + 1])) == os.path.realpath(home):
                return int(pid)
    return None


def stall(a, port, db, daemon, queue, home, logpath):
    """--stall-agent: one posting a second, the agent stopped for a while."""
    results, lock = [], threading.Lock()
    accepted_at = {}
    start = time.monotonic()
    stopped = None
    for i in range(len(queue)):
        if i == 5:
            stopped = agent_of(home)
            if stopped:
                os.kill(stopped, 19)  # SIGSTOP
        if stopped and time.monotonic() - start >= 5 + a.stall_agent:
            try:
                os.kill(stopped, 18)  # SIGCONT
            except OSError:
                pass
            stopped = None
        sender(port, queue, lock, results, time.monotonic() + 0.01)
        accepted_at[i] = time.time()
        time.sleep(max(0.0, start + i + 1 - time.monotonic()))
    deadline = time.monotonic() + 300
    while backlog(db) > 0 and time.monotonic() < deadline:
        time.sleep(1)
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    rows = c.execute("SELECT received_at, updated_at, state FROM spool_messages "
                     "ORDER BY received_at").fetchall()
    c.close()
    waits = [u - r for r, u, st in rows if st == "done"]
    lost = sum(1 for r in results if r[2] == 250) - len(waits)
    stalls = open(logpath, errors="replace").read().count(" gpg status=stalled ")
    out = {"stopped_s": a.stall_agent, "postings": len(results),
           "accepted": sum(1 for r in results if r[2] == 250),
           "fanned_out": len(waits), "lost": lost, "max_wait_s": max(waits) if waits else None,
           "median_wait_s": statistics.median(waits) if waits else None,
           "stall_warnings": stalls, "agent_found": bool(accepted_at)}
    print(json.dumps(out))
    print(f"agent stopped {a.stall_agent:.0f} s: {out['accepted']} accepted, "
          f"{out['fanned_out']} fanned out, lost {lost}; longest 250 -> fan-out "
          f"{out['max_wait_s']} s (median {out['median_wait_s']} s); "
          f"{stalls} stall warning(s)", file=sys.stderr)
    return 0


def vm(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) // 1024
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--senders", type=int, default=50)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--postings", type=int, default=6000)
    p.add_argument("--members", type=int, default=10)
    p.add_argument("--stall-agent", type=float, default=0)
    p.add_argument("--tlpmaild", default="build-bench/daemon/tlpmaild")
    p.add_argument("--server", action="append", default=[],
                   help="another [server] line, e.g. in_flow_delay_ms=0 (repeatable)")
    p.add_argument("--keep-log", help="copy tlpmaild's log here at the end")
    a = p.parse_args()
    if a.stall_agent:
        a.senders, a.postings = 1, int(a.stall_agent + 40)
    work = tempfile.mkdtemp(prefix="tlpl-", dir="/tmp")
    home = os.path.join(work, "k")
    os.makedirs(home, mode=0o700)
    procs = []
    try:
        members = make_keys(home, a.members)
        cfg = os.path.join(work, "c")
        os.makedirs(os.path.join(cfg, "keys"))
        os.makedirs(os.path.join(cfg, "lists.d"))
        with open(os.path.join(cfg, "keys", "members.asc"), "wb") as f:
            f.write(run(["gpg", "--homedir", home, "--batch", "--armor", "--export"]))
        with open(os.path.join(cfg, "directory.toml"), "w") as f:
            for m, fpr in members:
                f.write(f'[[person]]\nemail = "{m}"\nname = "{m}"\norganization = "Org"\n'
                        f'country = "AT"\nfingerprint = "{fpr}"\nclearance = "RED"\n'
                        'kind = "person"\n\n')
        with open(os.path.join(cfg, "lists.d", "load.toml"), "w") as f:
            f.write(f'address = "{LIST}"\ndescription = "load"\ntlp_ceiling = "RED"\n'
                    f'members = [{", ".join(chr(34) + m + chr(34) for m, _ in members)}]\n'
                    f'admins = ["{members[0][0]}"]\ndeliver_to_sender = true\n')
        port, relay = free_port(), free_port()
        with open(os.path.join(cfg, "tlpmail.toml"), "w") as f:
            f.write(f'[server]\nhostname = "lists.example.org"\nlisten = ["127.0.0.1:{port}"]\n'
                    'protocol = "smtp"\nmax_connections = 200\n' +
                    "".join(line + "\n" for line in a.server) + "\n"
                    f'[relay]\nhost = "127.0.0.1"\nport = {relay}\nstarttls = "off"\n'
                    'max_connections = 4\n\n[paths]\nstate_dir = "../s"\n\n[log]\nlevel = "warn"\n')
        procs.append(subprocess.Popen(
            ["/usr/sbin/smtp-sink", "-u", "nobody", f"127.0.0.1:{relay}", "1000"]
            if os.geteuid() == 0 else ["/usr/sbin/smtp-sink", f"127.0.0.1:{relay}", "1000"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        t = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            queue = list(ex.map(lambda i: posting(home, *members[i % len(members)], i),
                                range(a.postings)))
        print(f"signed {len(queue)} postings in {time.monotonic() - t:.1f} s", file=sys.stderr)
        log = open(os.path.join(work, "tlpmaild.log"), "wb")
        d = subprocess.Popen([os.path.abspath(a.tlpmaild), "--config",
                              os.path.join(cfg, "tlpmail.toml")], stderr=log)
        procs.append(d)
        db = os.path.join(work, "s", "tlpmail.db")
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        queue.reverse()
        if a.stall_agent:
            return stall(a, port, db, d, queue, os.path.join(work, "s", "gnupg"),
                         os.path.join(work, "tlpmaild.log"))
        results, lock = [], threading.Lock()
        start = time.monotonic()
        stop_at = start + a.seconds
        threads = [threading.Thread(target=sender, args=(port, queue, lock, results, stop_at))
                   for _ in range(a.senders)]
        for th in threads:
            th.start()
        samples = []
        while any(th.is_alive() for th in threads):
            time.sleep(1)
            samples.append((time.monotonic() - start, len(results), backlog(db)))
        sent_end = time.monotonic()
        accepted = [r for r in results if r[2] == 250]
        end_backlog = backlog(db)
        drain_start = time.monotonic()
        while backlog(db) > 0 and time.monotonic() - drain_start < 3600:
            time.sleep(1)
        drained = time.monotonic() - drain_start
        window = sent_end - start
        lat = sorted(r[1] for r in results)
        rate_in = len(accepted) / window
        fanned_during = len(accepted) - end_backlog
        out = {
            "senders": a.senders, "members": a.members, "seconds": round(window, 1),
            "accepted": len(accepted), "errors": len(results) - len(accepted),
            "ran_out_of_postings": not queue and window < a.seconds - 1,
            "accepted_per_s": round(rate_in, 1),
            "p50_ms": round(1000 * statistics.median(lat), 1) if lat else None,
            "p99_ms": round(1000 * lat[int(0.99 * (len(lat) - 1))], 1) if lat else None,
            "backlog_at_end": end_backlog,
            "backlog_seconds_of_intake": round(end_backlog / rate_in, 1) if rate_in else None,
            "fanout_per_s_during": round(fanned_during / window, 1),
            "drain_s": round(drained, 1),
            "fanout_per_s_after": round(end_backlog / drained, 1) if drained > 0 else None,
            "vmhwm_mib": vm(d.pid, "VmHWM"),
            "backlog_warnings": open(os.path.join(work, "tlpmaild.log"), errors="replace")
            .read().count(" backlog status=behind "),
            "samples": samples[::5],
        }
        print(json.dumps(out))
        print(f"{a.senders} senders, {window:.0f} s: {len(accepted)} accepted "
              f"({rate_in:.1f}/s, p50 {out['p50_ms']} ms, p99 {out['p99_ms']} ms, "
              f"{out['errors']} errors); backlog at the end {end_backlog} "
              f"({out['backlog_seconds_of_intake']} s of intake), fan-out "
              f"{out['fanout_per_s_during']}/s during and {out['fanout_per_s_after']}/s after, "
              f"drained in {drained:.0f} s; VmHWM {out['vmhwm_mib']} MiB", file=sys.stderr)
    finally:
        if a.keep_log and os.path.exists(os.path.join(work, "tlpmaild.log")):
            shutil.copy(os.path.join(work, "tlpmaild.log"), a.keep_log)
        for pr in reversed(procs):
            pr.terminate()
            try:
                pr.wait(30)
            except subprocess.TimeoutExpired:
                pr.kill()
        for h in (home, os.path.join(work, "s", "gnupg")):
            subprocess.run(["gpgconf", "--homedir", h, "--kill", "all"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
