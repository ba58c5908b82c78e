// What a check's rows mean (docs/comchecks.md): each member's state as a
// report shows it (a check message that bounced or was refused makes the
// member `bounced`, a passed deadline `no_answer`), the latency, the
// success rate (answered / members) and the median latency, and who
// missed this check and the one before. Pure: the rows come from
// comcheck/store.h and the outbox (report.h loads them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "comcheck/store.h"

namespace tlpmail::comcheck {

// What became of a member's check message in the outbox.
struct Delivery {
  bool bounced = false;  // bounced, or failed at the relay
  std::string reply;     // the bounce's status or the relay's answer
};

struct MemberResult {
  std::string email;
  std::string organization;
  State state = State::pending;
  std::string reason;         // not_sent, answered_unsigned, bounced: why
  std::int64_t sent_at = 0;   // 0: not sent
  std::int64_t answered_at = 0;
  std::optional<std::int64_t> latency_s;  // answered and answered_unsigned
  bool missed_twice = false;  // not answered in this check and in the one before
  std::string review_result;  // "", "confirmed", "corrected"
};

struct Summary {
  Check check;
  std::vector<MemberResult> members;  // in the check's order
  std::size_t answered = 0;           // members in state answered
  double success_rate = 0;            // answered / members (0 when none)
  std::optional<std::int64_t> median_latency_s;  // over answered members
  std::map<State, std::size_t> counts;           // members per state
  bool closed = false;  // closed, or its deadline has passed
};

// A member's state now: answered, answered_unsigned and not_sent as
// stored; otherwise bounced when `delivery` says so, no_answer when the
// deadline (`deadline_at`) has passed at `now`, else pending.
State effective_state(const Member& m, const Delivery* delivery, std::int64_t deadline_at,
                      std::time_t now);

// Counts as a miss: every settled state but answered.
bool is_miss(State s);

// The summary of `check` from its rows. `deliveries` by lower-case email;
// `previous` is the members of the list's check before this one (empty
// when none): a member who missed both is flagged.
Summary summarize(const Check& check, const std::vector<Member>& members,
                  const std::map<std::string, Delivery>& deliveries,
                  const std::vector<MemberResult>& previous, std::time_t now);

// The median of `values` (the mean of the middle two for an even count,
// rounded down); nullopt when empty.
std::optional<std::int64_t> median(std::vector<std::int64_t> values);

// answered / total, rounded to 4 decimals; 0 when total is 0.
double success_rate(std::size_t answered, std::size_t total);

// "4s", "12m 5s", "3h 20m", "2d 4h".
std::string format_latency(std::int64_t seconds);

// A person's directory review as tlpmailctl members and directory show it:
// "pending" (asked in an open review, not confirmed since), "overdue"
// (asked in a review that closed without a confirmation, or confirmed
// longer ago than `interval`, the shortest directory_review_interval of
// their lists; 0: none), "confirmed", or "never" (never asked, never
// confirmed).
std::string review_state(const std::optional<Review>& review, const std::optional<ReviewAsk>& ask,
                         std::int64_t interval, std::time_t now);

}  // namespace tlpmail::comcheck
