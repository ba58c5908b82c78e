// The spool on real files: Env::posix() in a mkdtemp folder with the real
// database. Commit, throw every object away, open again from scratch and
// find the same bytes; file and folder modes; a poisoned spool (fsync
// failure injected over the real Env) refuses commits until reopened.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>

#include "queue/fault_injection_env.h"
#include "queue/spool.h"
#include "test_support.h"

namespace tlpmail::queue {
namespace {

using namespace testing;  // TempDir, open_db, open_spool, make_body, spool_message

unsigned mode_of(const std::string& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0xFFFF;
  return st.st_mode & 0777;
}

TEST(SpoolPosixTest, CommittedMessagesSurviveReopen) {
  TempDir tmp;
  const std::string state = tmp.path() + "/state";
  ASSERT_EQ(::mkdir(state.c_str(), 0700), 0);
  const std::string db_path = state + "/tlpmail.db";
  const std::string dir = state + "/spool";

  struct Case {
    std::string sender;
    std::vector<std::string> rcpts;
    std::string body;
    std::size_t chunk;
  };
  const std::vector<Case> cases = {
      {"alice@a.example", {"ops@lists.example"}, make_body(10240, 1), 1000},
      {"", {"ops@lists.example", "ops-request@lists.example"}, make_body(1 << 20, 2), 65536 + 7},
      {"bob@b.example", {"x@lists.example"}, std::string("\0\r\n\xff bytes", 10), 3},
  };
  std::vector<QueueId> ids;
  {
    auto db = open_db(db_path);
    auto spool = open_spool(Env::posix(), dir, *db);
    for (const Case& c : cases) {
      auto id = spool_message(*spool, c.sender, c.rcpts, c.body, c.chunk);
      ASSERT_TRUE(id) << id.error().detail;
      ids.push_back(*id);
    }
  }

  auto db = open_db(db_path);
  auto spool = open_spool(Env::posix(), dir, *db);
  EXPECT_EQ(spool->recovery_report().pending, cases.size());
  auto pending = spool->pending();
  ASSERT_TRUE(pending) << pending.error().message;
  ASSERT_EQ(pending->size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const SpooledMessage& m = (*pending)[i];
    EXPECT_EQ(m.id, ids[i]);
    EXPECT_EQ(m.sender, cases[i].sender);
    EXPECT_EQ(m.recipients, cases[i].rcpts);
    EXPECT_EQ(m.size, cases[i].body.size());
    auto bytes = spool->read_message(m.id);
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(*bytes, cases[i].body) << "message " << i;
    EXPECT_EQ(mode_of(dir + "/msg/" + m.id), 0600u);
  }
  struct ModeCase {
    std::string path;
    unsigned want;
  };
  const ModeCase modes[] = {
      {dir, 0700u},           {dir + "/tmp", 0700u}, {dir + "/msg", 0700u},
      {dir + "/lock", 0600u}, {db_path, 0600u},
  };
  for (const ModeCase& m : modes) EXPECT_EQ(mode_of(m.path), m.want) << m.path;
}

TEST(SpoolPosixTest, LeftoverTempFileRemovedAtOpen) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/spool";
  auto db = open_db(tmp.path() + "/tlpmail.db");
  { auto spool = open_spool(Env::posix(), dir, *db); }
  // A transaction of a process that died: its temp file is all that is left.
  auto f = Env::posix().new_writable_file(dir + "/tmp/0123456789abcdef");
  ASSERT_TRUE(f);
  ASSERT_TRUE((*f)->append("partial"));
  ASSERT_TRUE((*f)->close());
  auto spool = open_spool(Env::posix(), dir, *db);
  EXPECT_EQ(spool->recovery_report().temp_files_removed, 1u);
  auto left = Env::posix().list_dir(dir + "/tmp");
  ASSERT_TRUE(left);
  EXPECT_TRUE(left->empty());
}

TEST(SpoolPosixTest, PoisonedSpoolRefusesUntilReopened) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/spool";
  const std::string db_path = tmp.path() + "/tlpmail.db";
  FaultInjectionEnv env(Env::posix());
  auto db = open_db(db_path);
  auto spool = open_spool(env, dir, *db);
  auto ok = spool_message(*spool, "s@x", {"r@y"}, "before");
  ASSERT_TRUE(ok);

  env.fail_nth(IoOp::sync, 1, EIO);
  auto failed = spool_message(*spool, "s@x", {"r@y"}, "fsync fails");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, SpoolErrorCode::io_error);
  smtp::Reply reply = to_smtp_reply(failed.error());
  EXPECT_EQ(reply.code, 451);
  EXPECT_EQ(reply.enhanced, "4.3.0");
  EXPECT_TRUE(spool->is_poisoned());

  for (int i = 0; i < 3; ++i) {  // the disk works again, the spool still refuses
    auto refused = spool_message(*spool, "s@x", {"r@y"}, "after");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, SpoolErrorCode::poisoned);
    EXPECT_EQ(to_smtp_reply(refused.error()).text,
              "Local error: spool is refusing writes after an I/O failure");
  }

  spool.reset();
  db.reset();
  db = open_db(db_path);
  spool = open_spool(env, dir, *db);
  EXPECT_FALSE(spool->is_poisoned());
  auto again = spool_message(*spool, "s@x", {"r@y"}, "after restart");
  ASSERT_TRUE(again) << again.error().detail;
  auto pending = spool->pending();
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].id, *ok);
  EXPECT_EQ((*pending)[1].id, *again);
}

TEST(SpoolPosixTest, SecondProcessIsLockedOut) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/spool";
  auto db = open_db(tmp.path() + "/tlpmail.db");
  auto spool = open_spool(Env::posix(), dir, *db);
  auto second = Spool::open(Env::posix(), dir, *db);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("is in use by another process"), std::string::npos);
}

}  // namespace
}  // namespace tlpmail::queue
