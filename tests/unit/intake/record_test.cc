// intake::record against real SQLite files: one transaction per verdict,
// the replay race between two sessions, the thread index keeping the
// higher label, audit rows for refusals without a queue id.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "intake/record.h"
#include "intake/replies.h"
#include "pipeline/verdict.h"
#include "store/database.h"
#include "support/temp_dir.h"

namespace tlpmail::intake {
namespace {

using pipeline::kReasonNotMember;
using pipeline::RefusalKind;
using pipeline::Signer;
using pipeline::Verdict;

namespace fs = std::filesystem;

class RecordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    list_.address = "ops@lists.example.org";
    list_.members = {"alice@a.example", "bob@b.example"};
  }
  std::unique_ptr<store::Database> open() {
    auto db = store::Database::open(dir_ / "tlpmail.db");
    EXPECT_TRUE(db.has_value()) << db.error().message;
    return db ? std::move(db).value() : nullptr;
  }
  static Verdict accepted(std::string digest, std::string message_id, policy::Tlp label) {
    Verdict v;
    v.accepted = true;
    v.signer = Signer{"alice@a.example", std::string(40, 'A')};
    v.label = label;
    policy::Decision d;
    d.label = label;
    d.recipients = {"bob@b.example"};
    d.left_out = {{"carol@c.example", policy::Exclusion::above_clearance,
                   "clearance GREEN is below TLP:AMBER"}};
    v.decision = d;
    v.message_id = std::move(message_id);
    v.replay_digest = std::move(digest);
    v.signed_at = 1'800'000'000;
    return v;
  }
  // Records accepted(digest, message_id, label) on list_ as queue_id at
  // `at`; false (a test failure) when that fails.
  bool record_accepted(store::Database& db, std::string digest, std::string message_id,
                       policy::Tlp label, const std::string& queue_id, std::time_t at) {
    auto r = record(db, accepted(std::move(digest), std::move(message_id), label), list_, queue_id,
                    at);
    EXPECT_TRUE(r.has_value()) << r.error().message;
    return r.has_value();
  }
  std::int64_t count(store::Database& db, const char* sql) {
    auto rows = db.query(sql);
    EXPECT_TRUE(rows.has_value());
    return rows ? rows->at(0).integer(0) : -1;
  }

  ::tlpmail::testing::TempDir tmp_;
  const fs::path dir_{tmp_.path()};
  directory::MailingList list_;
};

TEST_F(RecordTest, SecondSessionRecordingTheSameSignatureIsRefused) {
  auto db1 = open();
  auto db2 = open();
  ASSERT_TRUE(db1 && db2);
  // Both sessions verified the same signature before either recorded it.
  const Verdict v1 = accepted("d1", "m1@a.example", policy::Tlp::amber);
  const Verdict v2 = accepted("d1", "m2@a.example", policy::Tlp::amber);
  ASSERT_TRUE(record(*db1, v1, list_, "Q1", 100).has_value());
  auto second = record(*db2, v2, list_, "Q2", 101);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().kind, ErrorClass::refused);
  EXPECT_EQ(second.error().message, "signature was already used (replay)");
  EXPECT_EQ(reply_for_fault(second.error()).to_string(),
            "550 5.7.1 signature was already used (replay)");

  EXPECT_EQ(count(*db1, "SELECT COUNT(*) FROM replay_digests"), 1);
  // Only the first message is in the thread index.
  EXPECT_EQ(count(*db1, "SELECT COUNT(*) FROM thread_index WHERE message_id = 'm2@a.example'"), 0);
  auto rows = db1->query(
      "SELECT verdict, refusal, reason, smtp_reply, queue_id, label FROM audit_log ORDER BY id");
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->at(0).text(0), "accepted");
  EXPECT_TRUE(rows->at(0).is_null(1));
  EXPECT_EQ(rows->at(0).text(3), "250 2.0.0");
  EXPECT_EQ(rows->at(0).text(5), "AMBER");
  EXPECT_EQ(rows->at(1).text(0), "refused");
  EXPECT_EQ(rows->at(1).text(1), "replay");
  EXPECT_EQ(rows->at(1).text(2), "signature was already used (replay)");
  EXPECT_EQ(rows->at(1).text(3), "550 5.7.1");
  EXPECT_EQ(rows->at(1).text(4), "Q2");
  EXPECT_TRUE(rows->at(1).is_null(5));
  // The refused one has no recipients.
  EXPECT_EQ(count(*db1, "SELECT COUNT(*) FROM audit_recipients"), 2);
}

