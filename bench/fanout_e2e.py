#!/usr/bin/python3
"""Helper of bench/fanout_e2e.sh (issue 5, "Figures"): the end-to-end
fan-out of one ~160 KB signed+encrypted message by a real Release tlpmaild
to N members over SMTP into a local sink, and the same workload through
Schleuder with the kit in ../shared/bench/schleuder/. Prints figures; it is
a measuring tool, not a test. Member keys come from the kit's key pools;
everything else lives in a short temp folder and is removed by the caller.

  fanout_e2e.py tlpmail   --work DIR --n N --algo A [--runs 3] [--sink fast|e2e] ...
  fanout_e2e.py schleuder --work DIR --n N --algo A --runs R ...
  fanout_e2e.py reaper LOG -- COMMAND...   (internal: subreaper around tlpmaild)
  fanout_e2e.py table RESULT.json...
"""

import argparse
import ctypes
import datetime
import email
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from email import policy

LIST = "bench@lists.example.org"
CLK_TCK = os.sysconf("SC_CLK_TCK")
GPG_CONF = "no-auto-key-retrieve\nauto-key-locate local\n"
DIRMNGR_CONF = "disable-http\ndisable-ldap\n"
PY = "/usr/bin/python3"  # Debian's python (aiosmtpd lives there)


def log(text):
    print("[fanout_e2e %s] %s" % (time.strftime("%H:%M:%S"), text), file=sys.stderr, flush=True)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)


def gnupg_home(path):
    os.makedirs(path, mode=0o700, exist_ok=True)
    write(os.path.join(path, "gpg.conf"), GPG_CONF)
    write(os.path.join(path, "dirmngr.conf"), DIRMNGR_CONF)
    return path


def gpg(home, *args, data=None):
    cmd = ["gpg", "--homedir", home, "--batch", "--yes", "--quiet", "--no-tty",
           "--pinentry-mode", "loopback", "--passphrase", ""] + list(args)
    return subprocess.run(cmd, input=data, capture_output=True, check=True, timeout=600).stdout


def kill_agent(home):
    subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], capture_output=True)


# --------------------------------------------------------------- /proc readers

def stat_fields(pid):
    """The fields of /proc/PID/stat after the command name (state first),
    or None when the process is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    return s[s.rfind(")") + 2:].split()


def proc_stat(pid):
    """(utime, stime, cutime, cstime) in seconds, or None when gone."""
    rest = stat_fields(pid)
    return None if rest is None else tuple(int(x) / CLK_TCK for x in rest[11:15])


def proc_ppid(pid):
    rest = stat_fields(pid)
    return None if rest is None else int(rest[1])


def proc_status(pid, key):
    """A kB field of /proc/PID/status (VmHWM, VmRSS) in KiB."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def machine_busy():
    """Busy CPU seconds of the whole machine (all cores) since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return (sum(v[:8]) - idle) / CLK_TCK


def children_of(ppid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit() and proc_ppid(int(d)) == ppid:
            out.append(int(d))
    return out


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


# --------------------------------------------------------------- reaper

def reaper(argv):
    """Makes this process a child subreaper, runs COMMAND with stderr to
    LOG and reaps every orphan that lands here (GPGME double-forks, so the
    gpg processes tlpmaild starts are adopted here once they exit: their
    CPU time then shows in this process's cutime/cstime). SIGTERM/SIGINT
    are passed on to COMMAND; exits with COMMAND's status."""
    logpath, cmd = argv[0], argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("prctl(PR_SET_CHILD_SUBREAPER) failed", file=sys.stderr)
        return 1
    env = dict(os.environ)
    env.pop("JOURNAL_STREAM", None)
    env.pop("NOTIFY_SOCKET", None)
    with open(logpath, "ab") as logf:
        child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, env=env)
    print(child.pid, flush=True)

    def forward(signum, _frame):
        try:
            os.kill(child.pid, signum)
        except ProcessLookupError:
            pass
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    status = 0
    reaped = open(logpath + ".reaped", "a")
    while True:
        try:
            pid, st, ru = os.wait4(-1, 0)
        except ChildProcessError:
            break
        # one line per reaped process: when, pid, CPU s, peak RSS KiB
        reaped.write("%d %d %.3f %.3f %d\n" % (time.time_ns(), pid, ru.ru_utime, ru.ru_stime,
                                               ru.ru_maxrss))
        reaped.flush()
        if pid == child.pid:
            status = os.waitstatus_to_exitcode(st)
            child.returncode = status
            break
    while True:  # reap what is left over, without waiting for daemons
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
    return 0 if status in (0, -signal.SIGTERM) else 1


# --------------------------------------------------------------- SMTP client

def read_reply(f):
    lines = []
    while True:
        line = f.readline()
        if not line:
            raise RuntimeError("connection closed, reply so far: %r" % lines)
        lines.append(line.decode("latin-1").rstrip("\r\n"))
        if len(line) < 4 or line[3:4] != b"-":
            return int(lines[-1][:3]), "\n".join(lines)


def smtp_send(port, mail_from, rcpt, raw):
    """Sends one message; returns (ns after the final dot was written,
    ns when the reply to DATA was read, that reply)."""
    body = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    body = re.sub(rb"(?m)^\.", b"..", body)
    with socket.create_connection(("127.0.0.1", port), timeout=600) as s:
        f = s.makefile("rb")
        steps = [(None, 220), (b"EHLO bench.members.example.net\r\n", 250),
                 (b"MAIL FROM:<%s>\r\n" % mail_from.encode(), 250),
                 (b"RCPT TO:<%s>\r\n" % rcpt.encode(), 250), (b"DATA\r\n", 354)]
        for cmd, want in steps:
            if cmd:
                s.sendall(cmd)
            code, text = read_reply(f)
            if code != want:
                raise RuntimeError("SMTP %s: %s" % (cmd, text))
        s.sendall(body + b".\r\n")
        t_dot = time.time_ns()
        code, text = read_reply(f)
        t_reply = time.time_ns()
        s.sendall(b"QUIT\r\n")
        try:
            read_reply(f)
        except (RuntimeError, OSError):
            pass
    if code != 250:
        raise RuntimeError("DATA refused: " + text)
    return t_dot, t_reply, text


