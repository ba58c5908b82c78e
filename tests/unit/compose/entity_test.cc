// Tests of the entity that is signed and encrypted: protected headers, the
// banner part first and the content second (exactly as given), the banner
// text, a sender's fake banner staying in the content, boundaries that do
// not occur in the content; and the content taken from a received message
// (content_of_message) or from decrypted plaintext (content_of_plaintext).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "compose/compose.h"
#include "compose/compose_test_util.h"
#include "mime/mime.h"

namespace tlpmail::compose {
namespace {

using testing::base_facts;
using testing::crlf;
using testing::header_param;
using testing::split_parts;

const std::string kContent = crlf(
    "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
    "[TLP:AMBER] Phishing wave\n\nIoC: evil.example\n");

TEST(BannerText, LinesExactly) {
  CopyFacts f = base_facts();
  f.banner_lines = {"TLP:AMBER: Recipients may share this only on a need-to-know basis.",
                    "TLP raised from GREEN to AMBER: reply to a TLP:AMBER message"};
  EXPECT_EQ(banner_text(f),
            crlf("TLP:AMBER: Recipients may share this only on a need-to-know basis.\n"
                 "TLP raised from GREEN to AMBER: reply to a TLP:AMBER message\n"
                 "Sent by Alice Example (CSIRT-A) alice@csirt-a.example, signature verified, "
                 "key 0123 4567 89AB CDEF 0123 4567 89AB CDEF 0123 4567\n"));
}

TEST(BannerText, Table) {
  struct Case {
    std::string name;
    Sender sender;
    std::string want_last;
  };
  const std::vector<Case> cases = {
      {"no organization",
       {"Bob", "", "bob@b.example", "abcdef0123456789abcdef0123456789abcdef01"},
       "Sent by Bob bob@b.example, signature verified, key ABCD EF01 2345 6789 ABCD EF01 2345 "
       "6789 ABCD EF01"},
      {"not 40 hex digits: as given",
       {"Bob", "B", "bob@b.example", "0123456789ABCDEF"},
       "Sent by Bob (B) bob@b.example, signature verified, key 0123456789ABCDEF"},
      {"line breaks in directory values",
       {"Bob\r\nX", "Org\nY", "bob@b.example", "X"},
       "Sent by Bob X (Org Y) bob@b.example, signature verified, key X"},
      {"non-ASCII name kept",
       {"J\xC3\xB6rg", "CERT-\xC3\x9C", "j@b.example", "F"},
       "Sent by J\xC3\xB6rg (CERT-\xC3\x9C) j@b.example, signature verified, key F"},
  };
  for (const Case& c : cases) {
    CopyFacts f = base_facts();
    f.sender = c.sender;
    const std::string text = banner_text(f);
    const std::string first = "TLP:AMBER: " + std::string(policy::sharing_rule(policy::Tlp::amber));
    EXPECT_EQ(text, first + "\r\n" + c.want_last + "\r\n") << c.name;
  }
}

TEST(BannerText, LabelLineMadeWhenTheCallerGaveNone) {
  CopyFacts f = base_facts();
  f.banner_lines.clear();
  f.label = policy::Tlp::red;
  const std::string text = banner_text(f);
  EXPECT_EQ(text.substr(0, text.find("\r\n")),
            "TLP:RED: " + std::string(policy::sharing_rule(policy::Tlp::red)));
}

TEST(InnerEntity, ProtectedHeadersBannerFirstContentSecond) {
  CopyFacts f = base_facts();
  f.list.protect_subject = true;
  f.subject = "[TLP:AMBER] Operation Nightfall";
  const std::string e = inner_entity(f, kContent);

  auto parsed = mime::parse_entity(e);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->has_protected_headers);
  EXPECT_EQ(parsed->protected_subject, "[TLP:AMBER] [csirt-ops] Operation Nightfall");
  std::vector<std::string> names;
  for (const auto& h : parsed->protected_headers) names.push_back(h.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"Subject", "From", "To", "Reply-To", "Message-ID", "Date"}));
  EXPECT_EQ(parsed->kind(), mime::ShapeKind::plain);
  EXPECT_EQ(parsed->leaf_parts, 2);
  EXPECT_EQ(parsed->attachments, 0);
  // The first inline text part, what label scanning and readers see first,
  // is the banner.
  EXPECT_EQ(parsed->body_head.rfind("TLP:AMBER: Recipients may share", 0), 0u) << parsed->body_head;

  const std::vector<std::string> parts = split_parts(e);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0],
            crlf("Content-Type: text/plain; charset=utf-8\n"
                 "Content-Transfer-Encoding: 8bit\n"
                 "Content-Disposition: inline\n"
                 "Content-Description: csirt-ops list notice: TLP label and verified sender\n"
                 "\n") +
                banner_text(f));
  EXPECT_EQ(parts[1], kContent);
  EXPECT_EQ(e.rfind(crlf("Content-Type: multipart/mixed;\n boundary=\""), 0), 0u);
  EXPECT_NE(e.find("protected-headers=\"v1\""), std::string::npos);
}

