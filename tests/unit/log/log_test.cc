// Tests of the key=value event line format (escaping of untrusted values).
#include "log/log.h"

#include <gtest/gtest.h>

namespace tlpmail::log {
namespace {

TEST(FormatEvent, PlainValuesStayBare) {
  EXPECT_EQ(format_event("S1", "connect", {{"client", "127.0.0.1"}, {"port", "2525"}}),
            "S1 connect client=127.0.0.1 port=2525");
}

TEST(FormatEvent, EmptyIdAndValue) {
  EXPECT_EQ(format_event("", "start", {{"version", ""}}), "- start version=\"\"");
}

TEST(FormatEvent, UntrustedValuesAreQuotedAndEscaped) {
  struct Case {
    const char* name;
    std::string value;
    std::string want;
  } cases[] = {
      {"space", "two words", "x e k=\"two words\""},
      {"crlf injection", "a\r\nS2 accept fake=1", "x e k=\"a\\r\\nS2 accept fake=1\""},
      {"quote", "say \"hi\"", "x e k=\"say \\\"hi\\\"\""},
      {"equals", "a=b", "x e k=\"a=b\""},
      {"high byte", "caf\xc3\xa9", "x e k=\"caf\\xC3\\xA9\""},
      {"nul", std::string("a\0b", 3), "x e k=\"a\\x00b\""},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_event("x", "e", {{"k", c.value}}), c.want) << c.name;
  }
}

TEST(FormatEvent, LongValuesAreCut) {
  std::string v(1000, 'a');
  v += ' ';
  auto got = format_event("x", "e", {{"k", v}});
  EXPECT_LT(got.size(), 420u);
  EXPECT_NE(got.find("...\""), std::string::npos);
}

}  // namespace
}  // namespace tlpmail::log
