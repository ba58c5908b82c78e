// Transaction::commit(InTransaction): the caller's writes run inside the
// SQLite transaction that records the message. Under test: a callback
// error leaves nothing persistent (no file, no row, no callback row; the
// spool is not poisoned and the next commit works), success makes both
// visible, the callback sees the queue id and the message's rows, and a
// power cut at every step of such a commit (MemoryEnv + FaultInjectionEnv)
// leaves the message and the callback's row together or neither.
#include <gtest/gtest.h>

#include "test_support.h"

namespace tlpmail::queue {
namespace {

using namespace testing;  // Machine, make_body, spool_message

// A Machine whose database also holds the caller's own table.
struct CallerMachine : Machine {
  CallerMachine() {
    auto made = db->execute("CREATE TABLE caller_rows (queue_id TEXT NOT NULL) STRICT");
    EXPECT_TRUE(made.has_value());
  }
  // begin, one recipient, body, commit with `cb`.
  Result<QueueId, SpoolError> spool_with(const std::string& body,
                                         const Transaction::InTransaction& cb) {
    auto tx = spool->begin();
    if (!tx) return Unexpected(tx.error());
    tx->set_sender("alice@a.example");
    tx->add_recipient("ops@lists.example.org");
    (void)tx->write(body);
    return tx->commit(cb);
  }
};

// Inserts the queue id into caller_rows.
store::DbResult<void> insert_row(store::Transaction& tx, const QueueId& id) {
  auto r = tx.execute("INSERT INTO caller_rows (queue_id) VALUES (?1)", {id});
  if (!r) return Unexpected(r.error());
  return {};
}

store::DbError refusal(std::string message, store::DbFault fault) {
  store::DbError e;
  e.kind = ErrorClass::refused;
  e.message = std::move(message);
  e.fault = fault;
  return e;
}

TEST(SpoolInTransactionTest, SuccessMakesMessageAndCallerRowVisibleTogether) {
  CallerMachine m;
  QueueId seen;
  std::string sender_seen;
  auto got = m.spool_with("hello\r\n", [&](store::Transaction& tx, const QueueId& id) {
    seen = id;
    // The message's own rows are already there, in this transaction.
    auto rows = tx.query("SELECT sender FROM spool_messages WHERE id = ?1", {id});
    if (!rows) return store::DbResult<void>(Unexpected(rows.error()));
    if (!rows->empty()) sender_seen = rows->front().text(0);
    return insert_row(tx, id);
  });
  ASSERT_TRUE(got) << got.error().detail;
  EXPECT_EQ(seen, *got);
  EXPECT_EQ(sender_seen, "alice@a.example");
  EXPECT_EQ(m.names("msg"), std::vector<std::string>{*got});
  EXPECT_EQ(m.count("SELECT COUNT(*) FROM spool_messages"), 1);
  auto rows = m.db->query("SELECT queue_id FROM caller_rows");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].text(0), *got);
  auto bytes = m.spool->read_message(*got);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, "hello\r\n");
}

