// Tests of delivery::Relay against real SMTP peers on 127.0.0.1: the
// project's tests/e2e/sink.py (started with python3) and Postfix's
// smtp-sink for failure modes (refused greeting, 421, dropped connection,
// slow DATA). Connection reuse, per-recipient results, deferrals, the
// relay being down, STARTTLS (certificates made with openssl at test
// time), timeouts, stop() and exact body bytes. Every wait is bounded.
#include "delivery/relay.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "log/log.h"
#include "sink_support.h"

namespace tlpmail::delivery {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using asio::ip::tcp;
using namespace test_support;

// Postfix's smtp-sink with the given options, on a port found free.
class PostfixSink {
 public:
  explicit PostfixSink(std::vector<std::string> options) {
    port_ = free_port();
    std::vector<std::string> argv = {"/usr/sbin/smtp-sink"};
    if (::geteuid() == 0) {
      argv.push_back("-u");
      argv.push_back("root");
    }
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back("127.0.0.1:" + std::to_string(port_));
    argv.push_back("10");
    child_ = std::make_unique<Child>(argv, dir_.file("stdout"), dir_.file("stderr"));
    for (int i = 0; i < 500 && !ready_; ++i) {  // 10 s
      ready_ = can_connect(port_);
      if (!ready_ && !child_->running()) break;
      if (!ready_) std::this_thread::sleep_for(20ms);
    }
  }
  bool ready() const { return ready_; }
  std::uint16_t port() const { return port_; }

 private:
  TempDir dir_;  // first: removed after the child is gone
  std::unique_ptr<Child> child_;
  std::uint16_t port_ = 0;
  bool ready_ = false;
};

smtp::OutboundEnvelope envelope(std::vector<std::string> rcpts, std::string body = "") {
  if (body.empty()) body = "Subject: test\r\n\r\nhello\r\n";
  return {"list-bounces@lists.example.org", std::move(rcpts), std::move(body)};
}

RelayOptions options_for(std::uint16_t port) {
  return local_relay_options(port, "relay-test.example.org");
}

// The io_context, a Relay on it and what its completions reported.
class RelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // TLPMAIL_TEST_LOG=debug shows the relay's log lines.
    if (const char* level = std::getenv("TLPMAIL_TEST_LOG")) {
      log::init(level, log::Sink::stderr_only);
    }
  }
  void TearDown() override {
    if (relay_ && !stopped_) stop(0ms);
    relay_.reset();
    io_.run_for(50ms);
  }

  void make(RelayOptions o) {
    relay_ = std::make_unique<Relay>(io_.get_executor(), std::move(o),
                                     [this](std::uint64_t id, const smtp::TransactionResult& r) {
                                       ++calls_[id];
                                       results_[id] = r;
                                       if (relay_) {
                                         max_connections_seen_ = std::max(
                                             max_connections_seen_, relay_->connections());
                                       }
                                     });
  }

  void submit(std::uint64_t id, smtp::OutboundEnvelope e) { relay_->submit(Job{id, std::move(e)}); }

  // Runs the io_context one handler at a time until pred() or the time
  // limit; false on timeout.
  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds limit = 20s) {
    return test_support::run_until(io_, pred, limit);
  }

  bool all_done(std::size_t n) {
    return run_until([&] { return results_.size() >= n; });
  }

  void stop(std::chrono::milliseconds grace) {
    bool done = false;
    asio::co_spawn(io_, relay_->stop(grace), [&](std::exception_ptr) { done = true; });
    EXPECT_TRUE(run_until([&] { return done; }, 30s)) << "stop() did not finish";
    stopped_ = true;
  }

  const smtp::TransactionResult& result(std::uint64_t id) { return results_.at(id); }

  asio::io_context io_;
  std::unique_ptr<Relay> relay_;
  std::map<std::uint64_t, int> calls_;
  std::map<std::uint64_t, smtp::TransactionResult> results_;
  std::size_t max_connections_seen_ = 0;
  bool stopped_ = false;
};

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// --- delivery and connection reuse ---

