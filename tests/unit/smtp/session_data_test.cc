// Transcript tests for DATA in smtp::Session: dot-stuffing, the end of
// data, the SMTP smuggling sequences, bare LF/CR, line and size limits,
// waiting for the spool result, pipelining after DATA and LMTP replies.
#include <gtest/gtest.h>

#include "transcript.h"
#include "util/text.h"

namespace tlpmail::smtp::testing {
namespace {

// Opens a transaction up to 354 and returns the output position after it.
std::size_t open_data(Driver& d, std::string_view rcpts = "RCPT TO:<ops@lists.example.org>\r\n") {
  d.feed("EHLO c.example\r\nMAIL FROM:<a@b.example>\r\n" + std::string(rcpts) + "DATA\r\n");
  EXPECT_TRUE(d.session.in_data());
  return d.output.size();
}

TEST(SessionDataTest, DotStuffingIsUndone) {
  Driver d;
  ASSERT_TRUE(run_transcript(d, opened(Upto::data, R"(
    >..hidden dot\r\n...\r\n..\r\n. \r\n.x\r\ntext.\r\n.\r\n\c
    <250 2.0.0 Ok: queued as Q1
  )")));
  ASSERT_EQ(d.messages.size(), 1u);
  EXPECT_EQ(d.messages[0].body, ".hidden dot\r\n..\r\n.\r\n \r\nx\r\ntext.\r\n");
}

TEST(SessionDataTest, EmptyMessage) {
  Driver d;
  ASSERT_TRUE(run_transcript(d, opened(Upto::data, R"(
    >.
    <250 2.0.0 Ok: queued as Q1
  )")));
  ASSERT_EQ(d.messages.size(), 1u);
  EXPECT_EQ(d.messages[0].body, "");
  EXPECT_TRUE(d.messages[0].ended);
}

TEST(SessionDataTest, CommandsInsideDataAreData) {
  Driver d;
  ASSERT_TRUE(run_transcript(d, opened(Upto::data, R"(
    >QUIT\r\nRSET\r\nMAIL FROM:<x@y.example>\r\n .\r\n.\r\nNOOP
    <250 2.0.0 Ok: queued as Q1
    <250 2.0.0 Ok
  )")));
  EXPECT_EQ(d.messages.at(0).body, "QUIT\r\nRSET\r\nMAIL FROM:<x@y.example>\r\n .\r\n");
}

// The 2023 SMTP smuggling attacks: an end-of-data that some other server
// accepts, followed by a second, smuggled transaction. Here only
// <CRLF>.<CRLF> ends DATA, the message is refused for its bare LF/CR, and
// the smuggled commands are never executed.
TEST(SessionDataTest, SmugglingSequencesNeverEndData) {
  struct Case {
    std::string name;
    std::string sequence;
    AbortReason want_reason;
    std::string want_reply;
  };
  const std::string lf_reply = "554 5.6.0 Error: bare LF in message data is not allowed\r\n";
  const std::string cr_reply = "554 5.6.0 Error: bare CR in message data is not allowed\r\n";
  const Case cases[] = {
      {"LF.LF", "\n.\n", AbortReason::bare_lf, lf_reply},
      {"CR.CR", "\r.\r", AbortReason::bare_cr, cr_reply},
      {"CRLF.LF", "\r\n.\n", AbortReason::bare_lf, lf_reply},
      {"LF.CRLF", "\n.\r\n", AbortReason::bare_lf, lf_reply},
      {"CRLF.CR", "\r\n.\r", AbortReason::bare_cr, cr_reply},
      {"CR.CRLF", "\r.\r\n", AbortReason::bare_cr, cr_reply},
      {"LF.CR", "\n.\r", AbortReason::bare_lf, lf_reply},
      {"CR.LF", "\r.\n", AbortReason::bare_lf, lf_reply},
      {"CRLF.CRCRLF", "\r\n.\r\r\n", AbortReason::bare_cr, cr_reply},
      {"LFLF.LFLF", "\n\n.\n\n", AbortReason::bare_lf, lf_reply},
  };
  const std::string smuggled =
      "MAIL FROM:<ceo@bank.example>\r\nRCPT TO:<ops@lists.example.org>\r\nDATA\r\nFrom: "
      "ceo\r\n\r\nsmuggled\r\n";
  for (const Case& c : cases) {
    for (bool one_feed : {true, false}) {
      Driver d;
      const std::size_t before = open_data(d);
      const std::string body = "Subject: x\r\n\r\nhello" + c.sequence + smuggled;
      if (one_feed) {
        d.feed(body + ".\r\nNOOP\r\n");
      } else {
        for (char ch : body) d.feed(std::string_view(&ch, 1));
        EXPECT_EQ(d.output.size(), before)
            << c.name << ": nothing may be answered before <CRLF>.<CRLF>";
        d.feed(".\r\nNOOP\r\n");
      }
      EXPECT_EQ(d.output.substr(before), c.want_reply + "250 2.0.0 Ok\r\n") << c.name;
      ASSERT_EQ(d.messages.size(), 1u) << c.name;
      EXPECT_FALSE(d.messages[0].ended) << c.name;
      EXPECT_EQ(d.messages[0].aborted, c.want_reason) << c.name;
      EXPECT_EQ(d.refusals.back(), "DATA|" + c.want_reply) << c.name;
      EXPECT_TRUE(d.session.wants_input()) << c.name;
    }
  }
}

TEST(SessionDataTest, BareLfAtStartOfData) {
  Driver d;
  ASSERT_TRUE(run_transcript(d, opened(Upto::data, R"(
    >\n.\n\c
    >.\r\n\c
    >.\r\n\c
    <554 5.6.0 Error: bare LF in message data is not allowed
  )")));
  EXPECT_EQ(d.messages.at(0).aborted, AbortReason::bare_lf);
}

TEST(SessionDataTest, AbortIsReportedAtOnceAndNothingAfterIt) {
  Driver d;
  const std::size_t before = open_data(d);
  d.feed("line one\r\nline two\r\n");
  EXPECT_EQ(d.messages.at(0).body, "line one\r\nline two\r\n");
  d.feed("bad\nline\r\nline three\r\n");
  EXPECT_EQ(d.messages.at(0).aborted, AbortReason::bare_lf);
  EXPECT_EQ(d.messages.at(0).body, "line one\r\nline two\r\n");
  EXPECT_EQ(d.output.size(), before);
  d.feed(".\r\n");
  EXPECT_EQ(d.output.substr(before), "554 5.6.0 Error: bare LF in message data is not allowed\r\n");
}

TEST(SessionDataTest, SizeLimitByRealCount) {
  SessionOptions o = default_options();
  o.max_message_size = 20;
  struct Case {
    std::string name;
    std::string data;  // sent after 354, before ".\r\n"
    bool ok;
    std::string want_body;
  };
  const Case cases[] = {
      {"exactly max", "123456789012345678\r\n", true, "123456789012345678\r\n"},
      {"max+1", "1234567890123456789\r\n", false, ""},
      {"stuffed dot not counted", "..12345678901234567\r\n", true, ".12345678901234567\r\n"},
      {"several lines at max", "12345678\r\n12345678\r\n", true, "12345678\r\n12345678\r\n"},
      {"several lines over", "12345678\r\n123456789\r\n", false, ""},
      {"empty lines", "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n", true,
       "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"},
      {"empty lines over", "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n", false, ""},
  };
  for (const Case& c : cases) {
    Driver d(o);
    d.feed("EHLO c.example\r\n");
    ASSERT_TRUE(d.output.find("250-SIZE 20\r\n") != std::string::npos);
    const std::size_t before = open_data(d);
    d.feed(c.data + ".\r\n");
    ASSERT_EQ(d.messages.size(), 1u) << c.name;
    if (c.ok) {
      EXPECT_EQ(d.output.substr(before), "250 2.0.0 Ok: queued as Q1\r\n") << c.name;
      EXPECT_EQ(d.messages[0].body, c.want_body) << c.name;
    } else {
      EXPECT_EQ(d.output.substr(before),
                "552 5.3.4 Error: message size exceeds the limit of 20 bytes\r\n")
          << c.name;
      EXPECT_EQ(d.messages[0].aborted, AbortReason::message_too_big) << c.name;
      EXPECT_FALSE(d.messages[0].ended) << c.name;
    }
  }
}

TEST(SessionDataTest, SizeLimitAtMailAndRecovery) {
  Driver d(default_options_with([](SessionOptions& o) { o.max_message_size = 20; }));
  ASSERT_TRUE(run_transcript(d, opened(Upto::greeting, R"(
    >EHLO c.example
    <250-lists.example.org
    <250-PIPELINING
    <250-SIZE 20
    <250-ENHANCEDSTATUSCODES
    <250 8BITMIME
    >MAIL FROM:<a@b.example> SIZE=21
    <552 5.3.4 Error: message size exceeds the limit of 20 bytes
    >MAIL FROM:<a@b.example> SIZE=20
    <250 2.1.0 Ok
    >RCPT TO:<ops@lists.example.org>
    <250 2.1.5 Ok
    >DATA
    <354 End data with <CR><LF>.<CR><LF>
    # SIZE= is a promise the real count is checked against anyway.
    >0123456789\r\n0123456789\r\n.
    <552 5.3.4 Error: message size exceeds the limit of 20 bytes
  )" + transaction() + R"(
    >012345678\r\n0123456\r\n.
    <250 2.0.0 Ok: queued as Q1
  )")));
}

TEST(SessionDataTest, TextLineLimit) {
  const std::string l998(998, 'x');
  struct Case {
    std::string name;
    std::string data;
    bool ok;
  };
  const Case cases[] = {
      {"998+CRLF", l998 + "\r\n", true},
      {"999+CRLF", l998 + "x\r\n", false},
      {"stuffed 998", "." + l998.substr(1) + "x\r\n", true},  // "." + 998 octets: 999 on the wire
      {"stuffed 999", ".." + l998 + "\r\n", false},
      {"1500", std::string(1500, 'y') + "\r\n", false},
  };
  for (const Case& c : cases) {
    Driver d;
    const std::size_t before = open_data(d);
    d.feed(c.data + ".\r\n");
    if (c.ok) {
      EXPECT_EQ(d.output.substr(before), "250 2.0.0 Ok: queued as Q1\r\n") << c.name;
    } else {
      EXPECT_EQ(d.output.substr(before),
                "554 5.6.0 Error: message has a line longer than 1000 octets\r\n")
          << c.name;
      EXPECT_EQ(d.messages.at(0).aborted, AbortReason::line_too_long) << c.name;
    }
  }
}

TEST(SessionDataTest, OverlongPartialLineIsRefusedEarlyAndDropped) {
  Driver d;
  const std::size_t before = open_data(d);
  d.feed(std::string(1500, 'x'));
  EXPECT_EQ(d.messages.at(0).aborted, AbortReason::line_too_long);  // before the line ends
  d.feed(std::string(100000, 'x') + ".\r");  // the dot is inside the long line
  d.feed("\n");
  EXPECT_EQ(d.output.size(), before);
  d.feed(".\r");
  d.feed("\nNOOP\r\n");
  EXPECT_EQ(d.output.substr(before),
            "554 5.6.0 Error: message has a line longer than 1000 octets\r\n250 2.0.0 Ok\r\n");
}

TEST(SessionDataTest, NoReplyUntilSpoolResultAndPipeliningAfterData) {
  Driver d;
  d.hold = true;
  const std::size_t before = open_data(d);
  d.feed("hello\r\n.\r\nMAIL FROM:<b@c.example>\r\nRCPT TO:<ops@lists.example.org>\r\n");
  EXPECT_TRUE(d.session.awaiting_data_result());
  EXPECT_FALSE(d.session.wants_input());
  EXPECT_EQ(d.session.expected_result_count(), 1u);
  EXPECT_EQ(d.output.size(), before) << "the session must not answer before the spool does";
  d.feed("DATA\r\n");   // read anyway: buffered
  d.session.timeout();  // the client is not idle: deferred, not sent
  d.pump();
  EXPECT_EQ(d.output.size(), before);
  d.results.push_back(parse_result("250 2.0.0 Ok: queued as ABC123"));
  d.hold = false;
  d.release();
  EXPECT_EQ(d.output.substr(before),
            "250 2.0.0 Ok: queued as ABC123\r\n"
            "421 4.4.2 lists.example.org Error: timeout exceeded\r\n");
  EXPECT_TRUE(d.session.wants_close());
}

TEST(SessionDataTest, PipelinedInputIsAnsweredAfterTheResult) {
  Driver d;
  ASSERT_TRUE(run_transcript(d, opened(Upto::data, R"(
    !hold
    >hello\r\n.\r\nMAIL FROM:<b@c.example>\r\nRCPT TO:<ops@lists.example.org>\r\nDATA\r\nsecond\r\n.\r\nQUIT
    !result 451 4.3.0 Error: local fault, try again later
    !release
    <451 4.3.0 Error: local fault, try again later
    <250 2.1.0 Ok
    <250 2.1.5 Ok
    <354 End data with <CR><LF>.<CR><LF>
    !release
    <250 2.0.0 Ok: queued as Q1
    <221 2.0.0 Bye
    !close
  )")));
  ASSERT_EQ(d.messages.size(), 2u);
  EXPECT_EQ(d.messages[0].body, "hello\r\n");
  EXPECT_EQ(d.messages[1].body, "second\r\n");
  EXPECT_EQ(d.messages[1].envelope.mail_from, "b@c.example");
}

TEST(SessionDataTest, SpoolResultsArePassedOnOrReplacedWhenMalformed) {
  struct Case {
    std::string result;  // parse_result spec; "" for no replies
    std::string want;
    bool want_ok;
  };
  const std::string internal = "451 4.3.0 Error: internal error while queueing the message\r\n";
  const Case cases[] = {
      {"250 2.0.0 Ok: queued as ABC123", "250 2.0.0 Ok: queued as ABC123\r\n", true},
      {"451 4.3.0 Error: disk full", "451 4.3.0 Error: disk full\r\n", true},
      {"550 5.7.1 Error: message is not signed", "550 5.7.1 Error: message is not signed\r\n",
       true},
      {"250 4.0.0 Ok", internal, false},
      {"250 2.0.0 Ok | 250 2.0.0 Ok", internal, false},
      {"", internal, false},
      {"354 3.0.0 go on", internal, false},
  };
  for (const Case& c : cases) {
    Driver d;
    d.hold = true;
    const std::size_t before = open_data(d);
    d.feed(".\r\n");
    const DataResult r = c.result.empty() ? DataResult{} : parse_result(c.result);
    EXPECT_EQ(d.session.complete_data(r), c.want_ok) << c.result;
    d.pump();
    EXPECT_EQ(d.output.substr(before), c.want) << c.result;
    EXPECT_FALSE(d.session.complete_data(r)) << "a second result is ignored";
    EXPECT_TRUE(d.session.wants_input());
  }
}

TEST(SessionDataTest, CompleteDataOutsideWaitIsIgnored) {
  Driver d;
  const std::size_t before = d.output.size();
  EXPECT_FALSE(d.session.complete_data(parse_result("250 2.0.0 Ok")));
  d.pump();
  EXPECT_EQ(d.output.size(), before);
  EXPECT_EQ(d.session.expected_result_count(), 0u);
}

TEST(SessionDataTest, DeferredShutdownAfterResult) {
  Driver d;
  ASSERT_TRUE(run_transcript(d, opened(Upto::data, R"(
    !hold
    >x\r\n.\r\nNOOP
    !shutdown
    !release
    <250 2.0.0 Ok: queued as Q1
    <421 4.3.2 lists.example.org Error: service shutting down, closing connection
    !close
  )")));
}

TEST(SessionDataTest, TimeoutShutdownAndLossDuringData) {
  struct Case {
    std::string action;
    AbortReason reason;
    std::string want;
  };
  const Case cases[] = {
      {"timeout", AbortReason::timeout, "421 4.4.2 lists.example.org Error: timeout exceeded\r\n"},
      {"shutdown", AbortReason::shutdown,
       "421 4.3.2 lists.example.org Error: service shutting down, closing connection\r\n"},
      {"lost", AbortReason::connection_lost, ""},
  };
  for (const Case& c : cases) {
    Driver d;
    const std::size_t before = open_data(d);
    d.feed("partial\r\nline");
    if (c.action == "timeout") d.session.timeout();
    if (c.action == "shutdown") d.session.shutdown();
    if (c.action == "lost") d.session.connection_lost();
    d.pump();
    EXPECT_EQ(d.output.substr(before), c.want) << c.action;
    EXPECT_EQ(d.messages.at(0).aborted, c.reason) << c.action;
    EXPECT_EQ(d.messages.at(0).body, "partial\r\n") << c.action;
    EXPECT_TRUE(d.session.wants_close()) << c.action;
  }
}

TEST(SessionDataTest, ConnectionLostWhileWaiting) {
  Driver d;
  d.hold = true;
  open_data(d);
  d.feed(".\r\n");
  d.session.connection_lost();
  EXPECT_FALSE(d.session.complete_data(parse_result("250 2.0.0 Ok")));
  EXPECT_TRUE(d.session.wants_close());
}

// While DATA's result is held, up to max_pending_input octets of
// pipelined commands wait for it; one octet more closes the session.
TEST(SessionDataTest, PendingInputLimit) {
  const auto times = [](int n, std::string_view s) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
  };
  struct Case {
    std::string name;
    std::string first, then;  // fed after the final dot, then on their own
    std::string want;         // replies once the result is released
    bool want_close;
  };
  const Case cases[] = {
      {"overflow closes", times(100, "NOOP\r\n"), "NOOP\r\n",
       "250 2.0.0 Ok: queued as Q1\r\n421 4.5.0 lists.example.org Error: too much pipelined "
       "input\r\n",
       true},
      // 300 octets and 300 more: exactly the limit.
      {"within the limit is kept", times(50, "NOOP\r\n"), times(50, "NOOP\r\n"),
       "250 2.0.0 Ok: queued as Q1\r\n" + times(100, "250 2.0.0 Ok\r\n"), false},
  };
  for (const Case& c : cases) {
    Driver d(default_options_with([](SessionOptions& o) { o.max_pending_input = 600; }));
    d.hold = true;
    const std::size_t before = open_data(d);
    d.feed(".\r\n" + c.first);
    d.feed(c.then);
    d.hold = false;
    d.release();
    EXPECT_EQ(d.output.substr(before), c.want) << c.name;
    EXPECT_EQ(d.session.wants_close(), c.want_close) << c.name;
  }
}

constexpr std::string_view kLmtpStart = R"(
  <220 lists.example.org LMTP tlpmail
  >LHLO c.example
  <@ehlo
  >MAIL FROM:<a@b.example>
  <250 2.1.0 Ok
  >RCPT TO:<ops@lists.example.org>
  <250 2.1.5 Ok
  >RCPT TO:<nobody@lists.example.org>
  <550 5.1.1 <nobody@lists.example.org>: Recipient address rejected: not a list address on this server
  >RCPT TO:<red-team@lists.example.org>
  <250 2.1.5 Ok
  >RCPT TO:<ops-request@lists.example.org>
  <250 2.1.5 Ok
  >DATA
  <354 End data with <CR><LF>.<CR><LF>
)";

TEST(SessionDataTest, LmtpOneReplyPerAcceptedRecipient) {
  Driver d(lmtp_options());
  ASSERT_TRUE(run_transcript(d, std::string(kLmtpStart) + R"(
    !hold
    >body\r\n.
    !result 250 2.0.0 Ok: queued as A1 | 452 4.2.2 Error: spool full | 550 5.7.1 Error: sender is not a member
    !release
    <250 2.0.0 Ok: queued as A1
    <452 4.2.2 Error: spool full
    <550 5.7.1 Error: sender is not a member
    >QUIT
    <221 2.0.0 Bye
  )"));
  EXPECT_EQ(d.messages.at(0).envelope.recipients,
            (std::vector<std::string>{"ops@lists.example.org", "red-team@lists.example.org",
                                      "ops-request@lists.example.org"}));
}

TEST(SessionDataTest, LmtpExpectsOneResultPerRecipient) {
  Driver d(lmtp_options());
  ASSERT_TRUE(run_transcript(d, std::string(kLmtpStart) + R"(
    !hold
    >body\r\n.
    !result 250 2.0.0 Ok: queued as A1
    !release
    <451 4.3.0 Error: internal error while queueing the message
    <451 4.3.0 Error: internal error while queueing the message
    <451 4.3.0 Error: internal error while queueing the message
  )"));
}

TEST(SessionDataTest, LmtpRefusedMessageGetsOneReplyPerRecipient) {
  Driver d(lmtp_options());
  ASSERT_TRUE(run_transcript(d, std::string(kLmtpStart) + R"(
    >bare\nLF\r\n.
    <554 5.6.0 Error: bare LF in message data is not allowed
    <554 5.6.0 Error: bare LF in message data is not allowed
    <554 5.6.0 Error: bare LF in message data is not allowed
  )"));
  EXPECT_EQ(d.refusals.back(), "DATA|554 5.6.0 Error: bare LF in message data is not allowed\r\n");
}

TEST(SessionDataTest, LmtpDefaultResultCount) {
  Driver d(lmtp_options());
  d.hold = true;
  d.feed(
      "LHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<ops@lists.example.org>\r\nRCPT "
      "TO:<ops@lists.example.org>\r\nDATA\r\n.\r\n");
  EXPECT_EQ(d.session.expected_result_count(), 2u);
}

}  // namespace
}  // namespace tlpmail::smtp::testing
