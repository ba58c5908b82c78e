// Tests of queue::SpaceGuard: the rule as a table (space_needed,
// decide_space), the reserve's life cycle on a MemoryEnv that can fill up
// (made at start, given up when space runs short so that a write that
// failed for space goes through, made again when space is back), the
// spool refusing with disk_full while short, and the reserve's blocks on
// a real filesystem.
#include "queue/space_guard.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>

#include "queue/spool_error.h"
#include "test_support.h"

namespace tlpmail::queue {
namespace {

using namespace testing;  // Machine, kSpoolDir, TempDir, spool_message

constexpr std::uint64_t kMin = 1000;
constexpr std::uint64_t kReserve = 4000;

SpaceSettings small_settings() {
  SpaceSettings s;
  s.min_free = kMin;
  s.reserve = kReserve;
  s.probe_interval = std::chrono::milliseconds(0);  // every question looks
  return s;
}

TEST(SpaceRuleTest, NeededAndAction) {
  const SpaceSettings s = small_settings();
  SpaceSettings off = s;
  off.min_free = 0;
  struct Case {
    const char* name;
    SpaceSettings settings;
    std::uint64_t available;
    bool held;
    std::uint64_t want_needed;
    SpaceAction want_action;
  };
  const Case cases[] = {
      {"held, plenty", s, 100000, true, kMin, SpaceAction::none},
      {"held, exactly min", s, kMin, true, kMin, SpaceAction::none},
      {"held, one byte short", s, kMin - 1, true, kMin, SpaceAction::release},
      {"held, disk full", s, 0, true, kMin, SpaceAction::release},
      {"given up, below min+reserve", s, kMin + kReserve - 1, false, kMin + kReserve,
       SpaceAction::none},
      {"given up, exactly min+reserve", s, kMin + kReserve, false, kMin + kReserve,
       SpaceAction::recreate},
      {"given up, disk full", s, 0, false, kMin + kReserve, SpaceAction::none},
      {"off, a reserve left over", off, 0, true, 0, SpaceAction::release},
      {"off, none", off, 0, false, 0, SpaceAction::none},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(space_needed(c.settings, c.held), c.want_needed) << c.name;
    EXPECT_EQ(decide_space(c.settings, c.available, c.held), c.want_action) << c.name;
  }
}

TEST(SpaceRuleTest, DescribeNamesTheFigures) {
  SpaceShortage s;
  s.available = 3 << 20;
  s.needed = 72 << 20;
  s.reserve_held = false;
  EXPECT_EQ(s.describe(),
            "state filesystem nearly full: 3.0 MiB available, 72.0 MiB needed (min_free_space "
            "and the reserve, given up until space is back)");
  s.reserve_held = true;
  s.needed = 64 << 20;
  EXPECT_EQ(s.describe(),
            "state filesystem nearly full: 3.0 MiB available, 64.0 MiB needed (min_free_space)");
  s.error = "stat /state: Input/output error";
  EXPECT_EQ(s.describe(), "state filesystem: free space unknown (stat /state: Input/output error)");
}

TEST(SpaceRuleTest, LooksLikeNoSpace) {
  EXPECT_TRUE(looks_like_no_space("database: database or disk is full"));
  EXPECT_TRUE(looks_like_no_space("write /state/x: No space left on device"));
  EXPECT_TRUE(looks_like_no_space("write /state/x: Disk quota exceeded"));
  EXPECT_FALSE(looks_like_no_space("database: database is locked"));
  EXPECT_FALSE(looks_like_no_space("timed out"));
}

// A 10,000-byte disk with the state folder on it.
class SpaceGuardTest : public ::testing::Test {
 protected:
  SpaceGuardTest() {
    EXPECT_TRUE(mem_.create_dir("/state"));
    mem_.set_capacity(10000);
  }
  std::uint64_t available() { return *mem_.available_space("/state"); }
  // Writes `n` bytes into a new file; the write's result.
  IoResult<void> write_file(const std::string& path, std::size_t n) {
    auto f = env_.new_writable_file(path);
    if (!f) return Unexpected(f.error());
    auto r = (*f)->append(std::string(n, 'x'));
    (void)(*f)->close();
    return r;
  }