TEST_F(RelayTest, ManyJobsReuseAtMostMaxConnections) {
  SinkPy sink;
  ASSERT_NE(sink.port(), 0) << sink.log();
  auto o = options_for(sink.port());
  o.max_connections = 2;
  make(o);
  const int kJobs = 20;
  for (int i = 1; i <= kJobs; ++i) {
    submit(i, envelope({"member" + std::to_string(i) + "@example.org"},
                       "Subject: copy " + std::to_string(i) + "\r\n\r\nbody\r\n"));
  }
  EXPECT_EQ(relay_->queued(), 20u);
  EXPECT_EQ(relay_->connections(), 2u);  // opened on demand, capped
  EXPECT_EQ(relay_->in_flight(), 0u);
  ASSERT_TRUE(all_done(kJobs));
  for (int i = 1; i <= kJobs; ++i) {
    EXPECT_EQ(calls_[i], 1) << "job " << i;
    EXPECT_EQ(result(i).outcome, smtp::Outcome::delivered) << "job " << i << " "
                                                           << result(i).final.text;
    EXPECT_EQ(result(i).final.code, 250);
  }
  EXPECT_LE(max_connections_seen_, 2u);
  ASSERT_EQ(sink.messages(), kJobs);
  std::set<int> conns;
  for (int n = 1; n <= kJobs; ++n) conns.insert(sink.connection_of(n));
  EXPECT_LE(conns.size(), 2u);
  EXPECT_EQ(conns.count(-1), 0u);
  EXPECT_EQ(relay_->queued(), 0u);
  EXPECT_EQ(relay_->in_flight(), 0u);
  // Idle connections send QUIT and close after idle_close.
  EXPECT_TRUE(run_until([&] { return relay_->connections() == 0; }, 5s));
}

TEST_F(RelayTest, IdleConnectionClosesAndANewOneOpensForLaterJobs) {
  SinkPy sink;
  ASSERT_NE(sink.port(), 0) << sink.log();
  make(options_for(sink.port()));
  submit(1, envelope({"a@example.org"}));
  ASSERT_TRUE(all_done(1));
  EXPECT_EQ(relay_->connections(), 1u);  // kept open for reuse
  submit(2, envelope({"b@example.org"}));
  ASSERT_TRUE(all_done(2));
  ASSERT_TRUE(run_until([&] { return relay_->connections() == 0; }, 5s));
  submit(3, envelope({"c@example.org"}));
  ASSERT_TRUE(all_done(3));
  ASSERT_EQ(sink.messages(), 3);
  EXPECT_EQ(sink.connection_of(1), 1);
  EXPECT_EQ(sink.connection_of(2), 1);  // reused
  EXPECT_EQ(sink.connection_of(3), 2);  // after the idle close
  EXPECT_TRUE(run_until([&] { return contains(sink.log(), "conn=1 disconnect"); }, 5s))
      << sink.log();
}

// --- outcomes ---

