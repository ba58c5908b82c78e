"""The man pages cannot rot (issue 13): every command, sub-command and
option that `tlpmailctl --help` lists, and every option of `tlpmaild
--help`, is described in tlpmailctl(8) / tlpmaild(8) (docs/man/*.scd, the
source the build turns into roff), and each built page renders with
`man --warnings -l` without a warning. A command added to --help without
its man page entry fails here, and so does a configuration key that the
parser knows (lib/config/) and tlpmail.toml(5) does not describe."""

import os
import re
import subprocess
import unittest

SOURCE = os.environ.get("TLPMAIL_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MAN_DIR = os.environ.get("TLPMAIL_MAN_DIR", os.path.join(SOURCE, "build", "man"))
TLPMAILCTL = os.environ.get("TLPMAILCTL", os.path.join(SOURCE, "build", "daemon", "tlpmailctl"))
TLPMAILD = os.environ.get("TLPMAILD", os.path.join(SOURCE, "build", "daemon", "tlpmaild"))


def help_text(program):
    p = subprocess.run([program, "--help"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout


def scd(name):
    with open(os.path.join(SOURCE, "docs", "man", name + ".scd")) as f:
        return f.read()


def commands(help_out):
    """[(command, sub-command or None)] of the `commands:` section: each
    entry line starts with two spaces and a lower-case word; a second word
    in lower case (comcheck start) is a sub-command."""
    out = []
    section = help_out.split("\ncommands:\n", 1)[1].split("\noptions:\n", 1)[0]
    for line in section.splitlines():
        m = re.match(r"^  ([a-z][a-z0-9-]*)(?: ([a-z][a-z0-9-]*)(?= |$))?", line)
        if m:
            out.append((m.group(1), m.group(2)))
    return out


def options(help_out):
    return sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-z])\b", help_out)))


class ManPagesTest(unittest.TestCase):
    def test_parser_finds_the_commands(self):
        # Guards the parser itself: --help has commands it must see.
        found = commands(help_text(TLPMAILCTL))
        self.assertIn(("check-config", None), found)
        self.assertIn(("mta-maps", None), found)
        self.assertGreaterEqual(len(found), 10, found)

    def test_every_tlpmailctl_command_is_in_the_man_page(self):
        page = scd("tlpmailctl.8")
        commands_part = page.split("\n# COMMANDS\n", 1)[1].split("\n# EXIT STATUS\n", 1)[0]
        missing = []
        for cmd, sub in commands(help_text(TLPMAILCTL)):
            # An entry of COMMANDS: a line that starts with *cmd* (or
            # *cmd sub* / *cmd* *sub* for a sub-command).
            pattern = (rf"(?m)^\*{re.escape(cmd)}\*" if sub is None else
                       rf"(?m)^\*{re.escape(cmd)}( |\* \*){re.escape(sub)}\*")
            if not re.search(pattern, commands_part):
                missing.append(cmd + (" " + sub if sub else ""))
        self.assertEqual(missing, [], "commands of `tlpmailctl --help` missing from "
                         "the COMMANDS section of docs/man/tlpmailctl.8.scd")

    def test_every_option_is_in_the_man_page(self):
        for program, page in ((TLPMAILCTL, "tlpmailctl.8"), (TLPMAILD, "tlpmaild.8")):
            text = scd(page)
            missing = [o for o in options(help_text(program)) if f"*{o}*" not in text
                       and f"*{o}=" not in text]
            self.assertEqual(missing, [], f"options of `{os.path.basename(program)} --help` "
                             f"missing from docs/man/{page}.scd")

    def test_every_configuration_key_is_in_tlpmail_toml_5(self):
        """The keys the parser knows (the k...Keys tables of lib/config/,
        which also drive its "unknown key" errors) are all described in
        tlpmail.toml(5)."""
        page = scd("tlpmail.toml.5")
        found = {}
        for name in ("main_file.cc", "list_file.cc", "directory_file.cc"):
            with open(os.path.join(SOURCE, "lib", "config", name)) as f:
                code = f.read()
            for table, body in re.findall(r"(k\w+Keys)\s*=\s*\{(.*?)\};", code, re.S):
                found[f"{name}:{table}"] = re.findall(r'"([a-z_]+)"', body)
        self.assertGreaterEqual(len(found), 6, found)  # guards the regex
        missing = [f"{where}: {k}" for where, keys in found.items() for k in keys
                   if f"*{k}*" not in page]
        self.assertEqual(missing, [], "configuration keys missing from docs/man/tlpmail.toml.5.scd")

    def test_exit_codes_documented(self):
        for page in ("tlpmailctl.8", "tlpmaild.8"):
            text = scd(page)
            section = text.split("\n# EXIT STATUS\n", 1)[1]
            for code in ("0", "1", "2"):
                self.assertRegex(section, rf"(?m)^\*{code}\*", page)

    def test_pages_render_without_warnings(self):
        pages = sorted(os.listdir(MAN_DIR))
        self.assertEqual(pages, ["tlpmail.toml.5", "tlpmailctl.8", "tlpmaild.8"])
        for page in pages:
            p = subprocess.run(["man", "--warnings", "-l", os.path.join(MAN_DIR, page)],
                               capture_output=True, text=True, timeout=60,
                               env=dict(os.environ, MANWIDTH="80"))
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stderr.strip(), "", f"{page}: {p.stderr}")
            self.assertIn("NAME", p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
