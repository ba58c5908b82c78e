// Tests of store::Database on real SQLite files: creation and file mode,
// connection settings, migrations (success, failure, newer schema), error
// mapping (locked, constraint, not a database), transactions and values.
// Each test works in its own temporary folder, removed at the end.
#include "store/database.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "support/temp_dir.h"

namespace tlpmail::store {
namespace {

using ::tlpmail::testing::TempDir;

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0xFFFF;
  return st.st_mode & 0777;
}

std::unique_ptr<Database> must_open(const std::filesystem::path& p, const Options& o = {}) {
  auto db = Database::open(p, o);
  if (!db) throw std::runtime_error(db.error().message);
  return std::move(db.value());
}

TEST(DatabaseTest, CreatesFileWithMode0600AndAppliesSettings) {
  TempDir dir;
  auto file = dir.file("tlpmail.db");
  auto db = must_open(file);
  EXPECT_EQ(mode_of(file), 0600u);
  EXPECT_EQ(db->initial_schema_version(), 0);
  EXPECT_EQ(db->schema_version(), static_cast<int>(migrations().size()));

  struct Case {
    const char* pragma;
    Value want;
  };
  const Case cases[] = {
      {"PRAGMA journal_mode", std::string("wal")},
      {"PRAGMA synchronous", std::int64_t{2}},  // FULL
      {"PRAGMA foreign_keys", std::int64_t{1}},
      {"PRAGMA busy_timeout", std::int64_t{5000}},
      {"PRAGMA user_version", std::int64_t{static_cast<std::int64_t>(migrations().size())}},
  };
  for (const Case& c : cases) {
    auto rows = db->query(c.pragma);
    ASSERT_TRUE(rows) << c.pragma << ": " << rows.error().message;
    ASSERT_EQ(rows->size(), 1u) << c.pragma;
    EXPECT_EQ((*rows)[0][0], c.want) << c.pragma;
  }
  // A write creates the WAL file; it gets the database file's mode.
  ASSERT_TRUE(db->execute("INSERT INTO spool_messages VALUES ('a', 1, 's', 2, 'received', 1)"));
  EXPECT_EQ(mode_of(dir.file("tlpmail.db-wal")), 0600u);
}

TEST(DatabaseTest, TightensModeOfExistingFile) {
  TempDir dir;
  auto file = dir.file("tlpmail.db");
  { std::ofstream(file).flush(); }
  ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
  auto db = must_open(file);
  EXPECT_EQ(mode_of(file), 0600u);
}

TEST(DatabaseTest, RollbackJournalModeOption) {
  TempDir dir;
  Options o;
  o.journal_mode = JournalMode::rollback;
  auto db = must_open(dir.file("x.db"), o);
  auto rows = db->query("PRAGMA journal_mode");
  ASSERT_TRUE(rows);
  EXPECT_EQ((*rows)[0].text(0), "delete");
}

TEST(DatabaseTest, ReopenDoesNotRerunMigrations) {
  TempDir dir;
  auto file = dir.file("tlpmail.db");
  { auto db = must_open(file); }
  auto db = must_open(file);
  EXPECT_EQ(db->initial_schema_version(), static_cast<int>(migrations().size()));
  EXPECT_EQ(db->schema_version(), db->initial_schema_version());
}

constexpr Migration kTwoSteps[] = {
    {1, "t1", "CREATE TABLE t1 (a INTEGER) STRICT;"},
    {2, "t2", "CREATE TABLE t2 (b TEXT) STRICT; INSERT INTO t2 VALUES ('x');"},
};
constexpr Migration kSecondFails[] = {
    {1, "t1", "CREATE TABLE t1 (a INTEGER) STRICT;"},
    {2, "broken", "CREATE TABLE t2 (b TEXT) STRICT; INSERT INTO nowhere VALUES (1);"},
};
constexpr Migration kBadNumbering[] = {
    {1, "t1", "CREATE TABLE t1 (a INTEGER) STRICT;"},
    {3, "t3", "CREATE TABLE t3 (a INTEGER) STRICT;"},
};

TEST(DatabaseTest, MigrationTable) {
  struct Case {
    const char* name;
    std::span<const Migration> steps;
    bool want_ok;
    int want_version;  // user_version in the file afterwards
    const char* want_error_part;
  };
  const Case cases[] = {
      {"two steps", kTwoSteps, true, 2, ""},
      {"second step fails", kSecondFails, false, 1,
       "database: migration to version 2 (broken) failed: no such table: nowhere"},
      {"bad numbering", kBadNumbering, false, 0, "migration list is not numbered 1..N"},
  };
  for (const Case& c : cases) {
    TempDir dir;
    auto file = dir.file("m.db");
    Options o;
    o.migrations = c.steps;
    auto got = Database::open(file, o);
    ASSERT_EQ(got.has_value(), c.want_ok) << c.name;
    if (!c.want_ok) {
      EXPECT_NE(got.error().message.find(c.want_error_part), std::string::npos)
          << c.name << ": got " << got.error().message;
    }
    Options inspect;  // the steps that must have been applied, no more
    inspect.migrations = c.steps.subspan(0, static_cast<std::size_t>(c.want_version));
    auto db = must_open(file, inspect);
    EXPECT_EQ(db->initial_schema_version(), c.want_version) << c.name;
    // A failed step leaves nothing behind: t2 does not exist.
    auto t2 = db->query("SELECT count(*) FROM sqlite_schema WHERE name = 't2'");
    ASSERT_TRUE(t2);
    EXPECT_EQ((*t2)[0].integer(0), c.want_version >= 2 ? 1 : 0) << c.name;
  }
}

TEST(DatabaseTest, RefusesNewerSchema) {
  TempDir dir;
  auto file = dir.file("tlpmail.db");
  {
    auto db = must_open(file);
    ASSERT_TRUE(db->execute("PRAGMA user_version = 99"));
  }
  auto got = Database::open(file);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().fault, DbFault::schema);
  EXPECT_EQ(got.error().kind, ErrorClass::permanent);
  EXPECT_EQ(got.error().message, "database: " + file +
                                     " has schema version 99, newer than this program knows (" +
                                     std::to_string(migrations().size()) + "); refusing to use it");
}