// With PIPELINING (one write per copy) and without (one command per reply).
TEST_F(RelayTest, PerRecipientOutcomes) {
  struct Case {
    std::vector<std::string> rcpts;
    smtp::Outcome want;
    int want_code;
    std::vector<smtp::Outcome> want_rcpts;
  };
  using smtp::Outcome;
  const std::vector<Case> cases = {
      {{"good@example.org", "bad@example.org", "later@example.org"},
       Outcome::delivered,
       250,
       {Outcome::delivered, Outcome::failed, Outcome::deferred}},
      {{"bad@example.org"}, Outcome::failed, 550, {Outcome::failed}},
      {{"later@example.org"}, Outcome::deferred, 450, {Outcome::deferred}},
      {{"later@example.org", "bad@example.org"},
       Outcome::deferred,
       450,
       {Outcome::deferred, Outcome::failed}},
      {{"other@example.org"}, Outcome::delivered, 250, {Outcome::delivered}},
  };
  for (const bool pipelining : {true, false}) {
    SCOPED_TRACE(pipelining ? "pipelining" : "lockstep");
    std::vector<std::string> args = {"--reject-rcpt", "bad@example.org", "--defer-rcpt",
                                     "later@example.org"};
    if (!pipelining) args.push_back("--no-pipelining");
    SinkPy sink(args);
    ASSERT_NE(sink.port(), 0) << sink.log();
    results_.clear();
    stopped_ = false;
    make(options_for(sink.port()));
    for (std::size_t i = 0; i < cases.size(); ++i) submit(i + 1, envelope(cases[i].rcpts));
    ASSERT_TRUE(all_done(cases.size()));
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const auto& got = result(i + 1);
      const auto& c = cases[i];
      EXPECT_EQ(got.outcome, c.want) << "case " << i;
      EXPECT_EQ(got.final.code, c.want_code) << "case " << i;
      ASSERT_EQ(got.recipients.size(), c.rcpts.size()) << "case " << i;
      for (std::size_t r = 0; r < c.rcpts.size(); ++r) {
        EXPECT_EQ(got.recipients[r].mailbox, c.rcpts[r]);
        EXPECT_EQ(got.recipients[r].outcome, c.want_rcpts[r]) << "case " << i << " rcpt " << r;
      }
      EXPECT_TRUE(got.local_reason.empty()) << got.local_reason;
    }
    EXPECT_EQ(result(1).recipients[1].reply.enhanced, "5.1.1");
    EXPECT_EQ(result(1).recipients[2].reply.enhanced, "4.2.0");
    ASSERT_EQ(sink.messages(), 2);
    EXPECT_TRUE(contains(sink.json(1), "\"rcpt_to\": [\"good@example.org\"]")) << sink.json(1);
    EXPECT_TRUE(contains(sink.json(2), "\"rcpt_to\": [\"other@example.org\"]")) << sink.json(2);
    EXPECT_EQ(sink.connection_of(2), 1);  // after refusals: RSET, same connection
    stop(1s);
    relay_.reset();
  }
}

TEST_F(RelayTest, DataEndDeferredThenNextDelivered) {
  SinkPy sink({"--defer-first", "1"});
  ASSERT_NE(sink.port(), 0) << sink.log();
  make(options_for(sink.port()));
  submit(1, envelope({"a@example.org", "b@example.org"}));
  submit(2, envelope({"a@example.org"}));
  ASSERT_TRUE(all_done(2));
  EXPECT_EQ(result(1).outcome, smtp::Outcome::deferred);
  EXPECT_EQ(result(1).final.code, 451);
  EXPECT_EQ(result(1).final.enhanced, "4.3.0");
  for (const auto& r : result(1).recipients) EXPECT_EQ(r.outcome, smtp::Outcome::deferred);
  EXPECT_EQ(result(2).outcome, smtp::Outcome::delivered);
  EXPECT_EQ(sink.messages(), 1);
  EXPECT_EQ(sink.connection_of(1), 1);  // RSET, then the same connection
}

