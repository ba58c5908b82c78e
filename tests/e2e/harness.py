"""Integration harness for tlpmaild (after maddy's tests/t.go): writes a
configuration tree into a short temp folder, picks a free port on
127.0.0.1, starts the real daemon (path from $TLPMAILD), waits for its
ready line on stderr (never a fixed sleep), offers helpers to talk SMTP
and LMTP and to look into the spool and the database, and stops the
daemon (SIGTERM, exit 0 expected) on cleanup. Sink runs tests/e2e/sink.py
as the relay that copies go to. Standard library only;
only processes started here are signalled, always by PID."""

import json
import os
import re
import shutil
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import helpers  # noqa: E402

TLPMAILD = os.environ.get("TLPMAILD", "build/daemon/tlpmaild")
TLPMAILCTL = os.environ.get("TLPMAILCTL", "build/daemon/tlpmailctl")
READY_TIMEOUT = 30.0  # seconds; an ASan build under load starts in a few
LIST_DOMAIN = "lists.example.org"
HOSTNAME = "lists.example.org"

READY_RE = re.compile(r" - ready listen=(\S+) protocol=(\w+) pending=(\d+)")
CONNECT_RE = re.compile(r" s\d+ connect client=")
DISCONNECT_RE = re.compile(r" s\d+ disconnect client=")


