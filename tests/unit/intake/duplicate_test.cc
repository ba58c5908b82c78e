// Exact retries (an MTA resending a message whose 250 it never saw): a
// signature accepted for the same list with the same Message-ID is a
// duplicate of the queued message ("250 2.0.0 Ok: already queued as ID",
// nothing recorded but a 'duplicate' audit row); every other reuse of the
// digest stays a replay. Real SQLite files; the corpus part uses real gpg.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <ctime>
#include <filesystem>
#include <memory>
#include <string>

#include "config/config.h"
#include "corpus_support.h"
#include "keyring/keyring.h"
#include "openpgp/context.h"
#include "openpgp/list_key.h"
#include "intake/record.h"
#include "intake/replies.h"
#include "pipeline/verifier.h"
#include "store/database.h"
#include "support/temp_dir.h"

namespace tlpmail::intake {
namespace {

using pipeline::RefusalKind;
using pipeline::Signer;
using pipeline::Verdict;
using pipeline::Verifier;

namespace fs = std::filesystem;

constexpr std::string_view kReplayReply = "550 5.7.1 signature was already used (replay)";

class DuplicateRecordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    list_.address = "Ops@Lists.Example.org";
    list_.members = {"alice@a.example", "bob@b.example"};
    other_.address = "red@lists.example.org";
    other_.members = list_.members;
    auto db = store::Database::open(dir_ / "tlpmail.db");
    ASSERT_TRUE(db.has_value()) << db.error().message;
    db_ = std::move(db).value();
  }
  void TearDown() override { db_.reset(); }
  static Verdict accepted(std::string digest, std::string message_id) {
    Verdict v;
    v.accepted = true;
    v.signer = Signer{"alice@a.example", std::string(40, 'A')};
    v.label = policy::Tlp::amber;
    policy::Decision d;
    d.label = policy::Tlp::amber;
    d.recipients = {"bob@b.example"};
    v.decision = d;
    v.message_id = std::move(message_id);
    v.replay_digest = std::move(digest);
    v.signed_at = 1'800'000'000;
    return v;
  }
  std::int64_t count(const char* sql) {
    auto rows = db_->query(sql);
    EXPECT_TRUE(rows.has_value());
    return rows ? rows->at(0).integer(0) : -1;
  }

  ::tlpmail::testing::TempDir tmp_;
  const fs::path dir_{tmp_.path()};
  directory::MailingList list_;
  directory::MailingList other_;
  std::unique_ptr<store::Database> db_;
};

TEST_F(DuplicateRecordTest, DigestRowKeepsListMessageIdAndQueueId) {
  auto got = record(*db_, accepted("d1", "m1@a.example"), list_, "Q1", 10);
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_TRUE(got->accepted);
  EXPECT_FALSE(got->is_duplicate());
  auto rows = db_->query("SELECT list, message_id, queue_id FROM replay_digests");
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->at(0).text(0), "ops@lists.example.org");
  EXPECT_EQ(rows->at(0).text(1), "m1@a.example");
  EXPECT_EQ(rows->at(0).text(2), "Q1");
}

TEST_F(DuplicateRecordTest, RaceWithTheOriginalIsADuplicateAndWritesOnlyItsAuditRow) {
  ASSERT_TRUE(record(*db_, accepted("d1", "m1@a.example"), list_, "Q1", 10).has_value());
  // The retry verified before the original was recorded, then lost the race.
  auto got = record(*db_, accepted("d1", "m1@a.example"), list_, "Q2", 11);
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_FALSE(got->accepted);
  EXPECT_EQ(got->duplicate_of, "Q1");
  EXPECT_EQ(got->refusal, RefusalKind::none);
  EXPECT_EQ(reply_for(*got).to_string(), "250 2.0.0 Ok: already queued as Q1");
  EXPECT_FALSE(got->decision.has_value());

  EXPECT_EQ(count("SELECT COUNT(*) FROM replay_digests"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM replay_digests WHERE queue_id = 'Q1'"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM thread_index"), 1);
  auto rows = db_->query(
      "SELECT verdict, refusal, reason, smtp_reply, queue_id, label, message_id, replay_digest"
      " FROM audit_log ORDER BY id");
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->at(0).text(0), "accepted");
  EXPECT_EQ(rows->at(1).text(0), "duplicate");
  EXPECT_TRUE(rows->at(1).is_null(1));
  EXPECT_TRUE(rows->at(1).is_null(2));
  EXPECT_EQ(rows->at(1).text(3), "250 2.0.0");
  EXPECT_EQ(rows->at(1).text(4), "Q1");  // the original's queue id, never Q2
  EXPECT_TRUE(rows->at(1).is_null(5));
  EXPECT_EQ(rows->at(1).text(6), "m1@a.example");
  EXPECT_EQ(rows->at(1).text(7), "d1");
  // Recipients only for the accepted row.
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_recipients"), 1);
}

