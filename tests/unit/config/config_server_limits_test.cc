// [server] keys of the intake's limits (docs/configuration.md): the memory
// budget max_message_memory and its check against max_message_size, the
// per-client connection limit, the session time limit and the state
// filesystem's min_free_space, the flow control (in_flow_backlog,
// in_flow_delay_ms): defaults,
// values, ranges and the exact FILE:LINE messages.
#include <gtest/gtest.h>

#include <string>

#include "config_fixture.h"

namespace tlpmail::config::testing {
namespace {

TEST_F(ConfigTest, IntakeLimitDefaults) {
  auto c = load_ok();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->server.max_message_memory, 268435456u);
  EXPECT_EQ(c->server.max_connections_per_client, 50u);
  EXPECT_EQ(c->server.max_session_time, 1800u);
  EXPECT_EQ(c->server.min_free_space, 67108864u);
  EXPECT_EQ(c->server.in_flow_backlog, 5u);
  EXPECT_EQ(c->server.in_flow_delay_ms, 1000u);
}

TEST_F(ConfigTest, IntakeLimitValues) {
  write_main(R"(max_message_size = 1048576
max_message_memory = 1048576
max_connections_per_client = 3
max_session_time = 60
min_free_space = 0
in_flow_backlog = 30
in_flow_delay_ms = 0
)");
  auto c = load_ok();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->server.max_message_memory, 1048576u);  // equal to max_message_size is enough
  EXPECT_EQ(c->server.max_connections_per_client, 3u);
  EXPECT_EQ(c->server.max_session_time, 60u);
  EXPECT_EQ(c->server.min_free_space, 0u);  // the space guard off
  EXPECT_EQ(c->server.in_flow_backlog, 30u);
  EXPECT_EQ(c->server.in_flow_delay_ms, 0u);  // flow control off
}

TEST_F(ConfigTest, UnsetMemoryBudgetGrowsWithTheMessageSize) {
  write_main(R"(max_message_size = 536870912
)");
  auto c = load_ok();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->server.max_message_memory, 536870912u);
}

TEST_F(ConfigTest, MemoryBudgetBelowTheMessageSizeIsAnError) {
  EXPECT_EQ(check_main(R"(max_message_memory = 1000000
max_message_size = 26214400
)"),
            (Lines{
                "config/tlpmail.toml:3: max_message_memory (1000000) must be at least "
                "max_message_size (26214400)",
            }));
}

TEST_F(ConfigTest, IntakeLimitRanges) {
  struct Case {
    std::string line;
    std::string want;
  };
  const Case cases[] = {
      {"max_message_memory = 0\n",
       "config/tlpmail.toml:3: max_message_memory must be between 1 and 1099511627776, got 0"},
      {"max_message_memory = \"256M\"\n",
       "config/tlpmail.toml:3: wrong type for 'max_message_memory': expected an integer, got a "
       "string"},
      {"max_connections_per_client = 0\n",
       "config/tlpmail.toml:3: max_connections_per_client must be between 1 and 10000, got 0"},
      {"max_session_time = 0\n",
       "config/tlpmail.toml:3: max_session_time must be between 1 and 86400, got 0"},
      {"max_session_time = \"30m\"\n",
       "config/tlpmail.toml:3: wrong type for 'max_session_time': expected an integer, got a "
       "string"},
      {"min_free_space = -1\n",
       "config/tlpmail.toml:3: min_free_space must be between 0 and 1099511627776, got -1"},
      {"in_flow_backlog = 0\n",
       "config/tlpmail.toml:3: in_flow_backlog must be between 1 and 86400, got 0"},
      {"in_flow_delay_ms = 60001\n",
       "config/tlpmail.toml:3: in_flow_delay_ms must be between 0 and 60000, got 60001"},
      {"in_flow_dealy_ms = 1000\n",
       "config/tlpmail.toml:3: unknown key 'in_flow_dealy_ms' in [server] (did you mean "
       "'in_flow_delay_ms'?)"},
      {"max_sesion_time = 60\n",
       "config/tlpmail.toml:3: unknown key 'max_sesion_time' in [server] (did you mean "
       "'max_session_time'?)"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(check_main(c.line), (Lines{c.want})) << c.line;
  }
}

}  // namespace
}  // namespace tlpmail::config::testing
