// Tests of the raw multipart splitter and line-ending canonicalisation:
// delimiter rules (padding, look-alike lines, close delimiter), where a
// part ends (the line break before a delimiter belongs to it), LF input.
#include "mime/raw_multipart.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mime/mime.h"

namespace tlpmail::mime {
namespace {

std::vector<std::string> parts_of(const std::string& body, const std::string& boundary,
                                  bool* closed = nullptr) {
  const RawMultipart m = split_multipart(body, 0, boundary);
  if (closed) *closed = m.closed;
  std::vector<std::string> out;
  for (const RawSpan& s : m.parts) out.push_back(body.substr(s.begin, s.end - s.begin));
  return out;
}

TEST(SplitMultipart, Table) {
  struct Case {
    std::string name;
    std::string body;
    std::vector<std::string> want;
    bool want_closed;
  };
  const std::vector<Case> cases = {
      {"crlf", "pre\r\n--b\r\nA: 1\r\n\r\nx\r\n--b\r\nB\r\n--b--\r\nepi", {"A: 1\r\n\r\nx", "B"}, true},
      {"lf", "--b\nA\n--b\nB\n--b--\n", {"A", "B"}, true},
      {"padding after delimiter", "--b \t\r\nA\r\n--b  \r\nB\r\n--b-- \r\n", {"A", "B"}, true},
      {"look-alike lines are content", "--b\r\n--bx\r\n --b\r\n--b-x\r\n--b\r\nB\r\n--b--",
       {"--bx\r\n --b\r\n--b-x", "B"}, true},
      {"trailing blank lines stay in the part", "--b\r\nA\r\n\r\n\r\n--b--\r\n", {"A\r\n\r\n"}, true},
      {"empty part", "--b\r\n--b\r\nB\r\n--b--\r\n", {"", "B"}, true},
      {"no close delimiter", "--b\r\nA\r\n--b\r\nB\r\n", {"A", "B\r\n"}, false},
      {"no delimiter at all", "just text\r\n", {}, false},
      {"close without EOL", "--b\r\nA\r\n--b--", {"A"}, true},
      {"epilogue ignored", "--b\r\nA\r\n--b--\r\n--b\r\nC\r\n", {"A"}, true},
      {"boundary with regex chars", "--a.b*c\r\nA\r\n--a.b*c--\r\n", {"A"}, true},
      {"bare CR is not a line end", "--b\rA\r\n--b--\r\n", {}, true},
  };
  for (const Case& c : cases) {
    bool closed = false;
    const std::string boundary = c.name == "boundary with regex chars" ? "a.b*c" : "b";
    const std::vector<std::string> got = parts_of(c.body, boundary, &closed);
    EXPECT_EQ(got, c.want) << c.name;
    EXPECT_EQ(closed, c.want_closed) << c.name;
  }
}

TEST(SplitMultipart, StartsAtBodyBegin) {
  const std::string text = "X: --b\r\n--b\r\n\r\n--b\r\nA\r\n--b--\r\n";
  // From offset 0 the header-looking line "--b" counts; from the body it does not.
  const RawMultipart m = split_multipart(text, 15, "b");
  ASSERT_EQ(m.parts.size(), 1u);
  EXPECT_EQ(text.substr(m.parts[0].begin, m.parts[0].end - m.parts[0].begin), "A");
}

TEST(SplitMultipart, EmptyBoundaryFindsNothing) {
  EXPECT_TRUE(split_multipart("--\r\nA\r\n----\r\n", 0, "").parts.empty());
}

TEST(BodyBeginAfter, Table) {
  EXPECT_EQ(body_begin_after("A: 1\r\n\r\nbody", 6), 8u);
  EXPECT_EQ(body_begin_after("A: 1\n\nbody", 5), 6u);
  EXPECT_EQ(body_begin_after("A: 1\r\n", 6), std::string_view::npos);
  EXPECT_EQ(body_begin_after("A: 1\r\nB", 6), std::string_view::npos);
  EXPECT_EQ(body_begin_after("A: 1\r\n\r", 6), std::string_view::npos);
}

TEST(ToCanonicalCrlf, Table) {
  struct Case {
    std::string in, want;
  };
  const std::vector<Case> cases = {
      {"", ""},
      {"a\nb\n", "a\r\nb\r\n"},
      {"a\r\nb\r\n", "a\r\nb\r\n"},
      {"mixed\r\nlf\nend", "mixed\r\nlf\r\nend"},
      {"\n\n", "\r\n\r\n"},
      {"bare\rcr\n", "bare\rcr\r\n"},
      {"trailing spaces  \n", "trailing spaces  \r\n"},
  };
  for (const Case& c : cases) EXPECT_EQ(to_canonical_crlf(c.in), c.want) << c.in;
}

}  // namespace
}  // namespace tlpmail::mime