  MemoryEnv mem_;
  FaultInjectionEnv env_{mem_};
};

TEST_F(SpaceGuardTest, LifeCycle) {
  SpaceGuard guard(env_, "/state", small_settings());
  SpaceChange c = guard.start();
  EXPECT_EQ(c.kind, SpaceChange::Kind::recreated) << c.reason;
  EXPECT_TRUE(guard.is_reserve_held());
  std::uint64_t size = 0;
  ASSERT_TRUE(mem_.file_size("/state/space-reserve").has_value());
  size = *mem_.file_size("/state/space-reserve");
  EXPECT_EQ(size, kReserve);
  EXPECT_EQ(available(), 10000 - kReserve);
  EXPECT_FALSE(guard.shortage());

  // Something else takes all but 500 bytes: intake is refused, and a
  // write of delivery's (1,000 bytes) fails for space.
  ASSERT_TRUE(write_file("/state/other", 5500));
  auto s = guard.shortage();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->available, 500u);
  EXPECT_EQ(s->needed, kMin);
  EXPECT_TRUE(s->reserve_held);
  auto failed = write_file("/state/delivery", 1000);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().fault, IoFault::no_space);
  (void)env_.remove_file("/state/delivery");

  // The guard gives the reserve up: the same write goes through, intake
  // stays refused (min_free + reserve needed now).
  c = guard.maintain();
  EXPECT_EQ(c.kind, SpaceChange::Kind::released);
  EXPECT_EQ(c.available, 500u);
  EXPECT_EQ(c.needed, kMin + kReserve);
  EXPECT_FALSE(guard.is_reserve_held());
  EXPECT_EQ(guard.releases(), 1u);
  EXPECT_FALSE(mem_.file_size("/state/space-reserve").has_value());
  EXPECT_TRUE(write_file("/state/delivery", 1000));
  s = guard.shortage();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->needed, kMin + kReserve);
  EXPECT_FALSE(s->reserve_held);
  EXPECT_EQ(guard.maintain().kind, SpaceChange::Kind::none);  // not yet room to make it again

  // Space comes back: the reserve is made again, then intake opens.
  ASSERT_TRUE(env_.remove_file("/state/other"));
  c = guard.maintain();
  EXPECT_EQ(c.kind, SpaceChange::Kind::recreated) << c.reason;
  EXPECT_TRUE(guard.is_reserve_held());
  EXPECT_EQ(available(), 10000 - 1000 - kReserve);
  EXPECT_FALSE(guard.shortage());
  EXPECT_EQ(guard.maintain().kind, SpaceChange::Kind::none);
}

TEST_F(SpaceGuardTest, ReleaseOnDemandAndIntakeWaitsForTheReserve) {
  SpaceGuard guard(env_, "/state", small_settings());
  ASSERT_EQ(guard.start().kind, SpaceChange::Kind::recreated);
  // A write failed for space (a quota, say) while the figures look fine.
  SpaceChange c = guard.release("outbox claim: database or disk is full");
  EXPECT_EQ(c.kind, SpaceChange::Kind::released);
  EXPECT_EQ(c.reason, "outbox claim: database or disk is full");
  EXPECT_EQ(guard.release("again").kind, SpaceChange::Kind::none);  // nothing left to give up
  // 10,000 available >= min + reserve: maintain() makes it again at once.
  EXPECT_EQ(guard.maintain().kind, SpaceChange::Kind::recreated);
}

TEST_F(SpaceGuardTest, StartKeepsAReserveOfTheRightSizeOnly) {
  {
    SpaceGuard guard(env_, "/state", small_settings());
    ASSERT_EQ(guard.start().kind, SpaceChange::Kind::recreated);
  }
  ASSERT_TRUE(write_file("/state/space-reserve.tmp", 100));  // a creation cut short
  {
    SpaceGuard again(env_, "/state", small_settings());
    EXPECT_EQ(again.start().kind, SpaceChange::Kind::none);  // the last run's is kept
    EXPECT_TRUE(again.is_reserve_held());
    EXPECT_FALSE(mem_.file_size("/state/space-reserve.tmp").has_value());
  }
  SpaceSettings bigger = small_settings();
  bigger.reserve = 5000;
  {
    SpaceGuard resized(env_, "/state", bigger);
    EXPECT_EQ(resized.start().kind, SpaceChange::Kind::recreated);
    EXPECT_EQ(*mem_.file_size("/state/space-reserve"), 5000u);
  }
  SpaceSettings off = small_settings();
  off.min_free = 0;
  SpaceGuard disabled(env_, "/state", off);
  EXPECT_EQ(disabled.start().kind, SpaceChange::Kind::none);
  EXPECT_FALSE(disabled.is_reserve_held());
  EXPECT_FALSE(mem_.file_size("/state/space-reserve").has_value());
  EXPECT_FALSE(disabled.shortage());
  ASSERT_TRUE(write_file("/state/other", 10000));  // a full disk: no check when off
  EXPECT_FALSE(disabled.shortage());
}

