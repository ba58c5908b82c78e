// queue::Outbox on a real SQLite file: adding copies, claiming due copies,
// recording outcomes, requeueing after a crash, failure reporting, and the
// ciphertext being dropped once every copy is final.
#include "queue/outbox.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace tlpmail::queue {
namespace {

using namespace testing;  // TempDir, open_db

NewOutgoing message(std::string id, std::vector<std::string> recipients) {
  NewOutgoing m;
  m.id = std::move(id);
  m.list = "CSIRT-Ops@lists.example.org";
  m.list_message_id = m.id + ".x@lists.example.org";
  m.source_id = m.id;
  m.envelope_from = "csirt-ops-bounces@lists.example.org";
  m.head = "HEAD\r\n";
  m.tail = "\r\nTAIL\r\n";
  m.shared_data = std::string("\xd2\x00shared", 8);  // binary, with a NUL
  for (auto& r : recipients) m.copies.push_back({r, "FPR-" + r, std::string("\xc1\x00k", 3) + r});
  return m;
}

// The copies claim_due(now, max) hands out; none (and a test failure) on error.
std::vector<ClaimedCopy> claim(Outbox& outbox, std::time_t now, std::size_t max) {
  auto got = outbox.claim_due(now, max);
  EXPECT_TRUE(got) << got.error().message;
  return got ? std::move(*got) : std::vector<ClaimedCopy>{};
}

class OutboxTest : public ::testing::Test {
 protected:
  TempDir tmp;
  std::unique_ptr<store::Database> db = open_db(tmp.file("tlpmail.db"));
  Outbox outbox{*db};
};

TEST_F(OutboxTest, AddClaimRecordRoundTrip) {
  ASSERT_TRUE(outbox.add(message("M1", {"a@x.example", "b@x.example", "c@x.example"}), 100));
  auto m = outbox.message("M1");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->list, "csirt-ops@lists.example.org");
  EXPECT_EQ(m->shared_data, std::string("\xd2\x00shared", 8));
  EXPECT_EQ(m->kind, OutgoingKind::copy);

  // Not due before `now`.
  auto early = claim(outbox, 99, 10);
  EXPECT_TRUE(early.empty());

  auto claimed = claim(outbox, 100, 2);
  ASSERT_EQ(claimed.size(), 2u);
  EXPECT_EQ(claimed[0].recipient, "a@x.example");
  EXPECT_EQ(claimed[0].pkesk, std::string("\xc1\x00k", 3) + "a@x.example");
  EXPECT_EQ(claimed[0].attempts, 0);
  // A claimed copy is not claimed twice.
  auto rest = claim(outbox, 100, 10);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].recipient, "c@x.example");

  ASSERT_TRUE(outbox.record({{claimed[0].id, CopyState::delivered, 0, "250 2.0.0 Ok"},
                             {claimed[1].id, CopyState::deferred, 160, "451 4.3.0 later"},
                             {rest[0].id, CopyState::failed, 0, "550 5.1.1 unknown"}},
                            101));
  auto counts = outbox.counts();
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->delivered, 1);
  EXPECT_EQ(counts->deferred, 1);
  EXPECT_EQ(counts->failed, 1);
  EXPECT_EQ(counts->in_flight, 0);

  auto due = outbox.next_due();
  ASSERT_TRUE(due);
  EXPECT_EQ(*due, std::optional<std::int64_t>(160));
  auto not_yet = claim(outbox, 159, 10);
  EXPECT_TRUE(not_yet.empty());
  auto again = claim(outbox, 160, 10);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].recipient, "b@x.example");
  EXPECT_EQ(again[0].attempts, 1);

  // Still one copy open: the ciphertext stays.
  EXPECT_FALSE(outbox.message("M1")->shared_data.empty());
  ASSERT_TRUE(outbox.record({{again[0].id, CopyState::delivered, 0, "250 ok"}}, 170));
  // Every copy final: no ciphertext is kept.
  auto done = outbox.message("M1");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->shared_data, "");
  EXPECT_EQ(done->head, "");
  auto pk = db->query("SELECT COUNT(*) FROM outbox_copies WHERE pkesk != ''");
  ASSERT_TRUE(pk);
  EXPECT_EQ(pk->at(0).integer(0), 0);
  auto due_none = outbox.next_due();
  ASSERT_TRUE(due_none);
  EXPECT_FALSE(due_none->has_value());
}

TEST_F(OutboxTest, InFlightCopiesAreRequeuedAfterACrash) {
  ASSERT_TRUE(outbox.add(message("M2", {"a@x.example", "b@x.example"}), 100));
  auto claimed = claim(outbox, 100, 10);
  ASSERT_EQ(claimed.size(), 2u);
  ASSERT_TRUE(outbox.record({{claimed[0].id, CopyState::delivered, 0, "250 ok"}}, 101));
  // The process dies here; a new one opens the same file.
  db.reset();
  db = open_db(tmp.file("tlpmail.db"));
  Outbox reopened(*db);
  auto n = reopened.requeue_in_flight(200);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1);
  auto left = claim(reopened, 200, 10);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].recipient, "b@x.example");
}

