// Tests of queue::Spool over MemoryEnv (wrapped in FaultInjectionEnv) and a
// real SQLite database: the transaction API, every injected failure and
// the reply it earns, poisoning, mark(), and each recovery rule at open.
// Crash tests are in spool_crash_test.cc, real files in spool_posix_test.cc.
#include "queue/spool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <thread>

#include "test_support.h"

namespace tlpmail::queue {
namespace {

using namespace testing;  // Machine, kSpoolDir, make_body, spool_message...

class SpoolTest : public ::testing::Test {
 protected:
  // Puts a file straight into the spool folder, durable, as a crash would leave it.
  void plant(const std::string& rel, const std::string& content) {
    const std::string path = std::string(kSpoolDir) + "/" + rel;
    auto f = m_.mem.new_writable_file(path);
    ASSERT_TRUE(f) << f.error().message;
    ASSERT_TRUE((*f)->append(content));
    ASSERT_TRUE((*f)->sync());
    ASSERT_TRUE((*f)->close());
    ASSERT_TRUE(m_.mem.sync_dir(path.substr(0, path.rfind('/'))));
  }

  Machine m_;
};

TEST_F(SpoolTest, CommitThenPendingAndReadBack) {
  const std::string body = make_body(25000, 1);
  auto id = spool_message(*m_.spool, "alice@a.example",
                          {"ops@lists.example", "ops-request@lists.example"}, body);
  ASSERT_TRUE(id) << id.error().detail;
  EXPECT_TRUE(is_valid_queue_id(*id));

  auto pending = m_.spool->pending();
  ASSERT_TRUE(pending) << pending.error().message;
  ASSERT_EQ(pending->size(), 1u);
  const SpooledMessage& m = (*pending)[0];
  EXPECT_EQ(m.id, *id);
  EXPECT_EQ(m.sender, "alice@a.example");
  EXPECT_EQ(m.recipients,
            (std::vector<std::string>{"ops@lists.example", "ops-request@lists.example"}));
  EXPECT_EQ(m.size, body.size());
  EXPECT_EQ(m.state, MessageState::received);
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  EXPECT_LE(std::abs(now - m.received_at), 5);

  auto bytes = m_.spool->read_message(*id);
  ASSERT_TRUE(bytes) << bytes.error().message;
  EXPECT_EQ(*bytes, body);

  auto stream = m_.spool->open_message(*id);
  ASSERT_TRUE(stream);
  std::string streamed;
  char buf[4096];
  for (;;) {
    auto n = (*stream)->read(buf, sizeof buf);
    ASSERT_TRUE(n);
    if (*n == 0) break;
    streamed.append(buf, *n);
  }
  EXPECT_EQ(streamed, body);

  auto one = m_.spool->message(*id);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->recipients.size(), 2u);
  EXPECT_TRUE(m_.names("tmp").empty());
  EXPECT_EQ(m_.names("msg"), (std::vector<std::string>{*id}));
}

TEST_F(SpoolTest, NullSenderEmptyBodyAndNoRecipients) {
  auto id = spool_message(*m_.spool, "", {}, "");
  ASSERT_TRUE(id) << id.error().detail;
  auto m = m_.spool->message(*id);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->sender, "");
  EXPECT_TRUE(m->recipients.empty());
  EXPECT_EQ(m->size, 0u);
  auto bytes = m_.spool->read_message(*id);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, "");
}

TEST_F(SpoolTest, PendingIsOldestFirst) {
  std::vector<QueueId> ids;
  for (int i = 0; i < 5; ++i) {
    auto id = spool_message(*m_.spool, "s@x", {"r@y"}, make_body(100, i));
    ASSERT_TRUE(id);
    ids.push_back(*id);
  }
  auto pending = m_.spool->pending();
  ASSERT_TRUE(pending);
  std::vector<QueueId> got;
  for (const auto& m : *pending) got.push_back(m.id);
  EXPECT_EQ(got, ids);
}

