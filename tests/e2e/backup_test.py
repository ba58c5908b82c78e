"""End-to-end test of tlpmailctl backup and restore (issue 13): a backup of
the state of a RUNNING tlpmaild (copies of an accepted message still
waiting for the relay, a second accepted message still in the spool), the
state destroyed, the backup restored, and then both are delivered, signed
by the same list key, and a new posting encrypted to that list key is
accepted and fanned out. Also: the
manifest and the modes of the backup, the refusals of restore (a state
that is not empty, a running daemon, a tampered backup). Real gpg, real
SMTP sink; standard library only."""

import os
import re
import secrets
import shutil
import stat
import subprocess
import sys
import tomllib
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import delivery_test as dt  # noqa: E402
import harness  # noqa: E402

TLPMAILCTL = os.environ.get("TLPMAILCTL", "build/daemon/tlpmailctl")


def tearDownModule():
    dt.tearDownModule()


def modes(root):
    """{relative path: (is_dir, mode & 0o777)} of everything below root."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            out[os.path.relpath(path, root)] = (stat.S_ISDIR(st.st_mode), st.st_mode & 0o777)
    return out


class BackupRestoreTest(dt.RelayFaultTest):
    """The relay is down at first: the copies of the first posting wait in
    the outbox while the backup is taken."""

    def setUp(self):
        self.start_with_relay_down()
        self.backup = os.path.join(harness.helpers.short_tempdir("tlpbk"), "backup")
        self.addCleanup(shutil.rmtree, os.path.dirname(self.backup), True)

    def ctl(self, *args):
        p = subprocess.run([os.path.abspath(TLPMAILCTL), "--config", self.site.config] +
                           list(args), capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout, p.stderr

    def destroy_state(self):
        gnupg = os.path.join(self.site.state, "gnupg")
        subprocess.run(["gpgconf", "--homedir", gnupg, "--kill", "all"], capture_output=True)
        shutil.rmtree(self.site.state)

    def test_backup_destroy_restore(self):
        p = self.p
        marker = "BODY-MARKER-" + secrets.token_hex(8)
        qid = self.post("[TLP:AMBER] Before the backup", marker)
        self.wait_outbox([("copy", p[k].email, "deferred") for k in self.EXPECTED],
                         "every copy deferred while the relay is down")
        # A second posting stays in the spool (tlpmaild --hold-spool): accepted,
        # not yet fanned out, when the backup is taken.
        self.stop_daemon()
        self.site.start("--hold-spool")
        marker_held = "BODY-MARKER-" + secrets.token_hex(8)
        qid_held = self.post("[TLP:AMBER] Held in the spool", marker_held)
        self.assertEqual(self.site.query("SELECT state FROM spool_messages WHERE id = ?",
                                         (qid_held,)), [("received",)])
        [(schema,)] = self.site.query("PRAGMA user_version")

        # Backup while tlpmaild runs.
        code, out, err = self.ctl("backup", self.backup)
        self.assertEqual(code, 0, out + err)
        self.assertIn("SECRET keys", out)
        with open(os.path.join(self.backup, "manifest.toml"), "rb") as f:
            manifest = tomllib.load(f)
        self.assertEqual(manifest["format"], 1)
        self.assertEqual(manifest["schema"], schema)
        self.assertRegex(manifest["version"], r"^\d+\.\d+\.\d+$")
        self.assertRegex(manifest["created"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        listed = {f["path"] for f in manifest["files"]}
        self.assertIn("tlpmail.db", listed)
        self.assertTrue(any(re.match(r"gnupg/private-keys-v1\.d/[0-9A-F]{40}\.key$", f)
                            for f in listed), listed)
        self.assertIn("gnupg/pubring.kbx", listed)
        self.assertIn(f"spool/msg/{qid_held}", listed)
        self.assertNotIn(f"spool/msg/{qid}", listed)  # fanned out: its copies are in the outbox
        self.assertFalse(any("/S." in f or f.endswith(".lock") for f in listed), listed)
        for path, (is_dir, mode) in modes(self.backup).items():
            self.assertEqual(mode, 0o700 if is_dir else 0o600, path)
        self.assertEqual(stat.S_IMODE(os.stat(self.backup).st_mode), 0o700)
        # The copy of the database holds the waiting copies.
        import sqlite3
        db = sqlite3.connect(os.path.join(self.backup, "tlpmail.db"))
        waiting = db.execute("SELECT recipient, state FROM outbox_copies").fetchall()
        db.close()
        self.assertEqual(sorted(waiting), sorted((p[k].email, "deferred") for k in self.EXPECTED))

        # A second backup never goes into a used folder.
        code, out, err = self.ctl("backup", self.backup)
        self.assertEqual(code, 1)
        self.assertIn("is not an empty folder", err)
        # Restore refuses while tlpmaild runs, even with --force.
        code, out, err = self.ctl("restore", self.backup, "--force")
        self.assertEqual(code, 1)
        self.assertRegex(err, r"tlpmaild \(pid \d+\) is running on ")

        self.stop_daemon()
        code, out, err = self.ctl("restore", self.backup)
        self.assertEqual(code, 1)
        self.assertIn("is not empty: pass --force", err)

        # The disaster, then the restore.
        self.destroy_state()
        code, out, err = self.ctl("restore", self.backup)
        self.assertEqual(code, 0, out + err)
        self.assertIn("restored ", out)
        for path, (is_dir, mode) in modes(self.site.state).items():
            self.assertEqual(mode & 0o077, 0, path)

        # The same list key, the waiting copies delivered, a new posting fanned out.
        self.sink.start()
        mark = len(self.site.daemons)
        self.site.start()
        self.site.daemon.wait_log(rf" - list-key list={re.escape(dt.OPS)} "
                                  rf"fingerprint={self.list_fpr} created=no")
        self.wait_outbox([("copy", p[k].email, "delivered") for k in self.EXPECTED] * 2,
                         "the copies waiting and the message held at backup time delivered "
                         "after the restore")
        marker2 = "BODY-MARKER-" + secrets.token_hex(8)
        qid2 = self.post("[TLP:AMBER] After the restore", marker2)
        self.wait_outbox([("copy", p[k].email, "delivered") for k in self.EXPECTED] * 3,
                         "the new posting delivered with the restored list key")
        self.stop_daemon()
        self.assertNotIn("created=yes", "\n".join(d.log() for d in self.site.daemons[mark:]))
        got = self.by_recipient(self.sink.messages())
        for k in self.EXPECTED:
            person = p[k]
            self.assertEqual(len(got[person.email]), 3, self.log())
            texts = [self.open_copy(person, raw).decode() for _, raw in got[person.email]]
            for m in (marker, marker_held, marker2):
                self.assertEqual(sum(m in t for t in texts), 1, (person.email, m))
        outbox_ids = {r[1] for r in self.site.outbox()}
        self.assertEqual(outbox_ids, {qid, qid_held, qid2})

        # A tampered backup is refused before anything is replaced.
        with open(os.path.join(self.backup, "tlpmail.db"), "r+b") as f:
            f.seek(200)
            byte = f.read(1)
            f.seek(200)
            f.write(bytes([byte[0] ^ 0xFF]))
        code, out, err = self.ctl("restore", self.backup, "--force")
        self.assertEqual(code, 1)
        self.assertIn("tlpmail.db differs from the manifest", err)
        self.assertTrue(os.path.exists(os.path.join(self.site.state, "tlpmail.db")))


if __name__ == "__main__":
    unittest.main()
