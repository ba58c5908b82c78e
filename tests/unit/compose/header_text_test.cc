// Tests of the header text helpers: cleaning (controls, line breaks,
// invalid UTF-8, bidi controls), RFC 2047 encoding checked against GMime's
// decoder (lib/mime), phrases and quoting, folding limits, dates and
// Message-ID syntax.
#include "compose/header_text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mime/mime.h"

namespace tlpmail::compose {
namespace {

// The value of a header field written by header_field(), unfolded.
std::string unfolded_value(const std::string& field) {
  std::string v = field.substr(field.find(':') + 1);
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\r' && i + 1 < v.size() && v[i + 1] == '\n') {
      ++i;
      continue;
    }
    out.push_back(v[i]);
  }
  std::size_t b = out.find_first_not_of(' ');
  return b == std::string::npos ? "" : out.substr(b);
}

// Every line of a header field, without its CRLF.
std::vector<std::string> lines_of(const std::string& field) {
  std::vector<std::string> out;
  std::size_t p = 0;
  while (p < field.size()) {
    const std::size_t e = field.find("\r\n", p);
    EXPECT_NE(e, std::string::npos) << "field does not end in CRLF";
    if (e == std::string::npos) break;
    out.push_back(field.substr(p, e - p));
    p = e + 2;
  }
  return out;
}

