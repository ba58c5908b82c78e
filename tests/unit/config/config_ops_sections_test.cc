// tlpmail.toml's operations sections: [metrics] (where /metrics is served)
// and [retention] (days each kind of record is kept), defaults and errors.
#include "config_fixture.h"

namespace tlpmail::config::testing {
namespace {

TEST_F(ConfigTest, MetricsAndRetentionDefaults) {
  auto c = load_ok();
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->metrics.listen.has_value());
  EXPECT_EQ(c->retention.audit_days, 400u);
  EXPECT_EQ(c->retention.delivered_days, 90u);
  EXPECT_EQ(c->retention.bounce_days, 90u);
  EXPECT_EQ(c->retention.comcheck_days, 400u);
  EXPECT_EQ(c->retention.replay_margin_days, 1u);
}

TEST_F(ConfigTest, MetricsAndRetentionSet) {
  write("config/tlpmail.toml", R"([server]
hostname = "lists.example.org"
[metrics]
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
  EXPECT_EQ(c->retention.audit_days, 730u);
  EXPECT_EQ(c->retention.delivered_days, 0u);
  EXPECT_EQ(c->retention.bounce_days, 30u);
  EXPECT_EQ(c->retention.comcheck_days, 365u);
  EXPECT_EQ(c->retention.replay_margin_days, 2u);
}

TEST_F(ConfigTest, MetricsAndRetentionErrors) {
  write("config/tlpmail.toml", R"([server]
hostname = "lists.example.org"
[metrics]
listen = "127.0.0.1"
path = "/m"
[retention]
audit_days = -1
bounce_days = "90"
keep_forever = true
)");
  EXPECT_EQ(check(), (Lines{
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
