// Tests of the outer header fields of copies and notices: the whole head
// exactly, then tables for From (names, quoting, non-ASCII, injection),
// Subject (prefix, labels, protect_subject, non-ASCII, injection), thread
// ids and List-Id; and what lib/mime reads back from the assembled message.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "compose/compose.h"
#include "compose/compose_test_util.h"
#include "compose/header_text.h"
#include "mime/mime.h"

namespace tlpmail::compose {
namespace {

using testing::base_facts;
using testing::crlf;
using testing::head_of;
using testing::header_param;

// The header field `name` (with folding) from a head, "" when absent.
std::string field_of(const std::string& head, const std::string& name) {
  std::size_t p = 0;
  while (p < head.size()) {
    std::size_t e = head.find("\r\n", p);
    while (e != std::string::npos && e + 2 < head.size() &&
           (head[e + 2] == ' ' || head[e + 2] == '\t')) {
      e = head.find("\r\n", e + 2);
    }
    if (e == std::string::npos) break;
    const std::string f = head.substr(p, e + 2 - p);
    if (f.compare(0, name.size() + 1, name + ":") == 0) return f;
    p = e + 2;
  }
  return "";
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
  return s;
}

void expect_header_lines_ok(const std::string& head) {
  std::size_t p = 0;
  while (p < head.size()) {
    const std::size_t e = head.find("\r\n", p);
    ASSERT_NE(e, std::string::npos);
    const std::string line = head.substr(p, e - p);
    EXPECT_LE(line.size(), 78u) << line;
    for (char c : line) EXPECT_TRUE(c >= 0x20 && c < 0x7F) << "8-bit or control in: " << line;
    p = e + 2;
  }
}

const char kArmor[] =
    "-----BEGIN PGP MESSAGE-----\n\nhF4DAAAAAAAAAAASAQdAexample\n=abcd\n-----END PGP "
    "MESSAGE-----\n";

TEST(CopyFrame, WholeHeadExactly) {
  CopyFacts f = base_facts();
  f.in_reply_to = {"orig.1@csirt-b.example"};
  f.references = {"root.0@csirt-c.example", "orig.1@csirt-b.example"};
  const Frame frame = copy_frame(f);
  const std::string b = header_param(frame.head, "boundary");
  ASSERT_EQ(b.size(), 42u);
  EXPECT_EQ(b.rfind("=_tlpmail_", 0), 0u);
  const std::string want = crlf(
      "From: \"Alice Example via csirt-ops\" <csirt-ops@lists.example.org>\n"
      "To: csirt-ops@lists.example.org\n"
      "Reply-To: csirt-ops@lists.example.org\n"
      "Subject: [TLP:AMBER] [csirt-ops] Phishing wave against energy sector\n"
      "Date: Sat, 22 Nov 2025 18:51:07 +0000\n"
      "Message-ID: <20251122185107.q1a2b3@lists.example.org>\n"
      "In-Reply-To: <orig.1@csirt-b.example>\n"
      "References: <root.0@csirt-c.example> <orig.1@csirt-b.example>\n"
      "List-Id: CSIRT Network operational exchange <csirt-ops.lists.example.org>\n"
      "List-Post: <mailto:csirt-ops@lists.example.org>\n"
      "List-Help: <mailto:csirt-ops-request@lists.example.org>\n"
      "MIME-Version: 1.0\n"
      "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";\n"
      " boundary=\"BOUNDARY\"\n"
      "\n"
      "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\n"
      "--BOUNDARY\n"
      "Content-Type: application/pgp-encrypted\n"
      "Content-Description: PGP/MIME version identification\n"
      "\n"
      "Version: 1\n"
      "\n"
      "--BOUNDARY\n"
      "Content-Type: application/octet-stream; name=\"encrypted.asc\"\n"
      "Content-Description: OpenPGP encrypted message\n"
      "Content-Disposition: inline; filename=\"encrypted.asc\"\n"
      "\n");
  EXPECT_EQ(replace_all(frame.head, b, "BOUNDARY"), want);
  EXPECT_EQ(frame.tail, "\r\n--" + b + "--\r\n");
  expect_header_lines_ok(head_of(frame.head));
}

TEST(CopyFrame, FreshBoundaryEachTime) {
  const CopyFacts f = base_facts();
  EXPECT_NE(header_param(copy_frame(f).head, "boundary"),
            header_param(copy_frame(f).head, "boundary"));
}

TEST(CopyFrame, FromTable) {
  struct Case {
    std::string name;
    std::string sender_name;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"plain", "Alice Example",
       "From: \"Alice Example via csirt-ops\" <csirt-ops@lists.example.org>\r\n"},
      {"quote and backslash escaped", "Bob \"The Builder\" O\\Neil",
       "From: \"Bob \\\"The Builder\\\" O\\\\Neil via csirt-ops\"\r\n"
       " <csirt-ops@lists.example.org>\r\n"},
      {"non-ASCII encoded", "J\xC3\xB6rg M\xC3\xBCller",
       "From: =?UTF-8?Q?J=C3=B6rg_M=C3=BCller_via_csirt-ops?=\r\n"
       " <csirt-ops@lists.example.org>\r\n"},
      {"CRLF injection flattened", "Mallory\r\nBcc: victim@x.example",
       "From: \"Mallory Bcc: victim@x.example via csirt-ops\"\r\n"
       " <csirt-ops@lists.example.org>\r\n"},
      {"bare LF injection flattened", "Mallory\nTo: victim@x.example",
       "From: \"Mallory To: victim@x.example via csirt-ops\"\r\n"
       " <csirt-ops@lists.example.org>\r\n"},
      {"empty name: the address", "",
       "From: \"alice@csirt-a.example via csirt-ops\" <csirt-ops@lists.example.org>\r\n"},
      {"encoded-word look-alike shown literally", "=?UTF-8?Q?Admin?=",
       "From: =?UTF-8?Q?=3D=3FUTF-8=3FQ=3FAdmin=3F=3D_via_csirt-ops?=\r\n"
       " <csirt-ops@lists.example.org>\r\n"},
      {"bidi override removed", "Alice\xE2\x80\xAE Example",
       "From: \"Alice Example via csirt-ops\" <csirt-ops@lists.example.org>\r\n"},
      {"angle brackets stay inside the quotes", "Eve <ceo@bank.example>",
       "From: \"Eve <ceo@bank.example> via csirt-ops\" <csirt-ops@lists.example.org>\r\n"},
  };
  for (const Case& c : cases) {
    CopyFacts f = base_facts();
    f.sender.name = c.sender_name;
    const Frame frame = copy_frame(f);
    EXPECT_EQ(field_of(frame.head, "From"), c.want) << c.name;
    expect_header_lines_ok(head_of(frame.head));
    // GMime reads exactly one mailbox: the list, with the display name.
    auto m = mime::parse_message(frame.assemble(kArmor));
    ASSERT_TRUE(m) << c.name;
    auto from = m->single_from();
    ASSERT_TRUE(from) << c.name << ": " << from.error().message;
    EXPECT_EQ(from->address, "csirt-ops@lists.example.org") << c.name;
    std::string want_display = c.sender_name.empty() ? "alice@csirt-a.example" : c.sender_name;
    for (char& ch : want_display) {
      if (ch == '\r' || ch == '\n') ch = ' ';
    }
    want_display = replace_all(replace_all(want_display, "  ", " "), "\xE2\x80\xAE", "");
    EXPECT_EQ(from->display_name, want_display + " via csirt-ops") << c.name;
  }
}

TEST(CopyFrame, SubjectTable) {
  struct Case {
    std::string name;
    std::string subject, prefix;
    bool protect;
    policy::Tlp label;
    std::string want_field;  // the outer Subject field
    std::string want_copy;   // copy_subject (the protected one)
  };
  using policy::Tlp;
  const std::vector<Case> cases = {
      {"label and prefix", "[TLP:AMBER] Phishing wave", "[csirt-ops]", false, Tlp::amber,
       "Subject: [TLP:AMBER] [csirt-ops] Phishing wave\r\n",
       "[TLP:AMBER] [csirt-ops] Phishing wave"},
      {"reply keeps one prefix", "Re: [csirt-ops] [TLP:GREEN] Phishing wave", "[csirt-ops]", false,
       Tlp::amber, "Subject: [TLP:AMBER] [csirt-ops] Re: Phishing wave\r\n",
       "[TLP:AMBER] [csirt-ops] Re: Phishing wave"},
      {"prefix matched case-insensitively", "Re: [CSIRT-OPS] x", "[csirt-ops]", false, Tlp::amber,
       "Subject: [TLP:AMBER] [csirt-ops] Re: x\r\n", "[TLP:AMBER] [csirt-ops] Re: x"},
      {"no prefix, blanks collapse", "Phishing  wave\t now ", "", false, Tlp::amber,
       "Subject: [TLP:AMBER] Phishing wave now\r\n", "[TLP:AMBER] Phishing wave now"},
      {"empty subject with prefix", "", "[csirt-ops]", false, Tlp::amber,
       "Subject: [TLP:AMBER] [csirt-ops]\r\n", "[TLP:AMBER] [csirt-ops]"},
      {"empty subject, no prefix", "", "", false, Tlp::green, "Subject: [TLP:GREEN]\r\n",
       "[TLP:GREEN]"},
      {"protect_subject", "[TLP:AMBER] Operation Nightfall", "[csirt-ops]", true, Tlp::amber,
       "Subject: [TLP:AMBER] [csirt-ops] Encrypted message\r\n",
       "[TLP:AMBER] [csirt-ops] Operation Nightfall"},
      {"protect_subject, no prefix", "Operation Nightfall", "", true, Tlp::red,
       "Subject: [TLP:RED] Encrypted message\r\n", "[TLP:RED] Operation Nightfall"},
      {"CRLF injection flattened", "Hi\r\nBcc: x@y.example", "[csirt-ops]", false, Tlp::amber,
       "Subject: [TLP:AMBER] [csirt-ops] Hi Bcc: x@y.example\r\n",
       "[TLP:AMBER] [csirt-ops] Hi Bcc: x@y.example"},
      {"non-ASCII word encoded", "Phishing \xE2\x80\x93 dringend", "[csirt-ops]", false, Tlp::amber,
       "Subject: [TLP:AMBER] [csirt-ops] Phishing =?UTF-8?B?4oCT?= dringend\r\n",
       "[TLP:AMBER] [csirt-ops] Phishing \xE2\x80\x93 dringend"},
      {"non-ASCII prefix", "Bonjour", "[\xC3\xA9quipe]", false, Tlp::clear,
       "Subject: [TLP:CLEAR] =?UTF-8?Q?=5B=C3=A9quipe=5D?= Bonjour\r\n",
       "[TLP:CLEAR] [\xC3\xA9quipe] Bonjour"},
      {"raised label replaces the old one", "[TLP:GREEN] x", "[csirt-ops]", false, Tlp::amber,
       "Subject: [TLP:AMBER] [csirt-ops] x\r\n", "[TLP:AMBER] [csirt-ops] x"},
      {"lower-case label", "tlp:red Ops", "[csirt-ops]", false, Tlp::red,
       "Subject: [TLP:RED] [csirt-ops] Ops\r\n", "[TLP:RED] [csirt-ops] Ops"},
      {"encoded-word look-alike shown literally", "=?UTF-8?Q?Urgent?=", "", false, Tlp::amber,
       "Subject: [TLP:AMBER] =?UTF-8?Q?=3D=3FUTF-8=3FQ=3FUrgent=3F=3D?=\r\n",
       "[TLP:AMBER] =?UTF-8?Q?Urgent?="},
  };
  for (const Case& c : cases) {
    CopyFacts f = base_facts();
    f.subject = c.subject;
    f.list.subject_prefix = c.prefix;
    f.list.protect_subject = c.protect;
    f.label = c.label;
    EXPECT_EQ(copy_subject(f), c.want_copy) << c.name;
    const Frame frame = copy_frame(f);
    EXPECT_EQ(field_of(frame.head, "Subject"), c.want_field) << c.name;
    expect_header_lines_ok(head_of(frame.head));
    auto m = mime::parse_message(frame.assemble(kArmor));
    ASSERT_TRUE(m) << c.name;
    EXPECT_EQ(m->subject, outer_subject(f)) << c.name;
    if (c.protect) {
      EXPECT_EQ(frame.head.find(c.want_copy.substr(c.want_copy.rfind(' ') + 1)), std::string::npos)
          << c.name << ": the real subject leaked into the outer header";
    }
  }
}

TEST(CopyFrame, LongSubjectIsFoldedAndCut) {
  CopyFacts f = base_facts();
  std::string subject;
  for (int i = 0; i < 400; ++i) subject += "w" + std::to_string(i) + " K\xC3\xB6ln ";
  f.subject = subject;
  const std::string want = copy_subject(f);
  EXPECT_LE(want.size(), kMaxSubjectBytes + 40);
  EXPECT_EQ(want.substr(want.size() - 3), "...");
  const Frame frame = copy_frame(f);
  expect_header_lines_ok(head_of(frame.head));
  auto m = mime::parse_message(frame.assemble(kArmor));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->subject, want);
}