# --------------------------------------------------------------- the daemon's log

# tlpmaild's stderr lines; the timestamps are UTC with a "Z" since issue 13
# (local time without a zone before).
LOG_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})(Z?) \S+ (\w+): (\S+) (\S+)(.*)$")


def log_events(path, offset):
    """[(epoch ns, level, id, event, rest)] of the log lines from `offset`."""
    out = []
    with open(path, "rb") as f:
        f.seek(offset)
        for raw in f:
            m = LOG_RE.match(raw.decode("utf-8", "replace").rstrip("\n"))
            if not m:
                continue
            t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f")
            if m.group(2):
                t = t.replace(tzinfo=datetime.timezone.utc)
            ts = t.timestamp()
            out.append((int(round(ts * 1000)) * 1_000_000, m.group(3), m.group(4),
                        m.group(5), m.group(6)))
    return out


# --------------------------------------------------------------- sinks

class Sink:
    """The relay target: the kit's fastsink.py (Python asyncio, bulk DATA
    read, no fsync; the sink of the Schleuder runs), tests/e2e/sink.py
    (line-by-line read, fsync per file) or Postfix's smtp-sink (C, -d dump
    files; diagnostic: what a sink costs when it is not Python)."""

    def __init__(self, kind, kit, repo, logpath, base, tlpmaild_path=None):
        # The copies go to a folder in `base` (/dev/shm by default): the
        # sink stands in for the MTA, and its own disk writes (160 MB per
        # run at N=1000, and the deletion of the previous run's) would
        # otherwise be measured with tlpmail (seen: the sink's system time
        # doubling over six runs on ext4 mounted with `discard`).
        self.kind = kind
        # Copies dropped, counted from tlpmaild's log only: nothing to check.
        self.discards = kind in ("discard", "null")
        self.folder = folder = tempfile.mkdtemp(prefix="tlpf-sink-", dir=base)
        self.log = open(logpath, "wb")
        if kind == "null":
            # bench/nullsink.cc: what the sender can do when the receiver
            # is not the limit (one thread, epoll, no parsing of DATA).
            cmd = [os.path.join(os.path.dirname(os.path.abspath(tlpmaild_path)), "..", "bench",
                                "nullsink"), "127.0.0.1:0"]
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log)
            line = self.proc.stdout.readline().decode()
            m = re.search(r":(\d+)\s*$", line)
            if not m:
                raise RuntimeError("nullsink did not start: %r" % line)
            self.port = int(m.group(1))
            self.script = "nullsink (bench/nullsink.cc, discarding)"
            return
        if kind in ("discard", "postfix"):
            # Postfix's smtp-sink; "discard" without -d: every copy accepted
            # and dropped (large messages to many members: 1,000 x 25 MB
            # would not fit in /dev/shm), counted from tlpmaild's log only.
            # smtp-sink drops root privileges (to nobody).
            os.chmod(folder, 0o777)
            self.port = free_port()
            dump = ["-d", folder + "/%H%M%S."] if kind == "postfix" else []
            cmd = ["/usr/sbin/smtp-sink"] + (["-u", "nobody"] if os.geteuid() == 0 else []) + \
                dump + ["127.0.0.1:%d" % self.port, "1000"]
            self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log)
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            self.script = "smtp-sink (Postfix%s)" % (", discarding" if kind == "discard" else "")
            return
        if kind == "fast":
            cmd = [PY, os.path.join(kit, "fastsink.py"), folder, "0", "86400"]
        else:
            cmd = [PY, os.path.join(repo, "tests", "e2e", "sink.py"), "--port", "0",
                   "--dir", folder]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log)
        line = self.proc.stdout.readline().decode()
        m = re.search(r"(\d+)\D*$", line.split(" spool=")[0]) if line else None
        if not m:
            raise RuntimeError("sink did not start: %r" % line)
        self.port = int(m.group(1))
        self.script = os.path.basename(cmd[1])

    def files(self):
        if self.discards:
            return []
        return [e for e in os.scandir(self.folder) if not e.name.startswith(".")
                and (self.kind == "postfix" or e.name.endswith(".eml"))]

    def clear(self):
        for e in os.scandir(self.folder):
            os.unlink(e.path)

    def copies(self):
        """{recipient: message bytes}"""
        out = {}
        for e in self.files():
            raw = open(e.path, "rb").read()
            if self.kind == "postfix":
                hdr = email.message_from_bytes(raw.split(b"\n\n", 1)[0] + b"\n\n")
                rcpts = [v.strip().strip("<>") for v in hdr.get_all("X-Rcpt-Args", [])]
            elif self.kind == "fast":
                head, _, rest = raw.partition(b"\r\n")
                rc_line, _, rest = rest.partition(b"\r\n")
                rcpts = rc_line.decode().split(": ", 1)[1].split(",")
                raw = rest
            else:
                meta = json.load(open(e.path[:-4] + ".json"))
                rcpts = meta["rcpt_to"]
            for r in rcpts:
                out.setdefault(r.lower(), []).append(raw)
        return out

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


# --------------------------------------------------------------- one configuration

def members_of(pool, n):
    rows = []
    with open(os.path.join(pool, "keys.tsv")) as f:
        for line in f.read().splitlines()[:n]:
            i, mail, fpr, shard = line.split("\t")
            rows.append({"i": int(i), "email": mail, "fpr": fpr, "shard": int(shard)})
    if len(rows) < n:
        raise SystemExit("key pool %s has %d keys, need %d" % (pool, len(rows), n))
    return rows


def split_keys(binary):
    """(v4 fingerprint, packets) of each public key in a binary export."""
    keys, i = [], 0
    while i < len(binary):
        ctb = binary[i]
        if ctb & 0x40:  # new format
            tag, l0 = ctb & 0x3F, binary[i + 1]
            if l0 < 192:
                hl, n = 2, l0
            elif l0 < 224:
                hl, n = 3, ((l0 - 192) << 8) + binary[i + 2] + 192
            else:
                hl, n = 6, int.from_bytes(binary[i + 2:i + 6], "big")
        else:
            tag, lt = (ctb >> 2) & 0x0F, ctb & 3
            hl = 1 + (1, 2, 4)[lt]
            n = int.from_bytes(binary[i + 1:i + hl], "big")
        body = binary[i + hl:i + hl + n]
        if tag == 6:
            fpr = hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).hexdigest().upper()
            keys.append([fpr, b""])
        keys[-1][1] += binary[i:i + hl + n]
        i += hl + n
    return keys


