// keylife::notice_due and days_left as tables: which of the 30/7/1-day
// notices is due, which thresholds are recorded without a notice of their
// own, and that nothing is sent twice, for no expiry or after it.
#include "keylife/expiry.h"

#include <gtest/gtest.h>

#include "test_clock.h"

namespace tlpmail::keylife {
namespace {

TEST(DaysLeft, RoundsUpAndStopsAtZero) {
  struct Case {
    std::time_t until;
    int want;
  };
  const Case cases[] = {
      {kNow + 30 * kDay, 30},
      {kNow + 30 * kDay - 1, 30},
      {kNow + 29 * kDay + 1, 30},
      {kNow + 29 * kDay, 29},
      {kNow + 1, 1},
      {kNow + kDay, 1},
      {kNow + kDay + 1, 2},
      {kNow, 0},
      {kNow - kDay, 0},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(days_left(c.until, kNow), c.want) << "until now+" << (c.until - kNow);
  }
}

TEST(NoticeDue, OneNoticePerThresholdOnce) {
  struct Case {
    const char* name;
    std::time_t until;
    std::set<int> sent;
    int want_threshold;  // 0: nothing due
    std::set<int> want_record;
  };
  const Case cases[] = {
      {"no expiry", 0, {}, 0, {}},
      {"already past", kNow - 1, {}, 0, {}},
      {"at the moment of expiry", kNow, {}, 0, {}},
      {"31 days left", kNow + 31 * kDay, {}, 0, {}},
      {"30 days and a second", kNow + 30 * kDay + 1, {}, 0, {}},
      {"exactly 30 days", kNow + 30 * kDay, {}, 30, {30}},
      {"20 days", kNow + 20 * kDay, {}, 30, {30}},
      {"20 days, 30 sent", kNow + 20 * kDay, {30}, 0, {}},
      {"7 days, 30 sent", kNow + 7 * kDay, {30}, 7, {7}},
      {"7 days, 30 and 7 sent", kNow + 7 * kDay, {30, 7}, 0, {}},
      // First seen 5 days before: the 7-day notice only, 30 recorded with it.
      {"5 days, nothing sent", kNow + 5 * kDay, {}, 7, {30, 7}},
      {"1 day, 30 and 7 sent", kNow + kDay, {30, 7}, 1, {1}},
      {"an hour, 30 sent", kNow + 3600, {30}, 1, {7, 1}},
      {"an hour, all sent", kNow + 3600, {30, 7, 1}, 0, {}},
      // A later (extended) expiry date starts over: `sent` is per date.
      {"20 days, nothing sent for this date", kNow + 20 * kDay, {}, 30, {30}},
  };
  for (const Case& c : cases) {
    const auto due = notice_due(c.until, kNow, c.sent);
    if (c.want_threshold == 0) {
      EXPECT_FALSE(due) << c.name << ": got " << (due ? due->threshold : 0);
      continue;
    }
    ASSERT_TRUE(due) << c.name;
    EXPECT_EQ(due->threshold, c.want_threshold) << c.name;
    EXPECT_EQ(due->to_record, c.want_record) << c.name;
  }
}

}  // namespace
}  // namespace tlpmail::keylife
