// Byte-exact transcripts for smtp::ClientSession: the relay's bytes are
// fed, the client's commands compared, and its events described as text.
// Scripts: "<" relay line (CRLF added), ">" client line expected (CRLF
// added), "!submit" (the next envelope), "!tls", "!quit", "!lost".
// The same relay bytes split at every position must give the same result.
#include "smtp/client.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace tlpmail::smtp {
namespace {

std::string describe(const ClientEvent& e) {
  std::ostringstream os;
  if (const auto* est = std::get_if<Established>(&e)) {
    const Extensions& x = est->extensions;
    os << "established" << (est->tls ? " tls" : "") << (est->esmtp ? "" : " helo")
       << (x.pipelining ? " pipelining" : "") << (x.eightbitmime ? " 8bitmime" : "")
       << (x.starttls ? " starttls" : "") << (x.enhanced_status_codes ? " enh" : "");
    if (x.size) os << " size=" << (x.max_size ? std::to_string(*x.max_size) : "-");
  } else if (std::holds_alternative<StartTlsReady>(e)) {
    os << "starttls-ready";
  } else if (const auto* d = std::get_if<TransactionDone>(&e)) {
    const TransactionResult& r = d->result;
    os << "done " << r.id << " " << to_string(r.outcome) << " ["
       << r.final.to_wire().substr(0, r.final.to_wire().size() - 2) << "]";
    if (!r.local_reason.empty()) os << " local=" << r.local_reason;
    for (const auto& rr : r.recipients) {
      os << " | " << rr.mailbox << " " << to_string(rr.outcome) << " " << rr.reply.code;
    }
  } else if (const auto* f = std::get_if<ConnectionFault>(&e)) {
    os << "fault" << (f->permanent ? " permanent" : "") << ": " << f->reason;
  }
  return os.str();
}

struct Trace {
  std::string output;               // everything the client wrote
  std::vector<std::string> events;  // described
  bool closed = false;
};

OutboundEnvelope env(std::vector<std::string> rcpts,
                     std::string body = "Subject: x\r\n\r\nhello\r\n",
                     std::string from = "ops-bounces@lists.example.org") {
  return {std::move(from), std::move(rcpts), std::move(body)};
}

// Runs a script step by step, failing the test at the first output that
// differs from the script's ">" lines.
Trace run_script(ClientOptions opts, std::string_view script, std::vector<OutboundEnvelope> envs) {
  ClientSession s(std::move(opts));
  Trace run;
  std::string want;
  std::size_t next_env = 0;
  auto collect = [&] {
    const std::string out = s.take_output();
    run.output += out;
    for (const auto& e : s.take_events()) run.events.push_back(describe(e));
  };
  auto check = [&](std::string_view at) {
    collect();
    EXPECT_EQ(run.output, want) << "before: " << at;
  };
  std::istringstream in{std::string(script)};
  std::string line;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    line = line.substr(first);
    const char kind = line[0];
    const std::string rest = line.substr(1);
    if (kind == '>') {
      want += rest + "\r\n";
      continue;
    }
    check(line);
    if (kind == '<') {
      s.feed(rest + "\r\n");
    } else if (rest == "submit") {
      s.submit(envs.at(next_env++));
    } else if (rest == "tls") {
      s.tls_started();
    } else if (rest == "quit") {
      s.quit();
    } else if (rest == "lost") {
      s.connection_lost();
    } else {
      ADD_FAILURE() << "bad script line " << line;
    }
  }
  check("end");
  run.closed = s.wants_close();
  return run;
}

// Submits every envelope, then feeds the relay's bytes piece by piece.
Trace run_pieces(ClientOptions opts, const std::vector<std::string_view>& pieces,
                 std::vector<OutboundEnvelope> envs) {
  ClientSession s(std::move(opts));
  Trace run;
  for (auto& e : envs) s.submit(std::move(e));
  for (std::string_view piece : pieces) s.feed(piece);
  run.output = s.take_output();
  for (const auto& e : s.take_events()) run.events.push_back(describe(e));
  run.closed = s.wants_close();
  return run;
}

