"""The Debian package (issue 13), built by scripts/build-deb.sh from the
programs of the test suite's build folder (--prebuilt: no compilation) and
checked as an operator gets it: lintian without errors, the layout of the
package (programs, unit, sysusers file, man pages, guides, /etc/tlpmail
without keys and with protocol = "lmtp"), the dependencies, the unit's
exposure score, the man pages rendering without warnings; then, when this
machine has no tlpmail of its own, a real `dpkg -i`, remove and purge:
the system user and its 0700 state folder, `systemd-analyze verify` on
the installed unit, remove keeping /etc/tlpmail and /var/lib/tlpmail, purge
deleting /etc/tlpmail, keeping /var/lib/tlpmail and saying so. Everything
the install made is removed again. It does not start the service (no
systemd in CI): the MTA tests run tlpmaild on the packaged configuration.
InstallPrefixTest: `cmake --install` for /usr and /usr/local writes a unit
whose programs exist under that prefix."""

import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

SOURCE = os.environ.get("TLPMAIL_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("TLPMAIL_BUILD_DIR", os.path.join(SOURCE, "build"))
SANITIZE = os.environ.get("TLPMAIL_SANITIZE", "OFF").upper() in ("ON", "1", "TRUE", "YES")


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=kw.pop("timeout", 600), **kw)


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def deb_field(deb, field):
    return run(["dpkg-deb", "-f", deb, field]).stdout.strip()


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if SANITIZE:
            # ASan binaries need libasan and are not what anyone installs;
            # the package is checked in the normal build of the suite.
            print("SKIP-PACKAGE: sanitizer build, the package is tested in the normal build")
            raise unittest.SkipTest("SKIP-PACKAGE: sanitizer build")
        cls.tmp = tempfile.mkdtemp(prefix="tlpdeb-", dir="/tmp")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        out = os.path.join(cls.tmp, "out")
        p = run(["bash", os.path.join(SOURCE, "scripts", "build-deb.sh"), "--prebuilt", BUILD,
                 "--out", out])
        cls.build_log = p.stdout + p.stderr
        if p.returncode != 0:
            raise AssertionError(f"scripts/build-deb.sh failed ({p.returncode}):\n{cls.build_log[-6000:]}")
        debs = [d for d in glob.glob(os.path.join(out, "tlpmail_*.deb"))]
        assert len(debs) == 1, debs
        cls.deb = debs[0]
        cls.root = os.path.join(cls.tmp, "root")
        r = run(["dpkg-deb", "-x", cls.deb, cls.root])
        assert r.returncode == 0, r.stderr
        cls.control = os.path.join(cls.tmp, "control")
        r = run(["dpkg-deb", "-e", cls.deb, cls.control])
        assert r.returncode == 0, r.stderr

    def path(self, p):
        return os.path.join(self.root, p.lstrip("/"))

    def test_lintian_has_no_errors(self):
        self.assertIn("build-deb: lintian: no errors", self.build_log)
        self.assertNotRegex(self.build_log, r"(?m)^E: ")

    def test_programs_unit_man_pages_and_guides(self):
        for exe in ("/usr/sbin/tlpmaild", "/usr/bin/tlpmailctl"):
            self.assertTrue(os.access(self.path(exe), os.X_OK), exe)
        for f in ("/lib/systemd/system/tlpmail.service", "/usr/lib/sysusers.d/tlpmail.conf",
                  "/usr/share/man/man8/tlpmaild.8.gz", "/usr/share/man/man8/tlpmailctl.8.gz",
                  "/usr/share/man/man5/tlpmail.toml.5.gz",
                  "/usr/share/doc/tlpmail/operator-guide.md", "/usr/share/doc/tlpmail/admin-guide.md",
                  "/usr/share/doc/tlpmail/member-guide.md", "/usr/share/doc/tlpmail/configuration.md",
                  "/usr/share/doc/tlpmail/copyright", "/usr/share/doc/tlpmail/mta/postfix-main.cf",
                  "/usr/share/doc/tlpmail/mta/exim-router.conf",
                  "/usr/share/doc/tlpmail/mta/opensmtpd.conf"):
            self.assertTrue(os.path.isfile(self.path(f)), f)
        # Nothing under /usr/local, no test configuration, no state in the package.
        for d in ("usr/local", "var", "etc/tlpmail/gnupg"):
            self.assertFalse(os.path.exists(self.path(d)), d)
        unit = read(self.path("/lib/systemd/system/tlpmail.service"))
        self.assertIn("ExecStart=/usr/sbin/tlpmaild --config /etc/tlpmail/tlpmail.toml", unit)
        self.assertIn("ExecStartPre=/usr/bin/tlpmailctl --config /etc/tlpmail/tlpmail.toml", unit)
        self.assertIn("Documentation=file:/usr/share/doc/tlpmail/operator-guide.md", unit)
        self.assertNotRegex(unit, r"@[A-Z_]+@", "an unfilled @WORD@ in the unit")
        sysusers = read(self.path("/usr/lib/sysusers.d/tlpmail.conf"))
        self.assertRegex(sysusers, r"(?m)^u tlpmail .*/var/lib/tlpmail")

    def test_configuration_has_no_keys_and_speaks_lmtp(self):
        etc = self.path("/etc/tlpmail")
        files = sorted(os.path.relpath(os.path.join(d, n), etc)
                       for d, _, ns in os.walk(etc) for n in ns)
        self.assertEqual(files, ["directory.toml", "keys/README", "lists.d/ops.toml.example",
                                 "tlpmail.toml"])
        for f in files:
            text = read(os.path.join(etc, f), "rb")
            self.assertNotIn(b"BEGIN PGP", text, f)
            self.assertNotIn(b"PRIVATE KEY", text, f)
        main = read(os.path.join(etc, "tlpmail.toml"))
        self.assertRegex(main, r'(?m)^protocol = "lmtp"')
        self.assertRegex(main, r'(?m)^state_dir = "/var/lib/tlpmail"')
        directory = read(os.path.join(etc, "directory.toml"))
        self.assertNotRegex(directory, r"(?m)^\[\[person\]\]", "people in the shipped directory")
        example = read(os.path.join(etc, "lists.d/ops.toml.example"))
        self.assertRegex(example, r'(?m)^address = "ops@')
        # Every file of /etc/tlpmail is a conffile: an upgrade keeps the operator's changes.
        conffiles = read(os.path.join(self.control, "conffiles")).split()
        self.assertEqual(sorted(conffiles), sorted("/etc/tlpmail/" + f for f in files))
        # The shipped configuration passes its own check (no list, no error).
        p = run([self.path("/usr/bin/tlpmailctl"), "--config", os.path.join(etc, "tlpmail.toml"),
                 "check-config"])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_dependencies(self):
        depends = deb_field(self.deb, "Depends")
        for pkg in ("gnupg", "gpg-agent", "adduser", "libgpgme11", "libgmime-3.0-0",
                    "libsqlite3-0", "libsystemd0", "libc6"):
            self.assertRegex(depends, rf"(^|, ){re.escape(pkg)}( |,|$)", depends)
        self.assertEqual(deb_field(self.deb, "Package"), "tlpmail")

    def test_maintainer_scripts(self):
        postinst = read(os.path.join(self.control, "postinst"))
        self.assertIn("adduser --system", postinst)
        # Remove stops the service; the install does not enable it (a
        # disabled unit is not started by deb-systemd-invoke).
        prerm = read(os.path.join(self.control, "prerm"))
        self.assertIn("deb-systemd-invoke stop 'tlpmail.service'", prerm)
        postrm = read(os.path.join(self.control, "postrm"))
        self.assertIn("rm -rf /etc/tlpmail", postrm)
        self.assertNotRegex(postrm, r"rm -rf /var/lib/tlpmail\s*$", "purge must keep the state")

    def test_unit_exposure_score(self):
        p = run(["systemd-analyze", "security", "--offline=true", "--root=" + self.root,
                 "tlpmail.service"])
        m = re.search(r"Overall exposure level for tlpmail\.service: ([0-9.]+)", p.stdout + p.stderr)
        if not m:
            self.skipTest(f"systemd-analyze security gave no score: {p.stdout[-500:]}{p.stderr[-500:]}")
        print(f"exposure score: {m.group(1)}")
        self.assertLessEqual(float(m.group(1)), 2.0, p.stdout)

    def test_man_pages_render_without_warnings(self):
        pages = glob.glob(self.path("/usr/share/man/man*/*"))
        self.assertEqual(len(pages), 3, pages)
        for page in pages:
            p = run(["man", "--warnings", "-l", page], env=dict(os.environ, MANWIDTH="80"))
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stderr.strip(), "", f"{page}: {p.stderr}")
            self.assertIn("tlpmail", p.stdout)

    def test_install_remove_purge_on_this_machine(self):
        """dpkg -i, remove and purge for real: only on a machine without a
        tlpmail of its own (nothing of the operator's is touched), as root."""
        if os.geteuid() != 0:
            self.skipTest("not root: dpkg -i not tried")
        state = run(["dpkg-query", "-W", "-f", "${Status}", "tlpmail"]).stdout
        theirs = [p for p in ("/etc/tlpmail", "/var/lib/tlpmail") if os.path.exists(p)]
        if "installed" in state or theirs or run(["getent", "passwd", "tlpmail"]).returncode == 0:
            self.skipTest(f"this machine has a tlpmail already ({state or theirs or 'user'}): not touched")
        try:
            p = run(["dpkg", "-i", self.deb])
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            pw = run(["getent", "passwd", "tlpmail"]).stdout
            self.assertRegex(pw, r"^tlpmail:x:\d+:\d+:[^:]*:/var/lib/tlpmail:/usr/sbin/nologin")
            self.assertFalse(os.path.lexists(
                "/etc/systemd/system/multi-user.target.wants/tlpmail.service"), "unit enabled")
            st = os.stat("/var/lib/tlpmail")
            self.assertEqual(st.st_mode & 0o777, 0o700)
            self.assertEqual(run(["stat", "-c", "%U", "/var/lib/tlpmail"]).stdout.strip(), "tlpmail")
            # The installed unit verifies: its programs exist, its man pages are found.
            p = run(["systemd-analyze", "verify", "/lib/systemd/system/tlpmail.service"])
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual((p.stdout + p.stderr).strip(), "")
            p = run(["man", "-w", "tlpmail.toml.5"])
            self.assertEqual(p.returncode, 0, p.stderr)
            # A file of the operator's in both folders.
            with open("/etc/tlpmail/lists.d/x.toml", "w") as f:
                f.write("# operator's\n")
            with open("/var/lib/tlpmail/marker", "w") as f:
                f.write("state\n")
            p = run(["dpkg", "-r", "tlpmail"])
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertFalse(os.path.exists("/usr/sbin/tlpmaild"))
            self.assertTrue(os.path.exists("/etc/tlpmail/tlpmail.toml"))
            self.assertTrue(os.path.exists("/var/lib/tlpmail/marker"))
            p = run(["dpkg", "-P", "tlpmail"])
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            said = p.stdout + p.stderr
            self.assertIn("deleting /etc/tlpmail", said)
            self.assertIn("KEEPING /var/lib/tlpmail", said)
            self.assertIn("secret keys", said)
            self.assertFalse(os.path.exists("/etc/tlpmail"))
            self.assertTrue(os.path.exists("/var/lib/tlpmail/marker"))
        finally:
            run(["dpkg", "-P", "tlpmail"])
            shutil.rmtree("/var/lib/tlpmail", ignore_errors=True)
            shutil.rmtree("/etc/tlpmail", ignore_errors=True)
            if run(["getent", "passwd", "tlpmail"]).returncode == 0:
                run(["userdel", "tlpmail"])
            if run(["getent", "group", "tlpmail"]).returncode == 0:
                run(["groupdel", "tlpmail"])


