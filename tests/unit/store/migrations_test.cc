// Upgrades (docs/migrations.md): a tlpmail.db created by an older version
// (every earlier schema step, with rows in its tables) opens under this
// version's migrations, reaches the newest step and keeps its rows; the
// columns later steps add are there with their documented defaults (NULL).
#include <gtest/gtest.h>

#include "store/database.h"
#include "support/temp_dir.h"

namespace tlpmail::store {
namespace {

using ::tlpmail::testing::TempDir;

std::int64_t count(Database& db, const std::string& sql) {
  auto r = db.query(sql);
  EXPECT_TRUE(r) << sql << ": " << r.error().message;
  return r ? (*r)[0].integer(0) : -1;
}

// Rows a site running at `version` may have; only tables of that version.
void fill(Database& db, int version) {
  auto run = [&](const char* sql) { ASSERT_TRUE(db.execute(sql)) << sql; };
  run("INSERT INTO spool_messages VALUES ('q1', 1, 'a@x', 10, 'received', 1)");
  run("INSERT INTO spool_recipients VALUES ('q1', 0, 'ops@x')");
  if (version >= 2) {
    run("INSERT INTO replay_digests (digest, list, signer_fingerprint, signed_at, seen_at) "
        "VALUES ('d1', 'ops@x', 'F', 1, 1)");
    run("INSERT INTO audit_log (at, list, verdict, smtp_reply) VALUES (1, 'ops@x', 'accepted', "
        "'250 2.0.0')");
  }
  if (version >= 4) {
    run("INSERT INTO outbox_messages VALUES ('q1', 'copy', 'ops@x', 'm', 'q1', 'b@x', 'h', 't', "
        "'s', 1)");
    run("INSERT INTO outbox_copies (message, recipient, fingerprint, pkesk, state, attempts, "
        "next_attempt_at, queued_at, updated_at, reported) VALUES ('q1', 'r@x', 'F', 'P', "
        "'deferred', 1, 5, 1, 1, 0)");
  }
}

TEST(MigrationsTest, EveryOlderSchemaUpgradesToTheNewest) {
  const auto all = migrations();
  const int newest = static_cast<int>(all.size());
  for (int from = 1; from < newest; ++from) {
    SCOPED_TRACE("from schema " + std::to_string(from));
    TempDir dir;
    const auto file = dir.file("tlpmail.db");
    {
      auto old = Database::open(file, Options{.migrations = all.subspan(0, from)});
      ASSERT_TRUE(old) << old.error().message;
      ASSERT_EQ((*old)->schema_version(), from);
      fill(**old, from);
    }
    auto db = Database::open(file);
    ASSERT_TRUE(db) << db.error().message;
    EXPECT_EQ((*db)->initial_schema_version(), from);
    EXPECT_EQ((*db)->schema_version(), newest);
    EXPECT_EQ(count(**db, "PRAGMA user_version"), newest);
    EXPECT_EQ(count(**db, "SELECT COUNT(*) FROM spool_messages WHERE state = 'received'"), 1);
    EXPECT_EQ(count(**db, "SELECT COUNT(*) FROM spool_recipients"), 1);
    if (from >= 2) {
      EXPECT_EQ(count(**db,
                      "SELECT COUNT(*) FROM replay_digests WHERE queue_id IS NULL "
                      "AND encrypted_to IS NULL"),
                1);  // steps 3 and 5 add NULL columns
      EXPECT_EQ(count(**db, "SELECT COUNT(*) FROM audit_log WHERE list_message_id IS NULL"), 1);
    }
    if (from >= 4) {
      EXPECT_EQ(count(**db,
                      "SELECT COUNT(*) FROM outbox_copies WHERE state = 'deferred' "
                      "AND verp_token IS NULL"),
                1);  // step 8
    }
    // Every table of the newest schema is usable.
    for (const char* table :
         {"request_key_replies", "maintenance_runs", "bounce_reports", "comchecks",
          "comcheck_members", "directory_reviews", "key_expiry_notices", "admin_digests"}) {
      EXPECT_EQ(count(**db, std::string("SELECT COUNT(*) FROM ") + table), 0) << table;
    }
    auto fk = (*db)->query("PRAGMA foreign_key_check");
    ASSERT_TRUE(fk);
    EXPECT_TRUE(fk->empty());
    auto ok = (*db)->query("PRAGMA integrity_check");
    ASSERT_TRUE(ok);
    EXPECT_EQ((*ok)[0].text(0), "ok");
  }
}

TEST(MigrationsTest, StepsAreNumberedAndDescribed) {
  int want = 1;
  for (const auto& m : migrations()) {
    EXPECT_EQ(m.version, want++);
    EXPECT_FALSE(m.description.empty());
    EXPECT_FALSE(m.sql.empty());
  }
}

}  // namespace
}  // namespace tlpmail::store