// `relay` in two pieces, cut at `split_at`.
Trace run_split(ClientOptions opts, const std::string& relay, std::vector<OutboundEnvelope> envs,
                std::size_t split_at) {
  const std::string_view r(relay);
  return run_pieces(std::move(opts), {r.substr(0, split_at), r.substr(split_at)}, std::move(envs));
}

// `relay` one byte at a time.
Trace run_bytewise(ClientOptions opts, const std::string& relay,
                   std::vector<OutboundEnvelope> envs) {
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < relay.size(); ++i)
    bytes.push_back(std::string_view(relay).substr(i, 1));
  return run_pieces(std::move(opts), bytes, std::move(envs));
}

ClientOptions plain() { return {"relay-client.example.org", StartTlsPolicy::off, false}; }
ClientOptions opportunistic() {
  return {"relay-client.example.org", StartTlsPolicy::opportunistic, false};
}
ClientOptions required() { return {"relay-client.example.org", StartTlsPolicy::required, false}; }

using Events = std::vector<std::string>;

// The openings most relay scripts share: the relay's greeting and our EHLO,
// answered with PIPELINING alone or with no extension at all.
constexpr std::string_view kGreetPipelining = R"(
  <220 relay
  >EHLO relay-client.example.org
  <250-relay
  <250 PIPELINING
)";
constexpr std::string_view kGreetPlain = R"(
  <220 relay
  >EHLO relay-client.example.org
  <250 relay
)";
// env()'s default body as the client sends it after 354, final dot included.
constexpr std::string_view kDefaultBodySent = R"(
  >Subject: x
  >
  >hello
  >.
)";

// One script from its pieces, in order.
std::string script(std::initializer_list<std::string_view> pieces) {
  std::string s;
  for (std::string_view p : pieces) (s += p) += '\n';
  return s;
}

TEST(SmtpClientClassify, Table) {
  struct Case {
    int code;
    Outcome want;
  };
  const Case cases[] = {
      {250, Outcome::delivered}, {251, Outcome::delivered}, {200, Outcome::delivered},
      {421, Outcome::deferred},  {450, Outcome::deferred},  {451, Outcome::deferred},
      {452, Outcome::deferred},  {550, Outcome::failed},    {552, Outcome::failed},
      {554, Outcome::failed},    {599, Outcome::failed},    {354, Outcome::deferred},
      {199, Outcome::deferred},  {0, Outcome::deferred},    {600, Outcome::deferred}};
  for (const auto& c : cases) {
    const Outcome got = classify(Reply{c.code, "", "x"});
    EXPECT_EQ(got, c.want) << c.code;
  }
}

TEST(SmtpClient, RejectsBadHeloName) {
  EXPECT_THROW(ClientSession(ClientOptions{"", StartTlsPolicy::off, false}), std::invalid_argument);
  EXPECT_THROW(ClientSession(ClientOptions{"a b", StartTlsPolicy::off, false}),
               std::invalid_argument);
}

constexpr std::string_view kPipelined = R"(
  !submit
  <220 relay.example.org ESMTP
  >EHLO relay-client.example.org
  <250-relay.example.org
  <250-PIPELINING
  <250-SIZE 10240000
  <250-8BITMIME
  <250 ENHANCEDSTATUSCODES
  >MAIL FROM:<ops-bounces@lists.example.org> SIZE=21
  >RCPT TO:<alice@a.example>
  >RCPT TO:<bob@b.example>
  >DATA
  <250 2.1.0 Ok
  <250 2.1.5 Ok
  <250 2.1.5 Ok
  <354 End data with <CR><LF>.<CR><LF>
)";
constexpr std::string_view kPipelinedSecond = R"(
  <250 2.0.0 Ok: queued as A1
  !submit
  >MAIL FROM:<ops-bounces@lists.example.org> SIZE=21
  >RCPT TO:<carol@c.example>
  >DATA
  <250 2.1.0 Ok
  <250 2.1.5 Ok
  <354 go
)";
constexpr std::string_view kPipelinedEnd = R"(
  <250 2.0.0 Ok: queued as A2
  !quit
  >QUIT
  <221 2.0.0 Bye
)";

