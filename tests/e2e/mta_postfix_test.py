"""tlpmail behind a real Postfix (issue 13): a private Postfix instance on
127.0.0.1 (its own config, queue and data folders; the system's Postfix and
/etc/postfix are never touched), configured from docs/mta/postfix-main.cf,
docs/mta/postfix-master.cf and `tlpmailctl mta-maps --format postfix`.
Mail for the list goes to tlpmaild over LMTP, the copies come back through
the re-injection listener and land in the members' maildirs (Postfix's
virtual delivery agent); a refusal bounces to the sender with tlpmail's
reason. The scenario is mta_support.MtaCase."""

import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mta_support  # noqa: E402
from mta_support import run, snippet  # noqa: E402

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
MASTER_CF = "/usr/share/postfix/master.cf.dist"


def no_chroot(master_cf):
    """Every service of master.cf with chroot off: a chrooted smtpd needs
    the files the Debian init script copies into the queue folder."""
    out = []
    for line in master_cf.splitlines():
        f = line.split()
        if line[:1] not in ("#", " ", "\t", "") and len(f) >= 8:
            f[4] = "n"
            line = " ".join(f)
        out.append(line)
    return "\n".join(out) + "\n"


class PostfixTest(mta_support.MtaCase):
    mta_name = "postfix"
    snippets = ["postfix-main.cf", "postfix-master.cf"]

    @classmethod
    def start_mta(cls):
        if not os.path.exists(POSTFIX) or not os.path.exists(MASTER_CF):
            mta_support.skip("Postfix is not installed (scripts/install-deps.sh installs it)")
        w = cls.work
        conf, queue, data = (os.path.join(w, d) for d in ("conf", "queue", "data"))
        for d in (conf, queue, data, cls.maildirs.root):
            os.makedirs(d)
        shutil.chown(data, "postfix")
        shutil.chown(cls.maildirs.root, 65534, 65534)
        table = os.path.join(conf, "tlpmail")
        # main.cf: a local test instance plus the guide's snippet as written,
        # with the table's path of this instance.
        main = f"""compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.lists.example.org
mydomain = lists.example.org
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
maillog_file = {w}/maillog
maillog_file_prefixes = /tmp
smtp_host_lookup = native
virtual_mailbox_domains = csirt-a.example csirt-b.example
virtual_mailbox_base = {cls.maildirs.root}
virtual_mailbox_maps = texthash:{conf}/vmailbox
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
"""
        main += snippet("postfix-main.cf").replace("/etc/postfix/tlpmail", table)
        with open(os.path.join(conf, "main.cf"), "w") as f:
            f.write(main)
        with open(MASTER_CF) as f:
            master = f.read()
        smtp_line = "smtp      inet  n       -       y       -       -       smtpd"
        assert smtp_line in master, "Postfix's master.cf.dist changed"
        master = master.replace(smtp_line, f"127.0.0.1:{cls.mx_port} inet n - y - - smtpd")
        master += snippet("postfix-master.cf").replace("127.0.0.1:10031",
                                                       f"127.0.0.1:{cls.relay_port}")
        with open(os.path.join(conf, "master.cf"), "w") as f:
            f.write(no_chroot(master))
        with open(os.path.join(conf, "vmailbox"), "w") as f:
            f.write("alice@csirt-a.example alice/\nbob@csirt-b.example bob/\n")
        # The guide's step: the table from tlpmailctl, then postmap.
        with open(table, "w") as f:
            f.write(cls.site.ctl("mta-maps", "--format", "postfix"))
        for cmd in (["postmap", "-c", conf, "hash:" + table], [POSTFIX, "-c", conf, "check"],
                    [POSTFIX, "-c", conf, "start"]):
            p = run(cmd)
            if p.returncode != 0:
                raise AssertionError(f"{' '.join(cmd)}: {p.stdout}{p.stderr}\n{cls.mta_log()}")
        cls.conf = conf
        cls.addClassCleanup(cls.stop_mta)

    @classmethod
    def stop_mta(cls):
        run([POSTFIX, "-c", cls.conf, "stop"])

    @classmethod
    def mta_log(cls):
        try:
            with open(os.path.join(cls.work, "maillog")) as f:
                return f.read()[-20000:]
        except OSError:
            return "(no maillog)"


if __name__ == "__main__":
    unittest.main(verbosity=2)