// The fan-out reads only the oldest few of a long backlog: the limit
// counts messages (each with all its recipients), not rows.
TEST_F(SpoolTest, PendingWithALimitIsTheOldestFew) {
  std::vector<QueueId> ids;
  for (int i = 0; i < 5; ++i) {
    auto id = spool_message(*m_.spool, "s@x", {"a@y", "b@y", "c@y"}, make_body(100, i));
    ASSERT_TRUE(id);
    ids.push_back(*id);
  }
  ASSERT_TRUE(m_.spool->mark(ids[0], MessageState::done));
  auto pending = m_.spool->pending(2);
  ASSERT_TRUE(pending) << pending.error().message;
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].id, ids[1]);
  EXPECT_EQ((*pending)[1].id, ids[2]);
  for (const auto& m : *pending) {
    EXPECT_EQ(m.recipients, (std::vector<std::string>{"a@y", "b@y", "c@y"}));
  }
  auto all = m_.spool->pending(100);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 4u);
}

TEST_F(SpoolTest, AbortAndDestructorLeaveNothing) {
  {
    auto tx = m_.spool->begin();
    ASSERT_TRUE(tx);
    tx->set_sender("s@x");
    tx->add_recipient("r@y");
    ASSERT_TRUE(tx->write("some bytes"));
    EXPECT_EQ(m_.names("tmp").size(), 1u);
    tx->abort();
    EXPECT_TRUE(m_.names("tmp").empty());
    tx->abort();  // twice is fine
  }
  {
    auto tx = m_.spool->begin();
    ASSERT_TRUE(tx);
    ASSERT_TRUE(tx->write("some bytes"));
    Transaction moved = std::move(tx.value());
    EXPECT_EQ(m_.names("tmp").size(), 1u);
  }  // destroyed without commit
  EXPECT_TRUE(m_.names("tmp").empty());
  EXPECT_TRUE(m_.names("msg").empty());
  EXPECT_EQ(m_.rows(), 0);
}

TEST_F(SpoolTest, FinishedTransactionRefuses) {
  auto tx = m_.spool->begin();
  ASSERT_TRUE(tx);
  ASSERT_TRUE(tx->write("x"));
  ASSERT_TRUE(tx->commit());
  auto again = tx->commit();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, SpoolErrorCode::unavailable);
  auto write = tx->write("y");
  ASSERT_FALSE(write);
  EXPECT_EQ(write.error().code, SpoolErrorCode::unavailable);
  auto pending = m_.spool->pending();
  ASSERT_TRUE(pending);
  EXPECT_EQ(pending->size(), 1u);
}

// Every injected failure: the code the client gets, whether the spool is
// poisoned, and that no trace of the message remains.
TEST_F(SpoolTest, FailureTable) {
  struct Case {
    const char* name;
    IoOp op;
    int nth;
    int err;
    SpoolErrorCode want;
    bool want_poisoned;
    int want_smtp;
  };
  const Case cases[] = {
      {"create: disk full", IoOp::create, 1, ENOSPC, SpoolErrorCode::disk_full, false, 452},
      {"create: quota", IoOp::create, 1, EDQUOT, SpoolErrorCode::disk_full, false, 452},
      {"create: no descriptors", IoOp::create, 1, EMFILE, SpoolErrorCode::unavailable, false, 451},
      {"write: disk full", IoOp::write, 3, ENOSPC, SpoolErrorCode::disk_full, false, 452},
      {"write: I/O error", IoOp::write, 2, EIO, SpoolErrorCode::io_error, true, 451},
      {"fsync: I/O error", IoOp::sync, 1, EIO, SpoolErrorCode::io_error, true, 451},
      {"fsync: disk full", IoOp::sync, 1, ENOSPC, SpoolErrorCode::io_error, true, 451},
      {"close: I/O error", IoOp::close, 1, EIO, SpoolErrorCode::io_error, true, 451},
      {"rename: I/O error", IoOp::rename, 1, EIO, SpoolErrorCode::io_error, true, 451},
      {"rename: disk full", IoOp::rename, 1, ENOSPC, SpoolErrorCode::disk_full, false, 452},
      {"fsync folder: I/O error", IoOp::sync_dir, 1, EIO, SpoolErrorCode::io_error, true, 451},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    m_.restart();  // a fresh, unpoisoned spool over the same files
    const std::int64_t rows_before = m_.rows();
    m_.env.fail_nth(c.op, c.nth, c.err);
    auto got = spool_message(*m_.spool, "s@x", {"r@y"}, make_body(5000));
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code, c.want) << got.error().detail;
    EXPECT_EQ(to_smtp_reply(got.error()).code, c.want_smtp);
    EXPECT_EQ(m_.spool->is_poisoned(), c.want_poisoned);
    EXPECT_TRUE(m_.names("tmp").empty());
    EXPECT_TRUE(m_.names("msg").empty());
    EXPECT_EQ(m_.rows(), rows_before);

    auto next = spool_message(*m_.spool, "s@x", {"r@y"}, "next");
    if (c.want_poisoned) {
      ASSERT_FALSE(next);
      EXPECT_EQ(next.error().code, SpoolErrorCode::poisoned);
      EXPECT_EQ(to_smtp_reply(next.error()).code, 451);
      EXPECT_NE(m_.spool->poison_reason().find(std::strerror(c.err)), std::string::npos);
      // Reading and marking what is already committed still works.
      EXPECT_TRUE(m_.spool->pending());
    } else {
      ASSERT_TRUE(next) << next.error().detail;
      ASSERT_TRUE(m_.spool->mark(*next, MessageState::done));
    }
  }
  m_.restart();
  auto after = spool_message(*m_.spool, "s@x", {"r@y"}, "after restart");
  EXPECT_TRUE(after) << "a new Spool (restart) accepts commits again";
}