TEST(SmtpClient, PipelinedTransactionsOnOneConnection) {
  const Trace got = run_script(
      plain(),
      script({kPipelined, kDefaultBodySent, kPipelinedSecond, kDefaultBodySent, kPipelinedEnd}),
      {env({"alice@a.example", "bob@b.example"}), env({"carol@c.example"})});
  const Events want = {
      "established pipelining 8bitmime enh size=10240000",
      "done 1 delivered [250 2.0.0 Ok: queued as A1] | alice@a.example delivered 250 | "
      "bob@b.example delivered 250",
      "done 2 delivered [250 2.0.0 Ok: queued as A2] | carol@c.example delivered 250",
  };
  EXPECT_EQ(got.events, want);
  EXPECT_TRUE(got.closed);
}

constexpr std::string_view kLockstep = R"(
  <220 relay.example.org ESMTP
  >EHLO relay-client.example.org
  <250-relay.example.org
  <250 8BITMIME
  !submit
  >MAIL FROM:<ops-bounces@lists.example.org>
  <250 2.1.0 Ok
  >RCPT TO:<alice@a.example>
  <550 5.1.1 <alice@a.example>: no such user
  >RCPT TO:<bob@b.example>
  <250 2.1.5 Ok
  >DATA
  <354 go
)";

TEST(SmtpClient, LockstepWithoutPipeliningAndMixedRecipients) {
  const Trace got = run_script(plain(), script({kLockstep, kDefaultBodySent, "<250 2.0.0 Ok"}),
                               {env({"alice@a.example", "bob@b.example"})});
  const Events want = {
      "established 8bitmime",
      "done 1 delivered [250 2.0.0 Ok] | alice@a.example failed 550 | bob@b.example delivered 250",
  };
  EXPECT_EQ(got.events, want);
  EXPECT_FALSE(got.closed);
}

TEST(SmtpClient, PipelinedMixedRecipients) {
  const Trace got = run_script(plain(),
                               script({kGreetPipelining, R"(
    !submit
    >MAIL FROM:<ops-bounces@lists.example.org>
    >RCPT TO:<a@x>
    >RCPT TO:<b@x>
    >RCPT TO:<c@x>
    >DATA
    <250 2.1.0 Ok
    <250 2.1.5 Ok
    <550 5.1.1 no
    <451 4.3.0 later
    <354 go
  )",
                                       kDefaultBodySent, "<250 2.0.0 Ok"}),
                               {env({"a@x", "b@x", "c@x"})});
  const Events want = {
      "established pipelining",
      "done 1 delivered [250 2.0.0 Ok] | a@x delivered 250 | b@x failed 550 | c@x deferred 451",
  };
  EXPECT_EQ(got.events, want);
}

TEST(SmtpClient, DataRepliesDecideTheCopyAndRsetFollowsAFailure) {
  const Trace got = run_script(plain(),
                               script({kGreetPipelining, R"(
    !submit
    >MAIL FROM:<ops-bounces@lists.example.org>
    >RCPT TO:<a@x>
    >DATA
    !submit
    !submit
    <250 2.1.0 Ok
    <250 2.1.5 Ok
    <354 go
  )",
                                       kDefaultBodySent, R"(
    <451 4.3.0 try later
    >RSET
    >MAIL FROM:<ops-bounces@lists.example.org>
    >RCPT TO:<b@x>
    >DATA
    <250 2.0.0 Ok
    <250 2.1.0 Ok
    <250 2.1.5 Ok
    <554 5.7.1 rejected
    >RSET
    >MAIL FROM:<ops-bounces@lists.example.org>
    >RCPT TO:<c@x>
    >DATA
    <250 2.0.0 Ok
    <250 2.1.0 Ok
    <550 5.1.1 no
    <554 5.5.1 no valid recipients
  )"}),
                               {env({"a@x"}), env({"b@x"}), env({"c@x"})});
  const Events want = {
      "established pipelining",
      "done 1 deferred [451 4.3.0 try later] | a@x deferred 451",
      "done 2 failed [554 5.7.1 rejected] | b@x failed 554",
      "done 3 failed [550 5.1.1 no] | c@x failed 550",
  };
  EXPECT_EQ(got.events, want);
}

