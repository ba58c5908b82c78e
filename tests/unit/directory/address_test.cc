// Tests of the e-mail address and fingerprint forms (directory/address.h):
// tables of accepted and refused inputs with the exact reason given.
#include "directory/address.h"

#include <gtest/gtest.h>

namespace tlpmail::directory {
namespace {

TEST(AddressTest, AcceptsPlainAddresses) {
  for (const char* address : {
           "alice@csirt-a.example",
           "Alice.Example@CSIRT-A.Example",
           "a+tag@x.example",
           "o'brien@x.example",
           "soc-team_24x7@sub.domain.example.org",
           "x@a.b",
           "1@2.3",
       }) {
    EXPECT_EQ(address_problem(address), std::nullopt) << address;
    EXPECT_TRUE(is_valid_address(address)) << address;
  }
}

TEST(AddressTest, RefusesWithReason) {
  struct Case {
    std::string address;
    std::string want;
  };
  const std::string long_local(65, 'a');
  const std::string long_label(64, 'a');
  const Case cases[] = {
      {"", "the address is empty"},
      {"alice", "it has no '@'"},
      {"alice@@x.example", "it has more than one '@'"},
      {"a@b@x.example", "it has more than one '@'"},
      {"@x.example", "the local part before '@' is empty"},
      {"alice@", "the domain after '@' is empty"},
      {"alice@localhost", "the domain needs at least one dot"},
      {"Alice <alice@x.example>", "a space is not allowed in the local part"},
      {"<alice@x.example>", "'<' is not allowed in the local part"},
      {"alice@x.example>", "'>' is not allowed in the domain"},
      {"alice @x.example", "a space is not allowed in the local part"},
      {"alice@x .example", "a space is not allowed in the domain"},
      {"\"al ice\"@x.example", "'\"' is not allowed in the local part"},
      {"al\tice@x.example", "a tab is not allowed in the local part"},
      {"alice\n@x.example", "a line break is not allowed in the local part"},
      {"al\x01ice@x.example", "a control character is not allowed in the local part"},
      {"j\xC3\xBCrgen@x.example", "a non-ASCII character is not allowed in the local part"},
      {".alice@x.example",
       "the local part may not start or end with a dot or contain two dots in a row"},
      {"alice.@x.example",
       "the local part may not start or end with a dot or contain two dots in a row"},
      {"al..ice@x.example",
       "the local part may not start or end with a dot or contain two dots in a row"},
      {long_local + "@x.example", "the local part is longer than 64 characters"},
      {"alice@[192.0.2.1]", "'[' is not allowed in the domain"},
      {"alice@x_y.example", "'_' is not allowed in the domain"},
      {"alice@.x.example", "the domain has an empty label (a leading, trailing or double dot)"},
      {"alice@x.example.", "the domain has an empty label (a leading, trailing or double dot)"},
      {"alice@x..example", "the domain has an empty label (a leading, trailing or double dot)"},
      {"alice@-x.example", "a domain label may not start or end with a hyphen"},
      {"alice@x-.example", "a domain label may not start or end with a hyphen"},
      {"alice@" + long_label + ".example", "a domain label is longer than 63 characters"},
  };
  for (const auto& c : cases) {
    auto got = address_problem(c.address);
    ASSERT_TRUE(got.has_value()) << c.address;
    EXPECT_EQ(*got, c.want) << c.address;
    EXPECT_FALSE(is_valid_address(c.address)) << c.address;
  }
}

TEST(AddressTest, DomainLengthLimit) {
  std::string domain;
  while (domain.size() < 250) domain += "abcdefghi.";
  domain += "example";  // > 253
  EXPECT_EQ(domain_problem(domain), "the domain is longer than 253 characters");
  EXPECT_EQ(domain_problem("lists.example.org"), std::nullopt);
}

TEST(FingerprintTest, Normalises) {
  struct Case {
    std::string in;
    std::string want;
  };
  const Case cases[] = {
      {"0123456789ABCDEF0123456789ABCDEF01234567", "0123456789ABCDEF0123456789ABCDEF01234567"},
      {"0123456789abcdef0123456789abcdef01234567", "0123456789ABCDEF0123456789ABCDEF01234567"},
      {"0123 4567 89ab cdef 0123  4567 89AB CDEF 0123 4567",
       "0123456789ABCDEF0123456789ABCDEF01234567"},
      {" 0123456789ABCDEF0123456789ABCDEF01234567 ", "0123456789ABCDEF0123456789ABCDEF01234567"},
  };
  for (const auto& c : cases) {
    auto got = normalize_fingerprint(c.in);
    ASSERT_TRUE(got.has_value()) << c.in << ": " << got.error().message;
    EXPECT_EQ(*got, c.want) << c.in;
  }
}

TEST(FingerprintTest, RefusesWithReason) {
  struct Case {
    std::string in;
    std::string want;
  };
  const Case cases[] = {
      {"", "fingerprint must be 40 hex digits, got 0"},
      {"0123456789ABCDEF0123456789ABCDEF0123456", "fingerprint must be 40 hex digits, got 39"},
      {"0123456789ABCDEF0123456789ABCDEF012345678", "fingerprint must be 40 hex digits, got 41"},
      {"89ABCDEF01234567",
       "fingerprint must be 40 hex digits, got 16 (a key ID is not a fingerprint)"},
      {"01234567", "fingerprint must be 40 hex digits, got 8 (a key ID is not a fingerprint)"},
      {"0x0123456789ABCDEF0123456789ABCDEF01234567",
       "fingerprint must be 40 hex digits, got 'x' at position 2"},
      {"0123:4567", "fingerprint must be 40 hex digits, got ':' at position 5"},
      {"0123\t4567", "fingerprint must be 40 hex digits, got a tab at position 5"},
      {"G123456789ABCDEF0123456789ABCDEF01234567",
       "fingerprint must be 40 hex digits, got 'G' at position 1"},
  };
  for (const auto& c : cases) {
    auto got = normalize_fingerprint(c.in);
    ASSERT_FALSE(got.has_value()) << c.in;
    EXPECT_EQ(got.error().message, c.want) << c.in;
  }
}

}  // namespace
}  // namespace tlpmail::directory
