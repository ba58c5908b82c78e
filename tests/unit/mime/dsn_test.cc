// read_bounce() over the shapes real MTAs send back (Postfix, Exim,
// Exchange/Office 365, qmail, Sendmail's delay warning), vacation replies,
// read receipts and junk; parse_delivery_status() and the status code
// scanners as tables. The bounces are written here after real ones, with
// their addresses and hosts replaced.
#include "mime/dsn.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tlpmail::mime {
namespace {

// A Postfix bounce: Undelivered Mail Returned to Sender, 5.1.1.
const char* const kPostfix =
    "Return-Path: <>\r\n"
    "Date: Mon,  7 Dec 2026 10:01:02 +0100 (CET)\r\n"
    "From: MAILER-DAEMON@mx.b.example (Mail Delivery System)\r\n"
    "Subject: Undelivered Mail Returned to Sender\r\n"
    "To: ops-bounces+abcdefghijklmnopqrstuvwxyz@lists.example.org\r\n"
    "Auto-Submitted: auto-replied\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
    "\tboundary=\"4CG1Zp3gT9z9sWm.1607331662/mx.b.example\"\r\n"
    "Message-Id: <20261207090102.4CG1Zp3gT9z9sWm@mx.b.example>\r\n"
    "\r\n"
    "This is a MIME-encapsulated message.\r\n"
    "\r\n"
    "--4CG1Zp3gT9z9sWm.1607331662/mx.b.example\r\n"
    "Content-Description: Notification\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "This is the mail system at host mx.b.example.\r\n"
    "\r\n"
    "I'm sorry to have to inform you that your message could not\r\n"
    "be delivered to one or more recipients.\r\n"
    "\r\n"
    "<bob@b.example>: host mail.b.example[192.0.2.7] said: 550 5.1.1 <bob@b.example>:\r\n"
    "    Recipient address rejected: User unknown in local recipient table (in\r\n"
    "    reply to RCPT TO command)\r\n"
    "\r\n"
    "--4CG1Zp3gT9z9sWm.1607331662/mx.b.example\r\n"
    "Content-Description: Delivery report\r\n"
    "Content-Type: message/delivery-status\r\n"
    "\r\n"
    "Reporting-MTA: dns; mx.b.example\r\n"
    "X-Postfix-Queue-ID: 4CG1Zp3gT9z9sWm\r\n"
    "X-Postfix-Sender: rfc822; ops-bounces+abcdefghijklmnopqrstuvwxyz@lists.example.org\r\n"
    "Arrival-Date: Mon,  7 Dec 2026 10:01:01 +0100 (CET)\r\n"
    "\r\n"
    "Final-Recipient: rfc822; bob@b.example\r\n"
    "Original-Recipient: rfc822;bob@b.example\r\n"
    "Action: failed\r\n"
    "Status: 5.1.1\r\n"
    "Remote-MTA: dns; mail.b.example\r\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <bob@b.example>: Recipient address rejected:\r\n"
    "    User unknown in local recipient table\r\n"
    "\r\n"
    "--4CG1Zp3gT9z9sWm.1607331662/mx.b.example\r\n"
    "Content-Description: Undelivered Message Headers\r\n"
    "Content-Type: text/rfc822-headers\r\n"
    "\r\n"
    "From: \"Alice via ops\" <ops@lists.example.org>\r\n"
    "Subject: [TLP:AMBER] Encrypted message\r\n"
    "Message-ID: <tlpmail.1a2b.0c0d0e0f1011@lists.example.org>\r\n"
    "\r\n"
    "--4CG1Zp3gT9z9sWm.1607331662/mx.b.example--\r\n";

// Exim: Mail delivery failed, the report with the whole message returned.
const char* const kExim =
    "From: Mail Delivery System <Mailer-Daemon@smtp.c.example>\n"
    "To: ops-bounces+abcdefghijklmnopqrstuvwxyz@lists.example.org\n"
    "Subject: Mail delivery failed: returning message to sender\n"
    "Auto-Submitted: auto-replied\n"
    "X-Failed-Recipients: carol@c.example\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=1607331700-eximdsn-1804289383\n"
    "MIME-Version: 1.0\n"
    "\n"
    "--1607331700-eximdsn-1804289383\n"
    "Content-type: text/plain; charset=us-ascii\n"
    "\n"
    "This message was created automatically by mail delivery software.\n"
    "\n"
    "A message that you sent could not be delivered to one or more of its\n"
    "recipients. This is a permanent error. The following address(es) failed:\n"
    "\n"
    "  carol@c.example\n"
    "    host mx.c.example [198.51.100.3]\n"
    "    SMTP error from remote mail server after RCPT TO:<carol@c.example>:\n"
    "    550 mailbox unavailable\n"
    "\n"
    "--1607331700-eximdsn-1804289383\n"
    "Content-type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; smtp.c.example\n"
    "\n"
    "Action: failed\n"
    "Final-Recipient: rfc822;carol@c.example\n"
    "Status: 5.0.0\n"
    "Remote-MTA: dns; mx.c.example\n"
    "Diagnostic-Code: smtp; 550 mailbox unavailable\n"
    "\n"
    "--1607331700-eximdsn-1804289383\n"
    "Content-type: message/rfc822\n"
    "\n"
    "From: ops@lists.example.org\n"
    "Subject: [TLP:AMBER] x\n"
    "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=b\n"
    "\n"
    "--b\n"
    "Content-Type: application/pgp-encrypted\n"
    "\n"
    "Version: 1\n"
    "--b--\n"
    "\n"
    "--1607331700-eximdsn-1804289383--\n";

// Exchange Online: an HTML notification first, the report base64-encoded,
// a three-digit detail (5.1.10), two recipients of which one is ours.
const char* const kExchange =
    "From: postmaster@outlook.example\r\n"
    "To: ops-bounces+abcdefghijklmnopqrstuvwxyz@lists.example.org\r\n"
    "Subject: Undeliverable: [TLP:GREEN] weekly summary\r\n"
    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
    " boundary=\"_000_dsn_boundary\"\r\n"
    "MIME-Version: 1.0\r\n"
    "\r\n"
    "--_000_dsn_boundary\r\n"
    "Content-Type: multipart/alternative; boundary=\"_001_alt\"\r\n"
    "\r\n"
    "--_001_alt\r\n"
    "Content-Type: text/html; charset=\"us-ascii\"\r\n"
    "\r\n"
    "<html><body><p>Your message to dave@d.example couldn't be delivered.</p></body></html>\r\n"
    "--_001_alt--\r\n"
    "\r\n"
    "--_000_dsn_boundary\r\n"
    "Content-Type: message/delivery-status\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    // Reporting-MTA, then erin (delivered) and dave (failed, 5.1.10).
    "UmVwb3J0aW5nLU1UQTogZG5zO0FNMFBSMDFNQjEyMzQuZXVycHJkMDEucHJvZC5leGNoYW5nZWxh\r\n"
    "YnMuY29tDQoNCkZpbmFsLXJlY2lwaWVudDogcmZjODIyO2VyaW5AZC5leGFtcGxlDQpBY3Rpb246\r\n"
    "IGRlbGl2ZXJlZA0KU3RhdHVzOiAyLjAuMA0KDQpGaW5hbC1yZWNpcGllbnQ6IHJmYzgyMjtkYXZl\r\n"
    "QGQuZXhhbXBsZQ0KQWN0aW9uOiBmYWlsZWQNClN0YXR1czogNS4xLjEwDQpEaWFnbm9zdGljLUNv\r\n"
    "ZGU6IHNtdHA7NTUwIDUuMS4xMCBSRVNPTFZFUi5BRFIuUmVjaXBpZW50Tm90Rm91bmQ7IFJlY2lw\r\n"
    "aWVudCBub3QgZm91bmQgYnkgU01UUCBhZGRyZXNzIGxvb2t1cA0KWC1EaXNwbGF5LU5hbWU6IERh\r\n"
    "dmUNCg==\r\n"
    "\r\n"
    "--_000_dsn_boundary\r\n"
    "Content-Type: text/rfc822-headers\r\n"
    "\r\n"
    "Message-ID: <tlpmail.x.y@lists.example.org>\r\n"
    "\r\n"
    "--_000_dsn_boundary--\r\n";

// Sendmail/Postfix delay warning: Action delayed, 4.4.1.
const char* const kDelayed =
    "From: MAILER-DAEMON@mx.b.example (Mail Delivery System)\r\n"
    "Subject: Delayed Mail (still being retried)\r\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n"
    "MIME-Version: 1.0\r\n"
    "\r\n"
    "--B\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "This is the mail system at host mx.b.example. Your message could not be delivered\r\n"
    "for more than 4 hour(s). It will be retried until it is 5 day(s) old.\r\n"
    "--B\r\n"
    "Content-Type: message/delivery-status\r\n"
    "\r\n"
    "Reporting-MTA: dns; mx.b.example\r\n"
    "\r\n"
    "Final-Recipient: rfc822; bob@b.example\r\n"
    "Action: delayed\r\n"
    "Status: 4.4.1\r\n"
    "Diagnostic-Code: X-Postfix; connect to mail.b.example[192.0.2.7]:25: Connection timed out\r\n"
    "Will-Retry-Until: Sat, 12 Dec 2026 10:01:01 +0100 (CET)\r\n"
    "\r\n"
    "--B--\r\n";

// qmail: no report, the status in the text "(#5.1.1)".
const char* const kQmail =
    "From: MAILER-DAEMON@mail.q.example\n"
    "To: ops-bounces+abcdefghijklmnopqrstuvwxyz@lists.example.org\n"
    "Subject: failure notice\n"
    "\n"
    "Hi. This is the qmail-send program at mail.q.example.\n"
    "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
    "This is a permanent error; I've given up. Sorry it didn't work out.\n"
    "\n"
    "<quinn@q.example>:\n"
    "Sorry, no mailbox here by that name. (#5.1.1)\n"
    "\n"
    "--- Below this line is a copy of the message.\n";

// An old-style bounce with only a basic reply code in the text.
const char* const kBasicCode =
    "From: postmaster@r.example\n"
    "Subject: Returned mail: see transcript for details\n"
    "\n"
    "   ----- Transcript of session follows -----\n"
    "550 No such user here\n";

const char* const kVacation =
    "From: Bob <bob@b.example>\n"
    "To: ops-bounces+abcdefghijklmnopqrstuvwxyz@lists.example.org\n"
    "Subject: Out of Office: [TLP:AMBER] Encrypted message\n"
    "Auto-Submitted: auto-replied\n"
    "\n"
    "I am away until Monday. In urgent cases call the duty desk: 550 1234.\n";

const char* const kExchangeAutoReply =
    "From: Dave <dave@d.example>\n"
    "Subject: Automatic reply: weekly summary\n"
    "X-Auto-Response-Suppress: All\n"
    "\n"
    "Thanks, I will read your mail on my return.\n";

const char* const kReadReceipt =
    "From: erin@e.example\n"
    "Subject: Read: weekly summary\n"
    "Content-Type: multipart/report; report-type=disposition-notification; boundary=R\n"
    "MIME-Version: 1.0\n"
    "\n"
    "--R\n"
    "Content-Type: text/plain\n"
    "\n"
    "Your message was displayed.\n"
    "--R\n"
    "Content-Type: message/disposition-notification\n"
    "\n"
    "Final-Recipient: rfc822; erin@e.example\n"
    "Disposition: manual-action/MDN-sent-manually; displayed\n"
    "--R--\n";

const char* const kJunk =
    "From: spammer@x.example\n"
    "Subject: Cheap watches\n"
    "\n"
    "Buy now, error 550 free.\n";

TEST(ReadBounce, RealWorldShapes) {
  struct Case {
    std::string name;
    std::string raw;
    std::string expected_recipient;
    BounceKind kind;
    bool is_dsn;
    std::string status, action, recipient, diagnostic_has, remote_mta;
  };
  const std::vector<Case> cases = {
      {"postfix user unknown", kPostfix, "bob@b.example", BounceKind::permanent, true, "5.1.1",
       "failed", "bob@b.example", "550 5.1.1 <bob@b.example>: Recipient address rejected: User",
       "mail.b.example"},
      {"exim mailbox unavailable", kExim, "", BounceKind::permanent, true, "5.0.0", "failed",
       "carol@c.example", "550 mailbox unavailable", "mx.c.example"},
      {"exchange picks our recipient", kExchange, "dave@d.example", BounceKind::permanent, true,
       "5.1.10", "failed", "dave@d.example", "RESOLVER.ADR.RecipientNotFound", ""},
      {"exchange picks the failure without a hint", kExchange, "", BounceKind::permanent, true,
       "5.1.10", "failed", "dave@d.example", "550 5.1.10", ""},
      {"exchange: a delivered recipient is not a failure", kExchange, "erin@d.example",
       BounceKind::not_failure, true, "2.0.0", "delivered", "erin@d.example", "", ""},
      {"delay warning", kDelayed, "bob@b.example", BounceKind::temporary, true, "4.4.1",
       "delayed", "bob@b.example", "Connection timed out", ""},
      {"qmail", kQmail, "", BounceKind::permanent, false, "5.1.1", "", "",
       "Sorry, no mailbox here by that name. (#5.1.1)", ""},
      {"basic reply code only", kBasicCode, "", BounceKind::permanent, false, "5.0.0", "", "",
       "550 No such user here", ""},
      {"vacation", kVacation, "", BounceKind::auto_reply, false, "", "", "", "", ""},
      {"exchange automatic reply", kExchangeAutoReply, "", BounceKind::auto_reply, false, "", "",
       "", "", ""},
      {"read receipt", kReadReceipt, "", BounceKind::not_failure, false, "", "", "", "", ""},
      {"junk", kJunk, "", BounceKind::unrecognised, false, "", "", "", "", ""},
      {"empty", "", "", BounceKind::unrecognised, false, "", "", "", "", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Bounce got = read_bounce(c.raw, c.expected_recipient);
    EXPECT_EQ(to_string(got.kind), to_string(c.kind));
    EXPECT_EQ(got.is_dsn, c.is_dsn);
    EXPECT_EQ(got.status, c.status);
    EXPECT_EQ(got.action, c.action);
    EXPECT_EQ(got.recipient, c.recipient);
    if (c.diagnostic_has.empty()) {
      if (c.kind != BounceKind::permanent) {
        EXPECT_EQ(got.diagnostic, "");
      }
    } else {
      EXPECT_NE(got.diagnostic.find(c.diagnostic_has), std::string::npos) << got.diagnostic;
    }
    EXPECT_EQ(got.remote_mta, c.remote_mta);
    EXPECT_LE(got.diagnostic.size(), kMaxDiagnostic);
  }
}

TEST(ReadBounce, ReportingMta) {
  EXPECT_EQ(read_bounce(kPostfix).reporting_mta, "mx.b.example");
  EXPECT_EQ(read_bounce(kExchange).reporting_mta,
            "AM0PR01MB1234.eurprd01.prod.exchangelabs.com");
}

TEST(ReadBounce, DiagnosticIsCleanedAndCut) {
  std::string raw = kExim;
  const std::string noisy = std::string("Diagnostic-Code: smtp; 550 \x01\x7f caf\xc3\xa9 ") +
                            std::string(500, 'x') + "\n";
  const auto at = raw.find("Diagnostic-Code: smtp; 550 mailbox unavailable\n");
  raw.replace(at, std::string("Diagnostic-Code: smtp; 550 mailbox unavailable\n").size(), noisy);
  const Bounce b = read_bounce(raw);
  EXPECT_EQ(b.diagnostic.size(), kMaxDiagnostic);
  EXPECT_EQ(b.diagnostic.substr(0, 12), "550 caf?? xx");
}

TEST(ParseDeliveryStatus, Table) {
  struct Case {
    std::string name, text;
    std::size_t recipients;
    std::string first_final, first_action, first_status;
  };
  const std::vector<Case> cases = {
      {"empty", "", 0, "", "", ""},
      {"per-message group only", "Reporting-MTA: dns; a\n", 0, "", "", ""},
      {"folded diagnostic, LF", "Reporting-MTA: dns; a\n\nFinal-Recipient: rfc822; x@y\nAction: "
       "failed\nStatus: 5.2.2\nDiagnostic-Code: smtp; 552\n quota\n",
       1, "x@y", "failed", "5.2.2"},
      {"case-insensitive names, <> removed", "final-recipient: RFC822; <x@y>\nACTION: Failed\n"
       "status: 5.7.1 (delivery not authorized)\n",
       1, "x@y", "failed", "5.7.1"},
      {"malformed status dropped", "Final-Recipient: rfc822; x@y\nAction: failed\nStatus: 9.9\n", 1,
       "x@y", "failed", ""},
      {"original recipient only", "Original-Recipient: rfc822; o@y\nAction: delayed\n", 1, "",
       "delayed", ""},
      {"blank lines with spaces separate groups",
       "Reporting-MTA: dns; a\n  \t\nFinal-Recipient: rfc822; x@y\n\nFinal-Recipient: rfc822; z@y\n",
       2, "x@y", "", ""},
      {"garbage lines skipped", "no colon here\n:\nFinal-Recipient: rfc822; x@y\n", 1, "x@y", "",
       ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const DeliveryStatus got = parse_delivery_status(c.text);
    ASSERT_EQ(got.recipients.size(), c.recipients);
    if (c.recipients == 0) continue;
    EXPECT_EQ(got.recipients[0].final_recipient, c.first_final);
    EXPECT_EQ(got.recipients[0].action, c.first_action);
    EXPECT_EQ(got.recipients[0].status, c.first_status);
  }
}

TEST(ParseDeliveryStatus, Bounded) {
  std::string many = "Reporting-MTA: dns; a\n";
  for (int i = 0; i < 500; ++i) many += "\nFinal-Recipient: rfc822; r" + std::to_string(i) + "@y\n";
  const DeliveryStatus got = parse_delivery_status(many);
  EXPECT_EQ(got.recipients.size(), kMaxDsnRecipients);
  EXPECT_TRUE(got.cut);

  const std::string huge = "Final-Recipient: rfc822; x@y\nX-Pad: " + std::string(200000, 'p');
  const DeliveryStatus big = parse_delivery_status(huge);
  EXPECT_TRUE(big.cut);
  EXPECT_EQ(big.recipients.size(), 1u);
}

TEST(StatusCodes, Table) {
  struct Case {
    std::string text, want;
  };
  const std::vector<Case> cases = {
      {"", ""},
      {"all good", ""},
      {"said: 550 5.1.1 user unknown", "5.1.1"},
      {"(#5.1.1)", "5.1.1"},
      {"4.4.7 expired", "4.4.7"},
      {"Exchange 5.1.10 RESOLVER", "5.1.10"},
      {"version 15.5.1 of the software", ""},  // part of a longer number
      {"ip 10.4.3.2 said", ""},                // an address, not a status
      {"550 No such user", "5.0.0"},
      {"line\n421-try later", "4.0.0"},
      {"(#550 mailbox)", "5.0.0"},
      {"error550 inside a word", ""},
      {"5.1.1.", "5.1.1"},
      {"2.0.0 ok", ""},  // only failures are looked for
  };
  for (const Case& c : cases) EXPECT_EQ(find_status_code(c.text), c.want) << c.text;

  EXPECT_TRUE(is_status_code("5.1.1"));
  EXPECT_TRUE(is_status_code("2.0.0"));
  EXPECT_TRUE(is_status_code("4.123.999"));
  EXPECT_FALSE(is_status_code("5.1234.1"));
  EXPECT_FALSE(is_status_code("6.1.1"));
  EXPECT_FALSE(is_status_code("5.1"));
  EXPECT_FALSE(is_status_code("5..1"));
  EXPECT_FALSE(is_status_code("5.1.1 "));
}

TEST(ReadBounce, HostileInputIsBounded) {
  // A deep nest of multiparts and a huge status part: no crash, no hang.
  std::string raw = "Content-Type: multipart/report; report-type=delivery-status; boundary=b0\n\n";
  for (int i = 0; i < 200; ++i) {
    raw += "--b" + std::to_string(i) + "\nContent-Type: multipart/mixed; boundary=b" +
           std::to_string(i + 1) + "\n\n";
  }
  raw += "--b200\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; x@y\n";
  const Bounce b = read_bounce(raw);
  EXPECT_NE(b.kind, BounceKind::not_failure);

  std::string wide = "From: MAILER-DAEMON@x\nContent-Type: multipart/report; "
                     "report-type=delivery-status; boundary=b\n\n";
  for (int i = 0; i < 1000; ++i) wide += "--b\nContent-Type: text/plain\n\nx\n";
  wide += "--b--\n";
  const Bounce w = read_bounce(wide);
  EXPECT_EQ(w.kind, BounceKind::permanent);  // a report without recipients: read as a bounce
  EXPECT_FALSE(w.is_dsn);
}

}  // namespace
}  // namespace tlpmail::mime