TEST(SmtpClient, LockstepMailRefusedThenRset) {
  const Trace got = run_script(plain(), script({kGreetPlain, R"(
    !submit
    >MAIL FROM:<ops-bounces@lists.example.org>
    <451 4.7.1 greylisted
    !submit
    >RSET
    <250 2.0.0 Ok
    >MAIL FROM:<ops-bounces@lists.example.org>
    <250 2.1.0 Ok
    >RCPT TO:<b@x>
    <452 4.2.2 full
  )"}),
                               {env({"a@x", "a2@x"}), env({"b@x"})});
  const Events want = {
      "established",
      "done 1 deferred [451 4.7.1 greylisted] | a@x deferred 451 | a2@x deferred 451",
      "done 2 deferred [452 4.2.2 full] | b@x deferred 452",
  };
  EXPECT_EQ(got.events, want);
}

TEST(SmtpClient, PipelinedNoValidRecipientButDataAccepted) {
  const Trace got = run_script(plain(), script({kGreetPipelining, R"(
    !submit
    >MAIL FROM:<ops-bounces@lists.example.org>
    >RCPT TO:<a@x>
    >DATA
    <250 2.1.0 Ok
    <550 5.1.1 no
    <354 go
    >.
    <554 5.5.1 no recipients
  )"}),
                               {env({"a@x"})});
  const Events want = {"established pipelining", "done 1 failed [550 5.1.1 no] | a@x failed 550"};
  EXPECT_EQ(got.events, want);
}

TEST(SmtpClient, HeloFallback) {
  const Trace got = run_script(plain(), R"(
    !submit
    <220 old.relay
    >EHLO relay-client.example.org
    <502 5.5.1 command not implemented
    >HELO relay-client.example.org
    <250 old.relay
    >MAIL FROM:<>
    <250 ok
    >RCPT TO:<a@x>
    <250 ok
    >DATA
    <354 go
    >..leading dot
    >...
    >..
    >x
    >.
    <250 ok
  )",
                               {env({"a@x"}, ".leading dot\r\n..\r\n.\r\nx", "")});
  const Events want = {"established helo", "done 1 delivered [250 ok] | a@x delivered 250"};
  EXPECT_EQ(got.events, want);
}

TEST(SmtpClient, StartTlsOpportunisticThenReEhlo) {
  const Trace got = run_script(opportunistic(),
                               script({R"(
    !submit
    <220 relay
    >EHLO relay-client.example.org
    <250-relay
    <250-STARTTLS
    <250 PIPELINING
    >STARTTLS
    <220 2.0.0 Ready to start TLS
    !tls
    >EHLO relay-client.example.org
    <250-relay
    <250-PIPELINING
    <250 SIZE
    >MAIL FROM:<ops-bounces@lists.example.org> SIZE=21
    >RCPT TO:<a@x>
    >DATA
    <250 2.1.0 Ok
    <250 2.1.5 Ok
    <354 go
  )",
                                       kDefaultBodySent, "<250 2.0.0 Ok"}),
                               {env({"a@x"})});
  const Events want = {"starttls-ready", "established tls pipelining size=-",
                       "done 1 delivered [250 2.0.0 Ok] | a@x delivered 250"};
  EXPECT_EQ(got.events, want);
}