TEST(CopyFrame, ThreadIdsCheckedAndCapped) {
  CopyFacts f = base_facts();
  f.in_reply_to = {"bad id@x", "<a@b>", "a@b\r\nBcc: v@x.example", "ok.1@csirt-b.example"};
  for (int i = 0; i < 25; ++i) f.references.push_back("r" + std::to_string(i) + "@x.example");
  f.references.push_back("not an id");
  const Frame frame = copy_frame(f);
  EXPECT_EQ(field_of(frame.head, "In-Reply-To"), "In-Reply-To: <ok.1@csirt-b.example>\r\n");
  auto m = mime::parse_message(frame.assemble(kArmor));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->in_reply_to, std::vector<std::string>{"ok.1@csirt-b.example"});
  std::vector<std::string> want_refs = {"r0@x.example"};
  for (int i = 6; i < 25; ++i) want_refs.push_back("r" + std::to_string(i) + "@x.example");
  EXPECT_EQ(m->references, want_refs);
  EXPECT_EQ(frame.head.find("Bcc"), std::string::npos);
  expect_header_lines_ok(head_of(frame.head));

  // None valid: no field at all.
  f.in_reply_to = {"x"};
  f.references = {};
  const Frame bare = copy_frame(f);
  EXPECT_EQ(field_of(bare.head, "In-Reply-To"), "");
  EXPECT_EQ(field_of(bare.head, "References"), "");
}

