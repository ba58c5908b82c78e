"""Mail to LIST-request@ through the real tlpmaild, real gpg and a real SMTP
sink (issue 11): a member's signed commands are answered from the -request
address, signed by the list key and encrypted to the member (help, key with
the list key attached, members, my-key; an unknown line stops the rest);
someone the list cannot encrypt to gets only the list key, in clear, once a
day; everything else gets no answer, only an audit row and a log line; a
replayed request is not answered twice. Test-only keys made at test time."""

import email
import email.policy
import os
import re
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import harness  # noqa: E402
from corpus_mime import as_part, crlf, encrypted_multipart, signed_multipart  # noqa: E402
from delivery_test import Person, armored_of, wait_for  # noqa: E402
from intake_security_test import (OPS, PeopleSiteCase, alice_and_bob, header_block,  # noqa: E402
                                  message, text_entity)

REQUEST = "ops-request@" + harness.LIST_DOMAIN
TLPMAILCTL = os.environ.get("TLPMAILCTL", "build/daemon/tlpmailctl")


class RequestTest(PeopleSiteCase):

    @classmethod
    def setUpClass(cls):
        cls.alice, cls.bob = alice_and_bob()
        cls.carol = Person("carol@c.example", "Carol Outsider", "GREEN")  # not on ops@
        cls.start_site([cls.alice, cls.bob, cls.carol], {"ops": ("AMBER", [cls.alice, cls.bob])},
                       "--retry-seconds", "1")
        cls.ops_fpr = cls.list_fprs[OPS]

    def signed_request(self, person, text, encrypt=True):
        """A request signed by `person` (and encrypted to the list key)."""
        part = text_entity(text, protected=[("To", REQUEST), ("Subject", "request")])
        if encrypt:
            armored = person.home.encrypt([self.ops_fpr, person.fpr], part, signer=person.fpr)
            ctype, body = encrypted_multipart(armored)
        else:
            ctype, body = signed_multipart(part, person.home.detach_sign(person.fpr, part))
        return message(header_block(person, REQUEST, "..."), ctype, body)

    def send(self, sender_address, data):
        code, text = harness.smtp_send(self.site.daemon.port, sender_address, [REQUEST], data)
        self.assertEqual(code, 250, text)
        return harness.queued_id(text)

    def processed(self, qid):
        """Waits for the request's audit row; returns (refusal, reason)."""
        row = wait_for(lambda: self.site.query(
            "SELECT refusal, reason FROM audit_log WHERE queue_id = ? AND verdict = 'request'",
            (qid,)), f"the request {qid} to be processed", log=self.log)
        return row[0]

    def replies_to(self, address):
        return [(m, raw) for m, raw in self.sink.messages() if m["rcpt_to"] == [address]]

    def wait_replies(self, address, n):
        return wait_for(lambda: (r := self.replies_to(address)) and len(r) >= n and r,
                        f"{n} replies to {address}", log=self.log)

    def test_member_commands_are_answered_signed_and_encrypted(self):
        before = len(self.replies_to(self.bob.email))
        qid = self.send(self.bob.email, self.signed_request(
            self.bob, "help\nkey\nmembers\nMY-KEY\n\n> quoted line\n-- \nBob\n"))
        self.assertEqual(self.processed(qid)[0], None)
        meta, raw = self.wait_replies(self.bob.email, before + 1)[-1]
        self.assertEqual(meta["mail_from"], "ops-bounces@" + harness.LIST_DOMAIN)
        outer = email.message_from_bytes(raw, policy=email.policy.default)
        self.assertEqual(email.utils.parseaddr(outer["From"])[1], REQUEST)
        self.assertEqual(outer["Auto-Submitted"], "auto-replied")
        self.assertEqual(outer.get_content_type(), "multipart/encrypted")
        code, plain, status = self.bob.decrypt(armored_of(raw))
        self.assertEqual(code, 0, status)
        valid = [s.split() for s in status if s.startswith("VALIDSIG ")]
        self.assertEqual(valid[0][-1], self.ops_fpr)  # signed by the list key
        inner = email.message_from_bytes(plain, policy=email.policy.default)
        text_part, key_part = inner.get_payload()
        text = text_part.get_content().replace("\r\n", "\n")
        self.assertIn("> help\n", text)
        self.assertIn("> members\n2 members of " + OPS, text)
        self.assertIn("Alice Example (Test Org, AT)", text)
        self.assertIn("Bob Beispiel (Test Org, AT)", text)
        self.assertNotIn("Carol", text)
        self.assertIn("> my-key\n", text)
        self.assertIn(" ".join(self.bob.fpr[i:i + 4] for i in range(0, 40, 4)), text)
        self.assertEqual(key_part.get_content_type(), "application/pgp-keys")
        imported = subprocess.run(["gpg", "--batch", "--with-colons", "--show-keys"],
                                  input=key_part.get_payload(decode=True), capture_output=True)
        self.assertIn(self.ops_fpr, imported.stdout.decode())

    def test_unknown_line_stops_the_rest(self):
        before = len(self.replies_to(self.alice.email))
        qid = self.send(self.alice.email, self.signed_request(self.alice, "help\nsubscribe me\nkey\n"))
        self.processed(qid)
        _, raw = self.wait_replies(self.alice.email, before + 1)[-1]
        _, plain, _ = self.alice.decrypt(armored_of(raw))
        inner = email.message_from_bytes(plain, policy=email.policy.default)
        self.assertEqual(inner.get_content_type(), "text/plain")  # no key attached
        text = inner.get_content().replace("\r\n", "\n")
        self.assertIn("> help\n", text)
        self.assertIn('Stopped at a line that is not a command: "subscribe me"', text)
        self.assertNotIn("> key\n", text)

    def test_non_member_gets_only_the_key_in_clear_once_a_day(self):
        # Carol is pinned but not a member: "members" gets nothing.
        qid = self.send(self.carol.email, self.signed_request(self.carol, "members\n"))
        refusal, reason = self.processed(qid)
        self.assertEqual(refusal, "ignored")
        self.assertIn("not a member", reason)
        # "key" gets the key in clear.
        qid = self.send(self.carol.email, self.signed_request(self.carol, "key\n", encrypt=False))
        self.processed(qid)
        [(_, raw)] = self.wait_replies(self.carol.email, 1)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.assertEqual(msg.get_content_type(), "multipart/mixed")
        self.assertEqual(msg["Auto-Submitted"], "auto-replied")
        text, key = msg.get_payload()
        self.assertIn(" ".join(self.ops_fpr[i:i + 4] for i in range(0, 40, 4)), text.get_content())
        self.assertEqual(key.get_content_type(), "application/pgp-keys")
        # Asked again the same day (another signed message): no second answer.
        qid = self.send(self.carol.email,
                        self.signed_request(self.carol, "key\n> again\n", encrypt=False))
        refusal, reason = self.processed(qid)
        self.assertIn("24 hours", reason)
        time.sleep(1.5)
        self.assertEqual(len(self.replies_to(self.carol.email)), 1)

    def test_unsigned_requests(self):
        stranger = "stranger@x.example"
        data = (f"From: {stranger}\r\nTo: {REQUEST}\r\nSubject: key please\r\n"
                f"Message-ID: <s1@x.example>\r\n\r\nkey\r\n").encode()
        qid = self.send(stranger, data)
        refusal, _ = self.processed(qid)
        self.assertEqual(refusal, "unsigned_message")
        [(_, raw)] = self.wait_replies(stranger, 1)
        self.assertIn(b"application/pgp-keys", raw)
        # Anything else unsigned: no answer at all.
        other = "other@x.example"
        qid = self.send(other, (f"From: {other}\r\nTo: {REQUEST}\r\nSubject: hi\r\n\r\n"
                                "members\r\n").encode())
        self.assertEqual(self.processed(qid)[0], "unsigned_message")
        # Automatic mail is never answered, not even for the key.
        robot = "robot@x.example"
        qid = self.send(robot, (f"From: {robot}\r\nTo: {REQUEST}\r\nAuto-Submitted: auto-replied"
                                "\r\nSubject: key\r\n\r\nkey\r\n").encode())
        self.assertIn("Auto-Submitted", self.processed(qid)[1])
        time.sleep(1.5)
        self.assertEqual(self.replies_to(other), [])
        self.assertEqual(self.replies_to(robot), [])

    def test_replayed_request_is_not_answered_twice(self):
        data = self.signed_request(self.alice, "my-key\n")
        before = len(self.replies_to(self.alice.email))
        self.processed(self.send(self.alice.email, data))
        self.wait_replies(self.alice.email, before + 1)
        refusal, _ = self.processed(self.send(self.alice.email, data))
        self.assertEqual(refusal, "replay")
        time.sleep(1.5)
        self.assertEqual(len(self.replies_to(self.alice.email)), before + 1)

    def test_audit_shows_requests(self):
        qid = self.send(self.bob.email, self.signed_request(self.bob, "help\n"))
        self.processed(qid)
        p = subprocess.run([os.path.abspath(TLPMAILCTL), "--config", self.site.config, "--json",
                            "audit", "--list", OPS], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        entries = [e for e in __import__("json").loads(p.stdout)["entries"]
                   if e["queue_id"] == qid]
        self.assertEqual(len(entries), 1)
        self.assertEqual(entries[0]["verdict"], "request")
        self.assertEqual(entries[0]["signer_email"], self.bob.email)
        self.assertIn("replied", entries[0]["reason"])


if __name__ == "__main__":
    unittest.main()