TEST(SmtpClient, StartTlsOpportunisticNotOfferedOrRefusedGoesOnInClear) {
  Trace got = run_script(opportunistic(), kGreetPlain, {});
  EXPECT_EQ(got.events, Events{"established"});
  got = run_script(opportunistic(), R"(
    <220 relay
    >EHLO relay-client.example.org
    <250-relay
    <250 STARTTLS
    >STARTTLS
    <454 4.7.0 TLS not available
  )",
                   {});
  EXPECT_EQ(got.events, Events{"established starttls"});
  EXPECT_FALSE(got.closed);
}

TEST(SmtpClient, StartTlsRequiredNotOfferedFaults) {
  const Trace got =
      run_script(required(), script({"!submit", kGreetPipelining, ">QUIT"}), {env({"a@x"})});
  const Events want = {
      "done 1 deferred [451 4.7.0 local: relay does not offer STARTTLS] local=relay does not offer "
      "STARTTLS | a@x deferred 451",
      "fault permanent: relay does not offer STARTTLS"};
  EXPECT_EQ(got.events, want);
  EXPECT_TRUE(got.closed);
}

TEST(SmtpClient, StartTlsRequiredRefusedAndInjectionFault) {
  Trace got = run_script(required(), R"(
    <220 relay
    >EHLO relay-client.example.org
    <250-relay
    <250 STARTTLS
    >STARTTLS
    <454 4.7.0 TLS not available
    >QUIT
  )",
                         {});
  EXPECT_EQ(got.events, Events{"fault: relay refused STARTTLS (454 TLS not available)"});
  // Bytes after the 220 (here in the same read) are an injection attempt.
  ClientSession s(required());
  s.feed("220 relay\r\n");
  s.feed("250-relay\r\n250 STARTTLS\r\n");
  s.feed("220 go ahead\r\n250 injected\r\n");
  EXPECT_EQ(s.take_output(), "EHLO relay-client.example.org\r\nSTARTTLS\r\n");
  std::vector<std::string> events;
  for (const auto& e : s.take_events()) events.push_back(describe(e));
  EXPECT_EQ(events,
            (Events{"starttls-ready", "fault: relay sent data after its reply to STARTTLS"}));
  EXPECT_TRUE(s.wants_close());
}

