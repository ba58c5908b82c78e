// notice_due() and days_left() (see expiry.h).
#include "keylife/expiry.h"

namespace tlpmail::keylife {

namespace {
constexpr std::time_t kDay = std::time_t{24} * 60 * 60;
}

int days_left(std::time_t usable_until, std::time_t now) {
  if (usable_until <= now) return 0;
  return static_cast<int>((usable_until - now + kDay - 1) / kDay);
}

std::optional<NoticeDue> notice_due(std::time_t usable_until, std::time_t now,
                                    const std::set<int>& sent) {
  if (usable_until == 0 || usable_until <= now) return std::nullopt;
  NoticeDue due;
  for (int days : kNoticeDays) {  // largest first: the last reached is the smallest
    if (usable_until - now > static_cast<std::time_t>(days) * kDay) continue;
    due.threshold = days;
    if (!sent.count(days)) due.to_record.insert(days);
  }
  if (due.threshold == 0 || sent.count(due.threshold)) return std::nullopt;
  return due;
}

}  // namespace tlpmail::keylife
