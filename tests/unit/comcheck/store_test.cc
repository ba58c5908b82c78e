// comcheck/store.h on a real SQLite file with the real schema: starting a
// check (tokens, send moments in the spread, one open check per list),
// the job's reads (due sends, expired checks), answers that only move a
// state up, confirmations as review state, closing, and the history the
// reports load.
#include "comcheck/store.h"

#include <gtest/gtest.h>

#include <set>

#include "comcheck/report.h"
#include "support/temp_dir.h"
#include "util/random_token.h"

namespace tlpmail::comcheck {
namespace {

constexpr std::time_t kNow = 1'800'000'000;
const std::string kList = "Ops@Lists.Example.org";

// Tokens are matched case-insensitively (a case-folding MTA or client).
std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  return s;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = store::Database::open(tmp.file("tlpmail.db"));
    ASSERT_TRUE(d) << d.error().message;
    db = std::move(*d);
  }

  NewCheck new_check(std::int64_t deadline = 3600, std::int64_t spread = 0) {
    NewCheck c;
    c.list = kList;
    c.deadline_s = deadline;
    c.spread_s = spread;
    c.members = {{"alice@a.example", "A"}, {"Bob@B.example", "B"}, {"carol@c.example", "C"}};
    return c;
  }

  Check started(NewCheck c, std::time_t at = kNow) {
    auto s = start(*db, c, at);
    EXPECT_TRUE(s) << s.error().message;
    return s ? *s : Check{};
  }

  template <typename F>
  void write(F f) {
    auto r = db->transaction([&](store::Transaction& tx) { return f(tx); });
    ASSERT_TRUE(r) << r.error().message;
  }

  std::vector<Member> members(std::int64_t id) {
    auto m = members_of(*db, id);
    EXPECT_TRUE(m);
    return m ? *m : std::vector<Member>{};
  }

  tlpmail::testing::TempDir tmp;
  std::unique_ptr<store::Database> db;
};

TEST_F(StoreTest, StartDrawsTokensAndMomentsInTheSpread) {
  auto has = has_tables(*db);
  ASSERT_TRUE(has);
  EXPECT_TRUE(*has);
  const Check c = started(new_check(7200, 600));
  EXPECT_EQ(c.list, "ops@lists.example.org");
  EXPECT_EQ(c.deadline_at, kNow + 7200);
  EXPECT_TRUE(c.is_open());
  const auto ms = members(c.id);
  ASSERT_EQ(ms.size(), 3u);
  std::set<std::string> tokens;
  for (const Member& m : ms) {
    EXPECT_TRUE(is_random_token(m.token)) << m.token;
    tokens.insert(m.token);
    EXPECT_GE(m.send_at, kNow);
    EXPECT_LE(m.send_at, kNow + 600);
    EXPECT_EQ(m.state, State::pending);
    EXPECT_EQ(m.sent_at, 0);
  }
  EXPECT_EQ(tokens.size(), 3u);
  EXPECT_EQ(ms[1].email, "Bob@B.example");
  EXPECT_EQ(ms[1].organization, "B");
}

TEST_F(StoreTest, OneOpenCheckPerListAndBadArguments) {
  started(new_check());
  auto again = start(*db, new_check(), kNow + 10);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorClass::refused);
  EXPECT_NE(again.error().message.find("is open until"), std::string::npos);
  NewCheck other = new_check();
  other.list = "red@lists.example.org";
  EXPECT_TRUE(start(*db, other, kNow));  // another list may run its own

  NewCheck empty = new_check();
  empty.list = "x@lists.example.org";
  empty.members.clear();
  EXPECT_FALSE(start(*db, empty, kNow));
  NewCheck wide = new_check(600, 600);
  wide.list = "y@lists.example.org";
  auto w = start(*db, wide, kNow);
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message.find("spread"), std::string::npos);
}

TEST_F(StoreTest, DueSendsAndMarks) {
  const Check c = started(new_check(3600, 0));
  auto due = due_sends(*db, kNow, 10);
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 3u);
  write([&](store::Transaction& tx) {
    return mark_sent(tx, c.id, "alice@a.example", kNow + 1, "m1@lists.example.org", "check.1.a");
  });
  write(
      [&](store::Transaction& tx) { return mark_not_sent(tx, c.id, "carol@c.example", "no key"); });
  due = due_sends(*db, kNow + 2, 10);
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].email, "Bob@B.example");
  // Nothing is sent after the deadline.
  due = due_sends(*db, kNow + 3600, 10);
  ASSERT_TRUE(due);
  EXPECT_TRUE(due->empty());

  auto by_id = by_message_id(*db, "m1@lists.example.org");
  ASSERT_TRUE(by_id && *by_id);
  EXPECT_EQ((*by_id)->member.email, "alice@a.example");
  EXPECT_EQ((*by_id)->check.id, c.id);
  const auto ms = members(c.id);
  auto tok = by_token(*db, upper(ms[1].token));
  ASSERT_TRUE(tok && *tok);
  EXPECT_EQ((*tok)->member.email, "Bob@B.example");
  auto none = by_token(*db, "abcdefghijklmnopqrstuvwxyz");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  EXPECT_EQ(ms[2].state, State::not_sent);
  EXPECT_EQ(ms[2].reason, "no key");
}

