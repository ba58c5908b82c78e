// fanout::list_key_notice_due as a table: which of the 60/30/7/1-day
// notices about a list key is due in a job's interval (since, now], the
// nearest when several are, none for a key without expiry, none twice for
// back-to-back intervals. The notices themselves (gpg, the outbox ids that
// refuse a repeat) run through the real daemon in
// tests/e2e/list_key_notices_test.py.
#include <gtest/gtest.h>

#include "fanout/announce.h"
#include "test_clock.h"

namespace tlpmail::fanout {
namespace {

TEST(ListKeyNoticeDue, TheThresholdCrossedInTheInterval) {
  struct Case {
    const char* name;
    std::time_t expires, since;
    int want;
  };
  const Case cases[] = {
      {"60 days crossed an hour ago", kNow + 60 * kDay - 3600, kNow - kDay, 60},
      {"60 days crossed this second", kNow + 60 * kDay, kNow - kDay, 60},
      {"60 days still ahead", kNow + 60 * kDay + 1, kNow - kDay, 0},
      {"60 days crossed before since", kNow + 59 * kDay, kNow - 3600, 0},
      {"between thresholds", kNow + 45 * kDay, kNow - kDay, 0},
      {"30 days", kNow + 30 * kDay - 60, kNow - kDay, 30},
      {"7 days", kNow + 7 * kDay - 60, kNow - kDay, 7},
      {"1 day", kNow + kDay - 60, kNow - kDay, 1},
      {"down for 40 days: the nearest", kNow + 20 * kDay, kNow - 40 * kDay, 30},
      {"down for 100 days: the nearest", kNow + 3 * kDay, kNow - 100 * kDay, 7},
      {"expired: nothing", kNow - 60, kNow - kDay, 0},
      {"never expires", 0, kNow - kDay, 0},
      {"first run counts one day back", kNow + 60 * kDay - 3600, 0, 60},
      {"first run, crossed two days ago", kNow + 58 * kDay, 0, 0},
      {"clock set back counts one day back", kNow + 60 * kDay - 3600, kNow + kDay, 60},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(list_key_notice_due(c.expires, c.since, kNow), c.want) << c.name;
  }
}

// Daily runs over a key's last 70 days: each threshold once, in order.
TEST(ListKeyNoticeDue, DailyRunsSendEachThresholdOnce) {
  const std::time_t expires = kNow + 70 * kDay + 4321;
  std::vector<int> sent;
  std::time_t last = kNow - kDay;
  for (std::time_t now = kNow; now < expires + 3 * kDay; now += kDay) {
    if (int d = list_key_notice_due(expires, last, now); d > 0) sent.push_back(d);
    last = now;
  }
  EXPECT_EQ(sent, (std::vector<int>{60, 30, 7, 1}));
}

}  // namespace
}  // namespace tlpmail::fanout
