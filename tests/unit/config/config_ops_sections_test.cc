// tlpmail.toml's operations sections: [metrics] (where /metrics is served)
// and [retention] (days each kind of record is kept), defaults and errors.
#include <array>

#include "config_fixture.h"

namespace tlpmail::config::testing {
namespace {

// [retention]'s five periods in the order of its keys: audit, delivered,
// bounce, comcheck, replay margin (days).
using Days = std::array<unsigned, 5>;
Days retention_days(const Config& c) {
  return {c.retention.audit_days, c.retention.delivered_days, c.retention.bounce_days,
          c.retention.comcheck_days, c.retention.replay_margin_days};
}

TEST_F(ConfigTest, MetricsAndRetentionDefaults) {
  auto c = load_ok();
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->metrics.listen.has_value());
  EXPECT_EQ(retention_days(*c), (Days{400, 90, 90, 400, 1}));
}

TEST_F(ConfigTest, MetricsAndRetentionSet) {
  write_main(R"([metrics]
listen = "127.0.0.1:9465"
[retention]
audit_days = 730
delivered_days = 0
bounce_days = 30
comcheck_days = 365
replay_margin_days = 2
)");
  auto c = load_ok();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->metrics.listen.has_value());
  EXPECT_EQ(c->metrics.listen->host, "127.0.0.1");
  EXPECT_EQ(c->metrics.listen->port, 9465);
  EXPECT_EQ(retention_days(*c), (Days{730, 0, 30, 365, 2}));
}

TEST_F(ConfigTest, MetricsAndRetentionErrors) {
  EXPECT_EQ(check_main(R"([metrics]
listen = "127.0.0.1"
path = "/m"
[retention]
audit_days = -1
bounce_days = "90"
keep_forever = true
)"),
            (Lines{
                "config/tlpmail.toml:4: invalid metrics listen address '127.0.0.1': "
                "expected host:port",
                "config/tlpmail.toml:5: unknown key 'path' in [metrics]",
                "config/tlpmail.toml:7: audit_days must be between 0 and 36500, got -1",
                "config/tlpmail.toml:8: wrong type for 'bounce_days': expected an integer, got a "
                "string",
                "config/tlpmail.toml:9: unknown key 'keep_forever' in [retention]",
            }));
}

}  // namespace
}  // namespace tlpmail::config::testing