TEST_F(StoreTest, AnswersOnlyMoveUpAndConfirmationsAreReviewState) {
  NewCheck n = new_check();
  n.review = true;
  const Check c = started(n);
  for (const char* who : {"alice@a.example", "Bob@B.example", "carol@c.example"}) {
    write([&](store::Transaction& tx) {
      return mark_sent(tx, c.id, who, kNow, std::string(who) + ".m", "");
    });
  }
  // Alice: unsigned first, then signed: answered, latency to the signed one.
  write([&](store::Transaction& tx) {
    return record_answer(tx, c.id, "alice@a.example", State::answered_unsigned, "unsigned", "",
                         kNow + 10);
  });
  write([&](store::Transaction& tx) {
    return record_answer(tx, c.id, "alice@a.example", State::answered, "", "confirmed", kNow + 50);
  });
  // Bob: signed, then an unsigned one that must not take it back.
  write([&](store::Transaction& tx) {
    return record_answer(tx, c.id, "Bob@B.example", State::answered, "", "corrected", kNow + 20);
  });
  write([&](store::Transaction& tx) {
    return record_answer(tx, c.id, "Bob@B.example", State::answered_unsigned, "x", "", kNow + 30);
  });
  const auto ms = members(c.id);
  EXPECT_EQ(ms[0].state, State::answered);
  EXPECT_EQ(ms[0].answered_at, kNow + 50);
  EXPECT_EQ(ms[0].review_result, "confirmed");
  EXPECT_EQ(ms[1].state, State::answered);
  EXPECT_EQ(ms[1].answered_at, kNow + 20);
  EXPECT_EQ(ms[1].review_result, "corrected");

  auto r = reviews(*db);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 1u);  // only the confirmation is state
  EXPECT_EQ(r->at("alice@a.example").reviewed_at, kNow + 50);
  auto asks = last_review_asks(*db);
  ASSERT_TRUE(asks);
  EXPECT_EQ(asks->at("bob@b.example").check_id, c.id);
  EXPECT_FALSE(asks->at("bob@b.example").closed);

  // Closing: carol's final state; answered members are left alone.
  auto exp = expired(*db, c.deadline_at - 1);
  ASSERT_TRUE(exp);
  EXPECT_TRUE(exp->empty());
  exp = expired(*db, c.deadline_at);
  ASSERT_TRUE(exp);
  ASSERT_EQ(exp->size(), 1u);
  write([&](store::Transaction& tx) {
    return close(
        tx, c.id,
        {{"carol@c.example", State::no_answer, ""}, {"alice@a.example", State::no_answer, ""}},
        c.deadline_at);
  });
  const auto after = members(c.id);
  EXPECT_EQ(after[0].state, State::answered);
  EXPECT_EQ(after[2].state, State::no_answer);
  auto found = find_check(*db, c.id);
  ASSERT_TRUE(found && *found);
  EXPECT_FALSE((*found)->is_open());
  asks = last_review_asks(*db);
  ASSERT_TRUE(asks);
  EXPECT_TRUE(asks->at("carol@c.example").closed);
  auto open = open_check(*db, kList);
  ASSERT_TRUE(open);
  EXPECT_FALSE(*open);
}

TEST_F(StoreTest, HistoryAndSummaryFromTheTables) {
  const Check first = started(new_check(100));
  for (const char* who : {"alice@a.example", "Bob@B.example", "carol@c.example"}) {
    write([&](store::Transaction& tx) {
      return mark_sent(tx, first.id, who, kNow, std::string(who) + ".1", "");
    });
  }
  write([&](store::Transaction& tx) {
    return record_answer(tx, first.id, "alice@a.example", State::answered, "", "", kNow + 40);
  });
  write([&](store::Transaction& tx) {
    return close(
        tx, first.id,
        {{"Bob@B.example", State::no_answer, ""}, {"carol@c.example", State::no_answer, ""}},
        kNow + 100);
  });
  const Check second = started(new_check(100), kNow + 200);
  for (const char* who : {"alice@a.example", "Bob@B.example", "carol@c.example"}) {
    write([&](store::Transaction& tx) {
      return mark_sent(tx, second.id, who, kNow + 200, std::string(who) + ".2", "");
    });
  }
  for (const char* who : {"alice@a.example", "carol@c.example"}) {
    write([&](store::Transaction& tx) {
      return record_answer(tx, second.id, who, State::answered, "", "", kNow + 260);
    });
  }
  auto h = load_history(*db, kList, kNow + 250);
  ASSERT_TRUE(h) << h.error().message;
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].id, first.id);
  EXPECT_TRUE((*h)[0].closed);
  EXPECT_DOUBLE_EQ((*h)[0].success_rate, 0.3333);
  EXPECT_EQ((*h)[0].median_latency_s, std::optional<std::int64_t>(40));
  EXPECT_FALSE((*h)[1].closed);
  EXPECT_DOUBLE_EQ((*h)[1].success_rate, 0.6667);

  // Bob missed the first check and, after the second's deadline, this one.
  auto s = load_summary(*db, second, kNow + 300);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(s->closed);
  ASSERT_EQ(s->members.size(), 3u);
  EXPECT_EQ(s->members[1].state, State::no_answer);
  EXPECT_TRUE(s->members[1].missed_twice);
  EXPECT_FALSE(s->members[2].missed_twice);  // carol answered this one
  EXPECT_EQ(s->members[0].latency_s, std::optional<std::int64_t>(60));
}

}  // namespace
}  // namespace tlpmail::comcheck