TEST_F(SpaceGuardTest, CreationThatFailsLeavesNothing) {
  SpaceGuard guard(env_, "/state", small_settings());
  env_.fail_nth(IoOp::write, 1, ENOSPC);  // the disk filled between the look and the write
  SpaceChange c = guard.start();
  EXPECT_EQ(c.kind, SpaceChange::Kind::failed);
  EXPECT_NE(c.reason.find("No space left on device"), std::string::npos) << c.reason;
  EXPECT_FALSE(guard.is_reserve_held());
  EXPECT_FALSE(mem_.file_size("/state/space-reserve.tmp").has_value());
  EXPECT_FALSE(mem_.file_size("/state/space-reserve").has_value());
  // Without a reserve intake needs min_free + reserve: 10,000 is enough.
  EXPECT_FALSE(guard.shortage());
  EXPECT_EQ(guard.maintain().kind, SpaceChange::Kind::recreated);
}

TEST_F(SpaceGuardTest, AFailedProbeRefusesIntake) {
  SpaceGuard guard(env_, "/state", small_settings());
  ASSERT_EQ(guard.start().kind, SpaceChange::Kind::recreated);
  env_.fail_always(IoOp::stat, EIO);
  auto s = guard.shortage();
  ASSERT_TRUE(s);
  EXPECT_NE(s->error.find("Input/output error"), std::string::npos) << s->error;
  EXPECT_EQ(guard.maintain().kind, SpaceChange::Kind::failed);
  EXPECT_TRUE(guard.is_reserve_held());
}

TEST(SpoolSpaceTest, SpoolRefusesWhileShort) {
  Machine m;
  m.mem.set_capacity(1 << 20);
  SpaceSettings s;
  s.min_free = 100000;
  s.reserve = 50000;
  s.probe_interval = std::chrono::milliseconds(0);
  SpaceGuard guard(m.env, "/state", s);
  ASSERT_EQ(guard.start().kind, SpaceChange::Kind::recreated);
  m.spool->set_space_guard(&guard);
  auto ok = spool_message(*m.spool, "a@a.example", {"ops@lists.example"}, make_body(2000));
  ASSERT_TRUE(ok) << ok.error().detail;

  // A transaction begun with room, whose commit comes when the disk is
  // nearly full: no 250, nothing kept.
  auto tx = m.spool->begin();
  ASSERT_TRUE(tx);
  tx->add_recipient("ops@lists.example");
  ASSERT_TRUE(tx->write(make_body(1000)));
  const std::uint64_t left = *m.mem.available_space("/state");
  auto filler = m.mem.new_writable_file("/state/filler");
  ASSERT_TRUE(filler);
  ASSERT_TRUE((*filler)->append(std::string(left - 50000, 'f')));
  auto committed = tx->commit();
  ASSERT_FALSE(committed);
  EXPECT_EQ(committed.error().code, SpoolErrorCode::disk_full);
  EXPECT_NE(committed.error().detail.find("state filesystem nearly full: "), std::string::npos)
      << committed.error().detail;
  EXPECT_EQ(to_smtp_reply(committed.error()).to_string(), "452 4.3.1 Insufficient system storage");
  EXPECT_EQ(m.names("tmp"), std::vector<std::string>{});
  EXPECT_EQ(m.rows(), 1);

  auto begun = m.spool->begin();
  ASSERT_FALSE(begun);
  EXPECT_EQ(begun.error().code, SpoolErrorCode::disk_full);
  EXPECT_FALSE(m.spool->is_poisoned());

  // Space back (and the reserve made again): the spool takes mail again.
  (void)(*filler)->close();
  ASSERT_TRUE(m.mem.remove_file("/state/filler"));
  EXPECT_EQ(guard.maintain().kind, SpaceChange::Kind::none);  // never given up
  auto again = spool_message(*m.spool, "a@a.example", {"ops@lists.example"}, make_body(2000, 2));
  ASSERT_TRUE(again) << again.error().detail;
  m.spool->set_space_guard(nullptr);
}

// On a real filesystem the reserve's blocks are allocated (fallocate or
// zeros), not a sparse file.
TEST(SpaceGuardPosixTest, ReserveBlocksAreAllocated) {
  TempDir tmp;
  SpaceSettings s;
  s.min_free = 1;
  s.reserve = std::uint64_t{2} << 20;
  SpaceGuard guard(Env::posix(), tmp.path(), s);
  SpaceChange c = guard.start();
  if (c.kind != SpaceChange::Kind::recreated) GTEST_SKIP() << "no 2 MiB free here: " << c.reason;
  struct stat st {};
  ASSERT_EQ(::stat(guard.reserve_path().c_str(), &st), 0);
  EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), s.reserve);
  EXPECT_GE(static_cast<std::uint64_t>(st.st_blocks) * 512, s.reserve);
  EXPECT_EQ(guard.release("test").kind, SpaceChange::Kind::released);
  EXPECT_NE(::stat(guard.reserve_path().c_str(), &st), 0);
}

}  // namespace
}  // namespace tlpmail::queue
