"""Shared helpers for tlpmail's end-to-end tests: short temp dirs, real gpg
key generation (test-only keys, made at test time), and config trees.
Standard library only; every test process cleans up what it started."""

import datetime
import os
import shutil
import subprocess
import tempfile
import textwrap


def short_tempdir(prefix="tlpe"):
    """A temp folder with a short path (gpg-agent sockets live inside)."""
    return tempfile.mkdtemp(prefix=prefix + "-", dir="/tmp")


def later(faketime, seconds):
    """A --faked-system-time value (YYYYMMDDTHHMMSS) `seconds` later. The
    faked clock runs on from its start, so a subkey made "at" the same fake
    time as its primary could predate it ("Time conflict" on a slow run)."""
    if not faketime:
        return faketime
    t = datetime.datetime.strptime(faketime, "%Y%m%dT%H%M%S")
    return (t + datetime.timedelta(seconds=seconds)).strftime("%Y%m%dT%H%M%S")


class GnuPG:
    """A throwaway GnuPG home for generating and exporting test-only keys."""

    def __init__(self):
        self.home = short_tempdir("tlpg")
        os.chmod(self.home, 0o700)

    def run(self, *args, faketime=None, check=True):
        cmd = ["gpg", "--homedir", self.home, "--batch", "--yes", "--quiet",
               "--no-tty", "--passphrase", "", "--pinentry-mode", "loopback"]
        if faketime:
            cmd += ["--faked-system-time", faketime]
        return subprocess.run(cmd + list(args), check=check,
                              capture_output=True)

    def generate(self, uid, algo="ed25519", expire="never", faketime=None,
                 encryption=True):
        """Creates a key (primary signs, subkey encrypts); returns its
        primary fingerprint."""
        self.run("--quick-gen-key", uid, algo, "sign,cert", expire,
                 faketime=faketime)
        fpr = self.fingerprint(uid)
        if encryption:
            sub = "cv25519" if algo == "ed25519" else algo
            self.run("--quick-add-key", fpr, sub, "encr", expire,
                     faketime=later(faketime, 600))
        return fpr

    def fingerprint(self, uid):
        out = self.run("--with-colons", "--list-keys", "=" + uid).stdout
        for line in out.decode().splitlines():
            if line.startswith("fpr:"):
                return line.split(":")[9]
        raise RuntimeError("no key for " + uid)

    def export(self, fpr, path):
        data = self.run("--armor", "--export", fpr).stdout
        with open(path, "wb") as f:
            f.write(data)

    def revoke(self, fpr):
        rev = os.path.join(self.home, "openpgp-revocs.d", fpr + ".rev")
        with open(rev) as f:
            text = f.read().replace(":-----BEGIN PGP PUBLIC KEY BLOCK",
                                    "-----BEGIN PGP PUBLIC KEY BLOCK")
        self.run("--import", input_text=None, check=True) if False else None
        subprocess.run(["gpg", "--homedir", self.home, "--batch", "--quiet",
                        "--import"], input=text.encode(), check=True,
                       capture_output=True)

    def close(self):
        subprocess.run(["gpgconf", "--homedir", self.home, "--kill", "all"],
                       capture_output=True)
        shutil.rmtree(self.home, ignore_errors=True)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(textwrap.dedent(text).lstrip("\n"))


def person_toml(email, name, fpr, clearance="RED", kind="person"):
    return textwrap.dedent(f"""
        [[person]]
        email = "{email}"
        name = "{name}"
        organization = "Test Org"
        country = "AT"
        fingerprint = "{fpr}"
        clearance = "{clearance}"
        kind = "{kind}"
        """)


def list_toml(address, members, admins=None, **keys):
    """The text of a lists.d file: `address`, then `keys` as strings in the
    order given (tlp_ceiling, tlp_default, ...), then `members` and `admins`
    (addresses; the first member when None)."""
    def quoted(addresses):
        return ", ".join(f'"{a}"' for a in addresses)
    lines = [f'address = "{address}"'] + [f'{k} = "{v}"' for k, v in keys.items()]
    lines += [f"members = [{quoted(members)}]", f"admins = [{quoted(admins or members[:1])}]"]
    return "\n".join(lines) + "\n"