def free_port():
    """A port that was free a moment ago on 127.0.0.1 (bind 0, read, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Keys:
    """Test-only member keys, generated once with real gpg."""

    def __init__(self, emails=("alice@a.example", "bob@b.example")):
        self.gpg = helpers.GnuPG()
        self.fingerprints = {}
        for e in emails:
            self.fingerprints[e] = self.gpg.generate(f"{e.split('@')[0].title()} <{e}>")

    def close(self):
        self.gpg.close()


class DaemonCase(unittest.TestCase):
    """One site and one daemon for the whole class; the daemon must exit 0
    at the end. Subclasses set `keys` (a Keys or ModuleKeys) and override
    make_site to build another kind of site."""

    keys = None
    site_options = {}
    lists = None
    timeouts_ms = None

    @classmethod
    def make_site(cls):
        return Site(cls.keys, lists=cls.lists, **cls.site_options)

    @classmethod
    def setUpClass(cls):
        cls.site = cls.make_site()
        try:
            cls.daemon = cls.site.start(timeouts_ms=cls.timeouts_ms)
        except Exception:
            cls.site.close()
            raise
        cls.port = cls.daemon.port

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.daemon.stop()
            if code != 0:
                raise AssertionError(f"tlpmaild exited {code}; stderr:\n{cls.daemon.log()}")
        finally:
            cls.site.close()


class ModuleKeys:
    """Keys made once for a test module: `KEYS = harness.ModuleKeys()` then
    `setUpModule, tearDownModule = KEYS.open, KEYS.close`; attributes are
    those of the Keys made by open()."""

    def __init__(self, *args):
        self._args, self._keys = args, None

    def open(self):
        self._keys = Keys(*self._args)

    def close(self):
        if self._keys is not None:
            self._keys.close()

    def __getattr__(self, name):
        if self._keys is None:
            raise AttributeError(f"{name}: the module's keys are not made yet")
        return getattr(self._keys, name)


def make_certificate(folder, name="tls"):
    """A self-signed P-256 certificate for CN=localhost, made at test time."""
    cert = os.path.join(folder, name + "-cert.pem")
    key = os.path.join(folder, name + "-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


class DaemonSite:
    """A configuration tree (config/) and a state folder (state/) in a short
    temp folder, and the tlpmaild runs on it, one at a time. Subclasses
    write the tree; this class starts daemons, reads what they stored and
    removes everything on close()."""

    def __init__(self, prefix):
        self.root = helpers.short_tempdir(prefix)
        self.config_dir = os.path.join(self.root, "config")
        self.config = os.path.join(self.config_dir, "tlpmail.toml")
        self.state = os.path.join(self.root, "state")
        self.port = free_port()
        self.daemon = None
        self.daemons = []

    def start(self, *args):
        """Starts tlpmaild on this tree with `args`; waits for its ready line."""
        self.daemon = Daemon(self.config, args)
        self.daemons.append(self.daemon)
        self.daemon.start()
        return self.daemon

    def log(self):
        """The stderr of every daemon started here, in order."""
        return "\n---- next run ----\n".join(d.log() for d in self.daemons)

    def list_key(self, address):
        """(fingerprint, armored public key) of the list `address`: the
        fingerprint from the daemon's list-key line (waited for), the key
        from tlpmailctl list-key."""
        m = self.daemon.wait_log(rf" - list-key list={re.escape(address)} "
                                 r"fingerprint=([0-9A-F]{40}) created=")
        p = subprocess.run([os.path.abspath(TLPMAILCTL), "--config", self.config,
                            "list-key", address], capture_output=True, timeout=120)
        if p.returncode != 0:
            raise AssertionError("tlpmailctl list-key: " + p.stderr.decode())
        return m.group(1), p.stdout

    # --- what the daemon stored ---

    def spool_files(self):
        d = os.path.join(self.state, "spool", "msg")
        return set(os.listdir(d)) if os.path.isdir(d) else set()

    def spool_bytes(self, queue_id):
        with open(os.path.join(self.state, "spool", "msg", queue_id), "rb") as f:
            return f.read()

    def db(self):
        return sqlite3.connect(os.path.join(self.state, "tlpmail.db"), timeout=10)

    def query(self, sql, args=()):
        """Every row of `sql` on tlpmail.db."""
        db = self.db()
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def close(self):
        if self.daemon is not None and self.daemon.running():
            self.daemon.kill()
        gnupg = os.path.join(self.state, "gnupg")
        if os.path.isdir(gnupg):
            subprocess.run(["gpgconf", "--homedir", gnupg, "--kill", "all"],
                           capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


class Site(DaemonSite):
    """A site with the members of `keys` on one list per name in `lists`
    (default: ops) and the [server] settings given."""

    def __init__(self, keys, lists=None, **server):
        super().__init__("tlpd")
        self.keys = keys
        self.port = server.pop("port", None) or self.port
        self.server = server
        os.makedirs(os.path.join(self.config_dir, "keys"))
        os.makedirs(os.path.join(self.config_dir, "lists.d"))
        people = ""
        for email, fpr in keys.fingerprints.items():
            keys.gpg.export(fpr, os.path.join(self.config_dir, "keys", email + ".asc"))
            people += helpers.person_toml(email, email.split("@")[0].title(), fpr)
        helpers.write(os.path.join(self.config_dir, "directory.toml"), people)
        members = list(keys.fingerprints)
        for name in (lists if lists is not None else ["ops"]):
            self.write_list(name, members)
        self.write_main()

    def write_main(self, **overrides):
        s = dict(self.server)
        s.update(overrides)
        lines = [
            "[server]",
            f'hostname = "{HOSTNAME}"',
            f'listen = ["127.0.0.1:{self.port}"]',
            f'protocol = "{s.get("protocol", "smtp")}"',
            f'max_message_size = {s.get("max_message_size", 1048576)}',
            f'max_connections = {s.get("max_connections", 20)}',
        ]
        if s.get("tls"):
            cert, key = s["tls"]
            lines += [f'tls_certificate = "{cert}"', f'tls_private_key = "{key}"']
        lines += ["", "[paths]", 'state_dir = "../state"', "",
                  "[log]", f'level = "{s.get("level", "info")}"', ""]
        with open(self.config, "w") as f:
            f.write("\n".join(lines))

    def write_list(self, name, members=None, text=None):
        path = os.path.join(self.config_dir, "lists.d", name + ".toml")
        if text is None:
            members = members if members is not None else list(self.keys.fingerprints)
            quoted = ", ".join(f'"{m}"' for m in members)
            text = f"""
                address = "{name}@{LIST_DOMAIN}"
                tlp_ceiling = "AMBER"
                members = [{quoted}]
                admins = ["{members[0]}"]
                """
        helpers.write(path, text)
        return path

    def start(self, *args, timeouts_ms=None, hold_spool=True):
        # Intake tests look at exactly what the spool holds: the daemon
        # takes nothing from it (the -request mail they send would be
        # answered and removed). Tests that want copies pass False.
        extra = (["--hold-spool"] if hold_spool else []) + list(args)
        if timeouts_ms is not None:
            extra += ["--timeouts-ms", str(timeouts_ms)]
        return super().start(*extra)

    def db_messages(self):
        """{id: {"state", "sender", "size", "recipients"}} from tlpmail.db."""
        out = {}
        for mid, state, sender, size in self.query(
                "SELECT id, state, sender, size FROM spool_messages"):
            out[mid] = {"state": state, "sender": sender, "size": size, "recipients": []}
        for mid, addr in self.query("SELECT message_id, address FROM spool_recipients "
                                    "ORDER BY message_id, position"):
            out[mid]["recipients"].append(addr)
        return out


def wait_for(condition, what, timeout=60.0, log=lambda: "", interval=0.05):
    """Polls condition() (bounded) until it returns something true, and
    returns that; fails naming `what` (and `log()`) after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{log()}")
        time.sleep(interval)