def export_public_keys(pool, members, cache):
    """One binary public key file per member (EMAIL.gpg), kept in the key
    pool's folder across runs; one gpg export per shard, split here (one
    gpg run per key took minutes at 10,000 members)."""
    os.makedirs(cache, exist_ok=True)
    todo = [m for m in members if not os.path.exists(os.path.join(cache, m["email"] + ".gpg"))]
    for shard in sorted({m["shard"] for m in todo}):
        wanted = {m["fpr"].upper(): m for m in todo if m["shard"] == shard}
        log("exporting %d public keys from %s shard %d" % (len(wanted), pool, shard))
        data = gpg(os.path.join(pool, "shard%d" % shard), "--export", *sorted(wanted))
        for fpr, packets in split_keys(data):
            if fpr in wanted:
                write(os.path.join(cache, wanted.pop(fpr)["email"] + ".gpg"), packets)
        if wanted:
            raise SystemExit("no public key for %s in the pool" % next(iter(wanted.values()))["email"])


def import_secret(pool, member, home):
    shard = os.path.join(pool, "shard%d" % member["shard"])
    sec = gpg(shard, "--export-secret-keys", member["fpr"])
    gpg(home, "--import", data=sec)
    return shard


def write_config(cfg, members, port, relay_port, relay_connections, level="info"):
    people = []
    for m in members:
        people.append('[[person]]\nemail = "%s"\nname = "Member %d"\norganization = "Org %d"\n'
                      'country = "AT"\nfingerprint = "%s"\nclearance = "RED"\nkind = "person"\n'
                      % (m["email"], m["i"], m["i"], m["fpr"]))
    write(os.path.join(cfg, "directory.toml"), "\n".join(people))
    write(os.path.join(cfg, "lists.d", "bench.toml"),
          'address = "%s"\ndescription = "fan-out benchmark"\ntlp_ceiling = "RED"\n'
          'tlp_default = "AMBER"\nmembers = [\n%s\n]\nadmins = ["%s"]\n'
          'deliver_to_sender = true\n'
          % (LIST, ",\n".join('  "%s"' % m["email"] for m in members), members[0]["email"]))
    write(os.path.join(cfg, "tlpmail.toml"),
          '[server]\nhostname = "lists.example.org"\nlisten = ["127.0.0.1:%d"]\n'
          'protocol = "smtp"\nmax_message_size = 26214400\nmax_connections = 100\n\n'
          '[relay]\nhost = "127.0.0.1"\nport = %d\nstarttls = "off"\nmax_connections = %d\n\n'
          '[paths]\nstate_dir = "../state"\ndirectory = "directory.toml"\n'
          'lists_dir = "lists.d"\nkeys_dir = "keys"\n\n[log]\nlevel = "%s"\n'
          % (port, relay_port, relay_connections, level))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def attachment_sha(mime_bytes):
    msg = email.message_from_bytes(mime_bytes, policy=policy.default)
    for part in msg.walk():
        if part.get_filename() == "iocs-export.tar.gz":
            return hashlib.sha256(part.get_payload(decode=True)).hexdigest()
    return None


def check_copies(sink, members, samples, vhome, list_fpr, payload):
    """Copy count and recipients; samples decrypt with their member's own
    secret key, carry a good list signature and the sender's attachment."""
    copies = sink.copies()
    want = {m["email"].lower() for m in members}
    files = len(sink.files())
    encrypted = 0
    for msgs in copies.values():
        for raw in msgs:
            msg = email.message_from_bytes(raw, policy=policy.compat32)
            if (msg.get_content_type() == "multipart/encrypted"
                    and msg.get_param("protocol") == "application/pgp-encrypted"):
                encrypted += 1
    ok = files == len(want) and set(copies) == want and encrypted == len(want) \
        and all(len(v) == 1 for v in copies.values())
    want_sha = attachment_sha(payload)
    res = []
    for m in samples:
        raws = copies.get(m["email"].lower())
        if not raws:
            res.append("%s:missing" % m["i"])
            ok = False
            continue
        msg = email.message_from_bytes(raws[0], policy=policy.compat32)
        armored = msg.get_payload()[1].get_payload(decode=True)
        p = subprocess.run(["gpg", "--homedir", vhome, "--batch", "--status-fd", "2",
                            "--decrypt"], input=armored, capture_output=True, timeout=120)
        st = p.stderr.decode(errors="replace")
        dec = "DECRYPTION_OKAY" in st
        sig = "GOODSIG" in st and list_fpr.upper() in st
        att = attachment_sha(p.stdout) == want_sha
        # each copy must be readable by its own member only: one PKESK
        pkesk = len(re.findall(r"^\[GNUPG:\] ENC_TO ", st, re.M))
        res.append("m%d:dec=%s,sig=%s,att=%s,enc_to=%d" % (m["i"], dec, sig, att, pkesk))
        ok = ok and dec and sig and att and pkesk == 1
    return {"copies": files, "distinct_rcpts": len(copies), "pgp_mime": encrypted,
            "samples": " ".join(res), "ok": ok}


def stat_cpu(path):
    try:
        with open(path) as f:
            x = f.read()
    except OSError:
        return None
    rest = x[x.rfind(")") + 2:].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def read_children(pid):
    out = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


GPG_OPS = ("--decrypt", "--encrypt", "--sign", "--verify", "--list-keys", "--list-secret-keys",
           "--import", "--export", "--gpgconf-list", "--version", "--with-colons")


