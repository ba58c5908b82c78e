// Table tests of intake::transaction_resolver, the RCPT rule tlpmaild uses:
// one list's posting address per transaction (repeated as the client
// likes), or only -request/-bounces addresses of any lists; everything
// else that is a list address gets one_list_reply() (452 4.5.3), and an
// unknown address 550 5.1.1. Real config::Config and Directory.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "intake/recipients.h"
#include "intake/replies.h"
#include "lists_config.h"

namespace tlpmail::intake {
namespace {

std::shared_ptr<const config::Config> two_lists() {
  return testing::lists_config({"ops@lists.example.org", "red@lists.example.org"});
}

TEST(OneListReply, IsTemporary) {
  EXPECT_EQ(one_list_reply().to_wire(),
            "452 4.5.3 one list per message, please send again for this recipient\r\n");
}

TEST(TransactionResolver, OneListPerTransaction) {
  const std::string kOneList =
      "452 4.5.3 one list per message, please send again for this recipient\r\n";
  struct Case {
    const char* name;
    std::vector<std::string> earlier;
    std::string mailbox;
    std::string want;  // "" accepted, else the reply on the wire
  };
  const Case cases[] = {
      {"first posting address", {}, "ops@lists.example.org", ""},
      {"first -request address", {}, "ops-request@lists.example.org", ""},
      {"same list twice", {"ops@lists.example.org"}, "ops@lists.example.org", ""},
      {"same list, other case", {"ops@lists.example.org"}, "OPS@Lists.Example.ORG", ""},
      {"same list, earlier in other case", {"Ops@LISTS.example.org"}, "ops@lists.example.org",
       ""},
      {"second list", {"ops@lists.example.org"}, "red@lists.example.org", kOneList},
      {"second list, other case", {"ops@lists.example.org"}, "RED@lists.example.org", kOneList},
      {"list then its own -request", {"ops@lists.example.org"}, "ops-request@lists.example.org",
       kOneList},
      {"list then its own -bounces",
       {"ops@lists.example.org"},
       "ops-bounces+alice=a.example@lists.example.org",
       kOneList},
      {"-request then its own list", {"ops-request@lists.example.org"}, "ops@lists.example.org",
       kOneList},
      {"-request of two lists", {"ops-request@lists.example.org"},
       "red-request@lists.example.org", ""},
      {"-request and -bounces of two lists",
       {"ops-request@lists.example.org", "red-bounces@lists.example.org"},
       "Red-Request@Lists.Example.org",
       ""},
      {"unknown, nothing earlier", {}, "other@lists.example.org",
       "550 5.1.1 <other@lists.example.org>: Recipient address rejected: not a list address on "
       "this server\r\n"},
      {"unknown after a list", {"ops@lists.example.org"}, "alice@a.example",
       "550 5.1.1 <alice@a.example>: Recipient address rejected: not a list address on this "
       "server\r\n"},
      {"third after one list twice", {"ops@lists.example.org", "ops@lists.example.org"},
       "red@lists.example.org", kOneList},
  };
  auto resolve = transaction_resolver(two_lists());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = resolve(c.mailbox, c.earlier);
    EXPECT_EQ(got.accepted, c.want.empty());
    if (!c.want.empty()) {
      EXPECT_EQ(got.reply.to_wire(), c.want);
    }
  }
}

TEST(TransactionResolver, KeepsTheConfigAlive) {
  auto config = two_lists();
  auto resolve = transaction_resolver(config);
  config.reset();
  EXPECT_TRUE(resolve("ops@lists.example.org", {}).accepted);
  EXPECT_FALSE(resolve("red@lists.example.org", {"ops@lists.example.org"}).accepted);
}

}  // namespace
}  // namespace tlpmail::intake
