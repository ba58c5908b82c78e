// Tests of the strict address-list check used for From: valid forms with
// their mailbox and group counts, and the sloppy forms GMime's loose reader
// would accept (stray brackets, two @, display name looking like an
// address, unterminated quotes and comments, routes).
#include "mime/address_syntax.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tlpmail::mime {
namespace {

TEST(CheckAddressList, Table) {
  struct Case {
    std::string value;
    bool want_valid;
    int want_mailboxes;
    int want_groups;
  };
  const std::vector<Case> cases = {
      {"alice@a.example", true, 1, 0},
      {"Alice Example <alice@a.example>", true, 1, 0},
      {"\"Example, Alice\" <alice@a.example>", true, 1, 0},
      {"=?UTF-8?Q?J=C3=BCrgen?= <j@a.example>", true, 1, 0},
      {"J. Smith <j@a.example>", true, 1, 0},
      {"<alice@a.example>", true, 1, 0},
      {"alice@a.example (Alice)", true, 1, 0},
      {"(c1) Alice (c2 (nested)) <alice@a.example> (c3)", true, 1, 0},
      {"Alice\r\n Example <alice@a.example>", true, 1, 0},
      {"\"a@b\"@c.example", true, 1, 0},
      {"first.last@sub.a.example", true, 1, 0},
      {"a@[192.0.2.1]", true, 1, 0},
      {"J\xC3\xBCrgen <j@a.example>", true, 1, 0},
      {"a@a.example, b@b.example", true, 2, 0},
      {"a@a.example,", true, 1, 0},
      {"Team: a@a.example, B <b@b.example>;", true, 2, 1},
      {"undisclosed-recipients:;", true, 0, 1},
      {"", false, 0, 0},
      {"alice", false, 0, 0},
      {"alice@a.example bob@b.example", false, 0, 0},
      {"alice@a.example <mallory@m.example>", false, 0, 0},
      {"a@b@c.example", false, 0, 0},
      {"ce@a.example>", false, 0, 0},
      {"<alice@a.example", false, 0, 0},
      {"Alice <alice@a.example> <m@m.example>", false, 0, 0},
      {"Alice <alice@a.example> x", false, 0, 0},
      {"\"unterminated <alice@a.example>", false, 0, 0},
      {"alice@a.example (unterminated", false, 0, 0},
      {"Alice <@route:alice@a.example>", false, 0, 0},
      {"<>", false, 0, 0},
      {".alice@a.example", false, 0, 0},
      {"alice.@a.example", false, 0, 0},
      {"alice@a..example", false, 0, 0},
      {"a@a.example;", false, 0, 0},
      {"Team: a@a.example", false, 0, 0},
      {", a@a.example", false, 0, 0},
      {"a\\b@a.example", false, 0, 0},
      {"a@[1.2.3.4", false, 0, 0},
  };
  for (const Case& c : cases) {
    const AddressListSyntax got = check_address_list(c.value);
    EXPECT_EQ(got.valid, c.want_valid) << c.value;
    if (c.want_valid) {
      EXPECT_EQ(got.mailboxes, c.want_mailboxes) << c.value;
      EXPECT_EQ(got.groups, c.want_groups) << c.value;
    }
  }
}

}  // namespace
}  // namespace tlpmail::mime