class InstallPrefixTest(unittest.TestCase):
    """`cmake --install` for /usr and for /usr/local (into a scratch DESTDIR)
    gives a unit whose programs exist under that prefix, and installs no
    configuration unless the component `config` is asked for."""

    def test_unit_follows_the_prefix(self):
        for prefix, sbin, bin_ in (("/usr", "/usr/sbin", "/usr/bin"),
                                   ("/usr/local", "/usr/local/sbin", "/usr/local/bin")):
            with tempfile.TemporaryDirectory(prefix="tlpinst-", dir="/tmp") as dest:
                p = run(["cmake", "--install", BUILD, "--prefix", prefix],
                        env=dict(os.environ, DESTDIR=dest))
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                unit = read(os.path.join(dest, prefix.lstrip("/"), "lib/systemd/system/tlpmail.service"))
                execs = re.findall(r"(?m)^Exec\w+=(/\S+)", unit)
                self.assertIn(f"{sbin}/tlpmaild", execs)
                self.assertIn(f"{bin_}/tlpmailctl", execs)
                for exe in execs:
                    if exe.startswith(prefix + "/"):
                        self.assertTrue(os.access(dest + exe, os.X_OK), f"{prefix}: {exe}")
                self.assertIn(f"file:{prefix}/share/doc/tlpmail/operator-guide.md", unit)
                self.assertFalse(os.path.exists(os.path.join(dest, "etc")), "config installed")
                self.assertTrue(os.path.isfile(os.path.join(
                    dest, prefix.lstrip("/"), "share/man/man8/tlpmaild.8")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
