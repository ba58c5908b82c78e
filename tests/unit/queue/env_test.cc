// Tests of the Env implementations: the same behaviour table runs on the
// real POSIX Env (in a temp folder) and on MemoryEnv; then MemoryEnv's
// crash model (what survives without sync / sync_dir) and the POSIX
// specifics (file modes, errno mapping, flock).
#include "queue/env.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "queue/memory_env.h"
#include "test_support.h"

namespace tlpmail::queue {
namespace {

using namespace testing;  // TempDir

std::string read_all(Env& env, const std::string& path) {
  auto f = env.new_sequential_file(path);
  if (!f) return "<" + f.error().message + ">";
  std::string out;
  char buf[7];  // small on purpose: several reads
  for (;;) {
    auto n = (*f)->read(buf, sizeof buf);
    if (!n) return "<" + n.error().message + ">";
    if (*n == 0) return out;
    out.append(buf, *n);
  }
}

std::vector<std::string> sorted_list(Env& env, const std::string& dir) {
  auto names = env.list_dir(dir);
  if (!names) return {"<" + names.error().message + ">"};
  std::sort(names->begin(), names->end());
  return *names;
}

// Runs the shared behaviour checks on env with root folder `root`.
void check_env_behaviour(Env& env, const std::string& root) {
  const std::string d = root + "/d";
  auto made = env.create_dir(d);
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_TRUE(*made);
  auto again = env.create_dir(d);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again) << "second create_dir must report 'already there'";

  auto f = env.new_writable_file(d + "/a");
  ASSERT_TRUE(f) << f.error().message;
  const std::string big(200 * 1024, 'x');  // larger than the POSIX buffer
  ASSERT_TRUE((*f)->append("hello "));
  ASSERT_TRUE((*f)->append(big));
  ASSERT_TRUE((*f)->append("world"));
  ASSERT_TRUE((*f)->sync());
  ASSERT_TRUE((*f)->close());
  EXPECT_EQ(read_all(env, d + "/a"), "hello " + big + "world");
  auto size = env.file_size(d + "/a");
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, 6 + big.size() + 5);

  auto dup = env.new_writable_file(d + "/a");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().fault, IoFault::already_exists);
  EXPECT_EQ(dup.error().op, IoOp::create);

  ASSERT_TRUE(env.rename_file(d + "/a", d + "/b"));
  EXPECT_EQ(sorted_list(env, d), (std::vector<std::string>{"b"}));
  ASSERT_TRUE(env.sync_dir(d));

  struct Missing {
    const char* name;
    IoError got;
    IoOp want_op;
  };
  auto err_of = [](auto r) { return r ? IoError{} : r.error(); };
  const Missing missing[] = {
      {"read", err_of(env.new_sequential_file(d + "/nope")), IoOp::read},
      {"rename", err_of(env.rename_file(d + "/nope", d + "/x")), IoOp::rename},
      {"remove", err_of(env.remove_file(d + "/nope")), IoOp::remove},
      {"stat", err_of(env.file_size(d + "/nope")), IoOp::stat},
      {"list", err_of(env.list_dir(d + "/nope")), IoOp::list},
      {"create in missing folder", err_of(env.new_writable_file(d + "/nope/f")), IoOp::create},
      {"mkdir in missing folder", err_of(env.create_dir(d + "/nope/g")), IoOp::mkdir},
  };
  for (const auto& m : missing) {
    EXPECT_EQ(m.got.fault, IoFault::not_found) << m.name << ": " << m.got.message;
    EXPECT_EQ(m.got.op, m.want_op) << m.name;
    EXPECT_EQ(m.got.sys_errno, ENOENT) << m.name;
  }

  ASSERT_TRUE(env.remove_file(d + "/b"));
  EXPECT_TRUE(sorted_list(env, d).empty());

  {
    auto lock = env.lock_file(d + "/lock");
    ASSERT_TRUE(lock) << lock.error().message;
    auto second = env.lock_file(d + "/lock");
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().fault, IoFault::busy);
  }
  auto after = env.lock_file(d + "/lock");
  EXPECT_TRUE(after) << "lock must be free once its holder is gone";
}

TEST(EnvTest, PosixBehaviour) {
  TempDir dir;
  check_env_behaviour(Env::posix(), dir.path());
}

TEST(EnvTest, MemoryBehaviour) {
  MemoryEnv env;
  ASSERT_TRUE(env.create_dir("/r"));
  check_env_behaviour(env, "/r");
}