TEST(CopyFrame, ListIdTable) {
  struct Case {
    std::string name, address, description, want;
  };
  const std::vector<Case> cases = {
      {"atoms", "csirt-ops@lists.example.org", "CSIRT ops",
       "List-Id: CSIRT ops <csirt-ops.lists.example.org>\r\n"},
      {"no description", "csirt-ops@lists.example.org", "",
       "List-Id: <csirt-ops.lists.example.org>\r\n"},
      {"dots in the local part", "csirt.ops@lists.example.org", "",
       "List-Id: <csirt.ops.lists.example.org>\r\n"},
      {"specials quoted", "ops@l.example", "Ops (EU), 24/7",
       "List-Id: \"Ops (EU), 24/7\" <ops.l.example>\r\n"},
      {"non-ASCII encoded", "ops@l.example", "\xC3\x89quipe",
       "List-Id: =?UTF-8?Q?=C3=89quipe?= <ops.l.example>\r\n"},
      {"line break in the description", "ops@l.example", "a\r\nX-Evil: 1",
       "List-Id: \"a X-Evil: 1\" <ops.l.example>\r\n"},
  };
  for (const Case& c : cases) {
    CopyFacts f = base_facts();
    f.list.address = c.address;
    f.list.description = c.description;
    const Frame frame = copy_frame(f);
    EXPECT_EQ(field_of(frame.head, "List-Id"), c.want) << c.name;
  }
}