def stop_process(proc, timeout):
    """SIGTERM to a subprocess.Popen, SIGKILL after `timeout` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Child:
    """A child process started here, its stderr collected line by line by a
    reader thread (self.lines, guarded by self.cond). Only this process is
    ever signalled, by PID."""

    def __init__(self):
        self.proc = None
        self.lines = []
        self.cond = threading.Condition()
        self.reader = None

    def spawn(self, cmd, env=None):
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=env)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def log(self):
        with self.cond:
            return "\n".join(self.lines)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def terminate(self, timeout):
        """SIGTERM, then waits up to `timeout` seconds. Returns the exit
        status, or None when it had to be killed."""
        if self.running():
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = None
        self.reader.join(5)
        self.proc.stderr.close()
        return code


class Daemon(Child):
    """One tlpmaild process; stderr is collected line by line."""

    def __init__(self, config, args=()):
        super().__init__()
        self.config = config
        self.args = list(args)
        self.ready = None

    def start(self):
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)  # log to stderr, not the journal
        env.pop("NOTIFY_SOCKET", None)
        self.spawn([os.path.abspath(TLPMAILD), "--config", self.config] + self.args, env)
        m = self.wait_log(READY_RE, timeout=READY_TIMEOUT)
        self.ready = {"listen": m.group(1), "protocol": m.group(2),
                      "pending": int(m.group(3))}
        host, port = self.ready["listen"].split(",")[0].rsplit(":", 1)
        self.port = int(port)
        return self.ready

    def mark(self):
        """Position in the log; wait_log(since=mark) looks only after it."""
        with self.cond:
            return len(self.lines)

    def wait_log(self, pattern, timeout=20.0, since=0):
        """Waits for a stderr line matching `pattern`; fails with the log."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines[since:]:
                    m = rx.search(line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                exited = self.proc.poll() is not None and not self.reader.is_alive()
                if left <= 0 or exited:
                    raise AssertionError(
                        f"no log line matching {rx.pattern!r} within {timeout}s "
                        f"(exit status {self.proc.poll()}); stderr:\n" + "\n".join(self.lines))
                self.cond.wait(min(left, 0.5))

    def wait_no_sessions(self, timeout=20.0):
        """Waits until every logged connect has its disconnect."""
        deadline = time.monotonic() + timeout
        while True:
            with self.cond:
                opened = sum(1 for l in self.lines if CONNECT_RE.search(l))
                closed = sum(1 for l in self.lines if DISCONNECT_RE.search(l))
            if opened == closed:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{opened - closed} sessions still open; stderr:\n"
                                     + self.log())
            time.sleep(0.05)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=30):
        """SIGTERM; returns the exit status (the caller asserts 0)."""
        code = self.terminate(timeout)
        if code is None:
            raise AssertionError("tlpmaild did not stop within %ss; stderr:\n%s"
                                 % (timeout, self.log()))
        self.check_sanitizers()
        return code

    def check_sanitizers(self):
        """An ASan/UBSan build reports to stderr; any report fails the test."""
        text = self.log()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if marker in text:
                raise AssertionError(f"sanitizer report from tlpmaild:\n{text}")

    def kill(self):
        """kill -9, for crash tests and for cleaning up after a failure."""
        if self.running():
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.reader.join(5)
        self.proc.stderr.close()


def run_daemon_once(config, *args, timeout=60):
    """Runs tlpmaild expecting it to exit by itself (start-up errors, usage)."""
    env = dict(os.environ)
    env.pop("JOURNAL_STREAM", None)
    p = subprocess.run([os.path.abspath(TLPMAILD)] +
                       (["--config", config] if config else []) + list(args),
                       capture_output=True, text=True, timeout=timeout, env=env)
    return p.returncode, p.stdout, p.stderr


# --- clients ---

def message(subject="test", body="hello", sender="alice@a.example",
            to="ops@" + LIST_DOMAIN, extra=""):
    """A small RFC 5322 message with CRLF line ends, as bytes."""
    text = (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n{extra}"
            f"\r\n{body}\r\n")
    return text.encode()