TEST_F(RecordTest, AuditRowsListChosenAndLeftOutRecipients) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_TRUE(record_accepted(*db, "d1", "m1", policy::Tlp::amber, "Q1", 5));
  auto rows = db->query("SELECT address, chosen, why FROM audit_recipients ORDER BY position");
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->at(0).text(0), "bob@b.example");
  EXPECT_EQ(rows->at(0).integer(1), 1);
  EXPECT_TRUE(rows->at(0).is_null(2));
  EXPECT_EQ(rows->at(1).text(0), "carol@c.example");
  EXPECT_EQ(rows->at(1).integer(1), 0);
  EXPECT_EQ(rows->at(1).text(2), "clearance GREEN is below TLP:AMBER");
}

TEST_F(RecordTest, ThreadIndexKeepsTheHigherLabel) {
  auto db = open();
  ASSERT_TRUE(db);
  ASSERT_TRUE(record_accepted(*db, "d1", "same", policy::Tlp::amber, "Q1", 1));
  ASSERT_TRUE(record_accepted(*db, "d2", "same", policy::Tlp::green, "Q2", 2));
  auto rows = db->query("SELECT label, label_rank FROM thread_index WHERE message_id = 'same'");
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->at(0).text(0), "AMBER");
  ASSERT_TRUE(record_accepted(*db, "d3", "same", policy::Tlp::red, "Q3", 3));
  rows = db->query("SELECT label FROM thread_index WHERE message_id = 'same'");
  ASSERT_TRUE(rows.has_value());
  EXPECT_EQ(rows->at(0).text(0), "RED");
}

TEST_F(RecordTest, RefusalWritesOnlyAnAuditRowWithoutQueueId) {
  auto db = open();
  ASSERT_TRUE(db);
  Verdict v;
  v.refusal = RefusalKind::not_a_member;
  v.reason = std::string(kReasonNotMember);
  v.signer = Signer{"henry@h.example", std::string(40, 'C')};
  v.replay_digest = "d9";
  v.message_id = "m9";
  ASSERT_TRUE(record(*db, v, list_, "", 7).has_value());
  EXPECT_EQ(count(*db, "SELECT COUNT(*) FROM replay_digests"), 0);
  EXPECT_EQ(count(*db, "SELECT COUNT(*) FROM thread_index"), 0);
  auto rows = db->query(
      "SELECT queue_id, verdict, refusal, reason, signer_email, signer_fingerprint, at, list"
      " FROM audit_log");
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_TRUE(rows->at(0).is_null(0));
  EXPECT_EQ(rows->at(0).text(1), "refused");
  EXPECT_EQ(rows->at(0).text(2), "not_a_member");
  EXPECT_EQ(rows->at(0).text(3), "signer is not a member of this list");
  EXPECT_EQ(rows->at(0).text(4), "henry@h.example");
  EXPECT_EQ(rows->at(0).text(5), std::string(40, 'C'));
  EXPECT_EQ(rows->at(0).integer(6), 7);
  EXPECT_EQ(rows->at(0).text(7), "ops@lists.example.org");
}

TEST_F(RecordTest, LockedDatabaseIsATemporaryFault) {
  store::Options fast;
  fast.busy_timeout = std::chrono::milliseconds(50);
  auto holder = store::Database::open(dir_ / "tlpmail.db");
  auto db = store::Database::open(dir_ / "tlpmail.db", fast);
  ASSERT_TRUE(holder.has_value() && db.has_value());
  Result<Verdict> got = Verdict{};
  auto held = (*holder)->transaction([&](store::Transaction&) -> store::DbResult<void> {
    got = record(**db, accepted("d1", "m1", policy::Tlp::amber), list_, "Q1", 1);
    return {};
  });
  ASSERT_TRUE(held.has_value());
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().kind, ErrorClass::temporary);
  EXPECT_EQ(reply_for_fault(got.error()).to_string(),
            "451 4.3.0 local error, please try again later");
  EXPECT_EQ(count(**db, "SELECT COUNT(*) FROM audit_log"), 0);
}

}  // namespace
}  // namespace tlpmail::intake