TEST(DatabaseTest, ReadOnlyOpenReadsAndNeverWrites) {
  TempDir dir;
  auto file = dir.file("tlpmail.db");
  // A missing file is an io error and stays missing.
  auto missing = Database::open_read_only(file);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().fault, DbFault::io);
  EXPECT_FALSE(std::filesystem::exists(file));
  {
    auto db = must_open(file);
    ASSERT_TRUE(db->execute("CREATE TABLE t (v TEXT) STRICT"));
    ASSERT_TRUE(db->execute("INSERT INTO t VALUES ('kept')"));
  }
  auto ro = Database::open_read_only(file);
  ASSERT_TRUE(ro) << ro.error().message;
  EXPECT_EQ((*ro)->schema_version(), static_cast<int>(migrations().size()));
  auto rows = (*ro)->query("SELECT v FROM t");
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].text(0), "kept");
  EXPECT_FALSE((*ro)->execute("INSERT INTO t VALUES ('new')"));
  // A newer schema is refused as by open().
  {
    auto db = must_open(file);
    ASSERT_TRUE(db->execute("PRAGMA user_version = 99"));
  }
  auto newer = Database::open_read_only(file);
  ASSERT_FALSE(newer);
  EXPECT_EQ(newer.error().fault, DbFault::schema);
}

TEST(DatabaseTest, NotADatabaseIsCorrupt) {
  TempDir dir;
  auto file = dir.file("tlpmail.db");
  {
    std::ofstream out(file);
    out << std::string(4096, 'g');
  }
  auto got = Database::open(file);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().fault, DbFault::corrupt);
  EXPECT_EQ(got.error().kind, ErrorClass::corrupt);
}