TEST(SmtpClient, Reply421MidSessionDefersEverything) {
  const Trace got = run_script(plain(), script({"!submit", "!submit", kGreetPipelining, R"(
    >MAIL FROM:<ops-bounces@lists.example.org>
    >RCPT TO:<a@x>
    >RCPT TO:<b@x>
    >DATA
    <250 2.1.0 Ok
    <550 5.1.1 no
    <421 4.3.2 shutting down
  )"}),
                               {env({"a@x", "b@x"}), env({"c@x"})});
  const Events want = {
      "established pipelining",
      "done 1 deferred [421 4.3.2 shutting down] | a@x failed 550 | b@x deferred 421",
      "done 2 deferred [421 4.3.2 shutting down] | c@x deferred 421",
      "fault: relay closed the connection: 421 4.3.2 shutting down",
  };
  EXPECT_EQ(got.events, want);
  EXPECT_TRUE(got.closed);
}

TEST(SmtpClient, ConnectionLostDefersUnfinished) {
  const Trace got = run_script(plain(), script({"!submit", "!submit", kGreetPlain, R"(
    >MAIL FROM:<ops-bounces@lists.example.org>
    <250 ok
    >RCPT TO:<a@x>
    !lost
  )"}),
                               {env({"a@x"}), env({"b@x"})});
  const Events want = {
      "established",
      "done 1 deferred [451 4.4.2 local: connection to the relay lost] local=connection to the "
      "relay lost | a@x deferred 451",
      "done 2 deferred [451 4.4.2 local: connection to the relay lost] local=connection to the "
      "relay lost | b@x deferred 451",
  };
  EXPECT_EQ(got.events, want);
  EXPECT_TRUE(got.closed);
}

TEST(SmtpClient, EightBitBody) {
  const std::string body = "Subject: caf\xc3\xa9\r\n";
  Trace got = run_script(plain(), R"(
    !submit
    <220 relay
    >EHLO relay-client.example.org
    <250-relay
    <250-8BITMIME
    <250 SIZE 100
    >MAIL FROM:<ops-bounces@lists.example.org> SIZE=16 BODY=8BITMIME
  )",
                         {env({"a@x"}, body)});
  // Without 8BITMIME the copy fails here: no conversion (signatures).
  got = run_script(plain(), script({"!submit", kGreetPlain}), {env({"a@x"}, body)});
  EXPECT_EQ(got.events, (Events{"established",
                                "done 1 failed [554 5.6.3 local: relay lacks 8BITMIME] local=relay "
                                "lacks 8BITMIME | a@x failed 554"}));
}

TEST(SmtpClient, LocalRefusalsBeforeSending) {
  const Trace got = run_script(plain(), R"(
    <220 relay
    >EHLO relay-client.example.org
    <250-relay
    <250 SIZE 10
    !submit
    !submit
    !submit
    !submit
  )",
                               {env({"a@x"}, std::string(11, 'x')), env({}), env({"a@x>\r\nRSET"}),
                                env({"a@x"}, "bare\nLF\r\n")});
  const Events want = {
      "established size=10",
      "done 1 failed [552 5.3.4 local: message exceeds the relay's SIZE limit] local=message "
      "exceeds the relay's SIZE limit | a@x failed 552",
      "done 2 failed [554 5.5.1 local: no recipients] local=no recipients",
      "done 3 failed [553 5.1.3 local: address not sendable] local=address not sendable | "
      "a@x>\r\nRSET failed 553",
      "done 4 failed [554 5.6.0 local: body has a bare CR or LF] local=body has a bare CR or LF | "
      "a@x failed 554",
  };
  EXPECT_EQ(got.events, want);
}

TEST(SmtpClient, MalformedReplies) {
  struct Case {
    std::string name;
    std::string relay;
    std::string want_fault;
  };
  const std::vector<Case> cases = {
      {"bare LF", "220 relay\n", "fault: protocol error: bare LF in reply"},
      {"bare CR", "220 re\rlay\r\n", "fault: protocol error: bare CR in reply"},
      {"not a code", "hello\r\n", "fault: protocol error: malformed reply \"hello\""},
      {"bad separator", "220_relay\r\n", "fault: protocol error: malformed reply \"220_relay\""},
      {"code 1xx", "120 wait\r\n", "fault: protocol error: malformed reply \"120 wait\""},
      {"code changes", "220-a\r\n230 b\r\n",
       "fault: protocol error: multi-line reply changes its code"},
      {"line too long", "220 " + std::string(600, 'x') + "\r\n",
       "fault: protocol error: reply line too long"},
      {"reply too long",
       [] {
         std::string s;
         for (int i = 0; i < 200; ++i) s += "220-" + std::string(400, 'x') + "\r\n";
         return s;
       }(),
       "fault: protocol error: reply too long"},
      {"unsolicited", "220 relay\r\n250 ok\r\n250 extra\r\n",
       "fault: protocol error: unexpected reply 250"},
  };
  for (const auto& c : cases) {
    for (std::size_t at = 0; at <= c.relay.size(); at += (c.relay.size() > 100 ? 97 : 1)) {
      const Trace got = run_split(plain(), c.relay, {}, at);
      ASSERT_FALSE(got.events.empty()) << c.name;
      EXPECT_EQ(got.events.back(), c.want_fault) << c.name << " split at " << at;
      EXPECT_TRUE(got.closed) << c.name;
    }
  }
}

