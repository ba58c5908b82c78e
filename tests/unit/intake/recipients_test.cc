// Tests of the intake's glue between config, smtp::Session and the spool:
// session options, the list-address resolver, the DATA replies (SMTP and
// LMTP) fed to a real Session.
#include "intake/recipients.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "intake/replies.h"
#include "lists_config.h"

namespace tlpmail::intake {
namespace {

std::shared_ptr<const config::Config> make_config(config::Protocol protocol) {
  auto c = testing::lists_config({"ops@lists.example.org"});
  c->server.protocol = protocol;
  c->server.max_message_size = 4096;
  return c;
}

TEST(SessionOptions, FromServerSettings) {
  auto c = make_config(config::Protocol::lmtp);
  auto got = session_options(*c, true);
  EXPECT_EQ(got.hostname, "lists.example.org");
  EXPECT_EQ(got.protocol, smtp::Protocol::lmtp);
  EXPECT_EQ(got.max_message_size, 4096u);
  EXPECT_TRUE(got.starttls_available);
  EXPECT_FALSE(session_options(*make_config(config::Protocol::smtp), false).starttls_available);
  EXPECT_EQ(to_smtp_protocol(config::Protocol::smtp), smtp::Protocol::smtp);
  EXPECT_EQ(to_smtp_protocol(config::Protocol::lmtp), smtp::Protocol::lmtp);
}

TEST(ListResolver, AcceptsListAddressesOnly) {
  auto transaction = transaction_resolver(make_config(config::Protocol::smtp));
  auto resolve = [&](const std::string& mailbox) { return transaction(mailbox, {}); };
  struct Case {
    std::string mailbox;
    bool accepted;
  } cases[] = {
      {"ops@lists.example.org", true},
      {"OPS@Lists.Example.ORG", true},
      {"ops-request@lists.example.org", true},
      {"ops-bounces+alice=a.example@lists.example.org", true},
      {"ops+@lists.example.org", false},
      {"other@lists.example.org", false},
      {"postmaster@lists.example.org", false},
      {"alice@a.example", false},
  };
  for (const auto& c : cases) {
    auto got = resolve(c.mailbox);
    EXPECT_EQ(got.accepted, c.accepted) << c.mailbox;
    if (!c.accepted) {
      EXPECT_EQ(got.reply.to_wire(), "550 5.1.1 <" + c.mailbox +
                                         ">: Recipient address rejected: not a list address "
                                         "on this server\r\n");
    }
  }
}

TEST(DataReplies, Queued) {
  EXPECT_EQ(queued_reply("1a2b3c4d5e6f7a8b").to_wire(),
            "250 2.0.0 Ok: queued as 1a2b3c4d5e6f7a8b\r\n");
}

TEST(DataReplies, SpoolFailuresUseTheSpoolsMapping) {
  struct Case {
    queue::SpoolErrorCode code;
    std::string want;
  } cases[] = {
      {queue::SpoolErrorCode::disk_full, "452 4.3.1 Insufficient system storage\r\n"},
      {queue::SpoolErrorCode::io_error, "451 4.3.0 Local error: spool write failed\r\n"},
      {queue::SpoolErrorCode::poisoned,
       "451 4.3.0 Local error: spool is refusing writes after an I/O failure\r\n"},
      {queue::SpoolErrorCode::database, "451 4.3.0 Local error: queue database unavailable\r\n"},
      {queue::SpoolErrorCode::unavailable, "451 4.3.0 Local error: spool unavailable\r\n"},
  };
  for (const auto& c : cases) {
    auto got = spool_failure_reply(queue::SpoolError{c.code, "detail never shown"});
    EXPECT_EQ(got.to_wire(), c.want);
    EXPECT_TRUE(smtp::is_valid_reply(got));
  }
}

// One reply per expected result is accepted by a real session (right
// count, valid replies), as the server hands it over.
TEST(DataReplies, RealSessionAcceptsThemInSmtpAndLmtp) {
  for (auto protocol : {config::Protocol::smtp, config::Protocol::lmtp}) {
    auto c = make_config(protocol);
    // Each address judged on its own (no one-list rule: that is
    // transaction_resolver_test.cc's).
    auto transaction = transaction_resolver(c);
    smtp::Session s(session_options(*c, false),
                    [&](std::string_view mailbox) { return transaction(mailbox, {}); });
    std::string hello = protocol == config::Protocol::lmtp ? "LHLO x\r\n" : "EHLO x\r\n";
    s.feed(hello +
           "MAIL FROM:<a@b.example>\r\nRCPT TO:<ops@lists.example.org>\r\n"
           "RCPT TO:<nobody@lists.example.org>\r\nRCPT TO:<ops-request@lists.example.org>\r\n"
           "DATA\r\nSubject: x\r\n\r\nhi\r\n.\r\n");
    ASSERT_TRUE(s.awaiting_data_result());
    std::size_t want_count = protocol == config::Protocol::lmtp ? 2 : 1;
    EXPECT_EQ(s.expected_result_count(), want_count);
    (void)s.take_output();
    smtp::DataResult result{std::vector<smtp::Reply>(s.expected_result_count(),
                                                     queued_reply("00000000000000ff"))};
    EXPECT_TRUE(s.complete_data(result));
    std::string want;
    for (std::size_t i = 0; i < want_count; ++i)
      want += "250 2.0.0 Ok: queued as 00000000000000ff\r\n";
    EXPECT_EQ(s.take_output(), want);
  }
}

}  // namespace
}  // namespace tlpmail::intake