TEST_F(SpoolTest, PoisonReachesTransactionsAlreadyOpen) {
  auto a = m_.spool->begin();
  auto b = m_.spool->begin();
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->write("b's bytes"));
  m_.env.fail_nth(IoOp::sync, 1, EIO);
  ASSERT_TRUE(a->write("a's bytes"));
  auto ra = a->commit();
  ASSERT_FALSE(ra);
  EXPECT_EQ(ra.error().code, SpoolErrorCode::io_error);
  auto rb = b->commit();
  ASSERT_FALSE(rb);
  EXPECT_EQ(rb.error().code, SpoolErrorCode::poisoned);
  EXPECT_EQ(rb.error().detail, "spool refuses writes until restart after: fsync /state/spool/tmp/" +
                                   a->id() + ": Input/output error");
  auto c = m_.spool->begin();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, SpoolErrorCode::poisoned);
  EXPECT_TRUE(m_.names("tmp").empty());
}

TEST_F(SpoolTest, WriteErrorIsRememberedUntilCommit) {
  m_.env.fail_nth(IoOp::write, 1, ENOSPC);
  auto tx = m_.spool->begin();
  ASSERT_TRUE(tx);
  auto w1 = tx->write("first");
  ASSERT_FALSE(w1);
  auto w2 = tx->write("second");  // not attempted again
  ASSERT_FALSE(w2);
  EXPECT_EQ(w2.error().code, SpoolErrorCode::disk_full);
  auto r = tx->commit();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, SpoolErrorCode::disk_full);
  EXPECT_EQ(r.error().detail, "write /state/spool/tmp/" + tx->id() + ": No space left on device");
}

TEST_F(SpoolTest, DatabaseBusyIsTemporaryAndLeavesNoFile) {
  auto got = m_.commit_while_database_locked("held up");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, SpoolErrorCode::database);
  EXPECT_EQ(got.error().detail, "database: database is locked");
  EXPECT_EQ(to_smtp_reply(got.error()).text, "Local error: queue database unavailable");
  EXPECT_FALSE(m_.spool->is_poisoned());
  EXPECT_TRUE(m_.names("msg").empty());
  EXPECT_TRUE(m_.names("tmp").empty());
  EXPECT_TRUE(spool_message(*m_.spool, "s@x", {"r@y"}, "next"));
}