TEST(CopyFrame, OnlyTheListsFieldsAndClassifiedAsEncrypted) {
  CopyFacts f = base_facts();
  f.in_reply_to = {"a@b.example"};
  f.references = {"a@b.example"};
  auto m = mime::parse_message(copy_frame(f).assemble(kArmor));
  ASSERT_TRUE(m);
  std::vector<std::string> names;
  for (const auto& h : m->headers) names.push_back(h.name);
  const std::vector<std::string> want = {"From",        "To",         "Reply-To",    "Subject",
                                         "Date",        "Message-ID", "In-Reply-To", "References",
                                         "List-Id",     "List-Post",  "List-Help",   "MIME-Version",
                                         "Content-Type"};
  EXPECT_EQ(names, want);
  ASSERT_EQ(m->content.kind(), mime::ShapeKind::pgpmime_encrypted);
  EXPECT_EQ(std::get<mime::PgpMimeEncrypted>(m->content.shape).ciphertext, crlf(kArmor));
  EXPECT_EQ(m->message_id, "20251122185107.q1a2b3@lists.example.org");
  EXPECT_EQ(m->date, "Sat, 22 Nov 2025 18:51:07 +0000");
}

TEST(CopyFrame, AutocryptHeaderShape) {
  // 100 bytes of "key": 136 base64 characters, folded after 76.
  std::string key;
  for (int i = 0; i < 100; ++i) key.push_back(static_cast<char>(i * 37 + 11));
  const std::string b64 = base64_encode(key);
  ASSERT_EQ(b64.size(), 136u);
  EXPECT_EQ(autocrypt_field("csirt-ops@lists.example.org", key),
            "Autocrypt: addr=csirt-ops@lists.example.org; prefer-encrypt=mutual; keydata=\r\n " +
                b64.substr(0, 76) + "\r\n " + b64.substr(76) + "\r\n");
  EXPECT_EQ(base64_encode("Ma"), "TWE=");
  EXPECT_EQ(base64_encode("M"), "TQ==");
  EXPECT_EQ(base64_encode("Man"), "TWFu");

  CopyFacts f = base_facts();
  f.autocrypt_key = key;
  const Frame frame = copy_frame(f);
  EXPECT_EQ(field_of(frame.head, "Autocrypt"), autocrypt_field(f.list.address, key));
  expect_header_lines_ok(head_of(frame.head));
  // After List-Help, before MIME-Version; read back by lib/mime as one field.
  auto m = mime::parse_message(frame.assemble(kArmor));
  ASSERT_TRUE(m);
  std::vector<std::string> names;
  for (const auto& h : m->headers) names.push_back(h.name);
  const std::vector<std::string> want = {"From",     "To",        "Reply-To",  "Subject",
                                         "Date",     "Message-ID", "List-Id",  "List-Post",
                                         "List-Help", "Autocrypt", "MIME-Version",
                                         "Content-Type"};
  EXPECT_EQ(names, want);
  EXPECT_EQ(m->content.kind(), mime::ShapeKind::pgpmime_encrypted);

  // No key data: no field (autocrypt = false in the list file).
  EXPECT_EQ(field_of(copy_frame(base_facts()).head, "Autocrypt"), "");
}

