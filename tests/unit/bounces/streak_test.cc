// bounces::bounce_streak as a table: which of a member's newest copies
// count towards the flag (bounced, failed), which are skipped (still
// waiting, delivered too recently to be sure) and which end the streak
// (a copy delivered before the bounce window); and the digest section.
#include <gtest/gtest.h>

#include "bounces/bounce.h"

namespace tlpmail::bounces {
namespace {

using queue::CopyState;

constexpr std::time_t kNow = 1'800'000'000;
constexpr std::int64_t kOld = kNow - kBounceWindow - 60;     // delivered and settled
constexpr std::int64_t kRecent = kNow - kBounceWindow + 60;  // delivered, may still bounce

TEST(BounceStreak, Table) {
  struct Case {
    const char* name;
    std::vector<CopyFact> newest_first;
    int want;
  };
  const std::vector<Case> cases = {
      {"no copies", {}, 0},
      {"one bounce", {{CopyState::bounced, kNow}}, 1},
      {"three bounces",
       {{CopyState::bounced, kNow}, {CopyState::bounced, kNow}, {CopyState::bounced, kNow}},
       3},
      {"failed at the relay counts", {{CopyState::failed, kNow}, {CopyState::bounced, kNow}}, 2},
      {"an old delivery ends it",
       {{CopyState::bounced, kNow}, {CopyState::delivered, kOld}, {CopyState::bounced, kNow}},
       1},
      {"the newest delivered long ago",
       {{CopyState::delivered, kOld}, {CopyState::bounced, kNow}},
       0},
      {"a recent delivery is skipped",
       {{CopyState::delivered, kRecent}, {CopyState::bounced, kNow}, {CopyState::bounced, kNow}},
       2},
      {"waiting copies are skipped",
       {{CopyState::queued, kNow},
        {CopyState::deferred, kNow},
        {CopyState::in_flight, kNow},
        {CopyState::bounced, kNow}},
       1},
      {"only waiting", {{CopyState::queued, kNow}, {CopyState::deferred, kNow}}, 0},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(bounce_streak(c.newest_first, kNow), c.want) << c.name;
  }
}

TEST(BounceStreak, DigestSectionNamesEachFlaggedMember) {
  directory::MailingList list;
  list.address = "ops@lists.example.org";
  list.bounce_threshold = 3;
  DigestSection none = digest_section(list, {});
  EXPECT_TRUE(none.lines.empty());
  DigestSection s = digest_section(list, {{"erin@e.example", 4}});
  ASSERT_EQ(s.lines.size(), 1u);
  EXPECT_EQ(s.lines[0],
            "erin@e.example: the last 4 copies in a row did not arrive (bounced or refused)");
  EXPECT_NE(s.advice.find("Flagged from 3 in a row"), std::string::npos) << s.advice;
  EXPECT_NE(s.advice.find("unsubscribes nobody"), std::string::npos) << s.advice;
}

}  // namespace
}  // namespace tlpmail::bounces