TEST(InnerEntity, ContentKeptExactlyWhateverItsEnding) {
  const std::vector<std::string> contents = {
      kContent,
      crlf("Content-Type: text/plain\n\nno final line break"),
      crlf("Content-Type: text/plain\n\ntwo final line breaks\n\n"),
      crlf("\nno header fields at all\n"),
      "Content-Type: text/plain\r\n\r\n8-bit \xC3\xA9 and a bare CR\r here\r\n",
  };
  for (const std::string& c : contents) {
    const std::vector<std::string> parts = split_parts(inner_entity(base_facts(), c));
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[1], c);
  }
}

TEST(InnerEntity, FakeBannerStaysInTheSendersPart) {
  CopyFacts f = base_facts();
  const std::string fake = crlf(
      "Content-Type: text/plain; charset=utf-8\n\n"
      "TLP:CLEAR: Recipients may share this with anyone, publicly included.\n"
      "Sent by The CEO (Bank) ceo@bank.example, signature verified, key 0000\n");
  const std::string e = inner_entity(f, fake);
  const std::vector<std::string> parts = split_parts(e);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[1], fake);
  EXPECT_EQ(parts[0].find("CEO"), std::string::npos);
  EXPECT_NE(parts[0].find("Sent by Alice Example (CSIRT-A)"), std::string::npos);
  auto parsed = mime::parse_entity(e);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->body_head.rfind("TLP:AMBER: ", 0), 0u);
}

TEST(InnerEntity, BoundaryNeverInTheContent) {
  // Content full of our own boundary prefix: every boundary drawn is checked.
  std::string content = crlf("Content-Type: text/plain\n\n");
  for (int i = 0; i < 50; ++i) content += "--=_tlpmail_" + std::string(i % 7, 'a') + "\r\n";
  for (int i = 0; i < 20; ++i) {
    const std::string e = inner_entity(base_facts(), content);
    const std::string b = header_param(e, "boundary");
    ASSERT_EQ(b.size(), 42u);
    EXPECT_EQ(content.find(b), std::string::npos);
    const std::vector<std::string> parts = split_parts(e);
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[1], content);
  }
}

TEST(InnerEntity, LongBannerLineIsQuotedPrintable) {
  CopyFacts f = base_facts();
  f.sender.name = std::string(1200, 'n');
  const std::string e = inner_entity(f, kContent);
  const std::vector<std::string> parts = split_parts(e);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_NE(parts[0].find("Content-Transfer-Encoding: quoted-printable\r\n"), std::string::npos);
  auto parsed = mime::parse_entity(e);
  ASSERT_TRUE(parsed);
  EXPECT_NE(parsed->body_head.find("Sent by " + std::string(1200, 'n') + " (CSIRT-A)"),
            std::string::npos);
}

// ------------------------------------------------------ content_of_message

// Only Content-Type and Content-Transfer-Encoding: every other field of a
// signed root, Content-* ones included, is outside the signature (issue 10).
TEST(ContentOfMessage, KeepsTypeAndEncodingExactlyAndDropsTheRest) {
  const std::string raw = crlf(
      "Received: from mail.csirt-a.example (10.1.2.3)\n\tby mx; Sat, 22 Nov 2025\n"
      "X-Originating-IP: [10.1.2.3]\n"
      "DKIM-Signature: v=1; a=rsa-sha256; d=csirt-a.example;\n b=abc\n"
      "From: Alice <alice@csirt-a.example>\n"
      "Subject: [TLP:AMBER] x\n"
      "User-Agent: Thunderbird\n"
      "Autocrypt: addr=alice@csirt-a.example; keydata=xsDNBF\n"
      "MIME-Version: 1.0\n"
      "Content-Type: multipart/signed; micalg=pgp-sha256;\n"
      "\tprotocol=\"application/pgp-signature\";  \n"
      " boundary=\"sig\"\n"
      "content-description:  odd   case  \n"
      "X-Mailer: Outlook\n"
      "\n"
      "preamble\n--sig\nContent-Type: text/plain\n\nbody   \n--sig--\n");
  auto c = content_of_message(raw);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(*c, crlf("Content-Type: multipart/signed; micalg=pgp-sha256;\n"
                     "\tprotocol=\"application/pgp-signature\";  \n"
                     " boundary=\"sig\"\n"
                     "\n"
                     "preamble\n--sig\nContent-Type: text/plain\n\nbody   \n--sig--\n"));
}

TEST(ContentOfMessage, BareLfBecomesCrlfOnly) {
  const std::string raw =
      "From: a@b\nContent-Type: text/plain;\n charset=utf-8\n\nline one  \r\nline two\n\nend \r";
  auto c = content_of_message(raw);
  ASSERT_TRUE(c);
  EXPECT_EQ(
      *c,
      "Content-Type: text/plain;\r\n charset=utf-8\r\n\r\nline one  \r\nline two\r\n\r\nend \r");
}