TEST_F(OutboxTest, RecordIgnoresCopiesNotInFlight) {
  ASSERT_TRUE(outbox.add(message("M3", {"a@x.example"}), 100));
  auto rows = db->query("SELECT id FROM outbox_copies");
  ASSERT_TRUE(rows);
  const std::int64_t id = rows->at(0).integer(0);
  ASSERT_TRUE(outbox.record({{id, CopyState::delivered, 0, "250 ok"}}, 101));
  auto w = outbox.waiting(10);
  ASSERT_TRUE(w);
  ASSERT_EQ(w->size(), 1u);
  EXPECT_EQ((*w)[0].state, CopyState::queued);
  EXPECT_EQ((*w)[0].attempts, 0);
}

TEST_F(OutboxTest, RefusesDuplicatesAndEmptyMessages) {
  ASSERT_TRUE(outbox.add(message("M4", {"a@x.example"}), 100));
  auto dup = outbox.add(message("M4", {"b@x.example"}), 100);
  EXPECT_FALSE(dup);
  auto twice = outbox.add(message("M5", {"a@x.example", "a@x.example"}), 100);
  EXPECT_FALSE(twice);
  auto none = outbox.add(message("M6", {}), 100);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("has no copies"), std::string::npos);
  // Nothing of the refused messages was kept.
  auto c = outbox.counts();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->queued, 1);
}

TEST_F(OutboxTest, FailuresAreReportedOnce) {
  NewOutgoing m = message("M7", {"a@x.example", "b@x.example"});
  ASSERT_TRUE(outbox.add(m, 100));
  auto claimed = claim(outbox, 100, 10);
  ASSERT_EQ(claimed.size(), 2u);
  ASSERT_TRUE(outbox.record({{claimed[0].id, CopyState::failed, 0, "550 5.1.1 unknown"},
                             {claimed[1].id, CopyState::delivered, 0, "250 ok"}},
                            101));
  auto f = outbox.unreported_failures(10);
  ASSERT_TRUE(f);
  ASSERT_EQ(f->size(), 1u);
  EXPECT_EQ((*f)[0].recipient, "a@x.example");
  EXPECT_EQ((*f)[0].reply, "550 5.1.1 unknown");
  EXPECT_EQ((*f)[0].list_message_id, "M7.x@lists.example.org");
  EXPECT_EQ((*f)[0].attempts, 1);
  std::vector<std::int64_t> ids{(*f)[0].id};
  ASSERT_TRUE(db->transaction([&](store::Transaction& tx) { return Outbox::mark_reported(tx, ids); }));
  auto after = outbox.unreported_failures(10);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->empty());
  auto copies = outbox.copies_of("M7.x@lists.example.org");
  ASSERT_TRUE(copies);
  EXPECT_EQ(copies->size(), 2u);
}

// After each delivery the outbox asks whether the message has an open
// copy; for a posting to 10,000 members that must not read the finished
// copies' rows (it did: quadratic, 9 s of CPU). SQLite's plan for the
// query uses the (message, state) index alone.
TEST_F(OutboxTest, TheOpenCopyCheckIsIndexSeeksOnly) {
  auto plan =
      db->query("EXPLAIN QUERY PLAN " + std::string(detail::kOpenCopyQuery), {std::string("M1")});
  ASSERT_TRUE(plan) << plan.error().message;
  std::string text;
  for (const auto& row : *plan) text += row.text(3) + "\n";
  EXPECT_NE(
      text.find("USING COVERING INDEX outbox_copies_by_message_state (message=? AND state=?)"),
      std::string::npos)
      << text;
  // And it answers right: open while one copy waits, not after.
  ASSERT_TRUE(outbox.add(message("M1", {"a@x.example", "b@x.example"}), 100));
  auto claimed = claim(outbox, 100, 2);
  ASSERT_EQ(claimed.size(), 2u);
  ASSERT_TRUE(outbox.record({{claimed[0].id, CopyState::delivered, 0, "250 ok"}}, 101));
  EXPECT_EQ(outbox.message("M1")->shared_data, std::string("\xd2\x00shared", 8));
  ASSERT_TRUE(outbox.record({{claimed[1].id, CopyState::delivered, 0, "250 ok"}}, 102));
  EXPECT_EQ(outbox.message("M1")->shared_data, "");
}

TEST(CopyStateNames, RoundTrip) {
  for (CopyState s : {CopyState::queued, CopyState::in_flight, CopyState::deferred,
                      CopyState::delivered, CopyState::failed}) {
    EXPECT_EQ(parse_copy_state(to_string(s)), s);
  }
  EXPECT_FALSE(parse_copy_state("sent").has_value());
}

}  // namespace
}  // namespace tlpmail::queue