TEST(SmtpClient, GreetingRefused) {
  const Trace got = run_script(plain(), R"(
    !submit
    <554-relay
    <554 no service for you
    >QUIT
  )",
                               {env({"a@x"})});
  EXPECT_EQ(
      got.events,
      (Events{"done 1 deferred [451 4.4.0 local: relay refused the session (554 relay no service "
              "for you)] "
              "local=relay refused the session (554 relay no service for you) | a@x deferred 451",
              "fault: relay refused the session (554 relay no service for you)"}));
}

TEST(SmtpClient, MultiLineReplyText) {
  ClientSession s(plain());
  s.submit(env({"a@x"}));
  s.feed("220 relay\r\n250 relay\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n");
  s.feed("250-2.0.0 first line\r\n250-2.0.0 second\r\n250 2.0.0 queued as Q9\r\n");
  TransactionResult got;
  for (auto& e : s.take_events()) {
    if (auto* d = std::get_if<TransactionDone>(&e)) got = d->result;
  }
  const Reply want{250, "2.0.0", "first line second queued as Q9"};
  EXPECT_EQ(got.final, want);
  EXPECT_TRUE(s.is_idle());
}

TEST(SmtpClient, SubmitAfterCloseIsDeferred) {
  ClientSession s(plain());
  s.connection_lost();
  const TransactionId id = s.submit(env({"a@x"}));
  EXPECT_EQ(id, 1u);
  const auto events = s.take_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(describe(events[0]),
            "done 1 deferred [421 4.4.0 local: connection closing] local=connection closing | a@x "
            "deferred 421");
}

// The relay's bytes of whole sessions, fed split at every position and
// byte by byte: same commands, same events.
TEST(SmtpClient, SplitAnywhere) {
  struct Case {
    std::string name;
    ClientOptions opts;
    std::string relay;
    std::vector<OutboundEnvelope> envs;
  };
  const std::vector<Case> cases = {
      {"pipelined",
       plain(),
       "220 relay\r\n250-relay\r\n250-PIPELINING\r\n250-SIZE 100\r\n250 8BITMIME\r\n"
       "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 no\r\n354 go\r\n250 2.0.0 Ok\r\n"
       "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n451 4.3.0 later\r\n"
       "250 2.0.0 Ok\r\n421 4.3.2 bye\r\n",
       {env({"a@x", "b@x"}), env({"c@x"}), env({"d@x"})}},
      {"lockstep",
       plain(),
       "220-relay\r\n220 welcome\r\n502 no\r\n250 relay\r\n250 ok\r\n250 ok\r\n354 go\r\n250 "
       "ok\r\n",
       {env({"a@x"}, ".x\r\n")}},
  };
  for (const auto& c : cases) {
    const Trace whole = run_split(c.opts, c.relay, c.envs, c.relay.size());
    EXPECT_FALSE(whole.events.empty()) << c.name;
    for (std::size_t at = 0; at <= c.relay.size(); ++at) {
      const Trace got = run_split(c.opts, c.relay, c.envs, at);
      EXPECT_EQ(got.output, whole.output) << c.name << " split at " << at;
      EXPECT_EQ(got.events, whole.events) << c.name << " split at " << at;
    }
    const Trace bytes = run_bytewise(c.opts, c.relay, c.envs);
    EXPECT_EQ(bytes.output, whole.output) << c.name;
    EXPECT_EQ(bytes.events, whole.events) << c.name;
  }
  // And the pipelined one says what we expect.
  const Trace whole = run_split(cases[0].opts, cases[0].relay, cases[0].envs, 0);
  const Events want = {
      "established pipelining 8bitmime size=100",
      "done 1 delivered [250 2.0.0 Ok] | a@x delivered 250 | b@x failed 550",
      "done 2 deferred [451 4.3.0 later] | c@x deferred 451",
      "done 3 deferred [421 4.3.2 bye] | d@x deferred 421",
      "fault: relay closed the connection: 421 4.3.2 bye",
  };
  EXPECT_EQ(whole.events, want);
}