TEST_F(RelayTest, BodyArrivesExactly) {
  SinkPy sink;
  ASSERT_NE(sink.port(), 0) << sink.log();
  make(options_for(sink.port()));
  struct Case {
    std::string body, want;
  };
  // About 400 KB: many reads and writes, dot lines among them.
  std::string long_body = "Subject: long\r\n\r\n";
  for (int i = 0; i < 5000; ++i) {
    long_body += (i % 100 == 0 ? "." : "") + std::string(76, static_cast<char>('a' + i % 26)) + "\r\n";
  }
  const std::vector<Case> cases = {
      {"Subject: dots\r\n\r\n.\r\n..\r\n.x\r\n...\r\nend\r\n",
       "Subject: dots\r\n\r\n.\r\n..\r\n.x\r\n...\r\nend\r\n"},
      {"Subject: last line has no CRLF\r\n\r\n.", "Subject: last line has no CRLF\r\n\r\n.\r\n"},
      {"Subject: blank lines\r\n\r\n\r\n\r\n.\r\n\r\n", "Subject: blank lines\r\n\r\n\r\n\r\n.\r\n\r\n"},
      {"Subject: 8bit\r\n\r\ngr\xc3\xbc\xc3\x9f\x65 \xe2\x82\xac\r\n",
       "Subject: 8bit\r\n\r\ngr\xc3\xbc\xc3\x9f\x65 \xe2\x82\xac\r\n"},
      {long_body, long_body},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    submit(i + 1, envelope({"m@example.org"}, cases[i].body));
  }
  ASSERT_TRUE(all_done(cases.size()));
  ASSERT_EQ(sink.messages(), static_cast<int>(cases.size()));
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(result(i + 1).outcome, smtp::Outcome::delivered) << result(i + 1).final.text;
    const std::string got = sink.eml(static_cast<int>(i + 1));
    EXPECT_TRUE(got == cases[i].want) << "case " << i << ": got " << got.size() << " bytes, want "
                                      << cases[i].want.size();
  }
  EXPECT_TRUE(contains(sink.json(4), "BODY=8BITMIME")) << sink.json(4);
}

// --- the relay down or refusing ---

TEST_F(RelayTest, RelayDownDefersEveryQueuedJobPromptly) {
  const std::uint16_t port = free_port();  // nothing listens there
  auto o = options_for(port);
  o.max_connections = 2;
  make(o);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 1; i <= 5; ++i) submit(i, envelope({"m@example.org", "n@example.org"}));
  ASSERT_TRUE(all_done(5));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  const std::string want = "cannot connect to relay 127.0.0.1:" + std::to_string(port) + ": ";
  for (int i = 1; i <= 5; ++i) {
    EXPECT_EQ(calls_[i], 1);
    EXPECT_EQ(result(i).outcome, smtp::Outcome::deferred);
    EXPECT_EQ(result(i).local_reason.rfind(want, 0), 0u) << result(i).local_reason;
    EXPECT_EQ(result(i).final.code, 451);
    ASSERT_EQ(result(i).recipients.size(), 2u);
    EXPECT_EQ(result(i).recipients[1].outcome, smtp::Outcome::deferred);
  }
  EXPECT_EQ(relay_->queued(), 0u);
  EXPECT_TRUE(run_until([&] { return relay_->connections() == 0; }, 5s));
  // No reconnect loop: nothing more happens without a new job.
  run_until([] { return false; }, 200ms);
  EXPECT_EQ(relay_->connections(), 0u);
  // A later job tries again (one connection) and is deferred the same way.
  submit(6, envelope({"m@example.org"}));
  EXPECT_EQ(relay_->connections(), 1u);
  ASSERT_TRUE(all_done(6));
  EXPECT_EQ(result(6).local_reason.rfind(want, 0), 0u) << result(6).local_reason;
}

TEST_F(RelayTest, GreetingRefusedDefersWithTheRelaysReply) {
  PostfixSink sink({"-f", "CONNECT"});
  ASSERT_TRUE(sink.ready());
  make(options_for(sink.port()));
  submit(1, envelope({"m@example.org"}));
  submit(2, envelope({"m@example.org"}));
  ASSERT_TRUE(all_done(2));
  const std::string want =
      "relay 127.0.0.1:" + std::to_string(sink.port()) + " refused the session (500 ";
  for (int i = 1; i <= 2; ++i) {
    EXPECT_EQ(result(i).outcome, smtp::Outcome::deferred);
    EXPECT_EQ(result(i).local_reason.rfind(want, 0), 0u) << result(i).local_reason;
  }
}

