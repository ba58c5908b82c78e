// store::prune and the incremental vacuum on a real tlpmail.db with the
// project's schema: each kind of row older than its cut-off goes, newer
// ones and unfinished ones (a waiting copy, an open check, a message not
// fanned out) stay; small batches delete everything in several
// transactions; a new file has auto_vacuum = INCREMENTAL and gives pages
// back.
#include "store/retention.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "support/temp_dir.h"

namespace tlpmail::store {
namespace {

using ::tlpmail::testing::TempDir;

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::open(dir_.file("tlpmail.db"));
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
  }
  void exec(const std::string& sql, const Params& p = {}) {
    auto r = db_->execute(sql, p);
    ASSERT_TRUE(r) << r.error().message << "\n" << sql;
  }
  std::int64_t count(const std::string& sql) {
    auto r = db_->query(sql);
    EXPECT_TRUE(r) << r.error().message;
    return r ? (*r)[0].integer(0) : -1;
  }
  void audit(std::int64_t at) {
    exec(
        "INSERT INTO audit_log (at, list, verdict, smtp_reply) VALUES (?1, 'ops@x', 'accepted',"
        " '250')",
        {at});
    exec("INSERT INTO audit_recipients VALUES (last_insert_rowid(), 0, 'a@x', 1, NULL)");
  }
  void outbox(const std::string& id, std::int64_t created, const std::string& state) {
    exec(
        "INSERT INTO outbox_messages (id, kind, list, list_message_id, envelope_from, head, tail,"
        " shared_data, created_at) VALUES (?1, 'copy', 'ops@x', 'm', 'b@x', '', '', '', ?2)",
        {id, created});
    exec(
        "INSERT INTO outbox_copies (message, recipient, fingerprint, pkesk, state, attempts,"
        " next_attempt_at, queued_at, updated_at, reported) VALUES (?1, 'r@x', 'F', 'P', ?2, 1,"
        " 0, ?3, ?3, 0)",
        {id, state, created});
  }

  TempDir dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(RetentionTest, DeletesOnlyWhatIsOldAndFinished) {
  const std::int64_t cut = 1'000'000;
  audit(cut - 1);
  audit(cut - 2);
  audit(cut);  // not strictly older: stays
  exec(
      "INSERT INTO replay_digests (digest, list, signer_fingerprint, signed_at, seen_at)"
      " VALUES ('d1', 'ops@x', 'F', ?1, ?1), ('d2', 'ops@x', 'F', ?2, ?2)",
      {cut - 10, cut + 10});
  exec("INSERT INTO replay_cross_posts (digest, list, seen_at) VALUES ('d1', 'b@x', ?1)",
       {cut - 5});
  exec(
      "INSERT INTO spool_messages VALUES ('s1', 1, 'a@x', 1, 'done', ?1),"
      " ('s2', 1, 'a@x', 1, 'received', ?1), ('s3', 1, 'a@x', 1, 'corrupt', ?1),"
      " ('s4', 1, 'a@x', 1, 'done', ?2)",
      {cut - 1, cut + 1});
  exec("INSERT INTO spool_recipients VALUES ('s1', 0, 'ops@x')");
  outbox("o1", cut - 100, "delivered");
  outbox("o2", cut - 100, "deferred");  // still waiting: stays whatever its age
  outbox("o3", cut + 100, "failed");
  exec(
      "INSERT INTO bounce_reports (at, queue_id, copy_id, kind, status, outcome) VALUES"
      " (?1, 'q', 1, 'permanent', '5.1.1', 'bounced'), (?2, 'q', 1, 'permanent', '5.1.1',"
      " 'bounced')",
      {cut - 1, cut + 1});
  exec(
      "INSERT INTO comchecks (id, list, origin, review, started_at, spread_s, deadline_at,"
      " closed_at) VALUES (1, 'ops@x', 'manual', 0, 1, 0, 2, ?1), (2, 'ops@x', 'manual', 0, 1, 0,"
      " 2, NULL)",
      {cut - 1});
  exec(
      "INSERT INTO comcheck_members (check_id, email, organization, token, send_at, state)"
      " VALUES (1, 'a@x', 'A', 't1', 1, 'answered'), (2, 'a@x', 'A', 't2', 1, 'pending')");
  exec("INSERT INTO request_key_replies VALUES ('ops@x', 'z@y', ?1)", {cut - 1});

  auto r = prune(*db_, Cutoffs{cut, cut, cut, cut, cut}, /*batch=*/1);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->audit, 2);
  EXPECT_EQ(r->replay, 2);  // d1 and its cross-post
  EXPECT_EQ(r->spool, 2);
  EXPECT_EQ(r->outbox, 1);
  EXPECT_EQ(r->request_replies, 1);
  EXPECT_EQ(r->bounces, 1);
  EXPECT_EQ(r->comchecks, 1);
  EXPECT_TRUE(r->incremental_vacuum);

  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_recipients"), 1);  // cascaded
  EXPECT_EQ(count("SELECT COUNT(*) FROM replay_digests WHERE digest = 'd2'"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM replay_cross_posts"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM spool_messages WHERE id IN ('s2', 's4')"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM spool_messages"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM spool_recipients"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox_messages WHERE id IN ('o2', 'o3')"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox_copies"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM bounce_reports"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM comchecks"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM comcheck_members"), 1);
}

TEST_F(RetentionTest, ZeroKeepsForever) {
  audit(1);
  auto r = prune(*db_, Cutoffs{});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->audit, 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM audit_log"), 1);
}

TEST_F(RetentionTest, NewFileVacuumsIncrementally) {
  EXPECT_EQ(count("PRAGMA auto_vacuum"), 2);
  // One transaction: 2,000 fsyncs would take seconds.
  exec("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1999) "
       "INSERT INTO audit_log (at, list, verdict, smtp_reply, reason) "
       "SELECT i, 'ops@x', 'accepted', '250', printf('%.500c', 'x') FROM n");
  const std::int64_t pages = count("PRAGMA page_count");
  auto r = prune(*db_, Cutoffs{5000, 0, 0, 0, 0}, 300);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->audit, 2000);
  EXPECT_GT(r->pages_freed, 100) << r->text();
  EXPECT_EQ(count("PRAGMA freelist_count"), 0);
  EXPECT_LT(count("PRAGMA page_count"), pages - 100);
}

TEST(RetentionFileTest, OldFileWithoutAutoVacuumIsPrunedButNotShrunk) {
  TempDir dir;
  // A file made before this version (no auto_vacuum pragma), by SQLite itself.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(dir.file("tlpmail.db").c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "CREATE TABLE t (x INTEGER) STRICT", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  auto db = Database::open(dir.file("tlpmail.db"), Options{.migrations = {}});
  ASSERT_TRUE(db);
  auto mode = (*db)->query("PRAGMA auto_vacuum");
  ASSERT_TRUE(mode);
  EXPECT_EQ((*mode)[0].integer(0), 0);  // opening does not convert an existing file
  auto freed = vacuum_incrementally(**db);
  ASSERT_TRUE(freed);
  EXPECT_EQ(*freed, 0);
}

}  // namespace
}  // namespace tlpmail::store