// Dot-stuffing by the book, for comparison: every line starting with '.'
// gets one more, then the terminating ".CRLF".
std::string stuffed(const std::string& body) {
  std::string out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    const std::size_t end = body.find("\r\n", pos);
    if (body[pos] == '.') out += '.';
    out.append(body, pos, end + 2 - pos);
    pos = end + 2;
  }
  return out + ".\r\n";
}

// A body made of parts, one of them shared by two copies, larger than one
// chunk: written chunk by chunk (never more than kBodyChunk of body at a
// time), dot-stuffed across part and chunk boundaries exactly as the whole
// would be, and the shared part is not copied into the envelope.
TEST(SmtpClient, BodyInSharedPartsIsWrittenInChunks) {
  std::string big;
  for (int i = 0; big.size() < 3 * kBodyChunk; ++i) {
    big += (i % 7 == 0) ? ".dot line " : "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=";
    big += std::to_string(i) + "\r\n";
  }
  auto shared = std::make_shared<const BodyPart>(big);
  MessageBody body("Subject: parts\r\n\r\n");
  body.append(".starts a part after a line end\r\n");
  body.append(shared);
  body.append(".last\r\n");
  EXPECT_EQ(body.size(), body.str().size());
  EXPECT_TRUE(body.crlf_only());
  EXPECT_EQ(shared.use_count(), 2);

  ClientSession s(plain());
  s.feed("220 relay\r\n");
  (void)s.take_output();
  s.feed("250-relay\r\n250 PIPELINING\r\n");
  s.submit({"ops-bounces@lists.example.org", {"a@x"}, body});
  s.submit({"ops-bounces@lists.example.org", {"b@x"}, body});
  EXPECT_EQ(shared.use_count(), 4);  // the two envelopes and ours, not copies
  for (const char* rcpt : {"a@x", "b@x"}) {
    std::string commands = s.take_output();
    EXPECT_NE(commands.find(std::string("RCPT TO:<") + rcpt + ">"), std::string::npos);
    s.feed(std::string(commands.starts_with("RSET") ? "250 ok\r\n" : "") +
           "250 ok\r\n250 ok\r\n354 go\r\n");
    std::string sent;
    int chunks = 0;
    while (s.has_output()) {
      const std::string out = s.take_output();
      EXPECT_LE(out.size(), kBodyChunk + 1);
      sent += out;
      ++chunks;
    }
    EXPECT_GE(chunks, 3) << rcpt;
    EXPECT_EQ(sent, stuffed(body.str())) << rcpt;
    s.feed("250 2.0.0 ok\r\n");
    bool delivered = false;
    for (const auto& e : s.take_events()) {
      if (const auto* d = std::get_if<TransactionDone>(&e)) {
        delivered = d->result.outcome == Outcome::delivered;
      }
    }
    EXPECT_TRUE(delivered) << rcpt;
  }
}

// A 421 in the middle of a chunked body: the rest is not written.
TEST(SmtpClient, BodyChunksStopWhenTheRelayCloses) {
  ClientSession s(plain());
  s.feed("220 relay\r\n250 relay\r\n");
  s.submit({"", {"a@x"}, MessageBody(std::string(4 * kBodyChunk, 'a') + "\r\n")});
  (void)s.take_output();
  s.feed("250 ok\r\n");
  (void)s.take_output();
  s.feed("250 ok\r\n");
  (void)s.take_output();
  s.feed("354 go\r\n");
  EXPECT_EQ(s.take_output().size(), kBodyChunk);
  s.feed("421 4.3.2 bye\r\n");
  EXPECT_TRUE(s.take_output().find("aaaa") == std::string::npos);
  EXPECT_FALSE(s.has_output());
  EXPECT_TRUE(s.wants_close());
}

}  // namespace
}  // namespace tlpmail::smtp
