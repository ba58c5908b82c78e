// Tests of the shared helpers in lib/util: case folding, trimming, log
// escaping, line splitting, dates, and Result<T>.
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "util/result.h"
#include "util/text.h"

namespace tlpmail {
namespace {

TEST(Text, CaseFolding) {
  EXPECT_TRUE(iequals("Alice@CSIRT-A.example", "alice@csirt-a.EXAMPLE"));
  EXPECT_FALSE(iequals("alice", "alicia"));
  EXPECT_FALSE(iequals("a\xc3\x84", "a\xc3\xa4"));  // ASCII only: Ä is not ä
  EXPECT_EQ(ascii_lower("TLP:Amber+STRICT"), "tlp:amber+strict");
  EXPECT_EQ(ascii_upper("0123abcdef"), "0123ABCDEF");
}

TEST(Text, Trim) {
  EXPECT_EQ(trim("  x y \t\r\n"), "x y");
  EXPECT_EQ(trim(" \t "), "");
  EXPECT_EQ(trim(""), "");
}

TEST(Text, NextLine) {
  const std::string_view text = "one\r\ntwo\n\nbare\rcr\r\nlast";
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos < text.size()) lines.push_back(next_line(text, pos));
  EXPECT_EQ(lines, (std::vector<std::string_view>{"one", "two", "", "bare\rcr", "last"}));
  EXPECT_EQ(pos, text.size() + 1);
  pos = 0;
  EXPECT_EQ(next_line("x\n", pos), "x");
  EXPECT_EQ(pos, 2u);  // a text ending in LF has no empty last line
}

TEST(Text, EscapeForLog) {
  struct Case {
    const char* name;
    std::string in;
    std::size_t max;
    std::string want;
  } cases[] = {
      {"plain", "EHLO mta.example", 200, "EHLO mta.example"},
      {"crlf", "a\r\nb", 200, "a\\r\\nb"},
      {"tab and backslash", "a\t\\", 200, "a\\t\\\\"},
      {"quote", "\"", 200, "\\\""},
      {"control and high bytes", std::string("\x01\xff", 2), 200, "\\x01\\xFF"},
      {"cut", "abcdef", 3, "abc..."},
  };
  for (const auto& c : cases) EXPECT_EQ(escape_for_log(c.in, c.max), c.want) << c.name;
}

TEST(Text, IsoDateIsUtc) {
  EXPECT_EQ(iso_date(0), "1970-01-01");
  EXPECT_EQ(iso_date(1795305600), "2026-11-22");  // 2026-11-22T00:00:00Z
  EXPECT_EQ(iso_date(1795391999), "2026-11-22");  // 23:59:59Z
  EXPECT_EQ(iso_date(1795392000), "2026-11-23");
}

TEST(ResultT, ValueAndError) {
  Result<int> ok = 7;
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 7);
  Result<int> bad = Unexpected(Error::temporary("disk full"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorClass::temporary);
  EXPECT_EQ(bad.error().message, "disk full");
  Result<void> done;
  EXPECT_TRUE(done);
  Result<void> refused = Unexpected(Error::refused("message is not signed"));
  EXPECT_FALSE(refused);
  EXPECT_EQ(to_string(refused.error().kind), "refused");
}

}  // namespace
}  // namespace tlpmail