TEST(SpoolInTransactionTest, CallbackErrorLeavesNothingAndTheSpoolWorksOn) {
  struct Case {
    const char* name;
    store::DbFault fault;
    bool write_first;  // the callback writes its row before failing
    SpoolErrorCode want;
  };
  const Case cases[] = {
      {"refusal, nothing written", store::DbFault::constraint, false, SpoolErrorCode::database},
      {"refusal after its own write", store::DbFault::constraint, true,
       SpoolErrorCode::database},
      {"other fault", store::DbFault::other, true, SpoolErrorCode::database},
      {"disk full", store::DbFault::disk_full, true, SpoolErrorCode::disk_full},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    CallerMachine m;
    QueueId seen;
    auto got = m.spool_with(make_body(3000, 1), [&](store::Transaction& tx, const QueueId& id) {
      seen = id;
      if (c.write_first) {
        auto w = insert_row(tx, id);
        if (!w) return w;
      }
      return store::DbResult<void>(Unexpected(refusal("signature was already used", c.fault)));
    });
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code, c.want);
    EXPECT_NE(got.error().detail.find("signature was already used"), std::string::npos)
        << got.error().detail;
    EXPECT_FALSE(seen.empty());
    EXPECT_TRUE(m.names("msg").empty());
    EXPECT_TRUE(m.names("tmp").empty());
    EXPECT_EQ(m.count("SELECT COUNT(*) FROM spool_messages"), 0);
    EXPECT_EQ(m.count("SELECT COUNT(*) FROM spool_recipients"), 0);
    EXPECT_EQ(m.count("SELECT COUNT(*) FROM caller_rows"), 0);
    EXPECT_FALSE(m.spool->is_poisoned());
    // The next commit, with or without a callback, works.
    auto next = m.spool_with("next\r\n", insert_row);
    ASSERT_TRUE(next) << next.error().detail;
    EXPECT_NE(*next, seen);
    EXPECT_EQ(m.count("SELECT COUNT(*) FROM caller_rows"), 1);
    auto plain = spool_message(*m.spool, "s@x", {"r@y"}, "plain");
    EXPECT_TRUE(plain);
    EXPECT_EQ(m.names("msg").size(), 2u);
  }
}

// The cleanup unlink after a callback error is not synced; the power goes.
// The file comes back without a row; recovery removes it.
TEST(SpoolInTransactionTest, CallbackErrorThenPowerCut) {
  CallerMachine m;
  auto got = m.spool_with("lost\r\n", [](store::Transaction& tx, const QueueId& id) {
    auto w = insert_row(tx, id);
    if (!w) return w;
    return store::DbResult<void>(
        Unexpected(refusal("replay", store::DbFault::constraint)));
  });
  ASSERT_FALSE(got);
  m.crash_and_reboot();
  EXPECT_TRUE(m.names("msg").empty());
  EXPECT_EQ(m.count("SELECT COUNT(*) FROM spool_messages"), 0);
  EXPECT_EQ(m.count("SELECT COUNT(*) FROM caller_rows"), 0);
  auto pending = m.spool->pending();
  ASSERT_TRUE(pending);
  EXPECT_TRUE(pending->empty());
}

TEST(SpoolInTransactionTest, PowerCutAtEveryStepKeepsMessageAndCallerRowTogether) {
  int total = 0;
  {
    CallerMachine probe;
    probe.env.reset();
    ASSERT_TRUE(probe.spool_with(make_body(5000, 2), insert_row));
    total = probe.env.changing_calls();
  }
  ASSERT_GE(total, 5);
  for (int k = 0; k <= total; ++k) {
    const std::string where =
        "power cut after " + std::to_string(k) + " of " + std::to_string(total) + " calls";
    CallerMachine m;
    auto first = m.spool_with("earlier\r\n", insert_row);
    ASSERT_TRUE(first) << where;
    m.env.reset();
    m.env.cut_power_after(k);
    bool called = false;
    auto got = m.spool_with(make_body(5000, 2), [&](store::Transaction& tx, const QueueId& id) {
      called = true;
      return insert_row(tx, id);
    });
    EXPECT_EQ(got.has_value(), k == total) << where;
    // The callback never runs before the file is durable in msg/.
    if (called) {
      EXPECT_GE(k, total) << where;
    }
    m.crash_and_reboot();

    const std::int64_t want = got ? 2 : 1;
    EXPECT_EQ(m.count("SELECT COUNT(*) FROM spool_messages"), want) << where;
    EXPECT_EQ(m.count("SELECT COUNT(*) FROM caller_rows"), want) << where;
    EXPECT_EQ(m.count("SELECT COUNT(*) FROM caller_rows c JOIN spool_messages s"
                      " ON s.id = c.queue_id"),
              want)
        << where;
    EXPECT_EQ(m.names("msg").size(), static_cast<std::size_t>(want)) << where;
    EXPECT_TRUE(m.names("tmp").empty()) << where;
    EXPECT_TRUE(m.spool_with("after reboot\r\n", insert_row)) << where;
  }
}

}  // namespace
}  // namespace tlpmail::queue
