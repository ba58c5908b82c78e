"""tlpmail behind a real OpenSMTPD (issue 13): a private smtpd on 127.0.0.1
(its own configuration file; run in the foreground with -d and stopped by
its PID) built from the operator guide's snippet docs/mta/opensmtpd.conf
and `tlpmailctl mta-maps --format opensmtpd`. The scenario is
mta_support.MtaCase.

OpenSMTPD and Postfix cannot be installed side by side (both are Debian's
mail-transport-agent), so smtpd runs from its package unpacked with
`dpkg -x` into a scratch folder (scripts/install-deps.sh downloads it and
installs its libraries). smtpd has compiled-in paths: its helpers in
/usr/libexec/opensmtpd (mail.maildir, mail.mda), its queue in
/var/spool/smtpd and an empty chroot in /var/lib/opensmtpd/empty. So it
runs in a mount namespace of its own (unshare -m, private propagation)
where /usr/libexec is the unpacked package's and /var/spool and /var/lib
are folders of this test: the machine's folders are never written. The
users opensmtpd and opensmtpq are created when missing (as the package
would). The members' side of the test (the stand-in for the Internet: the
action "relay" that the snippet hands the copies to) is maildir delivery
as user nobody."""

import os
import shutil
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import mta_support  # noqa: E402
from mta_support import replace_once, snippet  # noqa: E402

PACKAGES = ["opensmtpd"]
SPOOL = "/var/spool/smtpd"
CHROOT = "/var/lib/opensmtpd/empty"


class OpenSmtpdTest(mta_support.MtaCase):
    mta_name = "opensmtpd"
    snippets = ["opensmtpd.conf"]

    @classmethod
    def start_mta(cls):
        w = cls.work
        root = mta_support.unpacked_mta(w, "smtpd-root", PACKAGES, "OpenSMTPD")
        smtpd = os.path.join(root, "usr", "sbin", "smtpd")
        p = mta_support.run([smtpd, "-h"])
        if "OpenSMTPD" not in p.stdout + p.stderr:
            mta_support.skip(f"the unpacked smtpd does not run: {p.stdout[-300:]}{p.stderr[-300:]}")
        for user in ("opensmtpd", "opensmtpq"):
            why = mta_support.ensure_system_user(user)
            if why:
                raise AssertionError(why)
        p = mta_support.run(["unshare", "--mount", "--propagation", "private", "true"])
        if p.returncode != 0:
            mta_support.skip(f"no mount namespace for smtpd's compiled-in paths: {p.stderr.strip()}")
        var_spool, var_lib = os.path.join(w, "var-spool"), os.path.join(w, "var-lib")
        for d in (var_spool + SPOOL[len("/var/spool"):], var_lib + CHROOT[len("/var/lib"):]):
            os.makedirs(d)
            os.chmod(d, 0o711)
        conf = os.path.join(w, "smtpd-conf")
        os.makedirs(conf)
        os.makedirs(cls.maildirs.root)
        shutil.chown(cls.maildirs.root, 65534, 65534)
        table = os.path.join(conf, "tlpmail")
        # The guide's step: the table from tlpmailctl.
        with open(table, "w") as f:
            f.write(cls.site.ctl("mta-maps", "--format", "opensmtpd"))
        part = snippet("opensmtpd.conf")
        part = replace_once(part, "/etc/smtpd/tlpmail", table)
        part = replace_once(part, "port 10031", f"port {cls.relay_port}")
        part = replace_once(part, "lmtp://127.0.0.1:10030", f"lmtp://127.0.0.1:{cls.site.port}")
        # A test instance around the snippet: the MX on loopback, and the
        # members' domains (the "Internet") as local maildirs behind the
        # action "relay" that the snippet relays the copies through. Bounces
        # OpenSMTPD makes itself come from local, untagged.
        config = f"""# OpenSMTPD for tests/e2e/mta_opensmtpd_test.py; generated.
listen on 127.0.0.1 port {cls.mx_port}
table members {{ "csirt-a.example", "csirt-b.example" }}
table people {{ "alice@csirt-a.example" = "nobody", "bob@csirt-b.example" = "nobody" }}
action "relay" maildir "{cls.maildirs.root}/%{{rcpt.user}}" user nobody virtual <people>
{part}match from local for domain <members> action "relay"
"""
        path = os.path.join(conf, "smtpd.conf")
        with open(path, "w") as f:
            f.write(config)
        p = mta_support.run([smtpd, "-n", "-f", path])
        if p.returncode != 0:
            raise AssertionError(f"smtpd -n: {p.stdout}{p.stderr}\n{config}")
        cls.log_path = os.path.join(w, "smtpd.log")
        cls.log_file = open(cls.log_path, "wb")
        # unshare execs sh, sh execs smtpd: cls.proc.pid is smtpd's PID.
        script = (f"set -e; mount --bind {root}/usr/libexec /usr/libexec; "
                  f"mount --bind {var_spool} /var/spool; mount --bind {var_lib} /var/lib; "
                  f"exec {smtpd} -d -f {path}")
        cls.proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private",
                                     "sh", "-c", script], stdout=cls.log_file,
                                    stderr=subprocess.STDOUT)
        cls.addClassCleanup(cls.stop_mta)
        # smtpd -d prints no ready line: ready when both listeners answer.
        mta_support.wait_for(lambda: cls.proc.poll() is not None or (
            cls.listening(cls.mx_port) and cls.listening(cls.relay_port)),
            "smtpd's listeners", timeout=30, log=cls.mta_log)
        if cls.proc.poll() is not None:
            raise AssertionError(f"smtpd exited {cls.proc.returncode}\n{cls.mta_log()}")

    @staticmethod
    def listening(port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                return s.recv(4).startswith(b"220")
        except OSError:
            return False

    @classmethod
    def stop_mta(cls):
        harness.stop_process(cls.proc, 15)
        cls.log_file.close()

    @classmethod
    def mta_log(cls):
        try:
            with open(cls.log_path, errors="replace") as f:
                return f.read()[-20000:]
        except OSError:
            return "(no smtpd log)"


if __name__ == "__main__":
    unittest.main(verbosity=2)