class Sampler(threading.Thread):
    """Poor man's profiler for one diagnostic run (perf is not installed):
    every `period` s, the CPU of each tlpmaild thread, of each process the
    subreaper adopted (gpg, gpg-agent) or tlpmaild started, and of the sink."""

    def __init__(self, daemon_pid, reaper_pid, sink_pid, period=0.02):
        super().__init__(daemon=True)
        self.pids = (daemon_pid, reaper_pid, sink_pid)
        self.period = period
        self.samples = []     # (t ns, {tid: cpu s}, {pid: cpu s}, sink cpu s)
        self.cmd = {}         # pid -> (first seen ns, cmdline)
        self.stopping = False

    def run(self):
        d, r, k = self.pids
        while not self.stopping:
            t = time.time_ns()
            threads = {}
            try:
                for tid in os.listdir("/proc/%d/task" % d):
                    c = stat_cpu("/proc/%d/task/%s/stat" % (d, tid))
                    if c is not None:
                        threads[int(tid)] = c
            except OSError:
                pass
            procs = {}
            for pid in set(read_children(r) + read_children(d)):
                if pid == d:
                    continue
                if pid not in self.cmd:
                    self.cmd[pid] = (t, cmdline(pid))
                c = stat_cpu("/proc/%d/stat" % pid)
                if c is not None:
                    procs[pid] = c
            self.samples.append((t, threads, procs, stat_cpu("/proc/%d/stat" % k) or 0.0))
            time.sleep(self.period)


def cpu_between(samples, key, t0, t1):
    """CPU s of one series (key(sample) -> {id: cpu}) between t0 and t1 ns."""
    def at(t):
        best = None
        for smp in samples:
            if smp[0] <= t:
                best = smp
            else:
                break
        return key(best) if best else {}
    a, b = at(t0), at(t1)
    return {i: b[i] - a.get(i, 0.0) for i in b}