TEST_F(DuplicateRecordTest, EveryOtherReuseOfTheDigestIsAReplay) {
  struct Case {
    const char* name;
    std::string first_message_id;
    std::string first_queue_id;
    bool first_on_other_list;
    std::string again_message_id;
  };
  const Case cases[] = {
      {"another Message-ID", "m1@a.example", "Q1", false, "m2@a.example"},
      {"another list", "m1@a.example", "Q1", true, "m1@a.example"},
      {"original never spooled (no queue id)", "m1@a.example", "", false, "m1@a.example"},
      {"no Message-ID on either", "", "Q1", false, ""},
      {"Message-ID differs in case", "m1@a.example", "Q1", false, "M1@a.example"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::error_code ec;
    db_.reset();
    fs::remove_all(dir_ / "tlpmail.db", ec);
    auto db = store::Database::open(dir_ / "tlpmail.db");
    ASSERT_TRUE(db.has_value());
    db_ = std::move(db).value();
    ASSERT_TRUE(record(*db_, accepted("d1", c.first_message_id),
                       c.first_on_other_list ? other_ : list_, c.first_queue_id, 10)
                    .has_value());
    auto got = record(*db_, accepted("d1", c.again_message_id), list_, "Q2", 11);
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(reply_for_fault(got.error()).to_string(), kReplayReply);
    EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log WHERE verdict = 'refused'"), 1);
    EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log WHERE verdict = 'duplicate'"), 0);
  }
}

TEST_F(DuplicateRecordTest, InTransactionResultRollsBackWithTheCallersTransaction) {
  ASSERT_TRUE(record(*db_, accepted("d1", "m1@a.example"), list_, "Q1", 10).has_value());
  Verdict seen;
  auto done = db_->transaction([&](store::Transaction& tx) -> store::DbResult<void> {
    auto wrote =
        record_in_transaction(tx, accepted("d1", "m1@a.example"), list_, "Q2", 11);
    if (!wrote) return Unexpected(wrote.error());
    seen = *wrote;
    store::DbError e;
    e.kind = ErrorClass::refused;
    e.message = "roll back";
    return Unexpected(std::move(e));
  });
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(seen.duplicate_of, "Q1");
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log"), 1);  // the duplicate row rolled back
  // The caller then records the duplicate verdict on its own: one row.
  auto again = record(*db_, seen, list_, "", 12);
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again->duplicate_of, "Q1");
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log WHERE verdict = 'duplicate' AND queue_id = 'Q1'"),
            1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM replay_digests"), 1);
}

// verify() itself with the fixture corpus: accept-replay-original, the
// same bytes again, and refuse-replay (the same signature, a new Message-ID).
class DuplicateCorpusTest : public test_support::CorpusSuite {
 protected:
  static std::string message(const char* name) { return world_->message(name); }
};

TEST_F(DuplicateCorpusTest, SameMessageAgainIsAlreadyQueuedOtherwiseAReplay) {
  ASSERT_NE(gpg_, nullptr);
  auto [db, verifier] = own_database("retry");
  ASSERT_TRUE(db);
  const auto* red = (*config_)->directory.find_list("red@lists.example.org");
  const auto* ops = (*config_)->directory.find_list("ops@lists.example.org");
  ASSERT_TRUE(red && ops);
  const std::string raw = message("accept-replay-original");
  const std::time_t now = std::time(nullptr);
  auto first = verifier->verify(*gpg_, *red, raw, now);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  ASSERT_TRUE(first->accepted) << reply_for(*first).to_string();
  ASSERT_TRUE(record(*db, *first, *red, "Q1", now).has_value());

  struct Case {
    const char* name;
    std::string raw;
    const directory::MailingList* list;
    std::string want_reply;
    std::string want_duplicate_of;
  };
  const Case cases[] = {
      {"same bytes, same list", raw, red, "250 2.0.0 Ok: already queued as Q1", "Q1"},
      {"same signature, new Message-ID", message("refuse-replay"), red, std::string(kReplayReply),
       ""},
      {"same bytes, another list", raw, ops, std::string(kReplayReply), ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = verifier->verify(*gpg_, *c.list, c.raw, now + 60);
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_FALSE(got->accepted);
    EXPECT_EQ(reply_for(*got).to_string(), c.want_reply);
    EXPECT_EQ(got->duplicate_of, c.want_duplicate_of);
    EXPECT_EQ(got->replay_digest, first->replay_digest);
  }
  // Recording the duplicate adds its audit row and nothing else.
  auto again = verifier->verify(*gpg_, *red, raw, now + 60);
  ASSERT_TRUE(again.has_value());
  ASSERT_TRUE(record(*db, *again, *red, "", now + 60).has_value());
  auto rows = (*db).query("SELECT verdict, queue_id FROM audit_log ORDER BY id");
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->at(1).text(0), "duplicate");
  EXPECT_EQ(rows->at(1).text(1), "Q1");
  auto digests = (*db).query("SELECT COUNT(*) FROM replay_digests");
  ASSERT_TRUE(digests.has_value());
  EXPECT_EQ(digests->at(0).integer(0), 1);
}

TEST_F(DuplicateCorpusTest, OriginalRecordedWithoutQueueIdIsAReplay) {
  ASSERT_NE(gpg_, nullptr);
  auto [db, verifier] = own_database("no-queue-id");
  ASSERT_TRUE(db);
  const auto* red = (*config_)->directory.find_list("red@lists.example.org");
  ASSERT_TRUE(red);
  const std::string raw = message("accept-replay-original");
  const std::time_t now = std::time(nullptr);
  auto first = verifier->verify(*gpg_, *red, raw, now);
  ASSERT_TRUE(first.has_value() && first->accepted);
  ASSERT_TRUE(record(*db, *first, *red, "", now).has_value());
  auto got = verifier->verify(*gpg_, *red, raw, now);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(reply_for(*got).to_string(), kReplayReply);
  EXPECT_TRUE(got->duplicate_of.empty());
}

}  // namespace
}  // namespace tlpmail::intake
