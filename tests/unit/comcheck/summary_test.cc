// comcheck/summary.h as tables: a member's effective state, the success
// rate and median latency of a check, who missed two checks in a row, a
// person's review state, and the small formatters the reports use.
#include "comcheck/summary.h"

#include <gtest/gtest.h>

namespace tlpmail::comcheck {
namespace {

constexpr std::time_t kStart = 1'800'000'000;
constexpr std::int64_t kDeadline = kStart + 48 * 3600;

Member member(std::string email, State state, std::int64_t sent_at = kStart,
              std::int64_t answered_at = 0) {
  Member m;
  m.check_id = 1;
  m.email = std::move(email);
  m.organization = "Org";
  m.state = state;
  m.sent_at = sent_at;
  m.answered_at = answered_at;
  return m;
}

TEST(EffectiveState, Table) {
  const Delivery bounced{true, "bounced: 5.1.1"};
  const Delivery delivered{false, ""};
  struct Case {
    const char* name;
    State stored;
    const Delivery* delivery;
    std::time_t now;
    State want;
  };
  const std::vector<Case> cases = {
      {"pending before the deadline", State::pending, &delivered, kDeadline - 1, State::pending},
      {"pending at the deadline", State::pending, &delivered, kDeadline, State::no_answer},
      {"pending, message bounced", State::pending, &bounced, kDeadline - 1, State::bounced},
      {"no delivery row yet", State::pending, nullptr, kDeadline - 1, State::pending},
      {"answered stays answered after a bounce", State::answered, &bounced, kDeadline,
       State::answered},
      {"unsigned stays unsigned", State::answered_unsigned, &delivered, kDeadline + 9,
       State::answered_unsigned},
      {"not sent", State::not_sent, nullptr, kDeadline - 1, State::not_sent},
      {"stored no_answer", State::no_answer, &delivered, kDeadline - 1, State::no_answer},
      {"stored no_answer, bounced later", State::no_answer, &bounced, kDeadline, State::bounced},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(effective_state(member("a@x", c.stored), c.delivery, kDeadline, c.now), c.want)
        << c.name;
  }
}

TEST(Summarize, RateLatencyAndCounts) {
  Check check;
  check.id = 2;
  check.list = "ops@lists.example.org";
  check.started_at = kStart;
  check.deadline_at = kDeadline;
  check.closed_at = kDeadline;
  const std::vector<Member> members = {
      member("a@x", State::answered, kStart + 10, kStart + 70),     // 60 s
      member("b@x", State::answered, kStart + 10, kStart + 3610),   // 3600 s
      member("c@x", State::answered_unsigned, kStart, kStart + 5),  // not counted
      member("d@x", State::not_sent, 0),
      member("e@x", State::pending),  // bounced below
      member("f@x", State::no_answer),
      member("G@X", State::no_answer),
  };
  std::map<std::string, Delivery> deliveries = {{"e@x", {true, "bounced: 5.1.1 gone"}}};
  // The check before: f missed it, g answered it, c missed it.
  std::vector<MemberResult> previous(3);
  previous[0].email = "f@x";
  previous[0].state = State::no_answer;
  previous[1].email = "g@x";
  previous[1].state = State::answered;
  previous[2].email = "C@x";
  previous[2].state = State::bounced;
  const Summary s = summarize(check, members, deliveries, previous, kDeadline + 1);
  EXPECT_TRUE(s.closed);
  EXPECT_EQ(s.answered, 2u);
  EXPECT_DOUBLE_EQ(s.success_rate, 0.2857);
  ASSERT_TRUE(s.median_latency_s);
  EXPECT_EQ(*s.median_latency_s, (60 + 3600) / 2);
  ASSERT_EQ(s.members.size(), 7u);
  EXPECT_EQ(s.members[2].latency_s, std::optional<std::int64_t>(5));  // shown, not in the median
  EXPECT_FALSE(s.members[3].latency_s);
  EXPECT_EQ(s.members[4].state, State::bounced);
  EXPECT_EQ(s.members[4].reason, "bounced: 5.1.1 gone");
  EXPECT_EQ(s.counts.at(State::answered), 2u);
  EXPECT_EQ(s.counts.at(State::no_answer), 2u);
  EXPECT_EQ(s.counts.at(State::bounced), 1u);
  // Missed twice: f (no_answer, no_answer), c (unsigned now, bounced
  // before; case-insensitive); not g (answered before), not a.
  std::vector<std::string> flagged;
  for (const auto& m : s.members) {
    if (m.missed_twice) flagged.push_back(m.email);
  }
  EXPECT_EQ(flagged, (std::vector<std::string>{"c@x", "f@x"}));
}

TEST(Summarize, EmptyAndOpen) {
  Check check;
  check.deadline_at = kDeadline;
  const Summary s = summarize(check, {}, {}, {}, kStart);
  EXPECT_FALSE(s.closed);
  EXPECT_EQ(s.success_rate, 0);
  EXPECT_FALSE(s.median_latency_s);
}

TEST(Median, Table) {
  EXPECT_EQ(median({}), std::nullopt);
  EXPECT_EQ(median({7}), 7);
  EXPECT_EQ(median({9, 1, 5}), 5);
  EXPECT_EQ(median({4, 1}), 2);  // (1 + 4) / 2, rounded down
  EXPECT_EQ(median({10, 20, 30, 40}), 25);
}

TEST(SuccessRate, Table) {
  EXPECT_EQ(success_rate(0, 0), 0);
  EXPECT_DOUBLE_EQ(success_rate(1, 3), 0.3333);
  EXPECT_DOUBLE_EQ(success_rate(2, 3), 0.6667);
  EXPECT_DOUBLE_EQ(success_rate(5, 5), 1.0);
}

TEST(FormatLatency, Table) {
  EXPECT_EQ(format_latency(-3), "0s");
  EXPECT_EQ(format_latency(4), "4s");
  EXPECT_EQ(format_latency(725), "12m 5s");
  EXPECT_EQ(format_latency(12000), "3h 20m");
  EXPECT_EQ(format_latency(187200), "2d 4h");
}

TEST(ReviewState, Table) {
  const std::int64_t day = 86400;
  const std::time_t now = kStart + 200 * day;
  const Review confirmed_recently{now - 10 * day, 3};
  const Review confirmed_long_ago{now - 150 * day, 1};
  const ReviewAsk open_ask{4, now - day, now + day, false};
  const ReviewAsk closed_ask{4, now - 5 * day, now - 3 * day, true};
  struct Case {
    const char* name;
    std::optional<Review> review;
    std::optional<ReviewAsk> ask;
    std::int64_t interval;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"never asked", std::nullopt, std::nullopt, 120 * day, "never"},
      {"asked, review open", std::nullopt, open_ask, 120 * day, "pending"},
      {"asked, review closed", std::nullopt, closed_ask, 120 * day, "overdue"},
      {"confirmed before the open ask", confirmed_long_ago, open_ask, 0, "pending"},
      {"confirmed within the interval", confirmed_recently, std::nullopt, 120 * day, "confirmed"},
      {"confirmed longer ago than the interval", confirmed_long_ago, std::nullopt, 120 * day,
       "overdue"},
      {"no interval: a confirmation stays", confirmed_long_ago, std::nullopt, 0, "confirmed"},
      {"confirmed after the ask closed", Review{now - day, 4}, closed_ask, 120 * day, "confirmed"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(review_state(c.review, c.ask, c.interval, now), c.want) << c.name;
  }
}

TEST(StateNames, RoundTrip) {
  for (State s : {State::pending, State::answered, State::answered_unsigned, State::bounced,
                  State::not_sent, State::no_answer}) {
    EXPECT_EQ(parse_state(to_string(s)), s) << to_string(s);
  }
  EXPECT_EQ(parse_state("answered "), std::nullopt);
  EXPECT_EQ(parse_state(""), std::nullopt);
}

}  // namespace
}  // namespace tlpmail::comcheck
