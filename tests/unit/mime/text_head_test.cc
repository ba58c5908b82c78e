// Tests of the body-head helpers: UTF-8 repair, cutting at character
// boundaries, and the HTML reading used when there is no text/plain part.
#include "mime/text_head.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tlpmail::mime {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(SanitizeUtf8, Table) {
  struct Case {
    std::string name, in, want;
  };
  const std::vector<Case> cases = {
      {"ascii", "TLP:RED", "TLP:RED"},
      {"valid 2/3/4 bytes", "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x94\x92", "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x94\x92"},
      {"latin-1 byte", "caf\xE9", "caf" + kFffd},
      {"overlong slash", "\xC0\xAF", kFffd + kFffd},
      {"surrogate", "\xED\xA0\x80", kFffd + kFffd + kFffd},
      {"above U+10FFFF", "\xF4\x90\x80\x80", kFffd + kFffd + kFffd + kFffd},
      {"truncated sequence", "\xE2\x82", kFffd + kFffd},
      {"nul kept", std::string("a\0b", 3), std::string("a\0b", 3)},
  };
  for (const Case& c : cases) EXPECT_EQ(sanitize_utf8(c.in), c.want) << c.name;
}

TEST(CutUtf8, NeverSplitsACharacter) {
  bool truncated = false;
  EXPECT_EQ(cut_utf8("ab\xE2\x82\xAC", 4, &truncated), "ab");
  EXPECT_TRUE(truncated);
  truncated = false;
  EXPECT_EQ(cut_utf8("ab\xE2\x82\xAC", 5, &truncated), "ab\xE2\x82\xAC");
  EXPECT_FALSE(truncated);
  EXPECT_EQ(cut_utf8("abcdef", 3, nullptr), "abc");
}

TEST(HtmlToText, Table) {
  struct Case {
    std::string name, in, want;
  };
  const std::vector<Case> cases = {
      {"tags removed", "<p><b>[TLP:RED]</b> hi</p>", "\n[TLP:RED] hi\n"},
      {"entities", "TLP&#58;AMBER &amp; &lt;x&gt; &nbsp;&#x41;", "TLP:AMBER & <x>  A"},
      {"unknown entity kept", "&bogus; &", "&bogus; &"},
      {"script and style dropped", "<style>p{}</style><script>var a='<p>';</script>ok", "ok"},
      {"comments dropped", "a<!-- TLP:CLEAR -->b", "ab"},
      {"br breaks lines", "a<br>b<BR/>c", "a\nb\nc"},
      {"lone less-than", "a < b", "a < b"},
      {"unclosed tag", "a<p", "a\n"},
  };
  for (const Case& c : cases) EXPECT_EQ(html_to_text(c.in, 1000), c.want) << c.name;
}

TEST(HtmlToText, StopsAtTheLimit) {
  EXPECT_LE(html_to_text(std::string(100000, 'x'), 100).size(), 101u);
}

}  // namespace
}  // namespace tlpmail::mime