TEST_F(SpoolTest, MarkMovesStateAndRemovesFile) {
  auto id = spool_message(*m_.spool, "s@x", {"r@y"}, "body");
  ASSERT_TRUE(id);
  ASSERT_TRUE(m_.spool->mark(*id, MessageState::done));
  EXPECT_TRUE(m_.names("msg").empty());
  auto pending = m_.spool->pending();
  ASSERT_TRUE(pending);
  EXPECT_TRUE(pending->empty());
  auto m = m_.spool->message(*id);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->state, MessageState::done);
  EXPECT_EQ(m->recipients, (std::vector<std::string>{"r@y"}));

  struct Case {
    const char* name;
    std::string id;
    MessageState state;
    const char* want;
  };
  const Case cases[] = {
      {"back to received", *id, MessageState::received,
       "spool: message %s cannot go back to received"},
      {"unknown id", "00000000000000ff", MessageState::done, "spool: no message 00000000000000ff"},
      {"not an id", "../../etc/passwd", MessageState::done, "spool: not a queue id"},
  };
  for (const Case& c : cases) {
    auto r = m_.spool->mark(c.id, c.state);
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().kind, ErrorClass::permanent) << c.name;
    std::string want = c.want;
    if (auto p = want.find("%s"); p != std::string::npos) want.replace(p, 2, c.id);
    EXPECT_EQ(r.error().message, want) << c.name;
  }
}

TEST_F(SpoolTest, ReadingUnknownOrInvalidIds) {
  struct Case {
    const char* id;
    const char* want;
  };
  const Case cases[] = {
      {"00000000000000ff", "spool: no file for message 00000000000000ff"},
      {"../tlpmail.db", "spool: not a queue id"},
  };
  for (const Case& c : cases) {
    auto r = m_.spool->read_message(c.id);
    ASSERT_FALSE(r) << c.id;
    EXPECT_EQ(r.error().kind, ErrorClass::permanent) << c.id;
    EXPECT_EQ(r.error().message, c.want) << c.id;
  }
}

TEST_F(SpoolTest, RecoveryRemovesTempAndOrphanFilesKeepsPending) {
  const std::string body = make_body(3000, 7);
  auto kept = spool_message(*m_.spool, "s@x", {"r@y"}, body);
  ASSERT_TRUE(kept);
  m_.spool.reset();
  plant("tmp/0000000000000001", "half a message");
  plant("tmp/junk", "");
  plant("msg/0000000000000002", "renamed but never recorded");
  plant("msg/README", "operator's note");
  m_.restart();
  const RecoveryReport& r = m_.spool->recovery_report();
  EXPECT_EQ(r.temp_files_removed, 2u);
  EXPECT_EQ(r.orphan_files_removed, 1u);
  EXPECT_EQ(r.finished_files_removed, 0u);
  EXPECT_TRUE(r.corrupt.empty());
  EXPECT_EQ(r.ignored_files, (std::vector<std::string>{"README"}));
  EXPECT_EQ(r.pending, 1u);
  EXPECT_TRUE(m_.names("tmp").empty());
  EXPECT_EQ(m_.names("msg"), (std::vector<std::string>{*kept, "README"}));
  auto bytes = m_.spool->read_message(*kept);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, body);
}

TEST_F(SpoolTest, RecoveryMarksMissingOrDamagedFilesCorrupt) {
  auto missing = spool_message(*m_.spool, "s@x", {"r@y"}, "will vanish");
  auto damaged = spool_message(*m_.spool, "s@x", {"r@y"}, "will be truncated");
  auto fine = spool_message(*m_.spool, "s@x", {"r@y"}, "fine");
  ASSERT_TRUE(missing && damaged && fine);
  m_.spool.reset();
  ASSERT_TRUE(m_.mem.remove_file(std::string(kSpoolDir) + "/msg/" + *missing));
  ASSERT_TRUE(m_.mem.remove_file(std::string(kSpoolDir) + "/msg/" + *damaged));
  plant("msg/" + *damaged, "will be");
  m_.restart();
  const RecoveryReport& r = m_.spool->recovery_report();
  std::vector<QueueId> want = {*missing, *damaged};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(r.corrupt, want);
  EXPECT_EQ(r.pending, 1u);
  for (const auto& id : want) {
    auto m = m_.spool->message(id);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->state, MessageState::corrupt);
  }
  EXPECT_EQ(m_.names("msg"), (std::vector<std::string>{*fine}));
  auto pending = m_.spool->pending();
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].id, *fine);
}

