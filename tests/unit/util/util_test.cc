// Tests of the shared helpers in lib/util: case folding, trimming, log
// escaping, line splitting, dates, Result<T> and reading small files.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <vector>

#include "util/files.h"
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

TEST(Files, ReadSmallFile) {
  char dir_template[] = "/tmp/tlpmail-files-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::filesystem::path dir = dir_template;
  const std::filesystem::path file = dir / "f";
  std::ofstream(file, std::ios::binary) << std::string(40000, 'x');

  auto whole = read_small_file(file, 40000);
  ASSERT_TRUE(whole) << whole.error().message;
  EXPECT_EQ(*whole, std::string(40000, 'x'));

  auto big = read_small_file(file, 39999);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().message, "larger than 39999 bytes");

  auto missing = read_small_file(dir / "nope", 10);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "No such file or directory");

  auto folder = read_small_file(dir, 10);
  ASSERT_FALSE(folder);
  EXPECT_EQ(folder.error().message, "Is a directory");

  // A FIFO without a writer would block an open or read: refused at once.
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  auto fifo = read_small_file(dir / "fifo", 10);
  ASSERT_FALSE(fifo);
  EXPECT_EQ(fifo.error().message, "not a regular file");

  // read(2) failing on a regular file (EIO at address 0 of /proc/self/mem)
  // is an error value, not an exception out of a stream buffer.
  auto failing = read_small_file("/proc/self/mem", 10);
  ASSERT_FALSE(failing);
  EXPECT_EQ(failing.error().message, "Input/output error");

  auto cmdline = read_small_file("/proc/self/cmdline", 64 * 1024);
  ASSERT_TRUE(cmdline) << cmdline.error().message;
  EXPECT_NE(cmdline->find("util_test"), std::string::npos);

  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tlpmail