TEST(DatabaseTest, MissingFolderIsIoError) {
  auto got = Database::open("/nonexistent-tlpmail-dir/tlpmail.db");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().fault, DbFault::io);
  EXPECT_EQ(got.error().kind, ErrorClass::temporary);
}

TEST(DatabaseTest, LockedDatabaseIsTemporary) {
  TempDir dir;
  auto file = dir.file("tlpmail.db");
  auto db1 = must_open(file);
  Options o;
  o.busy_timeout = std::chrono::milliseconds(50);
  auto db2 = must_open(file, o);
  DbResult<std::int64_t> got = std::int64_t{0};
  auto r = db1->transaction([&](Transaction& tx) -> DbResult<void> {
    auto ins = tx.execute("INSERT INTO spool_messages VALUES ('a', 1, 's', 2, 'received', 1)");
    if (!ins) return Unexpected(ins.error());
    got = db2->execute("INSERT INTO spool_messages VALUES ('b', 1, 's', 2, 'received', 1)");
    return {};
  });
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().fault, DbFault::busy);
  EXPECT_EQ(got.error().kind, ErrorClass::temporary);
  EXPECT_EQ(got.error().message, "database: database is locked");
}

TEST(DatabaseTest, StatementErrors) {
  TempDir dir;
  auto db = must_open(dir.file("tlpmail.db"));
  ASSERT_TRUE(db->execute("INSERT INTO spool_messages VALUES ('a', 1, 's', 2, 'received', 1)"));
  struct Case {
    const char* name;
    const char* sql;
    DbFault want;
  };
  const Case cases[] = {
      {"duplicate key", "INSERT INTO spool_messages VALUES ('a', 1, 's', 2, 'received', 1)",
       DbFault::constraint},
      {"strict type", "INSERT INTO spool_messages VALUES ('b', 'x', 's', 2, 'received', 1)",
       DbFault::constraint},
      {"foreign key", "INSERT INTO spool_recipients VALUES ('nope', 0, 'r@x')",
       DbFault::constraint},
      {"syntax", "INSERT INTO", DbFault::other},
  };
  for (const Case& c : cases) {
    auto got = db->execute(c.sql);
    ASSERT_FALSE(got) << c.name;
    EXPECT_EQ(got.error().fault, c.want) << c.name << ": " << got.error().message;
    EXPECT_EQ(got.error().kind, ErrorClass::temporary) << c.name;
  }
}

TEST(DatabaseTest, TransactionCommitsOrRollsBack) {
  TempDir dir;
  auto db = must_open(dir.file("tlpmail.db"));
  // One transaction: a message row `id`, then a recipient row of message
  // `rcpt_of` (a foreign key: it fails unless that message exists).
  auto message_and_recipient = [&](std::string id, std::string rcpt_of) {
    return db->transaction([&](Transaction& tx) -> DbResult<void> {
      if (auto r = tx.execute("INSERT INTO spool_messages VALUES (?, 1, 's', 2, 'received', 1)",
                              {id});
          !r)
        return Unexpected(r.error());
      if (auto r = tx.execute("INSERT INTO spool_recipients VALUES (?, 0, 'r@x')", {rcpt_of}); !r)
        return Unexpected(r.error());
      return {};
    });
  };
  auto ok = message_and_recipient("a", "a");
  ASSERT_TRUE(ok) << ok.error().message;

  // The second statement fails: the first must be rolled back.
  auto failed = message_and_recipient("b", "zz");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().fault, DbFault::constraint);

  auto rows = db->query("SELECT id FROM spool_messages ORDER BY id");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].text(0), "a");
  // The connection is usable after the rollback.
  EXPECT_TRUE(db->execute("DELETE FROM spool_messages WHERE id = ?", {std::string("a")}));
}

