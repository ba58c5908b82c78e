// Tests for the RFC 5321 path, mailbox and parameter parser.
#include "smtp/address.h"

#include <gtest/gtest.h>

namespace tlpmail::smtp {
namespace {

struct PathCase {
  std::string args;
  PathKind kind;
  bool ok;
  std::string want_mailbox;  // when ok
  PathError want_error;      // when !ok
  std::vector<EsmtpParam> want_params = {};
};

TEST(AddressTest, ParsePathArgumentTable) {
  const std::string local64(64, 'a');
  const std::string label63(63, 'b');
  const std::string domain_over =
      label63 + "." + label63 + "." + label63 + "." + label63 + ".com";  // 260
  const PathCase cases[] = {
      {"FROM:<alice@example.org>", PathKind::reverse, true, "alice@example.org", {}},
      {"from:<Alice@Example.ORG>", PathKind::reverse, true, "Alice@Example.ORG", {}},
      {"FROM: <alice@example.org>", PathKind::reverse, true, "alice@example.org", {}},
      {"FROM:<>", PathKind::reverse, true, "", {}},
      {"TO:<>", PathKind::forward, false, "", PathError::bad_address},
      {"TO:<ops@lists.example.org>", PathKind::forward, true, "ops@lists.example.org", {}},
      {"TO:<Postmaster>", PathKind::forward, true, "Postmaster", {}},
      {"FROM:<Postmaster>", PathKind::reverse, false, "", PathError::bad_address},
      {"TO:<@relay.example,@b.example:ops@lists.example.org>",
       PathKind::forward,
       true,
       "ops@lists.example.org",
       {}},
      {"TO:<@relay.example:ops@lists.example.org>",
       PathKind::forward,
       true,
       "ops@lists.example.org",
       {}},
      {"TO:<@relay.example ops@lists.example.org>", PathKind::forward, false, "",
       PathError::bad_address},
      {"TO:<@:ops@lists.example.org>", PathKind::forward, false, "", PathError::bad_address},
      {"TO:<\"odd local\"@example.org>", PathKind::forward, true, "\"odd local\"@example.org", {}},
      {"TO:<\"a>b\"@example.org>", PathKind::forward, true, "\"a>b\"@example.org", {}},
      {"TO:<\"a\\\"b\"@example.org>", PathKind::forward, true, "\"a\\\"b\"@example.org", {}},
      {"TO:<\"unterminated@example.org>", PathKind::forward, false, "", PathError::bad_address},
      {"TO:<user@[192.0.2.1]>", PathKind::forward, true, "user@[192.0.2.1]", {}},
      {"TO:<user@[IPv6:2001:db8::1]>", PathKind::forward, true, "user@[IPv6:2001:db8::1]", {}},
      {"TO:<user@[]>", PathKind::forward, false, "", PathError::bad_address},
      {"TO:ops@lists.example.org", PathKind::forward, false, "", PathError::missing_prefix},
      {"TO <ops@lists.example.org>", PathKind::forward, false, "", PathError::missing_prefix},
      {"FROM:<a@b.example", PathKind::reverse, false, "", PathError::bad_address},
      {"TO:<a@b.example>", PathKind::reverse, false, "", PathError::missing_prefix},
      {"TO:<a..b@example.org>", PathKind::forward, false, "", PathError::bad_address},
      {"TO:<.ab@example.org>", PathKind::forward, false, "", PathError::bad_address},
      {"TO:<ab.@example.org>", PathKind::forward, false, "", PathError::bad_address},
      {"TO:<a b@example.org>", PathKind::forward, false, "", PathError::bad_address},
      {"TO:<a@b@example.org>", PathKind::forward, false, "", PathError::bad_address},
      {"TO:<ab@>", PathKind::forward, false, "", PathError::bad_address},
      {"TO:<@example.org>", PathKind::forward, false, "", PathError::bad_address},
      {"TO:<ab>", PathKind::forward, false, "", PathError::bad_address},
      {"TO:<ab@-example.org>", PathKind::forward, false, "", PathError::bad_address},
      {"TO:<ab@example-.org>", PathKind::forward, false, "", PathError::bad_address},
      {"TO:<ab@example..org>", PathKind::forward, false, "", PathError::bad_address},
      {"TO:<ab@example.org.>", PathKind::forward, false, "", PathError::bad_address},
      {"TO:<ab@exa_mple.org>", PathKind::forward, false, "", PathError::bad_address},
      {"TO:<j\xC3\xBCrgen@example.org>", PathKind::forward, false, "", PathError::bad_address},
      {"TO:<ab\x01@example.org>", PathKind::forward, false, "", PathError::bad_address},
      {"TO:<" + local64 + "@example.org>", PathKind::forward, true, local64 + "@example.org", {}},
      {"TO:<" + local64 + "a@example.org>", PathKind::forward, false, "", PathError::too_long},
      {"TO:<a@" + label63 + ".example>", PathKind::forward, true, "a@" + label63 + ".example", {}},
      {"TO:<a@" + label63 + "b.example>", PathKind::forward, false, "", PathError::bad_address},
      {"TO:<a@" + domain_over + ">", PathKind::forward, false, "", PathError::too_long},
      {"FROM:<a@b.example> SIZE=100 BODY=8bitmime",
       PathKind::reverse,
       true,
       "a@b.example",
       {},
       {{"SIZE", "100", true}, {"BODY", "8bitmime", true}}},
      {"FROM:<a@b.example>  size=1  ret",
       PathKind::reverse,
       true,
       "a@b.example",
       {},
       {{"SIZE", "1", true}, {"RET", "", false}}},
      {"FROM:<a@b.example>SIZE=1", PathKind::reverse, false, "", PathError::bad_parameters},
      {"FROM:<a@b.example> SIZE=", PathKind::reverse, false, "", PathError::bad_parameters},
      {"FROM:<a@b.example> SIZE=1=2", PathKind::reverse, false, "", PathError::bad_parameters},
      {"FROM:<a@b.example> -X=1", PathKind::reverse, false, "", PathError::bad_parameters},
      {"FROM:<a@b.example> X\x01=1", PathKind::reverse, false, "", PathError::bad_parameters},
  };
  for (const PathCase& c : cases) {
    auto got = parse_path_argument(c.args, c.kind);
    ASSERT_EQ(got.has_value(), c.ok) << c.args;
    if (c.ok) {
      EXPECT_EQ(got->mailbox, c.want_mailbox) << c.args;
      EXPECT_EQ(got->params, c.want_params) << c.args;
    } else {
      EXPECT_EQ(got.error(), c.want_error) << c.args;
    }
  }
}

TEST(AddressTest, PathLengthLimitCountsBrackets) {
  // 64 + 1 + 189 = 254 octets of mailbox: with "<>" exactly 256.
  const std::string domain =
      std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(61, 'c');
  const std::string mailbox = std::string(64, 'x') + "@" + domain;
  ASSERT_EQ(mailbox.size(), 254u);
  EXPECT_TRUE(parse_path_argument("TO:<" + mailbox + ">", PathKind::forward));
  auto got = parse_path_argument("TO:<" + mailbox + "c>", PathKind::forward);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), PathError::too_long);
}

TEST(AddressTest, MailboxAndDomain) {
  EXPECT_TRUE(is_valid_mailbox("a@b"));
  EXPECT_TRUE(is_valid_mailbox("ops-bounces+alice=example.org@lists.example.org"));
  EXPECT_FALSE(is_valid_mailbox(""));
  EXPECT_FALSE(is_valid_mailbox("a"));
  EXPECT_TRUE(is_valid_domain("1.2.example"));
  EXPECT_TRUE(is_valid_domain("[192.0.2.1]"));
  EXPECT_FALSE(is_valid_domain("[a[b]"));
  EXPECT_FALSE(is_valid_domain(""));
}

}  // namespace
}  // namespace tlpmail::smtp
