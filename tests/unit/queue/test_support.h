// Helpers shared by the queue tests: a real SQLite database in a temp
// folder, a spool opened over a given Env, message bodies, and a Machine
// (the spool over MemoryEnv behind a FaultInjectionEnv, restarted at will).
// Only test plumbing; the behaviour under test lives in lib/queue.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "queue/fault_injection_env.h"
#include "queue/memory_env.h"
#include "queue/spool.h"
#include "store/database.h"
#include "support/temp_dir.h"

namespace tlpmail::queue::testing {

using ::tlpmail::testing::TempDir;

inline std::unique_ptr<store::Database> open_db(
    const std::string& file, std::chrono::milliseconds busy = std::chrono::milliseconds(5000)) {
  store::Options o;
  o.busy_timeout = busy;
  auto db = store::Database::open(file, o);
  if (!db) throw std::runtime_error(db.error().message);
  return std::move(db.value());
}

inline std::unique_ptr<Spool> open_spool(Env& env, const std::string& dir, store::Database& db) {
  auto spool = Spool::open(env, dir, db);
  if (!spool) throw std::runtime_error(spool.error().message);
  return std::move(spool.value());
}

// A message body of `n` bytes that differs per seed, CRLF lines.
inline std::string make_body(std::size_t n, int seed = 0) {
  std::string s;
  s.reserve(n);
  int line = 0;
  while (s.size() < n) {
    std::string l =
        "line " + std::to_string(line++) + " of message " + std::to_string(seed) + "\r\n";
    s += l;
  }
  s.resize(n);
  return s;
}

// begin, envelope, body in chunks of `chunk` bytes, commit.
inline Result<QueueId, SpoolError> spool_message(Spool& spool, const std::string& sender,
                                                 const std::vector<std::string>& rcpts,
                                                 const std::string& body,
                                                 std::size_t chunk = 1000) {
  auto tx = spool.begin();
  if (!tx) return Unexpected(tx.error());
  tx->set_sender(sender);
  for (const auto& r : rcpts) tx->add_recipient(r);
  for (std::size_t i = 0; i < body.size(); i += chunk) {
    (void)tx->write(std::string_view(body).substr(i, chunk));
  }
  return tx->commit();
}

inline constexpr const char* kSpoolDir = "/state/spool";

// One machine: the spool's files in MemoryEnv (which can forget what was
// not synced), every call through a FaultInjectionEnv, the database a real
// SQLite file (SQLite's own durability with synchronous=FULL is taken as
// given). Booted by the constructor.
struct Machine {
  TempDir tmp;
  MemoryEnv mem;
  FaultInjectionEnv env{mem};
  std::string db_path = tmp.file("tlpmail.db");
  std::unique_ptr<store::Database> db;
  std::unique_ptr<Spool> spool;

  Machine() {
    EXPECT_TRUE(mem.create_dir("/state"));
    EXPECT_TRUE(mem.sync_dir("/"));
    boot();
  }
  void boot() {
    db = open_db(db_path, std::chrono::milliseconds(100));
    spool = open_spool(env, kSpoolDir, *db);
  }
  // The process ends and starts again; every file is kept.
  void restart() {
    spool.reset();
    db.reset();
    env.reset();
    boot();
  }
  // Power cut: the process is gone, unsynced data with it; then restart.
  void crash_and_reboot() {
    spool.reset();
    db.reset();
    mem.crash();
    env.reset();
    boot();
  }
  // The sorted names in the spool's folder `sub` ("tmp", "msg").
  std::vector<std::string> names(const std::string& sub) {
    auto n = mem.list_dir(std::string(kSpoolDir) + "/" + sub);
    if (!n) return {"<" + n.error().message + ">"};
    std::sort(n->begin(), n->end());
    return *n;
  }
  // The first column of the first row of `sql` (a COUNT), -1 on error.
  std::int64_t count(const char* sql) {
    auto r = db->query(sql);
    return r ? (*r)[0].integer(0) : -1;
  }
  std::int64_t rows() { return count("SELECT count(*) FROM spool_messages"); }

  // Begins a message of `body` and commits it while a second connection
  // holds the database's write lock (so the INSERT fails as busy).
  Result<QueueId, SpoolError> commit_while_database_locked(std::string_view body) {
    Result<QueueId, SpoolError> got = Unexpected(SpoolError{});
    auto other = open_db(db_path);
    auto tx = spool->begin();
    EXPECT_TRUE(tx);
    if (!tx) return got;
    EXPECT_TRUE(tx->write(body));
    auto held = other->transaction([&](store::Transaction&) -> store::DbResult<void> {
      got = tx->commit();
      return {};
    });
    EXPECT_TRUE(held);
    return got;
  }
};

}  // namespace tlpmail::queue::testing
