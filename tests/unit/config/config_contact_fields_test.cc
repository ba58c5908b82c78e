// The directory's contact fields (team, phone, emergency_phone, timezone,
// business_hours), its global directory_review_interval, and the list keys
// comcheck_interval, directory_review_interval and bounce_threshold: read
// when right, FILE:LINE when wrong. Durations as a table.
#include <gtest/gtest.h>

#include <cstdlib>

#include "config/duration.h"
#include "config_fixture.h"

namespace tlpmail::config::testing {
namespace {

TEST_F(ConfigTest, ContactFieldsAreRead) {
  write("config/directory.toml", with_dave(R"(team = "CSIRT-D"
phone = "+49 30 1234 5678 ext 12"
emergency_phone = "+49 (0)170 555-0199"
timezone = "Europe/Berlin"
business_hours = "Mo-Fr 08:00-17:00 CET"
)"));
  const auto* p = load_person("dave@csirt-d.example");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->team, "CSIRT-D");
  EXPECT_EQ(p->phone, "+49 30 1234 5678 ext 12");
  EXPECT_EQ(p->emergency_phone, "+49 (0)170 555-0199");
  EXPECT_EQ(p->timezone, "Europe/Berlin");
  EXPECT_EQ(p->business_hours, "Mo-Fr 08:00-17:00 CET");
  EXPECT_TRUE(p->extra.empty());
}

TEST_F(ConfigTest, ContactFieldProblemsNameTheirLine) {
  struct Case {
    std::string keys;
    Lines want;
  };
  const std::vector<Case> cases = {
      {"timezone = \"Europe/Atlantis\"\n",
       {"config/directory.toml:27: unknown timezone 'Europe/Atlantis' (expected an IANA name "
        "such as 'Europe/Vienna' or 'UTC')"}},
      {"timezone = \"../../etc/passwd\"\n",
       {"config/directory.toml:27: unknown timezone '../../etc/passwd' (expected an IANA name "
        "such as 'Europe/Vienna' or 'UTC')"}},
      {"timezone = \"zone.tab\"\n",  // a file of the tz database, not a zone
       {"config/directory.toml:27: unknown timezone 'zone.tab' (expected an IANA name such as "
        "'Europe/Vienna' or 'UTC')"}},
      {"phone = \"call me\"\n",
       {"config/directory.toml:27: invalid phone 'call me': a phone number holds digits, spaces "
        "and + ( ) - . / only (and an extension such as 'ext 12')"}},
      {"emergency_phone = \"+1 23\"\n",
       {"config/directory.toml:27: invalid emergency_phone '+1 23': a phone number has 5 to 20 "
        "digits"}},
      {"phone = \"030 1234 5678\"\n",
       {"config/directory.toml:27: warning: phone '030 1234 5678' is not in international form "
        "(+CC ...): members abroad cannot dial it as written"}},
      {"team = \"\"\n", {"config/directory.toml:27: team must not be empty"}},
      {"team = \"" + std::string(65, 'T') + "\"\n",
       {"config/directory.toml:27: team is longer than 64 characters: use the team's short name"}},
      {"business_hours = \"9-5\\nweekends too\"\n",
       {"config/directory.toml:27: 'business_hours' must not contain control characters (line "
        "breaks, tabs)"}},
      {"timezon = \"UTC\"\n",
       {"config/directory.toml:27: unknown key 'timezon' (did you mean 'timezone'?)"}},
  };
  for (const Case& c : cases) {
    write("config/directory.toml", with_dave(c.keys));
    EXPECT_EQ(check(), c.want) << c.keys;
  }
}

TEST_F(ConfigTest, TimezoneWithoutDatabaseIsAWarning) {
  const char* old = std::getenv("TZDIR");
  const std::string saved = old ? old : "";
  ::setenv("TZDIR", (root_.path() + "/no-such-tzdir").c_str(), 1);
  write("config/directory.toml", with_dave("timezone = \"Europe/Vienna\"\n"));
  const Lines got = check();
  if (old) {
    ::setenv("TZDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TZDIR");
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].find("config/directory.toml:27: warning: cannot check timezone 'Europe/Vienna'"),
            std::string::npos)
      << got[0];
}

TEST_F(ConfigTest, ReviewIntervalsAndBounceThreshold) {
  write("config/directory.toml", "directory_review_interval = \"120d\"\n" + std::string(kDirectory));
  write("config/lists.d/ops.toml", std::string(kOpsList) + "comcheck_interval = \"90d\"\n"
                                                           "bounce_threshold = 5\n");
  write("config/lists.d/red.toml", R"(address = "red@lists.example.org"
tlp_ceiling = "RED"
members = ["alice@csirt-a.example"]
admins = ["alice@csirt-a.example"]
directory_review_interval = "1w"
)");
  auto c = load_ok();
  ASSERT_NE(c, nullptr);
  const auto* ops = c->directory.find_list("csirt-ops@lists.example.org");
  const auto* red = c->directory.find_list("red@lists.example.org");
  ASSERT_TRUE(ops && red);
  EXPECT_EQ(ops->comcheck_interval, 90 * 86400);
  EXPECT_EQ(ops->directory_review_interval, 120 * 86400);  // the directory's
  EXPECT_EQ(ops->bounce_threshold, 5);
  EXPECT_EQ(red->comcheck_interval, 0);
  EXPECT_EQ(red->directory_review_interval, 7 * 86400);  // its own
  EXPECT_EQ(red->bounce_threshold, 3);
}

TEST_F(ConfigTest, IntervalProblemsNameTheirLine) {
  write("config/lists.d/ops.toml", std::string(kOpsList) + "comcheck_interval = \"90 days\"\n"
                                                           "directory_review_interval = \"2h\"\n"
                                                           "bounce_threshold = 0\n");
  write("config/directory.toml", "directory_review_interval = 120\n" + std::string(kDirectory));
  EXPECT_EQ(check(),
            (Lines{"config/directory.toml:1: wrong type for 'directory_review_interval': expected "
                   "a string, got an integer",
                   "config/lists.d/ops.toml:7: invalid comcheck_interval '90 days' (expected a "
                   "duration such as '90d', '12h' or '1d12h')",
                   "config/lists.d/ops.toml:8: directory_review_interval must be at least 1d, got "
                   "'2h'",
                   "config/lists.d/ops.toml:9: bounce_threshold must be between 1 and 100, got 0"}));
}

TEST(Duration, Table) {
  struct Case {
    std::string text;
    std::optional<std::int64_t> want;
  };
  const std::vector<Case> cases = {
      {"90d", 90 * 86400}, {"48h", 48 * 3600}, {"30m", 1800}, {"45s", 45},
      {"2w", 14 * 86400},  {"1d12h", 36 * 3600}, {"0s", 0},   {"", std::nullopt},
      {"90", std::nullopt}, {"d", std::nullopt}, {"1y", std::nullopt}, {"-1d", std::nullopt},
      {"1 d", std::nullopt}, {"1D", std::nullopt}, {"99999999999d", std::nullopt},
  };
  for (const Case& c : cases) EXPECT_EQ(parse_duration(c.text), c.want) << c.text;
  EXPECT_EQ(format_duration(90 * 86400), "90d");
  EXPECT_EQ(format_duration(5400), "1h30m");
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(86400 + 1), "1d1s");
}

}  // namespace
}  // namespace tlpmail::config::testing
