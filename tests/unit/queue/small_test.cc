// Tests of the small pieces of lib/queue: FaultInjectionEnv's faults and
// power cut, queue id format and ordering, the SpoolError -> SMTP reply
// table, and MessageState names.
#include <gtest/gtest.h>

#include <cerrno>
#include <set>

#include "queue/fault_injection_env.h"
#include "queue/memory_env.h"
#include "queue/queue_id.h"
#include "queue/spool.h"
#include "queue/spool_error.h"

namespace tlpmail::queue {
namespace {

TEST(FaultInjectionEnvTest, FailNthHitsOnlyThatCall) {
  MemoryEnv mem;
  FaultInjectionEnv env(mem);
  env.fail_nth(IoOp::write, 2, EIO);
  auto f = env.new_writable_file("/f");
  ASSERT_TRUE(f);
  EXPECT_TRUE((*f)->append("1"));
  auto second = (*f)->append("2");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().op, IoOp::write);
  EXPECT_EQ(second.error().sys_errno, EIO);
  EXPECT_TRUE((*f)->append("3"));
  ASSERT_TRUE((*f)->close());
  std::string got;
  ASSERT_TRUE(mem.read_all("/f", &got));
  EXPECT_EQ(got, "13") << "a failed append passes nothing through";
}

TEST(FaultInjectionEnvTest, FailAlwaysUntilReset) {
  MemoryEnv mem;
  FaultInjectionEnv env(mem);
  env.fail_always(IoOp::create, ENOSPC);
  for (int i = 0; i < 3; ++i) {
    auto f = env.new_writable_file("/f" + std::to_string(i));
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().fault, IoFault::no_space);
  }
  env.reset();
  EXPECT_TRUE(env.new_writable_file("/g"));
}

TEST(FaultInjectionEnvTest, PowerCutAfterNChangingCalls) {
  MemoryEnv mem;
  FaultInjectionEnv env(mem);
  env.cut_power_after(2);
  EXPECT_TRUE(env.list_dir("/"));  // not a changing call: does not count
  EXPECT_TRUE(env.create_dir("/a"));
  EXPECT_TRUE(env.create_dir("/b"));
  EXPECT_EQ(env.changing_calls(), 2);
  auto c = env.create_dir("/c");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().sys_errno, EIO);
  EXPECT_FALSE(env.list_dir("/")) << "after the cut every call fails";
  env.reset();
  EXPECT_EQ(env.changing_calls(), 0);
  EXPECT_TRUE(env.create_dir("/c"));
}

TEST(QueueIdTest, FormatAndValidation) {
  struct Case {
    const char* in;
    bool want;
  };
  const Case cases[] = {
      {"0123456789abcdef", true},
      {"0123456789ABCDEF", false},
      {"0123456789abcde", false},
      {"0123456789abcdef0", false},
      {"../../etc/passwd", false},
      {"0123456789abcdeg", false},
      {"", false},
  };
  for (const Case& c : cases) EXPECT_EQ(is_valid_queue_id(c.in), c.want) << c.in;
  QueueIdGenerator gen;
  EXPECT_TRUE(is_valid_queue_id(gen.next()));
}

TEST(QueueIdTest, StrictlyIncreasingEvenInOneMillisecondOrBackwards) {
  QueueIdGenerator gen;
  auto t = std::chrono::system_clock::now();
  std::set<QueueId> seen;
  QueueId last;
  for (int i = 0; i < 1000; ++i) {
    QueueId id = gen.next(i < 500 ? t : t - std::chrono::hours(1));  // clock steps back halfway
    EXPECT_GT(id, last);
    EXPECT_TRUE(seen.insert(id).second);
    last = id;
  }
}

TEST(QueueIdTest, ObserveRaisesTheFloor) {
  QueueIdGenerator gen;
  gen.observe("fffff00000000000");
  EXPECT_GT(gen.next(), "fffff00000000000");
  gen.observe("not-an-id");  // ignored
  EXPECT_TRUE(is_valid_queue_id(gen.next()));
}

TEST(QueueIdTest, SortsByTime) {
  QueueIdGenerator a, b;
  auto t = std::chrono::system_clock::now();
  QueueId early = a.next(t);
  QueueId late = b.next(t + std::chrono::milliseconds(1));
  EXPECT_LT(early, late) << "ids of different generators still sort by millisecond";
}

TEST(SpoolErrorTest, SmtpReplyTable) {
  struct Case {
    SpoolErrorCode code;
    int want_code;
    const char* want_enhanced;
    const char* want_text;
  };
  const Case cases[] = {
      {SpoolErrorCode::poisoned, 451, "4.3.0",
       "Local error: spool is refusing writes after an I/O failure"},
      {SpoolErrorCode::disk_full, 452, "4.3.1", "Insufficient system storage"},
      {SpoolErrorCode::io_error, 451, "4.3.0", "Local error: spool write failed"},
      {SpoolErrorCode::database, 451, "4.3.0", "Local error: queue database unavailable"},
      {SpoolErrorCode::unavailable, 451, "4.3.0", "Local error: spool unavailable"},
  };
  for (const Case& c : cases) {
    smtp::Reply got = to_smtp_reply({c.code, "secret detail /var/lib/x"});
    EXPECT_EQ(got.code, c.want_code) << to_string(c.code);
    EXPECT_EQ(got.enhanced, c.want_enhanced) << to_string(c.code);
    EXPECT_EQ(got.text, c.want_text) << to_string(c.code);
    EXPECT_EQ(got.text.find("secret"), std::string::npos) << "the detail never reaches the client";
  }
  Error e = to_error({SpoolErrorCode::disk_full, "write /s/tmp/x: No space left on device"});
  EXPECT_EQ(e.kind, ErrorClass::temporary);
  EXPECT_EQ(e.message, "spool disk_full: write /s/tmp/x: No space left on device");
}

TEST(MessageStateTest, NamesRoundTrip) {
  for (MessageState s : {MessageState::received, MessageState::done, MessageState::corrupt}) {
    auto back = parse_message_state(to_string(s));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, s);
  }
  EXPECT_FALSE(parse_message_state("Received").has_value());
}

}  // namespace
}  // namespace tlpmail::queue
