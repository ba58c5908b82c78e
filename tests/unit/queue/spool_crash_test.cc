// Crash tests of the spool (LevelDB's fault_injection_test idea): the
// power goes after every possible step of a commit (and of recovery and
// mark), MemoryEnv then forgets everything that was not synced, and the
// spool is reopened from scratch. The promise under test: a commit that
// returned an id survives with identical bytes; one that did not leaves no
// trace once recovery has run; messages committed earlier are never hurt.
#include <gtest/gtest.h>

#include "test_support.h"

namespace tlpmail::queue {
namespace {

using namespace testing;  // Machine, kSpoolDir, make_body, spool_message...

struct Msg {
  std::string sender;
  std::vector<std::string> rcpts;
  std::string body;
};

void expect_pending_exactly(Spool& spool, const std::vector<std::pair<QueueId, Msg>>& want,
                            const std::string& where) {
  auto pending = spool.pending();
  ASSERT_TRUE(pending) << where << ": " << pending.error().message;
  ASSERT_EQ(pending->size(), want.size()) << where;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const SpooledMessage& got = (*pending)[i];
    EXPECT_EQ(got.id, want[i].first) << where;
    EXPECT_EQ(got.sender, want[i].second.sender) << where;
    EXPECT_EQ(got.recipients, want[i].second.rcpts) << where;
    auto bytes = spool.read_message(got.id);
    ASSERT_TRUE(bytes) << where << ": " << bytes.error().message;
    EXPECT_EQ(*bytes, want[i].second.body) << where;
  }
}

// Counts the changing file-system calls of one begin..commit.
int commit_call_count(const Msg& m, std::size_t chunk) {
  Machine machine;
  machine.env.reset();
  auto id = spool_message(*machine.spool, m.sender, m.rcpts, m.body, chunk);
  EXPECT_TRUE(id);
  return machine.env.changing_calls();
}

TEST(SpoolCrashTest, PowerCutAtEveryStepOfACommit) {
  const Msg earlier{"early@a.example", {"ops@lists.example"}, make_body(4000, 1)};
  struct Case {
    const char* name;
    Msg msg;
    std::size_t chunk;
  };
  const Case cases[] = {
      {"10 KB in 1 KB chunks",
       {"alice@a.example", {"ops@l.example", "x@l.example"}, make_body(10240, 2)},
       1024},
      {"one chunk", {"bob@b.example", {"ops@l.example"}, make_body(700, 3)}, 4096},
      {"empty body, null sender", {"", {"ops@l.example"}, ""}, 1},
  };
  for (const Case& c : cases) {
    const int total = commit_call_count(c.msg, c.chunk);
    ASSERT_GE(total, 5) << c.name;  // create, write(s), fsync, close, rename, fsync-dir
    for (int k = 0; k <= total; ++k) {
      const std::string where = std::string(c.name) + ", power cut after " + std::to_string(k) +
                                " of " + std::to_string(total) + " calls";
      Machine m;
      auto first = spool_message(*m.spool, earlier.sender, earlier.rcpts, earlier.body);
      ASSERT_TRUE(first) << where;

      m.env.reset();
      m.env.cut_power_after(k);
      auto got = spool_message(*m.spool, c.msg.sender, c.msg.rcpts, c.msg.body, c.chunk);
      // Every call is needed: a commit cannot succeed before all of them ran.
      EXPECT_EQ(got.has_value(), k == total) << where;
      m.crash_and_reboot();

      std::vector<std::pair<QueueId, Msg>> want = {{*first, earlier}};
      if (got) want.emplace_back(*got, c.msg);
      expect_pending_exactly(*m.spool, want, where);
      EXPECT_TRUE(m.names("tmp").empty()) << where;
      EXPECT_EQ(m.names("msg").size(), want.size()) << where;
      EXPECT_EQ(m.rows(), static_cast<std::int64_t>(want.size())) << where;
      // And the spool works again after the restart.
      EXPECT_TRUE(spool_message(*m.spool, "s@x", {"r@y"}, "after reboot")) << where;
    }
  }
}

// The gap between "file durable in msg/" and "row committed": the INSERT
// fails (the database is locked), the cleanup unlink is not synced, and
// the power goes. The file comes back; recovery removes it.
TEST(SpoolCrashTest, CrashBetweenRenameAndInsert) {
  Machine m;
  auto got = m.commit_while_database_locked("never acknowledged");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, SpoolErrorCode::database);
  m.crash_and_reboot();
  EXPECT_EQ(m.spool->recovery_report().orphan_files_removed, 1u);
  expect_pending_exactly(*m.spool, {}, "after reboot");
  EXPECT_TRUE(m.names("msg").empty());
  EXPECT_EQ(m.rows(), 0);
}

TEST(SpoolCrashTest, CrashAfterMarkDone) {
  Machine m;
  auto id = spool_message(*m.spool, "s@x", {"r@y"}, "processed");
  ASSERT_TRUE(id);
  ASSERT_TRUE(m.spool->mark(*id, MessageState::done));  // unlink not synced
  m.crash_and_reboot();
  EXPECT_EQ(m.spool->recovery_report().finished_files_removed, 1u);
  EXPECT_TRUE(m.names("msg").empty());
  expect_pending_exactly(*m.spool, {}, "after reboot");
}

// Recovery itself may be cut short at any point; the next start finishes it.
TEST(SpoolCrashTest, PowerCutDuringRecovery) {
  const Msg kept{"s@x", {"r@y"}, make_body(2000, 9)};
  for (int k = 0; k <= 6; ++k) {
    const std::string where = "power cut after " + std::to_string(k) + " calls of recovery";
    Machine m;
    auto id = spool_message(*m.spool, kept.sender, kept.rcpts, kept.body);
    auto doomed = spool_message(*m.spool, "s@x", {"r@y"}, "file will vanish");
    ASSERT_TRUE(id && doomed);
    m.spool.reset();
    ASSERT_TRUE(m.mem.remove_file(std::string(kSpoolDir) + "/msg/" + *doomed));
    for (const char* rel :
         {"/tmp/0000000000000001", "/tmp/0000000000000002", "/msg/0000000000000003"}) {
      auto f = m.mem.new_writable_file(std::string(kSpoolDir) + rel);
      ASSERT_TRUE(f);
      ASSERT_TRUE((*f)->append("leftover"));
      ASSERT_TRUE((*f)->sync());
    }
    ASSERT_TRUE(m.mem.sync_dir(std::string(kSpoolDir) + "/tmp"));
    ASSERT_TRUE(m.mem.sync_dir(std::string(kSpoolDir) + "/msg"));

    m.env.reset();
    m.env.cut_power_after(k);
    auto interrupted = Spool::open(m.env, kSpoolDir, *m.db);
    interrupted = Unexpected(Error{});  // drop it (and its lock) before the crash
    m.crash_and_reboot();

    expect_pending_exactly(*m.spool, {{*id, kept}}, where);
    EXPECT_TRUE(m.names("tmp").empty()) << where;
    EXPECT_EQ(m.names("msg"), (std::vector<std::string>{*id})) << where;
    auto d = m.spool->message(*doomed);
    ASSERT_TRUE(d) << where;
    EXPECT_EQ(d->state, MessageState::corrupt) << where;
  }
}

}  // namespace
}  // namespace tlpmail::queue
