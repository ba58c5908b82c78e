// Tests of the header facts of parse_message: From counting (two From
// fields, two addresses, groups, encoded display names, strict parsing),
// RFC 2047 subjects (Q and B, UTF-8 and ISO-8859-1, folded, repeated),
// Message-ID / In-Reply-To / References / Date, and the header list.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mime/mime.h"
#include "mime/mime_test_util.h"

namespace tlpmail::mime {
namespace {

using testing::crlf;

Message parse_ok(const std::string& raw) {
  auto m = parse_message(raw);
  EXPECT_TRUE(m) << (m ? "" : m.error().message);
  return m ? std::move(*m) : Message{};
}

std::string with_headers(const std::string& headers) {
  return crlf(headers + "Content-Type: text/plain\n\nbody\n");
}

TEST(SingleFrom, Table) {
  struct Case {
    std::string name;
    std::string headers;
    std::string want_address;  // "" = refused
    std::string want_error;
  };
  const std::vector<Case> cases = {
      {"plain", "From: alice@a.example\n", "alice@a.example", ""},
      {"display name", "From: Alice Example <alice@a.example>\n", "alice@a.example", ""},
      {"quoted name with comma", "From: \"Example, Alice\" <alice@a.example>\n", "alice@a.example", ""},
      {"encoded name hiding a comma and an address",
       "From: =?UTF-8?Q?Bob=2C_mallory=40evil=2Eexample?= <alice@a.example>\n", "alice@a.example", ""},
      {"folded", "From: Alice\n Example <alice@a.example>\n", "alice@a.example", ""},
      {"lower-case field name", "from: alice@a.example\n", "alice@a.example", ""},
      {"no From", "To: x@y.example\n", "", "no From header"},
      {"two From fields", "From: alice@a.example\nFrom: mallory@m.example\n", "", "2 From header fields"},
      {"two addresses", "From: alice@a.example, bob@b.example\n", "",
       "the From header holds 2 addresses"},
      {"two addresses without comma", "From: alice@a.example bob@b.example\n", "",
       "the From header is not a valid address list"},
      {"address as display name", "From: alice@a.example <mallory@m.example>\n", "",
       "the From header is not a valid address list"},
      {"two @", "From: a@b@c.example\n", "", "the From header is not a valid address list"},
      {"group", "From: Team: alice@a.example;\n", "", "the From header uses group syntax"},
      {"empty group", "From: undisclosed-recipients:;\n", "", "the From header uses group syntax"},
      {"no domain", "From: alice\n", "", "the From header is not a valid address list"},
      {"stray bracket", "From: alice@a.example>\n", "", "the From header is not a valid address list"},
      {"unterminated quote", "From: \"Alice <alice@a.example>\n", "",
       "the From header is not a valid address list"},
      {"route", "From: Alice <@r.example:alice@a.example>\n", "",
       "the From header is not a valid address list"},
      {"empty", "From: \n", "", "the From header is not a valid address list"},
      {"angle brackets only", "From: <>\n", "", "the From header is not a valid address list"},
  };
  for (const Case& c : cases) {
    const Message m = parse_ok(with_headers(c.headers));
    auto got = m.single_from();
    if (c.want_address.empty()) {
      ASSERT_FALSE(got) << c.name << " got " << got->address;
      EXPECT_EQ(got.error().message, c.want_error) << c.name;
      EXPECT_EQ(got.error().kind, ErrorClass::refused) << c.name;
    } else {
      ASSERT_TRUE(got) << c.name << ": " << got.error().message;
      EXPECT_EQ(got->address, c.want_address) << c.name;
    }
  }
}

TEST(From, FactsOfTwoFields) {
  const Message m = parse_ok(with_headers(
      "From: Alice <alice@a.example>\nFrom: Team: b@b.example, c@c.example;\n"));
  ASSERT_EQ(m.from_headers.size(), 2u);
  EXPECT_EQ(m.from_headers[0], "Alice <alice@a.example>");
  EXPECT_EQ(m.from_headers[1], "Team: b@b.example, c@c.example;");
  ASSERT_EQ(m.from_mailboxes.size(), 3u);
  EXPECT_EQ(m.from_mailboxes[0].display_name, "Alice");
  EXPECT_EQ(m.from_mailboxes[2].address, "c@c.example");
  EXPECT_EQ(m.from_groups, 1);
  EXPECT_FALSE(m.from_unparsable);
  // Repeated From is judged by single_from, not by the MIME shape.
  EXPECT_EQ(m.content.kind(), ShapeKind::plain);
}

TEST(From, EncodedDisplayNames) {
  const Message m = parse_ok(with_headers(
      "From: =?ISO-8859-1?Q?J=FCrgen_M=FCller?= <juergen@a.example>\n"));
  ASSERT_EQ(m.from_mailboxes.size(), 1u);
  EXPECT_EQ(m.from_mailboxes[0].display_name, "J\xC3\xBCrgen M\xC3\xBCller");
  const Message b = parse_ok(with_headers("From: =?UTF-8?B?w4lsaXNl?= <elise@a.example>\n"));
  ASSERT_TRUE(b.single_from());
  EXPECT_EQ(b.single_from()->display_name, "\xC3\x89lise");
}

TEST(From, IdnDomainInAsciiForm) {
  const Message m = parse_ok(with_headers("From: x@xn--caf-dma.example\n"));
  ASSERT_TRUE(m.single_from());
  EXPECT_EQ(m.single_from()->address, "x@xn--caf-dma.example");
}

TEST(Subject, Table) {
  struct Case {
    std::string name;
    std::string header;  // the whole field with folding, LF line ends
    std::string want;
  };
  const std::vector<Case> cases = {
      {"plain", "Subject: [TLP:AMBER] Phishing\n", "[TLP:AMBER] Phishing"},
      {"Q utf-8", "Subject: =?UTF-8?Q?=5BTLP=3ARED=5D_caf=C3=A9?=\n", "[TLP:RED] caf\xC3\xA9"},
      {"B utf-8", "Subject: =?utf-8?B?W1RMUDpHUkVFTl0gaGk=?=\n", "[TLP:GREEN] hi"},
      {"Q iso-8859-1", "Subject: =?ISO-8859-1?Q?=5BTLP=3AAMBER=5D_caf=E9?=\n", "[TLP:AMBER] caf\xC3\xA9"},
      {"B iso-8859-1", "Subject: =?iso-8859-1?b?W1RMUDpSRURdIOk=?=\n", "[TLP:RED] \xC3\xA9"},
      {"folded plain", "Subject: a long\n [TLP:RED]\n\tsubject\n", "a long [TLP:RED]\tsubject"},
      {"folded encoded words join", "Subject: =?UTF-8?Q?=5BTLP=3A?=\n =?UTF-8?Q?RED=5D?= x\n",
       "[TLP:RED] x"},
      {"encoded word in the middle", "Subject: Re: =?UTF-8?Q?=5BTLP=3AAMBER=5D?= wave\n",
       "Re: [TLP:AMBER] wave"},
      {"raw utf-8", "Subject: caf\xC3\xA9 [TLP:CLEAR]\n", "caf\xC3\xA9 [TLP:CLEAR]"},
      {"trailing spaces trimmed", "Subject:   x  \n", "x"},
  };
  for (const Case& c : cases) {
    const Message m = parse_ok(crlf("From: a@a.example\n" + c.header + "\nbody\n"));
    EXPECT_EQ(m.subject, c.want) << c.name;
    ASSERT_EQ(m.subjects.size(), 1u) << c.name;
  }
}

TEST(Subject, RawIsUnfoldedNotDecoded) {
  const Message m = parse_ok(crlf("Subject: =?UTF-8?Q?=5BTLP=3ARED=5D?=\n x\n\nb\n"));
  EXPECT_EQ(m.subject_raw, "=?UTF-8?Q?=5BTLP=3ARED=5D?= x");
  EXPECT_EQ(m.subject, "[TLP:RED] x");
}

TEST(Subject, EveryFieldIsKept) {
  const Message m = parse_ok(crlf("Subject: [TLP:CLEAR] one\nSubject: [TLP:RED] two\n\nb\n"));
  ASSERT_EQ(m.subjects.size(), 2u);
  EXPECT_EQ(m.subjects[0], "[TLP:CLEAR] one");
  EXPECT_EQ(m.subjects[1], "[TLP:RED] two");
  EXPECT_EQ(m.subject, "[TLP:CLEAR] one");
  EXPECT_EQ(m.content.kind(), ShapeKind::plain);
}

TEST(Subject, NoneGivesEmpty) {
  const Message m = parse_ok(crlf("From: a@a.example\n\nb\n"));
  EXPECT_TRUE(m.subjects.empty());
  EXPECT_EQ(m.subject, "");
}

TEST(Threading, IdsWithoutBrackets) {
  const Message m = parse_ok(crlf(
      "From: a@a.example\n"
      "Message-ID: <abc.123@a.example>\n"
      "In-Reply-To: <p@q.example>\n"
      "References: <1@x.example>\n <2@x.example>\t<3@x.example>\n"
      "References: <4@x.example>\n"
      "Date: Mon, 1 Jan 2024 10:00:00 +0100\n\nb\n"));
  EXPECT_EQ(m.message_id, "abc.123@a.example");
  EXPECT_EQ(m.in_reply_to, std::vector<std::string>{"p@q.example"});
  EXPECT_EQ(m.references,
            (std::vector<std::string>{"1@x.example", "2@x.example", "3@x.example", "4@x.example"}));
  EXPECT_EQ(m.date, "Mon, 1 Jan 2024 10:00:00 +0100");
}

TEST(Threading, MissingAndBroken) {
  const Message m = parse_ok(crlf("From: a@a.example\nMessage-ID: \nIn-Reply-To: garbage\n\nb\n"));
  EXPECT_EQ(m.message_id, "");
  EXPECT_TRUE(m.references.empty());
  const Message n = parse_ok(crlf("From: a@a.example\n\nb\n"));
  EXPECT_EQ(n.message_id, "");
  EXPECT_TRUE(n.in_reply_to.empty());
  EXPECT_EQ(n.date, "");
}

TEST(Headers, AllFieldsInInputOrder) {
  const Message m = parse_ok(crlf(
      "Received: from x\n by y\nFrom: a@a.example\nMIME-Version: 1.0\n"
      "Content-Type: text/plain;\n charset=utf-8\nX-Custom:  v  \nSubject: s\n\nb\n"));
  std::vector<std::string> names;
  for (const HeaderField& h : m.headers) names.push_back(h.name);
  EXPECT_EQ(names, (std::vector<std::string>{"Received", "From", "MIME-Version", "Content-Type",
                                             "X-Custom", "Subject"}));
  EXPECT_EQ(m.headers[0].value, "from x by y");
  EXPECT_EQ(m.headers[3].value, "text/plain; charset=utf-8");
  EXPECT_EQ(m.headers[4].value, "v");
}

TEST(DecodeHeaderText, Table) {
  EXPECT_EQ(decode_header_text("=?UTF-8?Q?=5BTLP=3ARED=5D?="), "[TLP:RED]");
  EXPECT_EQ(decode_header_text("plain"), "plain");
  EXPECT_EQ(decode_header_text("=?x-unknown?Q?abc?="), "abc");
}

TEST(ParseMessage, NotAMessageAtAll) {
  for (const std::string& raw : {std::string(), std::string("x"), std::string(100, '\0')}) {
    auto m = parse_message(raw);
    ASSERT_FALSE(m) << raw.size();
    EXPECT_EQ(m.error().message, "not a MIME message");
    EXPECT_EQ(m.error().kind, ErrorClass::refused);
    auto e = parse_entity(raw);
    ASSERT_FALSE(e) << raw.size();
    EXPECT_EQ(e.error().message, "not a MIME entity");
  }
}

TEST(ParseMessage, HeadersWithoutBodyEndEarly) {
  auto m = parse_message("From: a@a.example\r\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->content.kind(), ShapeKind::malformed);
  auto blank = parse_message("\r\n");
  ASSERT_TRUE(blank);
  EXPECT_EQ(blank->content.kind(), ShapeKind::plain);
}

}  // namespace
}  // namespace tlpmail::mime