TEST(DatabaseTest, ValuesRoundTrip) {
  TempDir dir;
  auto db = must_open(dir.file("tlpmail.db"));
  ASSERT_TRUE(db->execute("CREATE TABLE v (a ANY, b ANY, c ANY, d ANY) STRICT"));
  const std::string text_with_nul("x\0y\xff", 4);
  ASSERT_TRUE(db->execute("INSERT INTO v VALUES (?, ?, ?, ?)",
                          {nullptr, std::int64_t{-9007199254740993}, 2.5, text_with_nul}));
  auto rows = db->query("SELECT a, b, c, d FROM v");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  const Row& r = (*rows)[0];
  EXPECT_TRUE(r.is_null(0));
  EXPECT_EQ(r.integer(1), -9007199254740993);
  EXPECT_EQ(r.real(2), 2.5);
  EXPECT_EQ(r.text(3), text_with_nul);
}

TEST(DatabaseTest, StatementsArePreparedOnceAndLeftIdle) {
  TempDir dir;
  auto db = must_open(dir.file("tlpmail.db"));
  const std::size_t before = db->cached_statements();
  const std::string insert = "INSERT INTO spool_messages VALUES (?1, 1, 's', 2, 'received', 1)";
  for (int i = 0; i < 10; ++i) {
    auto r = db->execute(insert, {"m" + std::to_string(i)});
    ASSERT_TRUE(r) << r.error().message;
  }
  EXPECT_EQ(db->cached_statements(), before + 1);

  // A failing run leaves the kept statement usable.
  auto dup = db->execute(insert, {std::string("m0")});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().fault, DbFault::constraint);
  ASSERT_TRUE(db->execute(insert, {std::string("m10")}));

  // Bindings do not outlive the call: the next run without a value binds NULL.
  auto one = db->query("SELECT ?1", {std::string("secret")});
  ASSERT_TRUE(one);
  EXPECT_EQ((*one)[0].text(0), "secret");
  auto again = db->query("SELECT ?1");
  ASSERT_TRUE(again);
  EXPECT_TRUE((*again)[0].is_null(0));

  // A statement stopped half-way (rows where execute wants none) is reset:
  // nothing stays "in progress", which VACUUM would refuse.
  auto stopped = db->execute("UPDATE spool_messages SET state = state RETURNING id");
  ASSERT_FALSE(stopped);
  auto vacuum = db->execute("VACUUM");
  EXPECT_TRUE(vacuum) << vacuum.error().message;
  auto count = db->query("SELECT count(*) FROM spool_messages");
  ASSERT_TRUE(count);
  EXPECT_EQ((*count)[0].integer(0), 11);

  // Many built SQL texts: the cache stays bounded (emptied when full) and
  // every answer is right, also for the texts kept before.
  for (int i = 0; i < 300; ++i) {
    auto r = db->query("SELECT " + std::to_string(i) + " + 1");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ((*r)[0].integer(0), i + 1);
    EXPECT_LE(db->cached_statements(), 128u);
  }
  EXPECT_GE(db->cached_statements(), 1u);
  ASSERT_TRUE(db->execute(insert, {std::string("m11")}));
  auto all = db->query("SELECT count(*) FROM spool_messages");
  ASSERT_TRUE(all);
  EXPECT_EQ((*all)[0].integer(0), 12);
}

TEST(DatabaseTest, ConcurrentTransactionsFromThreads) {
  TempDir dir;
  auto db = must_open(dir.file("tlpmail.db"));
  constexpr int kPerThread = 100;
  auto work = [&](char prefix) {
    for (int i = 0; i < kPerThread; ++i) {
      std::string id = std::string(1, prefix) + std::to_string(i);
      auto r = db->transaction([&](Transaction& tx) -> DbResult<void> {
        if (auto x =
                tx.execute("INSERT INTO spool_messages VALUES (?, 1, 's', 2, 'received', 1)", {id});
            !x)
          return Unexpected(x.error());
        return {};
      });
      ASSERT_TRUE(r) << r.error().message;
    }
  };
  std::thread a(work, 'a'), b(work, 'b');
  a.join();
  b.join();
  auto rows = db->query("SELECT count(*) FROM spool_messages");
  ASSERT_TRUE(rows);
  EXPECT_EQ((*rows)[0].integer(0), 2 * kPerThread);
}

}  // namespace
}  // namespace tlpmail::store