def smtp_transaction(port, sender, recipients, data, tls_context=None, timeout=30):
    """Sends one message with smtplib, step by step (EHLO, STARTTLS when
    `tls_context` is given, MAIL, every RCPT, DATA when a recipient was
    accepted). Returns the replies (code, text) of MAIL, of each RCPT in
    order and of DATA (None when DATA was not sent); text is str."""
    with smtplib.SMTP("127.0.0.1", port, timeout=timeout) as s:
        s.ehlo("client.example")
        if tls_context is not None:
            s.starttls(context=tls_context)
            s.ehlo("client.example")
        code, text = s.mail(sender)
        mail = (code, text.decode())
        if code != 250:
            return mail, [], None
        rcpts = [(c, t.decode()) for c, t in (s.rcpt(r) for r in recipients)]
        if not any(c == 250 for c, _ in rcpts):
            return mail, rcpts, None
        code, text = s.data(data)
        return mail, rcpts, (code, text.decode())


def smtp_send(port, sender, recipients, data, tls_context=None, timeout=30):
    """Sends one message (smtp_transaction); returns the reply (code, text)
    that ended it: DATA's, or MAIL's or the last RCPT's when DATA was not
    sent. Refused recipients are skipped (as MTAs do)."""
    mail, rcpts, done = smtp_transaction(port, sender, recipients, data, tls_context, timeout)
    return done or (rcpts[-1] if rcpts else mail)


def queued_id(text):
    m = re.match(r"2\.0\.0 Ok: queued as ([0-9a-f]{16})$", text)
    return m.group(1) if m else None


class Raw:
    """A raw line-oriented client for byte-exact checks (LMTP replies,
    pipelining, STARTTLS injection)."""

    def __init__(self, port, timeout=20):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; pending %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode()

    def start_data(self, helo, sender, recipient):
        """Reads the greeting, pipelines HELO, MAIL, RCPT and DATA and reads
        their four replies: the session is then in DATA."""
        self.line()
        self.send(f"HELO {helo}\r\nMAIL FROM:<{sender}>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n")
        return [self.line() for _ in range(4)]

    def reply(self):
        """One (possibly multi-line) reply as a list of lines."""
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return lines

    def at_eof(self, timeout=5):
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b"" and not self.buf
        except (ConnectionResetError, socket.timeout):
            return False

    def close(self):
        self.sock.close()


def dedent(text):
    return textwrap.dedent(text).lstrip("\n")


# --- the relay side: tests/e2e/sink.py as a child process ---

SINK_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sink.py")


class Sink(Child):
    """One sink.py process (a controllable SMTP server on 127.0.0.1) that
    writes N.eml + N.json into its own folder; `options` are sink.py's
    (e.g. "--defer-first", "2"). port=0 picks a free port. stop() sends
    SIGTERM and waits; only this process is signalled, by PID."""

    def __init__(self, options=(), port=0, folder=None):
        super().__init__()
        self.root = folder or helpers.short_tempdir("tlpsink")
        self.own_root = folder is None
        self.dir = os.path.join(self.root, "mail")
        self.port_file = os.path.join(self.root, "port")
        self.options = [str(o) for o in options]
        self.port = port

    def start(self, timeout=20.0):
        if os.path.exists(self.port_file):
            os.remove(self.port_file)
        self.spawn([sys.executable, SINK_SCRIPT, "--port", str(self.port), "--port-file",
                    self.port_file, "--dir", self.dir] + self.options)
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("sink.py did not start; stderr:\n" + self.log())
            time.sleep(0.02)
        with open(self.port_file) as f:
            self.port = int(f.read())
        return self

    def count(self):
        """How many messages were accepted so far (N.json files)."""
        if not os.path.isdir(self.dir):
            return 0
        return sum(1 for n in os.listdir(self.dir)
                   if n.endswith(".json") and not n.startswith("."))

    def messages(self):
        """[(meta dict, eml bytes)] of every accepted message, in order."""
        out = []
        if not os.path.isdir(self.dir):
            return out
        numbers = sorted(int(n[:-5]) for n in os.listdir(self.dir)
                         if n.endswith(".json") and not n.startswith("."))
        for n in numbers:
            with open(os.path.join(self.dir, f"{n}.json")) as f:
                meta = json.load(f)
            with open(os.path.join(self.dir, f"{n}.eml"), "rb") as f:
                out.append((meta, f.read()))
        return out

    def wait_count(self, n, timeout=60.0, why=""):
        """Waits (bounded polling) until at least n messages were accepted."""
        deadline = time.monotonic() + timeout
        while self.count() < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"sink has {self.count()} of {n} messages after "
                                     f"{timeout}s {why}; sink stderr:\n" + self.log())
            time.sleep(0.05)
        return self.messages()

    def stop(self, timeout=20):
        """SIGTERM; the exit status (None when it had to be killed or never ran)."""
        return self.terminate(timeout) if self.proc is not None else None

    def close(self):
        self.stop()
        if self.own_root:
            shutil.rmtree(self.root, ignore_errors=True)
