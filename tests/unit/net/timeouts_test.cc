// Tests of the intake time limits: RFC 5321 defaults, the test override
// and the parsing of --timeouts-ms.
#include "net/timeouts.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace tlpmail::net {
namespace {

using namespace std::chrono_literals;

TEST(Timeouts, DefaultsAreRfc5321ServerTimeouts) {
  Timeouts t;
  EXPECT_EQ(t.command, 5min);
  EXPECT_EQ(t.data_block, 3min);
  EXPECT_EQ(t.data_termination, 10min);
  EXPECT_EQ(t.shutdown_grace, 10s);
}

TEST(Timeouts, ReadTimeoutFollowsPhase) {
  Timeouts t;
  EXPECT_EQ(read_timeout(t, false), 5min);
  EXPECT_EQ(read_timeout(t, true), 3min);
}

TEST(Timeouts, TestTimeoutsShortenReadsButNotTheCommit) {
  Timeouts got = test_timeouts(1500ms);
  EXPECT_EQ(got.command, 1500ms);
  EXPECT_EQ(got.data_block, 1500ms);
  EXPECT_EQ(got.data_termination, 10min);
  EXPECT_EQ(got.shutdown_grace, 1500ms);
  EXPECT_EQ(test_timeouts(60s).shutdown_grace, 10s);  // never longer than the default
}

TEST(ParseMilliseconds, Table) {
  struct Case {
    std::string input;
    std::optional<std::chrono::milliseconds> want;
  } cases[] = {
      {"1", 1ms},
      {"250", 250ms},
      {"86400000", 86400000ms},
      {"000500", 500ms},
      {"0", std::nullopt},
      {"", std::nullopt},
      {"-5", std::nullopt},
      {"+5", std::nullopt},
      {"10s", std::nullopt},
      {"1e3", std::nullopt},
      {" 5", std::nullopt},
      {"86400001", std::nullopt},
      {"99999999999999999999", std::nullopt},
  };
  for (const auto& c : cases) {
    auto got = parse_milliseconds(c.input);
    EXPECT_EQ(got, c.want) << "input '" << c.input << "'";
  }
}

}  // namespace
}  // namespace tlpmail::net