TEST(CleanText, Table) {
  struct Case {
    std::string name, in, want;
  };
  const std::vector<Case> cases = {
      {"plain", "Alice Example", "Alice Example"},
      {"CRLF injection", "Alice\r\nBcc: victim@x.example", "Alice Bcc: victim@x.example"},
      {"bare LF and CR", "a\nb\rc", "a b c"},
      {"tabs and runs of blanks", "  a\t\t b  ", "a b"},
      {"NUL and DEL",
       std::string("a\0b\x7F"
                   "c",
                   5),
       "a b c"},
      {"C1 control",
       "a\xC2\x85"
       "b",
       "a b"},
      {"line separator",
       "a\xE2\x80\xA8"
       "b",
       "a b"},
      {"bidi override removed",
       "Alice\xE2\x80\xAE"
       "evil",
       "Aliceevil"},
      {"bidi isolate removed",
       "\xE2\x81\xA6"
       "x\xE2\x81\xA9",
       "x"},
      {"invalid UTF-8", "caf\xE9", "caf\xEF\xBF\xBD"},
      {"overlong", "\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD"},
      {"surrogate", "\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
      {"valid UTF-8 kept", "J\xC3\xB6rg \xF0\x9F\x94\x92", "J\xC3\xB6rg \xF0\x9F\x94\x92"},
      {"only controls", "\r\n\t", ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(clean_text(c.in), c.want) << c.name;
  }
}

TEST(CutText, CutsAtCharacterBoundary) {
  EXPECT_EQ(cut_text("abc", 3), "abc");
  EXPECT_EQ(cut_text("abcd", 3), "abc...");
  EXPECT_EQ(cut_text("a\xC3\xB6", 2), "a...");  // does not split the o-umlaut
  EXPECT_EQ(cut_text("a\xC3\xB6x", 3), "a\xC3\xB6...");
}

TEST(NeedsEncoding, Table) {
  EXPECT_FALSE(needs_encoding("Phishing"));
  EXPECT_FALSE(needs_encoding("[TLP:AMBER]"));
  EXPECT_TRUE(needs_encoding("K\xC3\xB6ln"));
  EXPECT_TRUE(needs_encoding("=?UTF-8?Q?x?="));
  EXPECT_TRUE(needs_encoding("a=?b"));
  EXPECT_TRUE(needs_encoding("tab\there"));
}

TEST(EncodedWords, DecodeBackAndStayWithin75) {
  const std::vector<std::string> texts = {
      "J\xC3\xB6rg M\xC3\xBCller",
      "Gr\xC3\xBC\xC3\x9F"
      "e aus K\xC3\xB6ln, Stra\xC3\x9F"
      "e 5 = 2+3? _under_score_",
      std::string(200, 'x') + "\xC3\xA9",
      // CJK: every character 3 bytes, B encoding is shorter.
      [] {
        std::string s;
        for (int i = 0; i < 60; ++i) s += "\xE6\xBC\xA2";
        return s;
      }(),
      // Emoji: 4-byte characters are never split between words.
      [] {
        std::string s;
        for (int i = 0; i < 40; ++i) s += "\xF0\x9F\x94\x92 ";
        return s + "end";
      }(),
      "=?UTF-8?Q?looks_encoded?=",
  };
  for (const std::string& t : texts) {
    const std::vector<std::string> words = encoded_words(t);
    ASSERT_FALSE(words.empty());
    std::string joined;
    for (const std::string& w : words) {
      EXPECT_LE(w.size(), 75u) << w;
      EXPECT_TRUE(w.rfind("=?UTF-8?", 0) == 0 && w.size() >= 4 && w.substr(w.size() - 2) == "?=");
      for (char c : w) {
        EXPECT_TRUE(c > 0x20 && c < 0x7F) << "not printable ASCII in " << w;
      }
      if (!joined.empty()) joined.push_back(' ');
      joined += w;
    }
    EXPECT_EQ(mime::decode_header_text(joined), t);
  }
}

TEST(EncodedWords, QForMostlyAsciiBForMostlyNot) {
  EXPECT_EQ(encoded_words("J\xC3\xB6rg"), std::vector<std::string>{"=?UTF-8?Q?J=C3=B6rg?="});
  EXPECT_EQ(encoded_words("\xE2\x80\x93"), std::vector<std::string>{"=?UTF-8?B?4oCT?="});
  EXPECT_EQ(encoded_words("a b=c_d?e"), std::vector<std::string>{"=?UTF-8?Q?a_b=3Dc=5Fd=3Fe?="});
  EXPECT_TRUE(encoded_words("").empty());
}

TEST(PhraseTokens, Table) {
  struct Case {
    std::string name, in;
    bool always_quote;
    std::string want;  // the written field value
  };
  const std::vector<Case> cases = {
      {"atoms unquoted", "CSIRT Network exchange", false, "CSIRT Network exchange"},
      {"atoms quoted when asked", "Alice Example", true, "\"Alice Example\""},
      {"specials quoted", "CSIRT (ops), EU.", false, "\"CSIRT (ops), EU.\""},
      {"quote and backslash escaped", "Bob \"B\" O\\Neil", true, "\"Bob \\\"B\\\" O\\\\Neil\""},
      {"non-ASCII encoded", "J\xC3\xB6rg", true, "=?UTF-8?Q?J=C3=B6rg?="},
      {"encoded-word look-alike encoded", "=?UTF-8?Q?Admin?=", true,
       "=?UTF-8?Q?=3D=3FUTF-8=3FQ=3FAdmin=3F=3D?="},
      {"empty", "", true, ""},
  };
  for (const Case& c : cases) {
    const std::string field = header_field("X", phrase_tokens(c.in, c.always_quote));
    EXPECT_EQ(unfolded_value(field), c.want) << c.name;
  }
  // Too long for one quoted string: encoded, folded, and decodes back.
  const std::string long_name(90, 'n');
  const std::string field = header_field("From", phrase_tokens(long_name, true));
  EXPECT_EQ(mime::decode_header_text(unfolded_value(field)), long_name);
  for (const std::string& l : lines_of(field)) EXPECT_LE(l.size(), 78u) << l;
}

TEST(HeaderField, FoldsBelow78AndDecodesBack) {
  const std::vector<std::string> subjects = {
      "short",
      "[TLP:AMBER] [csirt-ops] Re: Phishing wave gegen Energieversorger \xE2\x80\x93 dringend "
      "bitte weiterleiten an alle Betreiber kritischer Infrastrukturen",
      std::string(300, 'w'),  // one very long word: encoded so it can be split
      [] {
        std::string s;
        for (int i = 0; i < 100; ++i) s += "word" + std::to_string(i) + " K\xC3\xB6ln ";
        return clean_text(s);
      }(),
  };
  for (const std::string& s : subjects) {
    const std::string field = header_field("Subject", unstructured_tokens(s));
    for (const std::string& l : lines_of(field)) {
      EXPECT_LE(l.size(), 78u) << l;
      EXPECT_FALSE(l.empty());
      for (char c : l) EXPECT_TRUE(c >= 0x20 && c < 0x7F) << "8-bit or control in " << l;
    }
    EXPECT_EQ(mime::decode_header_text(unfolded_value(field)), s);
  }
}

TEST(HeaderField, ExactFolding) {
  EXPECT_EQ(header_field("To", "a@b.example"), "To: a@b.example\r\n");
  EXPECT_EQ(header_field("Subject", unstructured_tokens("Gr\xC3\xBC\xC3\x9F"
                                                        "e aus K\xC3\xB6ln")),
            "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus =?UTF-8?Q?K=C3=B6ln?=\r\n");
  EXPECT_EQ(header_field("References", std::vector<std::string>{std::string(40, 'a') + "@x",
                                                                std::string(40, 'b') + "@y"}),
            "References: " + std::string(40, 'a') + "@x\r\n " + std::string(40, 'b') + "@y\r\n");
  // An encoded run fills the rest of the first line, then continues.
  const std::string text = "Betreff: " + std::string(30, 'a') + " \xC3\xA4" + std::string(60, 'b');
  const std::string f2 = header_field("Subject", unstructured_tokens(text));
  const std::vector<std::string> lines = lines_of(f2);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_GT(lines[0].size(), 70u) << "first line should be filled: " << lines[0];
  EXPECT_EQ(mime::decode_header_text(unfolded_value(f2)), text);
}

TEST(Rfc5322Date, Utc) {
  EXPECT_EQ(rfc5322_date(1763837467), "Sat, 22 Nov 2025 18:51:07 +0000");
  EXPECT_EQ(rfc5322_date(0), "Thu, 1 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(rfc5322_date(951782400), "Tue, 29 Feb 2000 00:00:00 +0000");
}

TEST(IsMessageId, Table) {
  struct Case {
    std::string id;
    bool want;
  };
  const std::vector<Case> cases = {
      {"a@b", true},
      {"20251122.q1@lists.example.org", true},
      {"CAF=x+y_z-w/v@mail.gmail.com", true},
      {"AM0PR01MB1234.eurprd01.prod.exchangelabs.com@AM0PR01MB1234", true},
      {"x@[127.0.0.1]", true},
      {"", false},
      {"a", false},
      {"@b", false},
      {"a@", false},
      {"a b@c", false},
      {"a@b\r\nBcc: x@y", false},
      {"<a@b>", false},
      {"a@b@c", false},
      {"a\"b@c", false},
      {"a@b,c", false},
      {"a@[x]y", false},
      {std::string(245, 'a') + "@b.cd", true},
      {std::string(246, 'a') + "@b.cd", false},
  };
  for (const Case& c : cases) EXPECT_EQ(is_message_id(c.id), c.want) << c.id;
}

TEST(CleanAddress, RemovesWhatCouldAddFields) {
  EXPECT_EQ(clean_address("ops@lists.example.org"), "ops@lists.example.org");
  EXPECT_EQ(clean_address("ops@x\r\nBcc: y@z"), "ops@xBcc:y@z");
  EXPECT_EQ(clean_address("<a@b>, c@d"), "a@bc@d");
}

}  // namespace
}  // namespace tlpmail::compose
