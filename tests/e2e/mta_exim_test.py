"""tlpmail behind a real Exim 4 (issue 13): a private Exim on 127.0.0.1 (its
own configuration, spool and log folders; nothing of the system's Exim or
/etc/exim4 is used) built from the operator guide's snippets in docs/mta/
(exim-main.conf, exim-acl.conf, exim-router.conf, exim-transport.conf) and
`tlpmailctl mta-maps --format exim`. The scenario is mta_support.MtaCase.

Exim and Postfix cannot be installed side by side (both are Debian's
mail-transport-agent), so Exim runs from its packages unpacked with
`dpkg -x` into a scratch folder (exim4-daemon-light, exim4-base,
exim4-config; scripts/install-deps.sh downloads them and installs their
libraries). Started with -C, a configuration Exim does not trust, it gives
up root and runs as Debian-exim (the compiled-in user, created here when
missing): every delivery of this test, to tlpmaild and to the members'
maildirs, runs as that user. The daemon runs in the foreground (-bdf) and
is stopped by its PID."""

import os
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import mta_support  # noqa: E402
from mta_support import replace_once, snippet  # noqa: E402

PACKAGES = ["exim4-base", "exim4-config", "exim4-daemon-light"]
EXIM_USER = "Debian-exim"
SNIPPETS = ["exim-main.conf", "exim-acl.conf", "exim-router.conf", "exim-transport.conf"]


class EximTest(mta_support.MtaCase):
    mta_name = "exim"
    snippets = SNIPPETS

    @classmethod
    def start_mta(cls):
        w = cls.work
        root = mta_support.unpacked_mta(w, "exim-root", PACKAGES, "Exim 4")
        exim = os.path.join(root, "usr", "sbin", "exim4")
        cls.exim = exim
        # First the user: Exim looks its compiled-in user up even for -bV
        # (on a fresh machine: "failed to find uid for user name").
        why = mta_support.ensure_system_user(EXIM_USER, "/var/spool/exim4")
        if why:
            raise AssertionError(why)
        p = mta_support.run([exim, "-C", "/dev/null", "-bV"])
        if "Exim version" not in p.stdout:
            mta_support.skip(f"the unpacked Exim does not run: {p.stdout[-300:]}{p.stderr[-300:]}")
        spool, log, conf = (os.path.join(w, d) for d in ("exim-spool", "exim-log", "exim-conf"))
        for d in (spool, log, conf, cls.maildirs.root):
            os.makedirs(d)
        for d in (spool, log, cls.maildirs.root):
            shutil.chown(d, EXIM_USER, EXIM_USER)
        table = os.path.join(conf, "tlpmail")
        # The guide's step: the table from tlpmailctl.
        with open(table, "w") as f:
            f.write(cls.site.ctl("mta-maps", "--format", "exim"))

        def ported(text):
            # The guide's ports and paths, as this test's.
            return (text.replace("10031", str(cls.relay_port))
                    .replace("port = 10030", f"port = {cls.site.port}")
                    .replace("/etc/exim4/tlpmail", table))

        main = ported(snippet("exim-main.conf"))
        main = replace_once(main, "[0.0.0.0]:25 ; [::]:25", f"[127.0.0.1]:{cls.mx_port}")
        members = "csirt-a.example : csirt-b.example"
        # A test instance around the snippets: loopback only, no TLS, no
        # DNS; the members' domains are local maildirs (the "Internet").
        config = f"""# Exim for tests/e2e/mta_exim_test.py; generated.
exim_path = {exim}
spool_directory = {spool}
log_file_path = {log}/%slog
primary_hostname = mx.lists.example.org
qualify_domain = mx.lists.example.org
keep_environment =
tls_advertise_hosts =
host_lookup =
rfc1413_hosts =
acl_smtp_rcpt = acl_check_rcpt
deliver_drop_privilege = true
never_users = root
domainlist member_domains = {members}
{main}
begin acl

acl_check_rcpt:
{ported(snippet("exim-acl.conf"))}
accept  domains   = +member_domains
        hosts     = 127.0.0.1
deny    message   = relay not permitted

begin routers

{ported(snippet("exim-router.conf"))}
members:
  driver = accept
  domains = +member_domains
  local_parts = alice : bob
  transport = member_maildir

begin transports

{ported(snippet("exim-transport.conf"))}
member_maildir:
  driver = appendfile
  directory = {cls.maildirs.root}/$local_part_data
  maildir_format
  create_directory
  delivery_date_add
  envelope_to_add
  return_path_add
  user = {EXIM_USER}
  group = {EXIM_USER}
  mode = 0600

begin retry

*   *   F,1h,2s
"""
        path = os.path.join(conf, "exim.conf")
        with open(path, "w") as f:
            f.write(config)
        p = mta_support.run([exim, "-C", path, "-bV"])
        if p.returncode != 0:
            raise AssertionError(f"exim -bV: {p.stdout}{p.stderr}\n{config}")
        cls.log_dir = log
        cls.proc = subprocess.Popen([exim, "-C", path, "-bdf", "-q2s"], stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT)
        cls.addClassCleanup(cls.stop_mta)
        mta_support.wait_for(lambda: "daemon started" in cls.mta_log(), "Exim's daemon line",
                             timeout=30, log=cls.mta_log)

    @classmethod
    def stop_mta(cls):
        harness.stop_process(cls.proc, 10)
        # Delivery and queue-runner processes the daemon forked may still
        # be finishing (they write into the spool and log folders, which
        # are removed next): wait for them, bounded; they end on their own.
        deadline = time.monotonic() + 15
        while cls.exim_processes() and time.monotonic() < deadline:
            time.sleep(0.1)

    @classmethod
    def exim_processes(cls):
        """PIDs of processes running this test's unpacked Exim."""
        pids = []
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    if os.readlink(f"/proc/{pid}/exe") == cls.exim:
                        pids.append(int(pid))
                except OSError:
                    pass
        return pids

    @classmethod
    def mta_log(cls):
        out = []
        for name in ("mainlog", "rejectlog", "paniclog"):
            try:
                with open(os.path.join(cls.log_dir, name)) as f:
                    out.append(f"-- {name}\n{f.read()[-15000:]}")
            except OSError:
                pass
        return "\n".join(out) or "(no Exim log)"


if __name__ == "__main__":
    unittest.main(verbosity=2)