def profile_report(sampler, reaped_path, daemon_pid, t_dot, t_250, t_fan, t_last, events):
    """Where CPU and time went, per phase; printed and returned as a dict."""
    smp = sampler.samples
    phases = [("intake (final dot -> 250)", t_dot, t_250),
              ("fan-out (250 -> fanout logged)", t_250, t_fan),
              ("relay (fanout logged -> last copy)", t_fan, t_last)]
    reaped = {}
    if os.path.exists(reaped_path):
        for line in open(reaped_path):
            tns, pid, u, st, rss = line.split()
            reaped[int(pid)] = (int(tns), float(u) + float(st), int(rss))
    gpgs = []
    for pid, (seen, cmd) in sorted(sampler.cmd.items(), key=lambda x: x[1][0]):
        if seen < t_dot - 200_000_000 or pid not in reaped:
            continue
        ops = [w for w in cmd.split() if w in GPG_OPS] or ["(too short to see)"]
        end, cpu, rss = reaped[pid]
        gpgs.append({"pid": pid, "ops": " ".join(ops), "seen_ms": round((seen - t_250) / 1e6),
                     "end_ms": round((end - t_250) / 1e6), "cpu_ms": round(cpu * 1000),
                     "maxrss_kib": rss})
    out = {"phases": [], "gpg": gpgs}
    for name, a, b in phases:
        th = cpu_between(smp, lambda x: x[1], a, b)
        pr = cpu_between(smp, lambda x: x[2], a, b)
        sk = cpu_between(smp, lambda x: {0: x[3]}, a, b).get(0, 0.0)
        main = th.get(daemon_pid, 0.0)
        pool = sum(v for t, v in th.items() if t != daemon_pid)
        busy_threads = sorted((round(v * 1000) for t, v in th.items() if t != daemon_pid and v > 0),
                              reverse=True)
        agent = sum(v for p, v in pr.items() if "gpg-agent" in sampler.cmd.get(p, (0, ""))[1])
        g = sum(x["cpu_ms"] for x in gpgs if a <= t_250 + x["end_ms"] * 1e6 < b) / 1000
        out["phases"].append({"phase": name, "wall_ms": round((b - a) / 1e6),
                              "io_thread_ms": round(main * 1000), "pool_threads_ms": round(pool * 1000),
                              "pool_threads_busy_ms": busy_threads[:6],
                              "gpg_ended_ms": round(g * 1000), "agent_ms": round(agent * 1000),
                              "sink_ms": round(sk * 1000)})
    # relay transactions (debug log): send -> result per job
    sends, lat, links = {}, [], set()
    for tns, _lvl, ident, ev, rest in events:
        if ev != "relay":
            continue
        m = re.search(r"job=(\d+)", rest)
        if "action=send" in rest and m:
            sends[m.group(1)] = tns
            links.add(ident)
        elif "action=result" in rest and m and m.group(1) in sends:
            lat.append((tns - sends[m.group(1)]) / 1e6)
    if lat:
        lat.sort()
        out["relay"] = {"transactions": len(lat), "connections": len(links),
                        "send_to_result_ms_p50": round(lat[len(lat) // 2], 1),
                        "p90": round(lat[int(len(lat) * 0.9)], 1), "max": round(lat[-1], 1)}
    log("profile: " + json.dumps(out["phases"]))
    for x in gpgs:
        log("profile: gpg %s" % json.dumps(x))
    if lat:
        log("profile: relay " + json.dumps(out["relay"]))
    return out


def snapshot(daemon_pid, reaper_pid, sink_pid):
    d = proc_stat(daemon_pid)
    r = proc_stat(reaper_pid)
    helpers = {}
    for pid in children_of(reaper_pid):
        if pid != daemon_pid:
            st = proc_stat(pid)
            if st:
                helpers[pid] = (cmdline(pid).split(" ")[0], st[0] + st[1])
    s = proc_stat(sink_pid)
    return {"daemon_self": d[0] + d[1], "daemon_children": d[2] + d[3],
            "daemon_sys": d[1], "sink_sys": s[1],
            "reaped": r[2] + r[3], "helpers": helpers, "sink": s[0] + s[1],
            "machine": machine_busy(), "t": time.time()}


def rsa4096_list_key(work):
    path = os.path.join(work, "list-rsa4096.sec.asc")
    if not os.path.exists(path):
        log("making an RSA-4096 list key (as Schleuder's ListBuilder does)")
        home = gnupg_home(os.path.join(work, "lk"))
        uid = "%s <%s>" % (LIST, LIST)
        gpg(home, "--quick-gen-key", uid, "rsa4096", "sign,cert", "never")
        out = gpg(home, "--with-colons", "--list-keys", "=" + uid).decode()
        fpr = [l.split(":")[9] for l in out.splitlines() if l.startswith("fpr:")][0]
        gpg(home, "--quick-add-key", fpr, "rsa4096", "encr", "never")
        write(path + ".tmp", gpg(home, "--armor", "--export-secret-keys", fpr))
        os.rename(path + ".tmp", path)
        kill_agent(home)
    return path


def run_tlpmail(a):
    holder = {}
    try:
        return tlpmail_configuration(a, holder)
    finally:
        if "sink" in holder:
            holder["sink"].stop()


def tlpmail_configuration(a, holder):
    """One (N, algo): configuration, daemon, timed runs, JSON result."""
    kit = a.kit
    pool = os.path.join(a.bench_base, "keypool-" + a.algo)
    root = os.path.join(a.work, "%s-%d" % (a.algo[:3], a.n))
    cfg, state = os.path.join(root, "config"), os.path.join(root, "state")
    shutil.rmtree(root, ignore_errors=True)
    members = members_of(pool, a.n)
    cache = os.path.join(pool, "public")
    export_public_keys(pool, members, cache)
    os.makedirs(os.path.join(cfg, "keys"))
    for m in members:
        shutil.copy(os.path.join(cache, m["email"] + ".gpg"), os.path.join(cfg, "keys"))
    sink = holder["sink"] = Sink(a.sink, kit, a.repo, os.path.join(root, "sink.log"), a.sink_base,
                                a.tlpmaild)
    port = free_port()
    write_config(cfg, members, port, sink.port, a.relay_connections)
    conf = os.path.join(cfg, "tlpmail.toml")
    ctl = [a.tlpmailctl, "--config", conf]
    p = subprocess.run(ctl + ["check-config"], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit("check-config failed:\n" + p.stdout + p.stderr)
    if a.list_key == "rsa4096":
        # Schleuder's default list key, so both remailers decrypt and sign
        # with the same kind of key; made once per work folder.
        sec = rsa4096_list_key(a.work)
        p = subprocess.run(ctl + ["import-list-key", LIST, sec], capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit("import-list-key failed:\n" + p.stdout + p.stderr)

    dlog = os.path.join(root, "tlpmaild.log")
    t0 = time.time()
    reap = subprocess.Popen([PY, os.path.abspath(__file__), "reaper", dlog, "--",
                             a.tlpmaild, "--config", conf], stdout=subprocess.PIPE)
    daemon_pid = int(reap.stdout.readline())
    homes = [os.path.join(state, "gnupg")]
    result = {"n": a.n, "algo": a.algo, "sink": sink.script, "relay_connections": a.relay_connections,
              "list_key_wanted": a.list_key,
              "runs": []}
    try:
        while True:
            text = open(dlog, errors="replace").read()
            if " ready listen=" in text:
                break
            if reap.poll() is not None:
                raise SystemExit("tlpmaild exited:\n" + text[-3000:])
            if time.time() - t0 > a.start_timeout:
                raise SystemExit("tlpmaild not ready after %d s" % a.start_timeout)
            time.sleep(0.2)
        result["startup_s"] = round(time.time() - t0, 2)
        log("N=%d %s: tlpmaild pid %d ready in %.1f s (sink %s on port %d)"
            % (a.n, a.algo, daemon_pid, result["startup_s"], sink.script, sink.port))
        armored = subprocess.run(ctl + ["list-key", LIST], capture_output=True, check=True).stdout
        list_pub = os.path.join(root, "list-pub.asc")
        write(list_pub, armored)
        shown = subprocess.run(["gpg", "--batch", "--with-colons", "--show-keys", list_pub],
                               capture_output=True, text=True, check=True).stdout
        list_fpr = [l.split(":")[9] for l in shown.splitlines() if l.startswith("fpr:")][0]
        algo_line = [l for l in shown.splitlines() if l.startswith("pub:")][0].split(":")
        result["list_key"] = ("rsa" + algo_line[2]) if algo_line[3] == "1" else \
            {"22": "ed25519"}.get(algo_line[3], "algo" + algo_line[3])

        # the sender (member 1) and the checker (secret keys of samples)
        sender = members[0]
        shome = gnupg_home(os.path.join(root, "s"))
        vhome = gnupg_home(os.path.join(root, "v"))
        homes += [shome, vhome]
        picks = sorted({1, 2, (a.n + 1) // 2, a.n})
        samples = [members[i - 1] for i in picks]
        shards = {import_secret(pool, sender, shome)}
        gpg(vhome, "--import", data=armored)
        for m in samples:
            shards.add(import_secret(pool, m, vhome))
        for sh in shards:  # export-secret-keys started the pool shards' agents
            kill_agent(sh)

        # The kit's message maker, with a larger attachment when asked
        # (--attachment-kib; the kit itself stays read-only).
        maker = os.path.join(kit, "make_message.py")
        if a.attachment_kib:
            text = open(maker).read()
            text, n = re.subn(r"(?m)^ATTACHMENT_BYTES = .*$",
                              "ATTACHMENT_BYTES = %d * 1024" % a.attachment_kib, text)
            if n != 1:
                raise SystemExit("make_message.py has no ATTACHMENT_BYTES line")
            maker = os.path.join(root, "make_message.py")
            write(maker, text.encode())
        last_msg = 0.0
        for run in range(1, a.runs + 1 + (1 if a.profile else 0)):
            profiling = run > a.runs
            if profiling:
                # debug log (relay transactions) via a reload, then sampling
                write_config(cfg, members, port, sink.port, a.relay_connections, "debug")
                off = os.path.getsize(dlog)
                os.kill(daemon_pid, signal.SIGHUP)
                t1 = time.time() + 300
                while time.time() < t1 and not any(
                        e[3] == "reload" and "status=ok" in e[4] for e in log_events(dlog, off)):
                    time.sleep(0.2)
                log("N=%d %s: diagnostic run %d (debug log, sampling every 20 ms; not in the "
                    "figures)" % (a.n, a.algo, run))
            sink.clear()
            msgdir = os.path.join(root, "msg%d" % run)
            # a new signature each run (a replayed one is refused): at
            # least one second after the previous one
            time.sleep(max(0.0, last_msg + 1.1 - time.time()))
            subprocess.run([PY, maker, msgdir, sender["email"],
                            sender["fpr"], shome, LIST, list_pub], check=True,
                           capture_output=True)
            last_msg = time.time()
            kill_agent(shome)
            raw = open(os.path.join(msgdir, "incoming.eml"), "rb").read()
            payload = open(os.path.join(msgdir, "payload.mime"), "rb").read()
            os.sync()  # the previous run's writes are not flushed during this one
            time.sleep(a.settle)
            offset = os.path.getsize(dlog)
            load1 = open("/proc/loadavg").read().split()[0]
            before = snapshot(daemon_pid, reap.pid, sink.proc.pid)
            sampler = None
            if profiling:
                sampler = Sampler(daemon_pid, reap.pid, sink.proc.pid)
                sampler.start()
                time.sleep(0.05)
            t_dot, t_250, reply = smtp_send(port, sender["email"], LIST, raw)
            # every copy at the sink and its outcome logged by the daemon (a
            # deferred or failed copy ends the wait too), then its CPU at rest
            deadline = time.time() + a.run_timeout
            outcomes, pos, tail = 0, offset, b""
            while time.time() < deadline:
                with open(dlog, "rb") as f:
                    f.seek(pos)
                    chunk = f.read()
                pos += len(chunk)
                lines = (tail + chunk).split(b"\n")
                tail = lines.pop()
                outcomes += sum(1 for line in lines if b" deliver to=" in line)
                if outcomes >= a.n and (len(sink.files()) >= a.n or sink.discards):
                    break
                if outcomes >= a.n and time.time() > deadline - a.run_timeout + 30:
                    break  # outcomes logged but copies missing: give up after 30 s
                time.sleep(0.1)
            prev = None
            for _ in range(50):
                d = proc_stat(daemon_pid)
                r = proc_stat(reap.pid)
                cur = (sum(d), r[2] + r[3])
                if cur == prev:
                    break
                prev = cur
                time.sleep(0.3)
            if sampler:
                sampler.stopping = True
                sampler.join()
            after = snapshot(daemon_pid, reap.pid, sink.proc.pid)
            hwm = proc_status(daemon_pid, "VmHWM")
            # What tlpmaild keeps after the message (its caches dropped and
            # memory returned when the scheduler goes idle).
            time.sleep(3)
            rss_after = proc_status(daemon_pid, "VmRSS")
            files = sink.files()
            mt = sorted(e.stat().st_mtime_ns for e in files)
            ev = log_events(dlog, offset)
            deliver = [e for e in ev if e[3] == "deliver"]
            deliver_last = deliver[-1] if len(deliver) >= a.n else None
            undelivered = [e for e in deliver if "state=delivered" not in e[4]]
            fan = [e for e in ev if e[3] == "fanout"]
            acc = [e for e in ev if e[3] == "accept"]
            helpers_cpu = 0.0
            helper_names = set()
            for pid, (name, cpu) in after["helpers"].items():
                helpers_cpu += cpu - before["helpers"].get(pid, (name, 0.0))[1]
                helper_names.add(os.path.basename(name))
            cpu_daemon = after["daemon_self"] - before["daemon_self"]
            cpu_gpg = (after["daemon_children"] - before["daemon_children"]
                       + after["reaped"] - before["reaped"])
            cpu_all = cpu_daemon + cpu_gpg + helpers_cpu
            window = after["t"] - before["t"]
            others = (after["machine"] - before["machine"]) - cpu_all \
                - (after["sink"] - before["sink"])
            ms = lambda ns: round((ns - t_250) / 1e6, 1)  # noqa: E731
            r = {
                "run": run,
                "message_bytes": len(raw),
                "reply": reply.split("\n")[-1][:80],
                "intake_ms": round((t_250 - t_dot) / 1e6, 1),
                "last_copy_ms": ms(mt[-1]) if len(mt) >= a.n else (
                    ms(deliver_last[0]) if sink.discards and deliver_last else None),
                "first_copy_ms": ms(mt[0]) if mt else None,
                "fanout_logged_ms": ms(fan[0][0]) if fan else None,
                "fanout_line": (fan[0][4].strip()[:200] if fan else None),
                "first_deliver_ms": ms(deliver[0][0]) if deliver else None,
                "last_deliver_ms": ms(deliver[-1][0]) if deliver else None,
                "accept_logged_ms": ms(acc[0][0]) if acc else None,
                "copies": len(files) if not sink.discards else len(deliver),
                "undelivered": len(undelivered),
                "cpu_ms_total": round(cpu_all * 1000),
                "cpu_ms_daemon": round(cpu_daemon * 1000),
                "cpu_ms_gpg": round(cpu_gpg * 1000),
                "cpu_ms_agent": round(helpers_cpu * 1000),
                "helpers": sorted(helper_names),
                "cpu_ms_per_member": round(cpu_all * 1000 / a.n, 2),
                "sink_cpu_ms": round((after["sink"] - before["sink"]) * 1000),
                "sink_sys_ms": round((after["sink_sys"] - before["sink_sys"]) * 1000),
                "daemon_sys_ms": round((after["daemon_sys"] - before["daemon_sys"]) * 1000),
                "vmhwm_kib": hwm,
                "vmrss_after_kib": rss_after,
                "load1_before": float(load1),
                "others_cores": round(others / window, 2) if window > 0 else None,
            }
            if profiling:
                r["profile"] = profile_report(sampler, dlog + ".reaped", daemon_pid, t_dot, t_250,
                                              fan[0][0] if fan else t_250, mt[-1] if mt else t_250,
                                              ev)
                result["diagnostic_run"] = r
                continue
            if not sink.discards and (run in a.verify_runs or not a.verify_runs):
                r["verify"] = check_copies(sink, members, samples, vhome, list_fpr, payload)
            result["runs"].append(r)
            log("N=%d %s run %d: DATA 250 -> last copy %s ms (intake %s ms, fanout logged at %s ms,"
                " first copy %s ms), CPU %d ms (daemon %d, gpg %d, agent %d) = %.2f ms/member,"
                " VmHWM %s KiB (VmRSS after %s KiB), copies %d/%d, load1 %s, others %.2f cores%s"
                % (a.n, a.algo, run, r["last_copy_ms"], r["intake_ms"], r["fanout_logged_ms"],
                   r["first_copy_ms"], r["cpu_ms_total"], r["cpu_ms_daemon"], r["cpu_ms_gpg"],
                   r["cpu_ms_agent"], r["cpu_ms_per_member"], hwm, rss_after,
                   len(files) if not sink.discards else len(deliver), a.n, load1,
                   r["others_cores"] or 0,
                   (", verify " + ("OK" if r["verify"]["ok"] else "FAIL " + json.dumps(r["verify"])))
                   if "verify" in r else ""))
    finally:
        for h in homes:
            kill_agent(h)
        if reap.poll() is None:
            reap.send_signal(signal.SIGTERM)
            try:
                reap.wait(60)
            except subprocess.TimeoutExpired:
                reap.kill()
        kill_agent(os.path.join(state, "gnupg"))
        if a.keep_logs:
            shutil.copy(dlog, os.path.join(a.keep_logs, "tlpmaild-%s-%d.log" % (a.algo, a.n)))
    result["list_fpr"] = list_fpr
    write(a.out, json.dumps(result, indent=1) + "\n")
    return 0


# --------------------------------------------------------------- Schleuder

def run_schleuder(a):
    """The kit's bench.sh for the same N and member keys (warm runs after
    one "first" run; raw-crypto baselines and the diagnostic run skipped)."""
    results = os.path.join(a.work, "schleuder-results")
    env = dict(os.environ, RUNS=str(a.runs), COLD_AGENT_RUNS="0", BASELINE="0", DIAG="0",
               SKIP_APT="1", RESULTS_DIR=results, BENCH_BASE=a.bench_base)
    logpath = os.path.join(a.work, "schleuder-%s-%d.log" % (a.algo, a.n))
    log("Schleuder: bench.sh %d %s (RUNS=%d), log %s" % (a.n, a.algo, a.runs, logpath))
    t0 = time.time()
    with open(logpath, "wb") as f:
        p = subprocess.run(["bash", os.path.join(a.kit, "bench.sh"), str(a.n), a.algo],
                           stdout=f, stderr=subprocess.STDOUT, env=env)
    tag = "%s-n%d-listrsa4096" % (a.algo, a.n)
    out = {"n": a.n, "algo": a.algo, "exit": p.returncode, "elapsed_s": round(time.time() - t0)}
    rows = []
    csvp = os.path.join(results, tag, "schleuder_runs.csv")
    if os.path.exists(csvp):
        import csv
        rows = list(csv.DictReader(open(csvp)))
    out["runs"] = rows
    warm = [float(r["wall_s"]) for r in rows if r["label"] == "warm" and r["exit"] == "0"
            and int(r["outgoing"]) == a.n]
    first = [float(r["wall_s"]) for r in rows if r["label"] == "first"]
    out["warm_median_s"] = statistics.median(warm) if warm else None
    out["warm_min_s"] = min(warm) if warm else None
    out["warm_max_s"] = max(warm) if warm else None
    out["first_s"] = first[0] if first else None
    cpu = [float(r["user_s"]) + float(r["sys_s"]) for r in rows if r["label"] == "warm"]
    out["warm_cpu_median_s"] = statistics.median(cpu) if cpu else None
    out["maxrss_kib"] = max((int(r["maxrss_kb"]) for r in rows), default=None)
    vp = os.path.join(results, tag, "verify.txt")
    out["verify"] = open(vp).read().strip() if os.path.exists(vp) else ""
    out["verify_ok"] = bool(out["verify"]) and "verify=FAIL" not in out["verify"]
    log("Schleuder N=%d %s: warm median %s s (first %s s), verify %s"
        % (a.n, a.algo, out["warm_median_s"], out["first_s"], "OK" if out["verify_ok"] else "FAIL"))
    write(a.out, json.dumps(out, indent=1) + "\n")
    return 0 if p.returncode == 0 else 1


# --------------------------------------------------------------- table

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_ms(x):
    if x is None:
        return "–"
    return "%.0f ms" % x if x < 1000 else "%.2f s" % (x / 1000)


def table(paths):
    data = [json.load(open(p)) for p in paths]
    tl = [d for d in data if "sink" in d]
    sch = {(d["n"], d["algo"]): d for d in data if "sink" not in d}
    out = []
    out.append("| members | member keys | tlpmail: end of DATA → last copy, median (min–max) | "
               "ms per member | CPU ms per member (tlpmaild + gpg + gpg-agent) | "
               "peak RSS tlpmaild | copies, samples checked | Schleuder `schleuder work`, "
               "median (runs) | Schleuder ÷ tlpmail |")
    out.append("|---:|---|---|---:|---|---:|---|---|---:|")
    for d in tl:
        runs = d["runs"]
        last = [r["last_copy_ms"] for r in runs]
        m = med(last)
        cpu = med([r["cpu_ms_per_member"] for r in runs])
        parts = "%s + %s + %s" % tuple(
            "%.2f" % (med([r[k] for r in runs]) / d["n"])
            for k in ("cpu_ms_daemon", "cpu_ms_gpg", "cpu_ms_agent"))
        hwm = max((r["vmhwm_kib"] or 0) for r in runs) / 1024
        checked = [r for r in runs if "verify" in r]
        ok = all(r["verify"]["ok"] for r in checked) and checked
        # smtp-sink discarding keeps no copy to check: say so, not FAIL.
        verdict = "OK" if ok else ("FAIL" if checked else "not checked (discarded)")
        copies = ",".join(sorted({str(r["copies"]) for r in runs}))
        s = sch.get((d["n"], d["algo"]))
        if s and s.get("warm_median_s"):
            nwarm = sum(1 for r in s["runs"] if r["label"] == "warm")
            scol = "%.1f s (%d warm%s)%s" % (
                s["warm_median_s"], nwarm,
                "; first %.1f s" % s["first_s"] if s.get("first_s") else "",
                "" if s.get("verify_ok") else " verify FAIL")
            dot = med([r["last_copy_ms"] + r["intake_ms"] for r in runs
                       if r["last_copy_ms"] is not None])
            ratio = ("**%.0f×** (%.0f× from the final dot)" % (
                s["warm_median_s"] * 1000 / m, s["warm_median_s"] * 1000 / dot)) if m else "–"
        else:
            scol, ratio = "not run", "–"
        out.append("| %d | %s | %s (%s–%s) | %.2f | %.2f (%s) | %.0f MiB | %s/%d, %s | %s | %s |" % (
            d["n"], d["algo"], fmt_ms(m), fmt_ms(min(x for x in last if x is not None)),
            fmt_ms(max(x for x in last if x is not None)), m / d["n"], cpu, parts, hwm,
            copies, d["n"], verdict, scol, ratio))
    out.append("")
    out.append("Where the time goes (medians, ms after the 250 reply to DATA; tlpmaild's "
               "log timestamps have 1 ms resolution):")
    out.append("")
    out.append("| members | member keys | intake: final dot → 250 | `fanout` logged (decrypt, "
               "compose, sign, encrypt, outbox commit) | first copy at sink | "
               "last copy at sink | relay phase (fanout → last copy) | sink CPU | load1 before | "
               "other processes' CPU during runs |")
    out.append("|---:|---|---:|---:|---:|---:|---:|---:|---|---|")
    for d in tl:
        runs = d["runs"]
        f = med([r["fanout_logged_ms"] for r in runs])
        last = med([r["last_copy_ms"] for r in runs])
        def span(xs):
            xs = sorted(xs)
            return "%.1f" % xs[0] if "%.1f" % xs[0] == "%.1f" % xs[-1] \
                else "%.1f–%.1f" % (xs[0], xs[-1])
        out.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s cores |" % (
            d["n"], d["algo"], fmt_ms(med([r["intake_ms"] for r in runs])), fmt_ms(f),
            fmt_ms(med([r["first_copy_ms"] for r in runs])), fmt_ms(last),
            fmt_ms(last - f if (last is not None and f is not None) else None),
            fmt_ms(med([r["sink_cpu_ms"] for r in runs])),
            span([r["load1_before"] for r in runs]),
            span([max(0.0, r["others_cores"] or 0.0) for r in runs])))
    diag = [d for d in tl if d.get("diagnostic_run", {}).get("profile")]
    if diag:
        out.append("")
        out.append("Diagnostic run (one more message per configuration, debug log and /proc "
                   "sampling every 20 ms; not in the figures above): CPU ms per phase of "
                   "tlpmaild's io thread / worker-pool threads / gpg processes that ended in the "
                   "phase / gpg-agent / sink, and the gpg processes of the fan-out "
                   "(start → end ms after the 250, CPU ms):")
        out.append("")
        out.append("| members | member keys | intake (dot → 250) | fan-out (250 → `fanout`) | "
                   "relay (`fanout` → last copy) | gpg processes | relay transactions |")
        out.append("|---:|---|---|---|---|---|---|")
        for d in diag:
            pr = d["diagnostic_run"]["profile"]
            cells = []
            for ph in pr["phases"]:
                cells.append("%d ms wall: %d / %d / %d / %d / %d" % (
                    ph["wall_ms"], ph["io_thread_ms"], ph["pool_threads_ms"], ph["gpg_ended_ms"],
                    ph["agent_ms"], ph["sink_ms"]))
            g = "; ".join("%s %d→%d (%d)" % (x["ops"].replace("--with-colons ", ""), x["seen_ms"],
                                             x["end_ms"], x["cpu_ms"]) for x in pr["gpg"])
            rl = pr.get("relay")
            rtxt = ("%d on %d connections, send→250 p50 %.0f ms, p90 %.0f ms" % (
                rl["transactions"], rl["connections"], rl["send_to_result_ms_p50"], rl["p90"])
                if rl else "–")
            out.append("| %d | %s | %s | %s | %s | %s | %s |" % (
                d["n"], d["algo"], cells[0], cells[1], cells[2], g, rtxt))
    print("\n".join(out))
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] != "reaper":
        # SIGTERM: clean up (daemon, agents, sink) like an exception would
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if len(sys.argv) > 1 and sys.argv[1] == "reaper":
        return reaper(sys.argv[2:])
    if len(sys.argv) > 1 and sys.argv[1] == "table":
        return table(sys.argv[2:])
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["tlpmail", "schleuder"])
    p.add_argument("--work", required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--algo", required=True, choices=["ed25519", "rsa3072"])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--out", required=True)
    p.add_argument("--kit", default="/work/shared/bench/schleuder")
    p.add_argument("--bench-base", default="/tmp/schleuder-bench")
    p.add_argument("--repo", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    p.add_argument("--tlpmaild")
    p.add_argument("--tlpmailctl")
    p.add_argument("--sink", default="fast", choices=["fast", "e2e", "postfix", "discard", "null"])
    p.add_argument("--attachment-kib", type=int, default=0,
                   help="the message's attachment in KiB instead of the kit's 100")
    p.add_argument("--list-key", default="rsa4096", choices=["rsa4096", "ed25519"],
                   help="rsa4096: import one like Schleuder's; ed25519: tlpmaild makes its own")
    p.add_argument("--relay-connections", type=int, default=4)
    p.add_argument("--sink-base", default="/dev/shm" if os.access("/dev/shm", os.W_OK) else "/tmp",
                   help="where the sink's folder is made (default /dev/shm)")
    p.add_argument("--start-timeout", type=int, default=1800)
    p.add_argument("--run-timeout", type=int, default=600)
    p.add_argument("--settle", type=float, default=1.0)
    p.add_argument("--verify-runs", type=int, nargs="*", default=[])
    p.add_argument("--keep-logs")
    p.add_argument("--profile", action="store_true",
                   help="one extra, untimed run with a debug log and /proc sampling")
    a = p.parse_args()
    return run_tlpmail(a) if a.mode == "tlpmail" else run_schleuder(a)


if __name__ == "__main__":
    sys.exit(main())
