// The VERP and check token (lib/util/random_token.h): its form, that
// is_random_token() accepts exactly that form, and that tokens differ.
#include "util/random_token.h"

#include <gtest/gtest.h>

#include <set>

namespace tlpmail {
namespace {

TEST(RandomToken, FormAndUniqueness) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto t = random_token();
    ASSERT_TRUE(t) << t.error().message;
    ASSERT_EQ(t->size(), kRandomTokenLength);
    EXPECT_TRUE(is_random_token(*t)) << *t;
    for (char c : *t) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) << *t;
    seen.insert(*t);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(RandomToken, IsRandomTokenTable) {
  struct Case {
    std::string s;
    bool want;
  };
  const std::vector<Case> cases = {
      {"abcdefghijklmnopqrstuvwxyz", true},   {"ABCDEFGHIJKLMNOPQRSTUVWXYZ", true},  // case-folding
                                                                                     // MTAs
      {"234567abcdefghijklmnopqrst", true},   {"abcdefghijklmnopqrstuvwxy", false},  // 25
      {"abcdefghijklmnopqrstuvwxyza", false},                                        // 27
      {"abcdefghijklmnopqrstuvwxy1", false},  // 1 is not base32
      {"abcdefghijklmnopqrstuvwxy8", false},  {"abcdefghijklmnopqrstuvwxy-", false}, {"", false},
  };
  for (const Case& c : cases) EXPECT_EQ(is_random_token(c.s), c.want) << c.s;
}

}  // namespace
}  // namespace tlpmail