TEST(FrameAssemble, NormalisesTheArmor) {
  const Frame frame{"HEAD\r\n\r\n", "\r\n--b--\r\n"};
  EXPECT_EQ(frame.assemble("A\nB\n"), "HEAD\r\n\r\nA\r\nB\r\n\r\n--b--\r\n");
  EXPECT_EQ(frame.assemble("A\r\nB"), "HEAD\r\n\r\nA\r\nB\r\n\r\n--b--\r\n");
}

// The facts of a typical notice to an admin of base_facts()'s list.
NoticeFacts base_notice() {
  NoticeFacts n;
  n.list = base_facts().list;
  n.to = "alice@csirt-a.example";
  n.subject = "[csirt-ops] 1 member withheld";
  n.body = "bob@csirt-b.example was withheld: key not usable.\n";
  n.message_id = "notice.1@lists.example.org";
  n.date = testing::kDate;
  return n;
}

TEST(NoticeFrame, WholeHeadExactly) {
  NoticeFacts n = base_notice();
  const Frame frame = notice_frame(n);
  const std::string b = header_param(frame.head, "boundary");
  const std::string want_head = crlf(
      "From: \"csirt-ops list\" <csirt-ops-request@lists.example.org>\n"
      "To: alice@csirt-a.example\n"
      "Subject: [csirt-ops] 1 member withheld\n"
      "Date: Sat, 22 Nov 2025 18:51:07 +0000\n"
      "Message-ID: <notice.1@lists.example.org>\n"
      "List-Id: CSIRT Network operational exchange <csirt-ops.lists.example.org>\n"
      "Auto-Submitted: auto-generated\n"
      "MIME-Version: 1.0\n"
      "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";\n"
      " boundary=\"BOUNDARY\"\n");
  EXPECT_EQ(replace_all(head_of(frame.head), b, "BOUNDARY"), want_head);
  auto m = mime::parse_message(frame.assemble(kArmor));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->content.kind(), mime::ShapeKind::pgpmime_encrypted);
  EXPECT_EQ(frame.head.find("bob@"), std::string::npos) << "the body leaked into the frame";

  n.list.protect_subject = true;
  EXPECT_EQ(field_of(notice_frame(n).head, "Subject"),
            "Subject: [csirt-ops] Encrypted message\r\n");
  n.list.subject_prefix = "";
  EXPECT_EQ(field_of(notice_frame(n).head, "Subject"), "Subject: Encrypted message\r\n");
  n.to = "admin@x.example\r\nBcc: v@x.example";
  EXPECT_EQ(field_of(notice_frame(n).head, "To"), "To: admin@x.exampleBcc:v@x.example\r\n");
}

TEST(NoticeEntity, ProtectedHeadersAndBody) {
  NoticeFacts n = base_notice();
  const std::string e = notice_entity(n);
  EXPECT_EQ(e, crlf("Content-Type: text/plain; charset=utf-8; protected-headers=\"v1\"\n"
                    "Content-Transfer-Encoding: 8bit\n"
                    "Subject: [csirt-ops] 1 member withheld\n"
                    "From: \"csirt-ops list\" <csirt-ops-request@lists.example.org>\n"
                    "To: alice@csirt-a.example\n"
                    "Message-ID: <notice.1@lists.example.org>\n"
                    "Date: Sat, 22 Nov 2025 18:51:07 +0000\n"
                    "\n"
                    "bob@csirt-b.example was withheld: key not usable.\n"));
  auto parsed = mime::parse_entity(e);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->has_protected_headers);
  EXPECT_EQ(parsed->protected_subject, "[csirt-ops] 1 member withheld");
  EXPECT_EQ(parsed->body_head, "bob@csirt-b.example was withheld: key not usable.\r\n");
}

}  // namespace
}  // namespace tlpmail::compose