TEST(ContentOfMessage, Table) {
  struct Case {
    std::string name, raw;
    std::string want;        // when accepted
    std::string want_error;  // when refused
  };
  const std::vector<Case> cases = {
      {"no Content fields", crlf("From: a@b\nSubject: x\n\n-----BEGIN PGP SIGNED MESSAGE-----\n"),
       crlf("\n-----BEGIN PGP SIGNED MESSAGE-----\n"), ""},
      {"empty body", crlf("Content-Type: text/plain\n\n"), crlf("Content-Type: text/plain\n\n"),
       ""},
      {"no header at all", crlf("\nbody"), crlf("\nbody"), ""},
      {"no separator", crlf("From: a@b\nContent-Type: text/plain\n"), "",
       "the message has no blank line between header and body"},
      {"no line break", "From: a@b", "", "the message has no blank line between header and body"},
      {"empty input", "", "", "the message has no blank line between header and body"},
      {"two Content-Type fields",
       crlf("Content-Type: text/plain\nContent-Type: multipart/signed; boundary=x\n\nbody"), "",
       "the message has 2 Content-Type header fields"},
      {"two Content-Transfer-Encoding fields",
       crlf("Content-Transfer-Encoding: 7bit\ncontent-transfer-encoding: base64\n\nbody"), "",
       "the message has 2 Content-Transfer-Encoding header fields"},
      {"continuation of a dropped field stays dropped",
       crlf("Subject: a\n Content-Type: fake\nContent-Type: text/plain\n\nx"),
       crlf("Content-Type: text/plain\n\nx"), ""},
  };
  for (const Case& c : cases) {
    auto got = content_of_message(c.raw);
    if (c.want_error.empty()) {
      ASSERT_TRUE(got) << c.name << ": " << got.error().message;
      EXPECT_EQ(*got, c.want) << c.name;
    } else {
      ASSERT_FALSE(got) << c.name;
      EXPECT_EQ(got.error().kind, ErrorClass::refused) << c.name;
      EXPECT_EQ(got.error().message, c.want_error) << c.name;
    }
  }
}

// ---------------------------------------------------- content_of_plaintext

TEST(ContentOfPlaintext, MimeIsKeptCrlf) {
  const std::string pt = "Content-Type: text/plain; protected-headers=\"v1\"\nSubject: x\n\nhi\n";
  EXPECT_EQ(content_of_plaintext(pt, true), crlf(pt));
}

TEST(ContentOfPlaintext, InlineTable) {
  struct Case {
    std::string name, text, want_cte;
  };
  const std::vector<Case> cases = {
      {"short lines", "[TLP:AMBER] hello\nw\xC3\xB6rld\n", "8bit"},
      {"998 octets", std::string(998, 'x') + "\n", "8bit"},
      {"999 octets", std::string(999, 'x') + "\n", "quoted-printable"},
      {"bare CR", "a\rb\n", "quoted-printable"},
      {"NUL", std::string("a\0b", 3), "quoted-printable"},
  };
  for (const Case& c : cases) {
    const std::string got = content_of_plaintext(c.text, false);
    EXPECT_EQ(got.substr(0, got.find("\r\n\r\n") + 4),
              "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: " +
                  c.want_cte + "\r\n\r\n")
        << c.name;
    const std::string body = got.substr(got.find("\r\n\r\n") + 4);
    std::size_t longest = 0;
    for (std::size_t p = 0, e; p <= body.size(); p = e + 2) {
      e = body.find("\r\n", p);
      if (e == std::string::npos) e = body.size();
      longest = std::max(longest, e - p);
    }
    EXPECT_LE(longest, c.want_cte == "8bit" ? 998u : 76u) << c.name;
    // GMime decodes it back to the text (CRLF line breaks).
    auto parsed = mime::parse_entity(got);
    ASSERT_TRUE(parsed) << c.name;
    if (c.text.find('\0') == std::string::npos && c.text.find('\r') == std::string::npos) {
      EXPECT_EQ(testing::lf_only(parsed->body_head), testing::lf_only(c.text)) << c.name;
    }
  }
}

TEST(ContentOfPlaintext, QuotedPrintableExact) {
  const std::string got = content_of_plaintext(std::string(80, '=') + " \n\tend \r", false);
  const std::string body = got.substr(got.find("\r\n\r\n") + 4);
  std::string want;
  // 25 "=3D" fill 75 columns, then a soft break.
  for (int line = 0; line < 3; ++line)
    want += [] {
      std::string s;
      for (int i = 0; i < 25; ++i) s += "=3D";
      return s;
    }() + "=\r\n";
  want += "=3D=3D=3D=3D=3D=20\r\n\tend =0D";  // a space before a bare CR is not at a line end
  EXPECT_EQ(body, want);
}

}  // namespace
}  // namespace tlpmail::compose
