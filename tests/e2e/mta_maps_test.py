"""tlpmailctl mta-maps (issue 13) on the example configuration (config/,
three lists, protocol smtp) and on copies of it with other settings: every
list's posting, -request and -bounces address, lower-cased, once each, in
the format each MTA's snippet in docs/mta/ reads; the next hop from the
first listen address and the protocol; --json; usage errors. The MTAs
themselves read these tables in mta_postfix/exim/opensmtpd_test.py."""

import json
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402

SOURCE = os.environ.get("TLPMAIL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
TLPMAILCTL = os.path.abspath(os.environ.get("TLPMAILCTL", "build/daemon/tlpmailctl"))
EXAMPLE = os.path.join(SOURCE, "config")
ADDRESSES = [f"{l}{s}@lists.example.org" for l in ("community", "csirt-ops", "strategic")
             for s in ("", "-request", "-bounces")]


def ctl(config, *args):
    return subprocess.run([TLPMAILCTL, "--config", config, "mta-maps"] + list(args),
                          capture_output=True, text=True, timeout=60)


def entries(text):
    return [l for l in text.splitlines() if l and not l.startswith("#")]


class MtaMapsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = helpers.short_tempdir("tlpm")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.config = os.path.join(EXAMPLE, "tlpmail.toml")

    def variant(self, old, new):
        """A copy of config/ whose tlpmail.toml has `old` replaced by `new`."""
        d = os.path.join(self.tmp, f"v{len(os.listdir(self.tmp))}")
        shutil.copytree(EXAMPLE, d, ignore=shutil.ignore_patterns("packaged"))
        main = os.path.join(d, "tlpmail.toml")
        with open(main) as f:
            text = f.read()
        self.assertEqual(text.count(old), 1, old)
        with open(main, "w") as f:
            f.write(text.replace(old, new))
        return main

    def sorted_addresses(self, lines):
        return sorted(l.split()[0].rstrip(":") for l in lines)

    def test_postfix_one_table_with_next_hop(self):
        p = ctl(self.config, "--format", "postfix")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = entries(p.stdout)
        self.assertEqual(self.sorted_addresses(lines), sorted(ADDRESSES))
        for l in lines:
            self.assertRegex(l, r"^\S+@lists\.example\.org +smtp:\[127\.0\.0\.1\]:10030$")
        self.assertIn("# relay_domains = lists.example.org", p.stdout)

    def test_lmtp_and_wildcard_listen(self):
        main = self.variant('protocol = "smtp"', 'protocol = "lmtp"')
        p = ctl(main, "--format", "postfix")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(all(l.endswith("lmtp:[127.0.0.1]:10030") for l in entries(p.stdout)))
        main = self.variant('listen = ["127.0.0.1:10030"]', 'listen = ["0.0.0.0:2424"]')
        p = ctl(main, "--format", "postfix")
        self.assertTrue(all(l.endswith("smtp:[127.0.0.1]:2424") for l in entries(p.stdout)),
                        p.stdout)

    def test_exim_lsearch_and_opensmtpd_list(self):
        p = ctl(self.config, "--format", "exim")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = entries(p.stdout)
        self.assertTrue(all(re.fullmatch(r"[a-z.-]+@lists\.example\.org:", l) for l in lines), lines)
        self.assertEqual(self.sorted_addresses(lines), sorted(ADDRESSES))
        p = ctl(self.config, "--format", "opensmtpd")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(sorted(entries(p.stdout)), sorted(ADDRESSES))

    def test_json(self):
        p = subprocess.run([TLPMAILCTL, "--config", self.config, "--json", "mta-maps",
                            "--format", "exim"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        j = json.loads(p.stdout)
        self.assertEqual(j["domains"], ["lists.example.org"])
        self.assertEqual(sorted(j["addresses"]), sorted(ADDRESSES))
        self.assertEqual((j["protocol"], j["host"], j["port"]), ("smtp", "127.0.0.1", 10030))

    def test_usage_errors(self):
        for args in ([], ["--format", "sendmail"]):
            p = ctl(self.config, *args)
            self.assertEqual(p.returncode, 2, (args, p.stdout, p.stderr))
            self.assertEqual(p.stdout, "")
        p = ctl(os.path.join(self.tmp, "missing.toml"), "--format", "postfix")
        self.assertEqual(p.returncode, 1, p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
