// Transcript tests for the command side of smtp::Session: greeting, every
// command, sequence and syntax errors, limits on command lines, bare LF/CR
// in commands, STARTTLS, timeout, shutdown and the error limit.
#include <gtest/gtest.h>

#include <stdexcept>

#include "transcript.h"
#include "util/text.h"

namespace tlpmail::smtp::testing {
namespace {

TEST(SessionTest, GreetingSmtpAndLmtp) {
  Driver smtp;
  EXPECT_EQ(smtp.output, "220 lists.example.org ESMTP tlpmail\r\n");
  Driver lmtp(lmtp_options());
  EXPECT_EQ(lmtp.output, "220 lists.example.org LMTP tlpmail\r\n");
  EXPECT_TRUE(smtp.session.wants_input());
  EXPECT_FALSE(smtp.session.wants_close());
}

TEST(SessionTest, ConstructorRefusesBadOptions) {
  auto resolver = [](std::string_view) { return RcptDecision::accept(); };
  auto make = [&](auto change) {
    SessionOptions o = default_options();
    change(o);
    return Session(o, resolver);
  };
  EXPECT_THROW(make([](SessionOptions& o) { o.hostname = ""; }), std::invalid_argument);
  EXPECT_THROW(make([](SessionOptions& o) { o.hostname = "a b"; }), std::invalid_argument);
  EXPECT_THROW(make([](SessionOptions& o) { o.max_message_size = 0; }), std::invalid_argument);
  EXPECT_THROW(make([](SessionOptions& o) { o.max_recipients = 0; }), std::invalid_argument);
  EXPECT_THROW(make([](SessionOptions& o) { o.max_errors = 0; }), std::invalid_argument);
  EXPECT_THROW(make([](SessionOptions& o) { o.max_pending_input = 100; }), std::invalid_argument);
  EXPECT_THROW(Session(default_options(), nullptr), std::invalid_argument);
  EXPECT_NO_THROW(make([](SessionOptions&) {}));
}

TEST(SessionTest, TooManyConnectionsReply) {
  EXPECT_EQ(too_many_connections_reply("lists.example.org"),
            "421 4.3.2 lists.example.org Error: too many connections\r\n");
}

TEST(SessionTest, FullSmtpTransaction) {
  Driver d;
  ASSERT_TRUE(run_transcript(d, opened(Upto::greeting, R"(
    >EHLO client.example
    <@ehlo
    >MAIL FROM:<alice@csirt-a.example> SIZE=40 BODY=8BITMIME
    <250 2.1.0 Ok
    >RCPT TO:<ops@lists.example.org>
    <250 2.1.5 Ok
    >RCPT TO:<OPS-bounces+x@LISTS.example.org>
    <250 2.1.5 Ok
    >DATA
    <354 End data with <CR><LF>.<CR><LF>
    >Subject: hi\r\n\r\nbody line\r\n.
    <250 2.0.0 Ok: queued as Q1
    >QUIT
    <221 2.0.0 Bye
    !close
  )")));
  ASSERT_EQ(d.messages.size(), 1u);
  const Message& m = d.messages[0];
  EXPECT_EQ(m.body, "Subject: hi\r\n\r\nbody line\r\n");
  EXPECT_TRUE(m.ended);
  EXPECT_FALSE(m.aborted);
  Envelope want;
  want.helo = "client.example";
  want.esmtp = true;
  want.mail_from = "alice@csirt-a.example";
  want.body = BodyType::eight_bit_mime;
  want.declared_size = 40;
  want.recipients = {"ops@lists.example.org", "OPS-bounces+x@LISTS.example.org"};
  EXPECT_EQ(m.envelope, want);
  EXPECT_TRUE(d.refusals.empty());
}

TEST(SessionTest, HeloAndCaseInsensitiveVerbs) {
  Driver d;
  ASSERT_TRUE(run_transcript(d, opened(Upto::greeting, R"(
    >helo client.example
    <250 lists.example.org
    >mail from:<>
    <250 2.1.0 Ok
    >rcpt to:<ops@lists.example.org>
    <250 2.1.5 Ok
    >data
    <354 End data with <CR><LF>.<CR><LF>
    >x\r\n.
    <250 2.0.0 Ok: queued as Q1
    >quit
    <221 2.0.0 Bye
  )")));
  ASSERT_EQ(d.messages.size(), 1u);
  EXPECT_EQ(d.messages[0].envelope.mail_from, "");
  EXPECT_FALSE(d.messages[0].envelope.esmtp);
  EXPECT_EQ(d.messages[0].envelope.body, BodyType::unspecified);
}

TEST(SessionTest, HelloSyntax) {
  Driver d;
  ASSERT_TRUE(run_transcript(d, opened(Upto::greeting, R"(
    >EHLO
    <501 5.5.4 Syntax: EHLO hostname
    >HELO
    <501 5.5.4 Syntax: HELO hostname
    >EHLO two words
    <501 5.5.4 Syntax: EHLO hostname
    >EHLO bad\x01name
    <501 5.5.4 Syntax: EHLO hostname
    >LHLO client.example
    <502 5.5.1 Error: this is an SMTP server; use EHLO or HELO
    >EHLO [192.0.2.1]
    <250-lists.example.org
    <250-PIPELINING
    <250-SIZE 26214400
    <250-ENHANCEDSTATUSCODES
    <250 8BITMIME
  )")));
  EXPECT_EQ(d.refusals.front(), "EHLO|501 5.5.4 Syntax: EHLO hostname\r\n");
}

TEST(SessionTest, SequenceErrors) {
  Driver d;
  ASSERT_TRUE(run_transcript(d, opened(Upto::greeting, R"(
    >MAIL FROM:<a@b.example>
    <503 5.5.1 Error: send EHLO first
    >RCPT TO:<ops@lists.example.org>
    <503 5.5.1 Error: need MAIL command
    >DATA
    <503 5.5.1 Error: need MAIL command
    >EHLO c.example
    <@ehlo
    >MAIL FROM:<a@b.example>
    <250 2.1.0 Ok
    >MAIL FROM:<a@b.example>
    <503 5.5.1 Error: nested MAIL command
    >DATA
    <503 5.5.1 Error: need RCPT command
    >RCPT TO:<bob@lists.example.org>
    <550 5.1.1 <bob@lists.example.org>: Recipient address rejected: not a list address on this server
    >DATA
    <554 5.5.1 Error: no valid recipients
    >DATA extra
    <501 5.5.4 Syntax: DATA
    >RSET
    <250 2.0.0 Ok
    >RCPT TO:<ops@lists.example.org>
    <503 5.5.1 Error: need MAIL command
  )")));
  ASSERT_EQ(d.refusals.size(), 9u);
  EXPECT_EQ(d.refusals[0], "MAIL FROM:<a@b.example>|503 5.5.1 Error: send EHLO first\r\n");
}

TEST(SessionTest, LmtpSequenceAndHello) {
  Driver d(lmtp_options());
  ASSERT_TRUE(run_transcript(d, R"(
    <220 lists.example.org LMTP tlpmail
    >EHLO c.example
    <502 5.5.1 Error: this is an LMTP server; use LHLO
    >HELO c.example
    <502 5.5.1 Error: this is an LMTP server; use LHLO
    >MAIL FROM:<a@b.example>
    <503 5.5.1 Error: send LHLO first
    >LHLO c.example
    <@ehlo
    >HELP
    <214 2.0.0 Commands: LHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP
    >MAIL FROM:<a@b.example>
    <250 2.1.0 Ok
    >RCPT TO:<nobody@lists.example.org>
    <550 5.1.1 <nobody@lists.example.org>: Recipient address rejected: not a list address on this server
    >DATA
    <503 5.5.1 Error: no valid recipients
  )"));
}

TEST(SessionTest, MailArgumentErrors) {
  struct Case {
    std::string command;
    std::string want;
  };
  const std::string long_local(65, 'x');
  const Case cases[] = {
      {"MAIL FROM:alice@b.example", "501 5.5.4 Syntax: MAIL FROM:<address>"},
      {"MAIL TO:<alice@b.example>", "501 5.5.4 Syntax: MAIL FROM:<address>"},
      {"MAIL", "501 5.5.4 Syntax: MAIL FROM:<address>"},
      {"MAIL FROM:<alice@b.example", "501 5.1.7 Error: bad sender address syntax"},
      {"MAIL FROM:<alice>", "501 5.1.7 Error: bad sender address syntax"},
      {"MAIL FROM:<al ice@b.example>", "501 5.1.7 Error: bad sender address syntax"},
      {"MAIL FROM:<" + long_local + "@b.example>", "501 5.1.7 Error: sender address too long"},
      {"MAIL FROM:<a@b.example>SIZE=1", "501 5.5.4 Error: bad MAIL parameter syntax"},
      {"MAIL FROM:<a@b.example> SIZE=abc", "501 5.5.4 Error: bad SIZE value"},
      {"MAIL FROM:<a@b.example> SIZE", "501 5.5.4 Error: bad SIZE value"},
      {"MAIL FROM:<a@b.example> SIZE=123456789012345678901", "501 5.5.4 Error: bad SIZE value"},
      {"MAIL FROM:<a@b.example> SIZE=1 SIZE=2", "501 5.5.4 Error: duplicate SIZE parameter"},
      {"MAIL FROM:<a@b.example> BODY=BINARYMIME",
       "501 5.5.4 Error: bad BODY value (7BIT or 8BITMIME)"},
      {"MAIL FROM:<a@b.example> BODY=7BIT BODY=7BIT", "501 5.5.4 Error: duplicate BODY parameter"},
      {"MAIL FROM:<a@b.example> SMTPUTF8", "555 5.5.4 Error: unsupported MAIL parameter SMTPUTF8"},
      {"MAIL FROM:<a@b.example> ret=hdrs", "555 5.5.4 Error: unsupported MAIL parameter RET"},
      {"MAIL FROM:<a@b.example> SIZE=26214401",
       "552 5.3.4 Error: message size exceeds the limit of 26214400 bytes"},
      {"MAIL FROM:<a@b.example> SIZE=99999999999999999999",
       "552 5.3.4 Error: message size exceeds the limit of 26214400 bytes"},
  };
  for (const Case& c : cases) {
    Driver d;
    d.feed("EHLO c.example\r\n");
    EXPECT_EQ(d.answer(c.command + "\r\n"), c.want + "\r\n") << c.command;
    // The failed MAIL left no transaction behind.
    d.feed("RCPT TO:<ops@lists.example.org>\r\n");
    EXPECT_TRUE(d.output.ends_with("503 5.5.1 Error: need MAIL command\r\n")) << c.command;
  }
}

TEST(SessionTest, MailParametersAccepted) {
  struct Case {
    std::string command;
    BodyType body;
    std::optional<std::uint64_t> size;
  };
  const Case cases[] = {
      {"MAIL FROM:<a@b.example>", BodyType::unspecified, std::nullopt},
      {"MAIL FROM: <a@b.example>  ", BodyType::unspecified, std::nullopt},
      {"MAIL FROM:<a@b.example> SIZE=26214400", BodyType::unspecified, 26214400},
      {"MAIL FROM:<a@b.example> body=7bit size=0", BodyType::seven_bit, 0},
      {"MAIL FROM:<a@b.example> BODY=8BITMIME", BodyType::eight_bit_mime, std::nullopt},
      {"MAIL FROM:<@relay.example:a@b.example>", BodyType::unspecified, std::nullopt},
  };
  for (const Case& c : cases) {
    Driver d;
    d.feed("EHLO c.example\r\n" + c.command + "\r\nRCPT TO:<ops@lists.example.org>\r\nDATA\r\n");
    EXPECT_TRUE(d.output.ends_with(
        "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"))
        << c.command;
    ASSERT_EQ(d.messages.size(), 1u) << c.command;
    EXPECT_EQ(d.messages[0].envelope.mail_from, "a@b.example");
    EXPECT_EQ(d.messages[0].envelope.body, c.body) << c.command;
    EXPECT_EQ(d.messages[0].envelope.declared_size, c.size) << c.command;
  }
}

TEST(SessionTest, MailParametersNeedEhlo) {
  Driver d;
  ASSERT_TRUE(run_transcript(d, opened(Upto::greeting, R"(
    >HELO c.example
    <250 lists.example.org
    >MAIL FROM:<a@b.example> SIZE=10
    <555 5.5.4 Error: MAIL parameters require EHLO
    >MAIL FROM:<a@b.example>
    <250 2.1.0 Ok
  )")));
}

TEST(SessionTest, RcptArgumentErrors) {
  struct Case {
    std::string command;
    std::string want;
  };
  const Case cases[] = {
      {"RCPT TO:ops@lists.example.org", "501 5.5.4 Syntax: RCPT TO:<address>"},
      {"RCPT FROM:<ops@lists.example.org>", "501 5.5.4 Syntax: RCPT TO:<address>"},
      {"RCPT TO:<>", "501 5.1.3 Error: bad recipient address syntax"},
      {"RCPT TO:<ops@lists..example.org>", "501 5.1.3 Error: bad recipient address syntax"},
      {"RCPT TO:<" + std::string(65, 'o') + "@lists.example.org>",
       "501 5.1.3 Error: recipient address too long"},
      {"RCPT TO:<ops@lists.example.org>x", "501 5.5.4 Error: bad RCPT parameter syntax"},
      {"RCPT TO:<ops@lists.example.org> NOTIFY=NEVER",
       "555 5.5.4 Error: unsupported RCPT parameter NOTIFY"},
      {"RCPT TO:<Postmaster>",
       "550 5.1.1 <Postmaster>: Recipient address rejected: not a list address on this server"},
      {"RCPT TO:<ops@other.example>",
       "550 5.1.1 <ops@other.example>: Recipient address rejected: not a list address on this "
       "server"},
  };
  for (const Case& c : cases) {
    Driver d;
    d.feed("EHLO c.example\r\nMAIL FROM:<a@b.example>\r\n");
    EXPECT_EQ(d.answer(c.command + "\r\n"), c.want + "\r\n") << c.command;
  }
}

TEST(SessionTest, RcptSourceRouteAndCaseInsensitiveLists) {
  Driver d;
  ASSERT_TRUE(run_transcript(d, opened(Upto::mail, R"(
    >RCPT TO:<@hop1.example,@hop2.example:ops-request@lists.example.org>
    <250 2.1.5 Ok
    >RCPT TO:<red-team@lists.example.org>
    <250 2.1.5 Ok
    >RCPT TO:<RED-TEAM-bounces+alice=a.example@lists.EXAMPLE.org>
    <250 2.1.5 Ok
    >RCPT TO: <ops@lists.example.org>
    <250 2.1.5 Ok
    >DATA
    <354 End data with <CR><LF>.<CR><LF>
  )")));
  ASSERT_EQ(d.messages.size(), 1u);
  EXPECT_EQ(d.messages[0].envelope.recipients,
            (std::vector<std::string>{"ops-request@lists.example.org", "red-team@lists.example.org",
                                      "RED-TEAM-bounces+alice=a.example@lists.EXAMPLE.org",
                                      "ops@lists.example.org"}));
}

TEST(SessionTest, TooManyRecipients) {
  Driver d(default_options_with([](SessionOptions& o) {
    o.max_recipients = 2;
    o.max_errors = 3;  // 452 does not count as an error
  }));
  ASSERT_TRUE(run_transcript(d, opened(Upto::ehlo, R"(
    >MAIL FROM:<a@b.example>\r\nRCPT TO:<ops@lists.example.org>\r\nRCPT TO:<red-team@lists.example.org>\r\nRCPT TO:<ops-request@lists.example.org>\r\nRCPT TO:<ops+1@lists.example.org>\r\nRCPT TO:<ops+2@lists.example.org>\r\nRCPT TO:<ops+3@lists.example.org>\r\nDATA
    <250 2.1.0 Ok
    <250 2.1.5 Ok
    <250 2.1.5 Ok
    <452 4.5.3 Error: too many recipients
    <452 4.5.3 Error: too many recipients
    <452 4.5.3 Error: too many recipients
    <452 4.5.3 Error: too many recipients
    <354 End data with <CR><LF>.<CR><LF>
    >.
    <250 2.0.0 Ok: queued as Q1
    !open
  )")));
  EXPECT_EQ(d.messages.at(0).envelope.recipients.size(), 2u);
}

TEST(SessionTest, ResolverMisbehaviourBecomes451) {
  int calls = 0;
  Session s(default_options(), [&](std::string_view mailbox) -> RcptDecision {
    ++calls;
    if (mailbox == "throw@x.example") throw std::runtime_error("boom");
    if (mailbox == "bad@x.example")
      return RcptDecision::reject({250, "2.1.5", "Ok"});  // not a refusal
    if (mailbox == "inject@x.example") return RcptDecision::reject({550, "5.1.1", "no\r\n250 Ok"});
    if (mailbox == "temp@x.example") return RcptDecision::reject({450, "4.2.0", "try later"});
    return RcptDecision::accept();
  });
  s.feed(
      "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<throw@x.example>\r\nRCPT "
      "TO:<bad@x.example>\r\n"
      "RCPT TO:<inject@x.example>\r\nRCPT TO:<temp@x.example>\r\nRCPT TO:<ok@x.example>\r\n");
  const std::string out = s.take_output();
  EXPECT_TRUE(
      out.ends_with("250 2.1.0 Ok\r\n"
                    "451 4.3.0 Error: internal error while checking the recipient\r\n"
                    "451 4.3.0 Error: internal error while checking the recipient\r\n"
                    "451 4.3.0 Error: internal error while checking the recipient\r\n"
                    "450 4.2.0 try later\r\n"
                    "250 2.1.5 Ok\r\n"))
      << out;
  EXPECT_EQ(calls, 5);
}

TEST(SessionTest, SimpleCommands) {
  Driver d(default_options());
  ASSERT_TRUE(run_transcript(d, opened(Upto::greeting, R"(
    >NOOP
    <250 2.0.0 Ok
    >NOOP anything at all
    <250 2.0.0 Ok
    >VRFY ops@lists.example.org
    <252 2.0.0 Cannot VRFY user; use RCPT to find out
    >VRFY
    <501 5.5.4 Syntax: VRFY address
    >HELP
    <214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP
    >HELP MAIL
    <214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP
    >RSET
    <250 2.0.0 Ok
    >RSET now
    <501 5.5.4 Syntax: RSET
    >EXPN ops@lists.example.org
    <502 5.5.1 Error: command not implemented
    >AUTH PLAIN AGFsaWNlAHNlY3JldA==
    <502 5.5.1 Error: command not implemented
    >ETRN lists.example.org
    <502 5.5.1 Error: command not implemented
    >TURN
    <502 5.5.1 Error: command not implemented
    >BDAT 10 LAST
    <502 5.5.1 Error: command not implemented
    >STARTTLS
    <502 5.5.1 Error: STARTTLS not available
    >FOO
    <500 5.5.2 Error: command not recognized
    >
    <500 5.5.2 Error: command not recognized
    >GET / HTTP/1.1
    <500 5.5.2 Error: command not recognized
    >QUIT now
    <501 5.5.4 Syntax: QUIT
    >QUIT
    <221 2.0.0 Bye
    !close
    >NOOP
  )")));
  EXPECT_FALSE(d.session.wants_input());
}

TEST(SessionTest, RsetAndEhloEndTheTransaction) {
  Driver d;
  ASSERT_TRUE(run_transcript(d, opened(Upto::rcpt, R"(
    >RSET
    <250 2.0.0 Ok
    >DATA
    <503 5.5.1 Error: need MAIL command
    >MAIL FROM:<a@b.example>
    <250 2.1.0 Ok
    >EHLO again.example
    <@ehlo
    >RCPT TO:<ops@lists.example.org>
    <503 5.5.1 Error: need MAIL command
    >MAIL FROM:<c@d.example>
    <250 2.1.0 Ok
  )")));
}

TEST(SessionTest, CommandLineLimits) {
  // 510 octets of command plus CRLF is the longest allowed (RFC 5321 4.5.3.1.4).
  const std::string noop_510 = "NOOP " + std::string(505, 'x');
  const std::string noop_511 = noop_510 + "x";
  // MAIL may be 26 + 16 octets longer (RFC 1870, RFC 1652).
  const std::string mail_552 = "MAIL FROM:<a@b.example> SIZE=1" + std::string(552 - 30, ' ');
  const std::string mail_553 = mail_552 + " ";
  Driver d;
  ASSERT_TRUE(run_transcript(d,
                             "<220 lists.example.org ESMTP tlpmail\n"
                             ">" +
                                 noop_510 +
                                 "\n<250 2.0.0 Ok\n"
                                 ">" +
                                 noop_511 +
                                 "\n<500 5.5.2 Error: line too long\n"
                                 ">EHLO c.example\n<@ehlo\n"
                                 ">" +
                                 mail_553 +
                                 "\n<500 5.5.2 Error: line too long\n"
                                 ">" +
                                 mail_552 +
                                 "\n<250 2.1.0 Ok\n"
                                 ">RCPT TO:<ops@lists.example.org>\n<250 2.1.5 Ok\n"));
  EXPECT_EQ(d.refusals.at(0), "|500 5.5.2 Error: line too long\r\n");
}

TEST(SessionTest, OverlongCommandIsDiscardedUpToCrlf) {
  Driver d;
  // A 100 KB line in pieces, with something that looks like a command
  // inside it: the whole line is discarded and answered once.
  std::string junk(50000, 'a');
  ASSERT_TRUE(run_transcript(d,
                             "<220 lists.example.org ESMTP tlpmail\n"
                             ">NOOP " +
                                 junk +
                                 "\\c\n"
                                 ">QUIT" +
                                 junk +
                                 "\\r\\c\n"
                                 ">\\nNOOP\n"
                                 "<500 5.5.2 Error: line too long\n"
                                 "<250 2.0.0 Ok\n"));
  EXPECT_TRUE(d.session.wants_input());
}

TEST(SessionTest, BareLfAndCrInCommandsClose) {
  struct Case {
    std::string input;
    std::string want;
  };
  const Case cases[] = {
      {"NOOP\n", "500 5.5.2 Error: bare LF in command is not allowed\r\n"},
      {"\n", "500 5.5.2 Error: bare LF in command is not allowed\r\n"},
      {"NOOP\r\nNOOP\nQUIT\r\n",
       "250 2.0.0 Ok\r\n500 5.5.2 Error: bare LF in command is not allowed\r\n"},
      {"NOOP\rQUIT\r\n", "500 5.5.2 Error: bare CR in command is not allowed\r\n"},
      {"NOOP\r\r\n", "500 5.5.2 Error: bare CR in command is not allowed\r\n"},
      {"MAIL FROM:<a@b.example>\nRCPT TO:<ops@lists.example.org>\r\n",
       "500 5.5.2 Error: bare LF in command is not allowed\r\n"},
      {"NOOP " + std::string(600, 'x') + "\nNOOP\r\n",
       "500 5.5.2 Error: bare LF in command is not allowed\r\n"},
  };
  for (const Case& c : cases) {
    Driver d;
    const std::size_t before = d.output.size();
    d.feed(c.input);
    EXPECT_EQ(d.output.substr(before), c.want) << escape_for_log(c.input);
    EXPECT_TRUE(d.session.wants_close());
    d.feed("NOOP\r\n");
    EXPECT_EQ(d.output.substr(before), c.want) << "input after close must be ignored";
    const std::string last = c.want.substr(c.want.rfind("500 "));
    EXPECT_EQ(d.refusals.back(), "|" + last);
  }
}

TEST(SessionTest, CrLfSplitAcrossFeeds) {
  Driver d;
  ASSERT_TRUE(run_transcript(d, opened(Upto::greeting, R"(
    >NOOP\r\c
    >\nNO\c
    <250 2.0.0 Ok
    >OP\r\c
    >\c
    >\n\c
    <250 2.0.0 Ok
  )")));
}

TEST(SessionTest, ErrorLimitCloses) {
  Driver d(default_options_with([](SessionOptions& o) { o.max_errors = 3; }));
  ASSERT_TRUE(run_transcript(d, opened(Upto::greeting, R"(
    >FOO\r\nNOOP\r\nBAR\r\nMAIL FROM:<a@b.example>\r\nNOOP\r\nNOOP
    <500 5.5.2 Error: command not recognized
    <250 2.0.0 Ok
    <500 5.5.2 Error: command not recognized
    <503 5.5.1 Error: send EHLO first
    <421 4.7.0 lists.example.org Error: too many errors
    !close
  )")));
  EXPECT_EQ(d.refusals.back(), "|421 4.7.0 lists.example.org Error: too many errors\r\n");
}

TEST(SessionTest, TimeoutAndShutdown) {
  const std::string scripts[] = {
      R"(
        <220 lists.example.org ESMTP tlpmail
        !timeout
        <421 4.4.2 lists.example.org Error: timeout exceeded
        !close
        >NOOP
        !timeout
        !shutdown
      )",
      opened(Upto::ehlo, R"(
        !shutdown
        <421 4.3.2 lists.example.org Error: service shutting down, closing connection
        !close
      )"),
      opened(Upto::ehlo, R"(
        !lost
        !close
      )"),
  };
  for (const std::string& script : scripts) {
    Driver d;
    ASSERT_TRUE(run_transcript(d, script));
  }
}

TEST(SessionTest, StartTlsNotAdvertisedWithoutCertificate) {
  Driver d;
  d.feed("EHLO c.example\r\n");
  EXPECT_EQ(d.output.find("STARTTLS"), std::string::npos);
}

TEST(SessionTest, StartTlsDiscardsPipelinedInputAndResets) {
  Driver d(default_options_with([](SessionOptions& o) { o.starttls_available = true; }));
  ASSERT_TRUE(run_transcript(d, opened(Upto::greeting, R"(
    >EHLO c.example
    <@ehlo-tls
    >HELP
    <214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS
    >STARTTLS extra
    <501 5.5.4 Syntax: STARTTLS
    >MAIL FROM:<a@b.example>
    <250 2.1.0 Ok
    >STARTTLS
    <503 5.5.1 Error: STARTTLS not allowed during a mail transaction
    >RSET
    <250 2.0.0 Ok
    # The attack of CVE-2011-0411: commands pipelined behind STARTTLS in
    # plaintext must not be executed after the handshake.
    >STARTTLS\r\nMAIL FROM:<evil@x.example>\r\nRCPT TO:<ops@lists.example.org>
    <220 2.0.0 Ready to start TLS
    >NOOP
    !tls
    >MAIL FROM:<a@b.example>
    <503 5.5.1 Error: send EHLO first
    >EHLO c.example
    <@ehlo
    >HELP
    <214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP
    >STARTTLS
    <503 5.5.1 Error: TLS already active
  )" + transaction())));
  EXPECT_EQ(d.starttls_discards, (std::vector<std::size_t>{61}));
  EXPECT_TRUE(d.session.tls_active());
  ASSERT_EQ(d.messages.size(), 1u);
  EXPECT_TRUE(d.messages[0].envelope.tls);
  EXPECT_EQ(d.messages[0].envelope.mail_from, "a@b.example");
}

TEST(SessionTest, StartTlsStateQueries) {
  Driver d(default_options_with([](SessionOptions& o) { o.starttls_available = true; }));
  d.feed("STARTTLS\r\n");
  EXPECT_TRUE(d.session.awaiting_tls());
  EXPECT_FALSE(d.session.wants_input());
  EXPECT_FALSE(d.session.tls_active());
  d.session.tls_started();
  EXPECT_FALSE(d.session.awaiting_tls());
  EXPECT_TRUE(d.session.wants_input());
  EXPECT_TRUE(d.session.tls_active());
  d.session.tls_started();  // no handshake pending: nothing happens
  EXPECT_TRUE(d.session.wants_input());
}

}  // namespace
}  // namespace tlpmail::smtp::testing