TEST_F(SpoolTest, RecoveryFinishesInterruptedMark) {
  auto id = spool_message(*m_.spool, "s@x", {"r@y"}, "processed");
  ASSERT_TRUE(id);
  // As if mark(done) crashed between its UPDATE and its unlink.
  ASSERT_TRUE(m_.db->execute("UPDATE spool_messages SET state = 'done' WHERE id = ?1", {*id}));
  m_.restart();
  EXPECT_EQ(m_.spool->recovery_report().finished_files_removed, 1u);
  EXPECT_TRUE(m_.names("msg").empty());
}

TEST_F(SpoolTest, RecoveryLeavesRowsOfUnknownStateAlone) {
  auto id = spool_message(*m_.spool, "s@x", {"r@y"}, "future");
  ASSERT_TRUE(id);
  ASSERT_TRUE(
      m_.db->execute("UPDATE spool_messages SET state = 'quarantined' WHERE id = ?1", {*id}));
  m_.restart();
  EXPECT_EQ(m_.spool->recovery_report().ignored_files, (std::vector<std::string>{*id}));
  EXPECT_EQ(m_.names("msg"), (std::vector<std::string>{*id}));
}

TEST_F(SpoolTest, RefusesFreshDatabaseWhenMessagesWait) {
  ASSERT_TRUE(spool_message(*m_.spool, "s@x", {"r@y"}, "accepted with 250"));
  m_.spool.reset();
  m_.db.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(m_.db_path + suffix);
  m_.db = open_db(m_.db_path);
  auto got = Spool::open(m_.env, kSpoolDir, *m_.db);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorClass::permanent);
  EXPECT_EQ(got.error().message,
            "spool: /state/spool/msg holds 1 messages but the database " + m_.db_path +
                " was created just now; restore the database or move the spool aside");
  EXPECT_EQ(m_.names("msg").size(), 1u) << "nothing was deleted";
}

TEST_F(SpoolTest, SecondSpoolOnSameFolderIsRefused) {
  auto got = Spool::open(m_.env, kSpoolDir, *m_.db);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorClass::temporary);
  EXPECT_EQ(got.error().message,
            "spool: /state/spool is in use by another process (/state/spool/lock)");
}

TEST_F(SpoolTest, IdsKeepIncreasingAcrossReopen) {
  auto first = spool_message(*m_.spool, "s@x", {}, "1");  // no recipient rows to re-key
  ASSERT_TRUE(first);
  // Raise the stored maximum far into the future: a later generator must
  // still never hand out an id at or below it.
  ASSERT_TRUE(m_.db->execute("UPDATE spool_messages SET id = 'fffff00000000000'"));
  m_.spool.reset();
  ASSERT_TRUE(m_.mem.rename_file(std::string(kSpoolDir) + "/msg/" + *first,
                               std::string(kSpoolDir) + "/msg/fffff00000000000"));
  m_.restart();
  auto second = spool_message(*m_.spool, "s@x", {"r@y"}, "2");
  ASSERT_TRUE(second);
  EXPECT_GT(*second, "fffff00000000000");
}

TEST_F(SpoolTest, ConcurrentCommitsFromThreads) {
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::mutex mu;
  std::map<QueueId, std::string> committed;
  auto work = [&](int t) {
    for (int i = 0; i < kEach; ++i) {
      std::string body = make_body(2000 + static_cast<std::size_t>(i), t * 1000 + i);
      auto id = spool_message(*m_.spool, "s@x", {"r" + std::to_string(t) + "@y"}, body, 333);
      ASSERT_TRUE(id) << id.error().detail;
      std::lock_guard lock(mu);
      committed[*id] = body;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(work, t);
  for (auto& th : threads) th.join();
  ASSERT_EQ(committed.size(), static_cast<std::size_t>(kThreads * kEach));
  auto pending = m_.spool->pending();
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), committed.size());
  for (const auto& m : *pending) {
    auto bytes = m_.spool->read_message(m.id);
    ASSERT_TRUE(bytes);
    EXPECT_EQ(*bytes, committed[m.id]);
  }
}

}  // namespace
}  // namespace tlpmail::queue
