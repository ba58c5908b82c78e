// When a member is told that their key expires (docs/keys.md, "Expiry
// notices"): 30, 7 and 1 days before the key stops being usable, one
// notice per threshold and expiry date. Pure: no I/O; key_check.cc reads
// and writes what was sent.
#pragma once

#include <array>
#include <ctime>
#include <optional>
#include <set>
#include <string>

namespace tlpmail::keylife {

// The thresholds in days, largest first.
inline constexpr std::array<int, 3> kNoticeDays = {30, 7, 1};

struct NoticeDue {
  int threshold = 0;          // the notice to send: 30, 7 or 1
  std::set<int> to_record;    // every threshold now passed and not yet recorded
};

// The notice due for a key usable until `usable_until` (0: no expiry) at
// `now`, when `sent` holds the thresholds already recorded for that date:
// the smallest threshold that has been reached (usable_until - now at most
// that many days) if it is not in `sent`. Larger thresholds reached at the
// same time are recorded without a notice of their own (a key first seen
// 5 days before its expiry gets the 7-day notice only). nullopt: nothing
// to send (no expiry, already past, more than 30 days left, or sent).
std::optional<NoticeDue> notice_due(std::time_t usable_until, std::time_t now,
                                    const std::set<int>& sent);

// Whole days left, rounded up ("in 1 day" on the last day), as
// keyring::assess_key counts them.
int days_left(std::time_t usable_until, std::time_t now);

}  // namespace tlpmail::keylife