TEST_F(RelayTest, ServiceClosingOnMailDefersWith421) {
  PostfixSink sink({"-Q", "MAIL"});
  ASSERT_TRUE(sink.ready());
  make(options_for(sink.port()));
  submit(1, envelope({"m@example.org"}));
  ASSERT_TRUE(all_done(1));
  EXPECT_EQ(result(1).outcome, smtp::Outcome::deferred);
  EXPECT_EQ(result(1).final.code, 421);
  EXPECT_TRUE(run_until([&] { return relay_->connections() == 0; }, 5s));
}

TEST_F(RelayTest, ConnectionDroppedAfterTheBodyDefersAndDoesNotLoop) {
  PostfixSink sink({"-q", "."});  // disconnects, without a reply, after "."
  ASSERT_TRUE(sink.ready());
  make(options_for(sink.port()));
  for (int i = 1; i <= 3; ++i) submit(i, envelope({"m@example.org"}));
  ASSERT_TRUE(all_done(3));
  const std::string want = "relay 127.0.0.1:" + std::to_string(sink.port()) + " closed the connection";
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(calls_[i], 1);
    EXPECT_EQ(result(i).outcome, smtp::Outcome::deferred);
    EXPECT_EQ(result(i).local_reason, want);
    EXPECT_EQ(result(i).final.text, "local: " + want);
  }
  EXPECT_TRUE(run_until([&] { return relay_->connections() == 0; }, 5s));
  run_until([] { return false; }, 200ms);
  EXPECT_EQ(relay_->connections(), 0u);
}

TEST_F(RelayTest, SilentRelayTimesOut) {
  // Listening (the kernel completes the handshake) but never greeting.
  tcp::acceptor silent(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const std::uint16_t port = silent.local_endpoint().port();
  auto o = options_for(port);
  o.timeouts.reply = 300ms;
  make(o);
  submit(1, envelope({"m@example.org"}));
  submit(2, envelope({"m@example.org"}));
  ASSERT_TRUE(all_done(2));
  const std::string want = "no reply from relay 127.0.0.1:" + std::to_string(port) + " within 300 ms";
  for (int i = 1; i <= 2; ++i) {
    EXPECT_EQ(result(i).outcome, smtp::Outcome::deferred);
    EXPECT_EQ(result(i).local_reason, want);
  }
}

TEST_F(RelayTest, EndOfDataHasItsOwnTimeout) {
  PostfixSink sink({"-W", ".:1"});  // answers the end of the message after 1 s
  ASSERT_TRUE(sink.ready());
  struct Case {
    std::chrono::milliseconds data_end;
    smtp::Outcome want;
  };
  const std::vector<Case> cases = {{5s, smtp::Outcome::delivered},
                                   {300ms, smtp::Outcome::deferred}};
  for (const auto& c : cases) {
    auto o = options_for(sink.port());
    o.timeouts.reply = 300ms;  // shorter than the wait: only data_end may apply
    o.timeouts.data_end = c.data_end;
    results_.clear();
    make(o);
    submit(1, envelope({"m@example.org"}));
    ASSERT_TRUE(all_done(1));
    EXPECT_EQ(result(1).outcome, c.want) << result(1).local_reason;
    if (c.want == smtp::Outcome::deferred) {
      EXPECT_EQ(result(1).local_reason,
                "no reply from relay 127.0.0.1:" + std::to_string(sink.port()) + " within 300 ms");
    }
    stop(1s);
    relay_.reset();
  }
}

TEST_F(RelayTest, DestroyedWithoutStopStillCompletesEveryJob) {
  SinkPy sink;
  ASSERT_NE(sink.port(), 0) << sink.log();
  make(options_for(sink.port()));
  for (int i = 1; i <= 3; ++i) submit(i, envelope({"m@example.org"}));
  ASSERT_TRUE(run_until([&] { return relay_->in_flight() == 1; }, 10s));
  relay_.reset();  // breaks the REQUIRES on purpose: nothing may be lost or used after free
  ASSERT_TRUE(all_done(3));
  run_until([] { return false; }, 200ms);
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(calls_[i], 1);
    if (result(i).outcome != smtp::Outcome::delivered) {
      EXPECT_EQ(result(i).local_reason, "relay client stopping");
    }
  }
  EXPECT_EQ(result(3).outcome, smtp::Outcome::deferred);
}

