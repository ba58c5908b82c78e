#!/usr/bin/env python3
"""Memory and fair sharing at intake (docs/reliability.md, "Load at
intake: memory and connection slots"). Starts a real tlpmaild on
127.0.0.1 on a copy of the example configuration (config/, test-only
keys; default limits unless --set says otherwise) and measures, each on a
fresh daemon:

  memory  CLIENTS concurrent clients each send one message of SIZE bytes
          (default: 100 x max_message_size, 25 MiB) to a list's posting
          address; prints the replies by code, the wall time and the
          daemon's peak RSS (VmHWM from /proc/PID/status).
  idle    IDLE connections are opened and left silent; after SETTLE seconds
          a normal client sends a small message, retrying once a second
          while it is refused; prints the time from its first attempt to
          its 250, bounded by --give-up seconds.

The messages are unsigned, so the list refuses them (550 5.7.1) after
verification has parsed them: receiving, keeping and verifying cost what
they cost for a real posting, and nothing is fanned out. Clients bind
source addresses 127.0.0.N to look like several MTAs (--sources). Loopback
only; every wait is bounded. Not a test: it prints figures.

  python3 bench/intake_memory.py [--tlpmaild build/daemon/tlpmaild] [--what memory,idle]
      [--clients 100] [--size 26214400] [--no-size-param] [--sources 10]
      [--idle 500] [--idle-sources 1] [--settle 3] [--give-up 400]
      [--set 'max_message_memory = 268435456' ...]
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIST = "csirt-ops@lists.example.org"
REQUEST = "csirt-ops-request@lists.example.org"
SENDER = "alice@csirt-a.example"

sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from harness import free_port  # noqa: E402 (the e2e tests' port picker)


class Daemon:
    """One tlpmaild on a copy of config/ in a temp folder under /var/tmp."""

    def __init__(self, binary, settings):
        self.work = tempfile.mkdtemp(prefix="tlpm-", dir="/var/tmp")
        shutil.copytree(os.path.join(ROOT, "config"), os.path.join(self.work, "config"))
        self.port = free_port()
        path = os.path.join(self.work, "config", "tlpmail.toml")
        with open(path) as f:
            text = f.read()
        text = re.sub(r"(?m)^state_dir = .*$", f'state_dir = "{self.work}/state"', text)
        text = re.sub(r"(?m)^listen = .*$", f'listen = ["127.0.0.1:{self.port}"]', text)
        if settings:
            text = text.replace("[server]\n", "[server]\n" + "\n".join(settings) + "\n", 1)
        with open(path, "w") as f:
            f.write(text)
        self.log_path = os.path.join(self.work, "daemon.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([binary, "--config", path], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 120
        while b" ready " not in open(self.log_path, "rb").read():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                sys.exit("tlpmaild did not become ready:\n" + open(self.log_path).read())
            time.sleep(0.1)

    def status(self, key):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        subprocess.run(["gpgconf", "--homedir", f"{self.work}/state/gnupg", "--kill", "all"],
                       capture_output=True)
        shutil.rmtree(self.work, ignore_errors=True)


class Client:
    def __init__(self, port, source="127.0.0.1", timeout=600):
        self.sock = socket.socket()
        self.sock.settimeout(timeout)
        self.sock.bind((source, 0))
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""

    def reply(self):
        """The last line of one (multi-line) reply, as str."""
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise EOFError("connection closed")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            if len(line) < 4 or line[3:4] != b"-":
                return line.decode()

    def command(self, text):
        self.sock.sendall(text.encode() + b"\r\n")
        return self.reply()

    def close(self):
        self.sock.close()


def make_body(size):
    """Exactly `size` octets of message content (CRLF lines, none starts
    with a dot), as one bytes object."""
    head = (f"From: {SENDER}\r\nTo: {LIST}\r\nSubject: intake memory benchmark\r\n"
            "\r\n").encode()
    line = b"x" * 76 + b"\r\n"
    n, rest = divmod(size - len(head), len(line))
    tail = b"y" * (rest - 2) + b"\r\n" if rest >= 2 else b""
    body = head + line * n + tail
    return body + b"y" * (size - len(body))  # only if rest was 1: never a bare CR/LF


def memory_run(args):
    d = Daemon(args.tlpmaild, args.set)
    body = make_body(args.size)
    replies, errors = [], []
    lock = threading.Lock()
    ready = threading.Barrier(args.clients + 1)

    def one(i):
        source = f"127.0.0.{2 + i % args.sources}"
        c = None
        try:
            c = Client(d.port, source)
            greeting = c.reply()
            if not greeting.startswith("220"):
                raise RuntimeError(greeting)
            c.command("EHLO bench.example")
            size = "" if args.no_size_param else f" SIZE={args.size}"
            for cmd in (f"MAIL FROM:<{SENDER}>{size}", f"RCPT TO:<{LIST}>", "DATA"):
                r = c.command(cmd)
                if r[:1] not in ("2", "3"):
                    raise RuntimeError(f"{cmd}: {r}")
        except Exception as e:  # noqa: BLE001 -- reported below
            with lock:
                errors.append(str(e))
            ready.wait()
            return
        ready.wait()
        try:
            view = memoryview(body)
            for at in range(0, len(view), 262144):
                c.sock.sendall(view[at:at + 262144])
            c.sock.sendall(b".\r\n")
            r = c.reply()
            with lock:
                replies.append(r)
            c.command("QUIT")
        except Exception as e:  # noqa: BLE001
            with lock:
                errors.append(str(e))
        finally:
            c.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(args.clients)]
    for t in threads:
        t.start()
    ready.wait()
    start = time.monotonic()
    for t in threads:
        t.join(900)
    wall = time.monotonic() - start
    time.sleep(0.5)
    hwm, rss = d.status("VmHWM"), d.status("VmRSS")
    d.stop()
    counts = {}
    for r in replies:
        key = " ".join(r.split()[:2])
        counts[key] = counts.get(key, 0) + 1
    print(f"memory: {args.clients} clients x {args.size} bytes"
          f" ({'no SIZE=' if args.no_size_param else 'SIZE= declared'},"
          f" {args.sources} source addresses), settings {args.set or 'defaults'}")
    print(f"  replies: {dict(sorted(counts.items()))}  errors: {len(errors)}"
          + (f" (first: {errors[0]})" if errors else ""))
    print(f"  wall {wall:.1f} s from the first byte of DATA to the last reply")
    print(f"  tlpmaild peak RSS (VmHWM) {hwm / 2**20:.0f} MiB, RSS afterwards {rss / 2**20:.0f} MiB")


def idle_run(args):
    d = Daemon(args.tlpmaild, args.set)
    idle = []
    opened = 0
    for i in range(args.idle):
        try:
            idle.append(Client(d.port, f"127.0.0.{1 + i % args.idle_sources}"))
            opened += 1
        except OSError as e:
            print(f"  idle connection {i}: {e}")
    time.sleep(args.settle)
    message = (f"From: {SENDER}\r\nTo: {REQUEST}\r\nSubject: normal client\r\n\r\n"
               "hello\r\n.").encode()
    start = time.monotonic()
    attempts, got = 0, None
    while time.monotonic() - start < args.give_up:
        attempts += 1
        c = None
        try:
            c = Client(d.port, "127.0.0.1", timeout=args.give_up)
            if c.reply().startswith("220"):
                c.command("EHLO normal.example")
                c.command(f"MAIL FROM:<{SENDER}>")
                c.command(f"RCPT TO:<{REQUEST}>")
                if c.command("DATA").startswith("354"):
                    c.sock.sendall(message + b"\r\n")
                    r = c.reply()
                    if r.startswith("250"):
                        got = time.monotonic() - start
                        break
        except (OSError, EOFError):
            pass
        finally:
            if c:
                c.close()
        time.sleep(1)
    still_open = 0
    for c in idle:
        c.sock.setblocking(False)
        try:
            while c.sock.recv(65536):  # the greeting, maybe a 421, then EOF if closed
                pass
        except BlockingIOError:
            still_open += 1  # nothing more to read and no EOF: still open
        except OSError:
            pass
        c.close()
    hwm = d.status("VmHWM")
    d.stop()
    print(f"idle: {opened} idle connections from {args.idle_sources} source address(es),"
          f" settings {args.set or 'defaults'}")
    if got is None:
        print(f"  normal client: no 250 within {args.give_up} s ({attempts} attempts)")
    else:
        print(f"  normal client: 250 after {got:.2f} s ({attempts} attempt(s))")
    print(f"  idle connections not closed by the server when it got through: {still_open}")
    print(f"  tlpmaild peak RSS (VmHWM) {hwm / 2**20:.0f} MiB")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tlpmaild", default=os.path.join(ROOT, "build/daemon/tlpmaild"))
    p.add_argument("--what", default="memory,idle")
    p.add_argument("--clients", type=int, default=100)
    p.add_argument("--size", type=int, default=26214400)
    p.add_argument("--no-size-param", action="store_true")
    p.add_argument("--sources", type=int, default=10)
    p.add_argument("--idle", type=int, default=500)
    p.add_argument("--idle-sources", type=int, default=1)
    p.add_argument("--settle", type=float, default=3.0)
    p.add_argument("--give-up", type=float, default=400.0)
    p.add_argument("--set", action="append", default=[],
                   help="a [server] line for tlpmail.toml, e.g. 'max_connections = 200'")
    args = p.parse_args()
    args.tlpmaild = os.path.abspath(args.tlpmaild)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "?"
    print(f"tlpmaild {args.tlpmaild} (tree at {commit}), {os.cpu_count()} cores")
    for what in args.what.split(","):
        {"memory": memory_run, "idle": idle_run}[what](args)


if __name__ == "__main__":
    main()
