// delivery::decide and backoff: what each answer of the relay means for a
// copy, and the retry schedule (1 min doubling to 1 h, give up after 5 days).
#include "delivery/retry.h"

#include <gtest/gtest.h>

namespace tlpmail::delivery {
namespace {

smtp::TransactionResult result(int code, std::string enhanced, std::string text,
                               std::string local = "") {
  smtp::TransactionResult r;
  r.final = smtp::Reply{code, std::move(enhanced), std::move(text)};
  r.outcome = smtp::classify(r.final);
  r.local_reason = std::move(local);
  r.recipients.push_back({"bob@csirt-b.example", r.final, r.outcome});
  return r;
}

TEST(Backoff, DoublesFromOneMinuteToOneHour) {
  RetryPolicy p;
  struct Case {
    int attempts;
    long want_seconds;
  } cases[] = {{1, 60}, {2, 120}, {3, 240}, {4, 480}, {5, 960}, {6, 1920}, {7, 3600}, {8, 3600},
               {100, 3600}};
  for (const auto& c : cases) {
    EXPECT_EQ(backoff(p, c.attempts).count(), c.want_seconds) << "attempts " << c.attempts;
  }
}

TEST(Decide, EachReplyClass) {
  RetryPolicy p;
  const std::int64_t queued = 1'000'000, now = queued + 10;
  struct Case {
    const char* name;
    smtp::TransactionResult r;
    queue::CopyState want;
    std::int64_t want_next;
    std::string want_reply;
  } cases[] = {
      {"2xx", result(250, "2.0.0", "Ok: queued as X"), queue::CopyState::delivered, 0,
       "250 2.0.0 Ok: queued as X"},
      {"4xx", result(451, "4.3.0", "try later"), queue::CopyState::deferred, now + 60,
       "451 4.3.0 try later"},
      {"5xx", result(550, "5.1.1", "no such user"), queue::CopyState::failed, 0,
       "550 5.1.1 no such user"},
      {"connection lost", result(421, "4.4.2", "connection lost", "connection to the relay lost"),
       queue::CopyState::deferred, now + 60,
       "421 4.4.2 connection lost (connection to the relay lost)"},
      {"local reason already quoted",
       result(451, "4.4.1", "local: cannot connect to relay 127.0.0.1:25: Connection refused",
              "cannot connect to relay 127.0.0.1:25: Connection refused"),
       queue::CopyState::deferred, now + 60,
       "451 4.4.1 local: cannot connect to relay 127.0.0.1:25: Connection refused"},
      {"not understood", result(354, "", "go ahead"), queue::CopyState::deferred, now + 60,
       "354 go ahead"},
  };
  for (const auto& c : cases) {
    queue::CopyResult got = decide(p, 7, c.r, 1, queued, now);
    EXPECT_EQ(got.id, 7) << c.name;
    EXPECT_EQ(got.state, c.want) << c.name;
    if (c.want == queue::CopyState::deferred) {
      EXPECT_EQ(got.next_attempt_at, c.want_next) << c.name;
    }
    EXPECT_EQ(got.reply, c.want_reply) << c.name;
  }
}

TEST(Decide, RecipientRefusalDecidesAndIsReported) {
  smtp::TransactionResult r = result(250, "2.0.0", "Ok");
  r.recipients.front().reply = smtp::Reply{550, "5.1.1", "unknown user"};
  r.recipients.front().outcome = smtp::Outcome::failed;
  r.outcome = smtp::Outcome::failed;
  r.final = r.recipients.front().reply;
  queue::CopyResult got = decide(RetryPolicy{}, 1, r, 1, 0, 5);
  EXPECT_EQ(got.state, queue::CopyState::failed);
  EXPECT_EQ(got.reply, "550 5.1.1 unknown user");
}

TEST(Decide, GivesUpAfterFiveDaysWithOneLastAttemptAtTheEnd) {
  RetryPolicy p;
  const std::int64_t queued = 1'000'000;
  const std::int64_t five_days = 5 * 86400;
  // Near the end the next attempt is capped at the give-up time...
  queue::CopyResult near = decide(p, 1, result(451, "4.3.0", "busy"), 40, queued,
                                  queued + five_days - 100);
  EXPECT_EQ(near.state, queue::CopyState::deferred);
  EXPECT_EQ(near.next_attempt_at, queued + five_days);
  // ...and that attempt failing temporarily again is the end.
  queue::CopyResult last =
      decide(p, 1, result(451, "4.3.0", "busy"), 41, queued, queued + five_days);
  EXPECT_EQ(last.state, queue::CopyState::failed);
  EXPECT_EQ(last.reply, "gave up after 41 attempts in 5 days: 451 4.3.0 busy");
  // A success at the very end still counts.
  EXPECT_EQ(decide(p, 1, result(250, "2.0.0", "Ok"), 41, queued, queued + five_days).state,
            queue::CopyState::delivered);
}

}  // namespace
}  // namespace tlpmail::delivery