TEST(EnvTest, PosixModes) {
  TempDir dir;
  Env& env = Env::posix();
  const std::string d = dir.path() + "/spool";
  ASSERT_TRUE(env.create_dir(d));
  auto f = env.new_writable_file(d + "/m");
  ASSERT_TRUE(f);
  ASSERT_TRUE((*f)->close());
  struct stat st {};
  ASSERT_EQ(::stat(d.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((d + "/m").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // A non-folder in the way is an error, not "already there".
  auto clash = env.create_dir(d + "/m");
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().op, IoOp::mkdir);
}

TEST(EnvTest, ErrnoMapping) {
  struct Case {
    int err;
    IoFault want;
  };
  const Case cases[] = {
      {ENOSPC, IoFault::no_space},       {EDQUOT, IoFault::no_space},  {ENOENT, IoFault::not_found},
      {EEXIST, IoFault::already_exists}, {EWOULDBLOCK, IoFault::busy}, {EIO, IoFault::other},
      {EMFILE, IoFault::other},
  };
  for (const Case& c : cases) {
    IoError got = io_error_from_errno(IoOp::write, "/p", c.err);
    EXPECT_EQ(got.fault, c.want) << c.err;
    EXPECT_EQ(got.sys_errno, c.err);
  }
  EXPECT_EQ(io_error_from_errno(IoOp::sync, "/s/f", EIO).message, "fsync /s/f: Input/output error");
  EXPECT_EQ(io_error_from_errno(IoOp::write, "/s/f", ENOSPC).message,
            "write /s/f: No space left on device");
}

// What survives MemoryEnv::crash(), case by case.
TEST(MemoryEnvTest, CrashKeepsOnlyWhatWasSynced) {
  struct Case {
    const char* name;
    bool sync_file;
    bool sync_dir;
    bool want_exists;
    const char* want_content;
  };
  const Case cases[] = {
      {"nothing synced", false, false, false, ""},
      {"file synced, folder not", true, false, false, ""},
      {"folder synced, file not", false, true, true, ""},
      {"both synced", true, true, true, "data"},
  };
  for (const Case& c : cases) {
    MemoryEnv env;
    ASSERT_TRUE(env.create_dir("/d"));
    ASSERT_TRUE(env.sync_dir("/"));
    auto f = env.new_writable_file("/d/f");
    ASSERT_TRUE(f);
    ASSERT_TRUE((*f)->append("data"));
    if (c.sync_file) {
      ASSERT_TRUE((*f)->sync());
    }
    if (c.sync_dir) {
      ASSERT_TRUE(env.sync_dir("/d"));
    }
    ASSERT_TRUE((*f)->append(" more, never synced"));
    env.crash();
    std::string got;
    EXPECT_EQ(env.read_all("/d/f", &got), c.want_exists) << c.name;
    EXPECT_EQ(got, c.want_content) << c.name;
    // Handles from before the crash are dead.
    auto late = (*f)->append("x");
    ASSERT_FALSE(late) << c.name;
    EXPECT_EQ(late.error().sys_errno, EIO) << c.name;
  }
}

TEST(MemoryEnvTest, CrashUndoesUnsyncedRenameAndRemove) {
  MemoryEnv env;
  ASSERT_TRUE(env.create_dir("/s"));
  ASSERT_TRUE(env.create_dir("/s/tmp"));
  ASSERT_TRUE(env.create_dir("/s/msg"));
  ASSERT_TRUE(env.sync_dir("/"));
  ASSERT_TRUE(env.sync_dir("/s"));
  auto f = env.new_writable_file("/s/tmp/a");
  ASSERT_TRUE(f);
  ASSERT_TRUE((*f)->append("A"));
  ASSERT_TRUE((*f)->sync());
  ASSERT_TRUE(env.sync_dir("/s/tmp"));
  ASSERT_TRUE(env.rename_file("/s/tmp/a", "/s/msg/a"));

  // Rename without fsync of msg/: after a crash the file is back in tmp/.
  env.crash();
  EXPECT_EQ(sorted_list(env, "/s/tmp"), (std::vector<std::string>{"a"}));
  EXPECT_TRUE(sorted_list(env, "/s/msg").empty());

  // Rename with fsync of msg/ only: the new name is durable (and, in this
  // strict model, the old one too until tmp/ is synced).
  ASSERT_TRUE(env.rename_file("/s/tmp/a", "/s/msg/a"));
  ASSERT_TRUE(env.sync_dir("/s/msg"));
  env.crash();
  EXPECT_EQ(sorted_list(env, "/s/msg"), (std::vector<std::string>{"a"}));
  EXPECT_EQ(sorted_list(env, "/s/tmp"), (std::vector<std::string>{"a"}));

  // Remove without fsync of the folder comes back.
  ASSERT_TRUE(env.remove_file("/s/msg/a"));
  env.crash();
  std::string got;
  EXPECT_TRUE(env.read_all("/s/msg/a", &got));
  EXPECT_EQ(got, "A");
  ASSERT_TRUE(env.remove_file("/s/msg/a"));
  ASSERT_TRUE(env.sync_dir("/s/msg"));
  env.crash();
  EXPECT_FALSE(env.read_all("/s/msg/a", &got));
}

TEST(MemoryEnvTest, CrashDropsFolderWhoseEntryWasNotSynced) {
  MemoryEnv env;
  ASSERT_TRUE(env.create_dir("/s"));
  ASSERT_TRUE(env.create_dir("/s/msg"));
  ASSERT_TRUE(env.sync_dir("/s"));  // msg/ is durable inside /s, but /s is not inside /
  auto f = env.new_writable_file("/s/msg/a");
  ASSERT_TRUE(f);
  ASSERT_TRUE((*f)->sync());
  ASSERT_TRUE(env.sync_dir("/s/msg"));
  env.crash();
  EXPECT_FALSE(env.list_dir("/s"));
  EXPECT_TRUE(sorted_list(env, "/").empty());
}

TEST(MemoryEnvTest, CrashReleasesLocks) {
  MemoryEnv env;
  auto lock = env.lock_file("/lock");
  ASSERT_TRUE(lock);
  env.crash();
  auto again = env.lock_file("/lock");
  EXPECT_TRUE(again) << "a crashed process holds no locks";
  lock->reset();  // the old holder's destructor must not free the new lock
  auto third = env.lock_file("/lock");
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().fault, IoFault::busy);
}

}  // namespace
}  // namespace tlpmail::queue