// --- STARTTLS ---

class RelayTlsTest : public RelayTest {
 protected:
  void SetUp() override {
    RelayTest::SetUp();
    std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
        "-subj /CN=localhost -keyout " +
        dir_.file("key.pem") + " -out " + dir_.file("cert.pem") + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  std::vector<std::string> tls_args() const {
    return {"--tls-cert", dir_.file("cert.pem"), "--tls-key", dir_.file("key.pem")};
  }
  TempDir dir_;
};

TEST_F(RelayTlsTest, Outcomes) {
  struct Case {
    std::string name;
    bool sink_tls;
    smtp::StartTlsPolicy policy;
    bool context;
    smtp::Outcome want;
    bool want_tls;            // what the sink saw, when delivered
    std::string want_reason;  // local_reason, when deferred; %P is the port
  };
  using P = smtp::StartTlsPolicy;
  using O = smtp::Outcome;
  const std::vector<Case> cases = {
      {"required, offered", true, P::required, true, O::delivered, true, ""},
      {"opportunistic, offered", true, P::opportunistic, true, O::delivered, true, ""},
      {"opportunistic, not offered", false, P::opportunistic, true, O::delivered, false, ""},
      {"opportunistic, no context", true, P::opportunistic, false, O::delivered, false, ""},
      {"off, offered", true, P::off, true, O::delivered, false, ""},
      {"required, not offered", false, P::required, true, O::deferred, false,
       "relay 127.0.0.1:%P does not offer STARTTLS"},
      {"required, no context", true, P::required, false, O::deferred, false,
       "STARTTLS to relay 127.0.0.1:%P required but no TLS client context"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto sink = std::make_unique<SinkPy>(c.sink_tls ? tls_args() : std::vector<std::string>{});
    ASSERT_NE(sink->port(), 0) << sink->log();
    auto o = options_for(sink->port());
    o.starttls = c.policy;
    if (c.context) o.tls = make_relay_tls_context();
    results_.clear();
    calls_.clear();
    stopped_ = false;
    make(o);
    submit(1, envelope({"m@example.org"}));
    submit(2, envelope({"n@example.org"}));
    ASSERT_TRUE(all_done(2));
    for (int i = 1; i <= 2; ++i) {
      EXPECT_EQ(result(i).outcome, c.want) << result(i).local_reason;
      if (c.want == O::deferred) {
        std::string want = c.want_reason;
        want.replace(want.find("%P"), 2, std::to_string(sink->port()));
        EXPECT_EQ(result(i).local_reason, want);
      }
    }
    if (c.want == O::delivered) {
      ASSERT_EQ(sink->messages(), 2);
      const std::string want_tls = c.want_tls ? "\"tls\": true" : "\"tls\": false";
      EXPECT_TRUE(contains(sink->json(1), want_tls)) << sink->json(1);
      EXPECT_TRUE(contains(sink->json(2), want_tls)) << sink->json(2);
    } else {
      EXPECT_EQ(sink->messages(), 0);
    }
    stop(1s);
    relay_.reset();
  }
}

TEST_F(RelayTlsTest, HandshakeFailureDefers) {
  // A client context that verifies certificates, against the sink's
  // self-signed one: the handshake fails.
  SinkPy sink(tls_args());
  ASSERT_NE(sink.port(), 0) << sink.log();
  auto o = options_for(sink.port());
  o.starttls = smtp::StartTlsPolicy::required;
  o.tls = make_relay_tls_context();
  o.tls->set_verify_mode(asio::ssl::verify_peer);
  make(o);
  submit(1, envelope({"m@example.org"}));
  ASSERT_TRUE(all_done(1));
  EXPECT_EQ(result(1).outcome, smtp::Outcome::deferred);
  const std::string want = "TLS handshake with relay 127.0.0.1:" + std::to_string(sink.port()) +
                           " failed: certificate verify failed";
  EXPECT_EQ(result(1).local_reason, want);
  EXPECT_EQ(sink.messages(), 0);
}

// --- stop() ---

TEST_F(RelayTest, StopDefersQueuedJobsExactlyOnce) {
  SinkPy sink;
  ASSERT_NE(sink.port(), 0) << sink.log();
  make(options_for(sink.port()));
  for (int i = 1; i <= 5; ++i) submit(i, envelope({"m@example.org"}));
  stop(1s);
  ASSERT_EQ(results_.size(), 5u);
  for (int i = 1; i <= 5; ++i) {
    EXPECT_EQ(calls_[i], 1);
    EXPECT_EQ(result(i).outcome, smtp::Outcome::deferred);
    EXPECT_EQ(result(i).local_reason, "relay client stopping");
  }
  EXPECT_EQ(relay_->connections(), 0u);
  EXPECT_EQ(relay_->queued(), 0u);
  // A job after stop() is deferred too (posted, not from inside submit()).
  submit(6, envelope({"m@example.org"}));
  EXPECT_EQ(calls_.count(6), 0u);
  ASSERT_TRUE(all_done(6));
  EXPECT_EQ(result(6).local_reason, "relay client stopping");
  run_until([] { return false; }, 200ms);
  for (int i = 1; i <= 6; ++i) EXPECT_EQ(calls_[i], 1);
  EXPECT_EQ(sink.messages(), 0);
}

TEST_F(RelayTest, StopLetsARunningTransactionFinishWithinGrace) {
  SinkPy sink;
  ASSERT_NE(sink.port(), 0) << sink.log();
  make(options_for(sink.port()));
  submit(1, envelope({"m@example.org"}));
  submit(2, envelope({"m@example.org"}));
  ASSERT_TRUE(run_until([&] { return relay_->in_flight() == 1; }, 10s));
  stop(10s);
  ASSERT_EQ(results_.size(), 2u);
  EXPECT_EQ(result(1).outcome, smtp::Outcome::delivered) << result(1).local_reason;
  EXPECT_EQ(result(2).outcome, smtp::Outcome::deferred);
  EXPECT_EQ(result(2).local_reason, "relay client stopping");
  EXPECT_EQ(relay_->connections(), 0u);
  EXPECT_EQ(sink.messages(), 1);
}

TEST_F(RelayTest, StopCutsATransactionAfterGrace) {
  PostfixSink sink({"-w", "20"});  // waits 20 s before answering DATA
  ASSERT_TRUE(sink.ready());
  make(options_for(sink.port()));
  submit(1, envelope({"m@example.org"}));
  ASSERT_TRUE(run_until([&] { return relay_->in_flight() == 1; }, 10s));
  run_until([] { return false; }, 300ms);  // DATA is out, no reply yet
  const auto start = std::chrono::steady_clock::now();
  stop(200ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(calls_[1], 1);
  EXPECT_EQ(result(1).outcome, smtp::Outcome::deferred);
  EXPECT_EQ(result(1).local_reason, "relay client stopping");
  EXPECT_EQ(result(1).final.text, "local: relay client stopping");
  EXPECT_EQ(relay_->connections(), 0u);
}

TEST(RelayOptionsTest, InvalidOptionsThrow) {
  asio::io_context io;
  auto base = options_for(25);
  auto no_host = base;
  no_host.host = "";
  auto no_conns = base;
  no_conns.max_connections = 0;
  auto bad_helo = base;
  bad_helo.helo_name = "two words";
  for (const auto& o : {no_host, no_conns, bad_helo}) {
    EXPECT_THROW(Relay(io.get_executor(), o, nullptr), std::invalid_argument);
  }
}

}  // namespace
}  // namespace tlpmail::delivery
