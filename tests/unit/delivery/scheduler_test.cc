// delivery::Scheduler over a real outbox (SQLite file), the real Relay and
// tests/e2e/sink.py on 127.0.0.1: every copy is sent once with its own
// session key packet and the shared data, outcomes are recorded (delivered,
// deferred then delivered, failed), failures are signalled, and a stop in
// the middle loses nothing (unfinished copies stay in flight and are
// requeued). No gpg: the "ciphertext" is made-up bytes, which is all the
// scheduler sees of it.
#include "delivery/scheduler.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <map>
#include <set>

#include "openpgp/packets.h"
#include "sink_support.h"
#include "store/database.h"
#include "support/text.h"

namespace tlpmail::delivery {
namespace {

using namespace test_support;

queue::NewOutgoing outgoing(const std::string& id, int members) {
  queue::NewOutgoing m;
  m.id = id;
  m.list = "ops@lists.example.org";
  m.list_message_id = id + ".x@lists.example.org";
  m.envelope_from = "ops-bounces@lists.example.org";
  m.head = "From: ops@lists.example.org\r\nSubject: " + id + "\r\n\r\n";
  m.tail = "--end--\r\n";
  m.shared_data = std::string("shared-") + id + std::string(3000, '\x9d');
  for (int i = 0; i < members; ++i) {
    const std::string who = "m" + std::to_string(i) + "@x.example";
    m.copies.push_back({who, "FPR", "pkesk-for-" + who});
  }
  return m;
}

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::Database::open(dir_.file("tlpmail.db"));
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
    outbox_ = std::make_unique<queue::Outbox>(*db_);
  }
  void TearDown() override {
    scheduler_.reset();
    relay_.reset();
    pool_.join();
    outbox_.reset();
    db_.reset();
  }

  void start(std::uint16_t port, SchedulerOptions so = {}, unsigned connections = 2) {
    RelayOptions ro = local_relay_options(port, "lists.example.org");
    ro.max_connections = connections;
    ro.timeouts.quit = 1s;
    relay_ = std::make_unique<Relay>(io_.get_executor(), ro,
                                     [this](std::uint64_t job, const smtp::TransactionResult& r) {
                                       scheduler_->on_relay_done(job, r);
                                     });
    scheduler_ = std::make_unique<Scheduler>(io_.get_executor(), pool_.get_executor(), *outbox_,
                                             *relay_, so);
    scheduler_->set_on_failed([this] { ++failed_signals_; });
    scheduler_->start();
  }

  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds limit = 30s) {
    return test_support::run_until(io_, pred, limit);
  }

  void stop(std::chrono::milliseconds grace) {
    bool done = false;
    auto both = [this, grace]() -> asio::awaitable<void> {
      scheduler_->request_stop();
      co_await relay_->stop(grace);
      co_await scheduler_->stop();
    };
    asio::co_spawn(io_, both(), [&](std::exception_ptr) { done = true; });
    ASSERT_TRUE(run_until([&] { return done; })) << "stop did not finish";
  }

  queue::OutboxCounts counts() {
    auto c = outbox_->counts();
    EXPECT_TRUE(c);
    return c ? *c : queue::OutboxCounts{};
  }

  TempDir dir_;  // first: the database in it closes before it goes
  asio::io_context io_;
  asio::thread_pool pool_{2};
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<queue::Outbox> outbox_;
  std::unique_ptr<Relay> relay_;
  std::unique_ptr<Scheduler> scheduler_;
  int failed_signals_ = 0;
};

TEST_F(SchedulerTest, EveryCopyGoesOutOnceWithItsOwnKeyPacket) {
  SinkPy sink;
  ASSERT_NE(sink.port(), 0);
  const std::time_t now = std::time(nullptr);
  ASSERT_TRUE(outbox_->add(outgoing("A", 60), now));
  ASSERT_TRUE(outbox_->add(outgoing("B", 40), now));
  SchedulerOptions so;
  so.window = 16;  // smaller than the work: the window refills
  start(sink.port(), so);
  ASSERT_TRUE(run_until([&] { return counts().delivered == 100; })) << sink.log();
  EXPECT_EQ(sink.messages(), 100);

  // Each message is the frame around the armor of that member's packet
  // followed by the shared data, addressed to that member only.
  std::set<std::string> seen;
  for (int n = 1; n <= sink.messages(); ++n) {
    const std::string eml = sink.eml(n);
    const std::string json = sink.json(n);
    const std::string id = eml.find("Subject: A") != std::string::npos ? "A" : "B";
    const queue::NewOutgoing m = outgoing(id, id == "A" ? 60 : 40);
    bool matched = false;
    for (const auto& c : m.copies) {
      if (json.find("\"" + c.recipient + "\"") == std::string::npos) continue;
      const std::string armored = openpgp::armor_message(c.pkesk + m.shared_data);
      EXPECT_EQ(eml, m.head + ::tlpmail::testing::crlf(armored) + m.tail) << c.recipient;
      EXPECT_TRUE(seen.insert(id + c.recipient).second) << "twice: " << c.recipient;
      matched = true;
    }
    EXPECT_TRUE(matched) << json;
    EXPECT_NE(json.find("ops-bounces@lists.example.org"), std::string::npos);
  }
  EXPECT_EQ(seen.size(), 100u);
  // Every copy final: the outbox kept no ciphertext.
  auto a = outbox_->message("A");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->shared_data, "");
  EXPECT_EQ(scheduler_->counters().delivered, 100u);
  EXPECT_EQ(failed_signals_, 0);
  stop(1s);
}

TEST_F(SchedulerTest, OutcomesAreRecordedInBatchesWhileTheRelayIsBusy) {
  SinkPy sink;
  ASSERT_NE(sink.port(), 0);
  ASSERT_TRUE(outbox_->add(outgoing("A", 300), std::time(nullptr)));
  SchedulerOptions so;
  so.window = 64;
  start(sink.port(), so);
  int batches = 0;
  scheduler_->set_on_recorded([&](const SchedulerCounters&) { ++batches; });
  ASSERT_TRUE(run_until([&] { return counts().delivered == 300; })) << sink.log();
  EXPECT_EQ(sink.messages(), 300);
  // While more than half the window is at the relay, outcomes wait for a
  // batch of half a window or 20 ms (with this slow sink: 67-74 batches
  // seen). Recording each as it came took 255-268 transactions here.
  EXPECT_LE(batches, 150) << "record transactions for 300 copies";
  EXPECT_EQ(scheduler_->counters().delivered, 300u);
  stop(1s);
}

TEST_F(SchedulerTest, DeferredCopiesAreRetriedAndDelivered) {
  SinkPy sink({"--defer-first", "3"});
  ASSERT_NE(sink.port(), 0);
  ASSERT_TRUE(outbox_->add(outgoing("C", 5), std::time(nullptr)));
  SchedulerOptions so;
  so.retry.first_delay = 1s;
  so.poll = 500ms;
  start(sink.port(), so, 1);
  ASSERT_TRUE(run_until([&] { return counts().delivered == 5; })) << sink.log();
  EXPECT_EQ(scheduler_->counters().deferred, 3u);
  auto copies = outbox_->copies_of("C.x@lists.example.org");
  ASSERT_TRUE(copies);
  int retried = 0;
  for (const auto& c : *copies) {
    EXPECT_EQ(c.state, queue::CopyState::delivered);
    if (c.attempts == 2) ++retried;
  }
  EXPECT_EQ(retried, 3);
  EXPECT_EQ(failed_signals_, 0);
  stop(1s);
}

TEST_F(SchedulerTest, PermanentFailureIsRecordedAndSignalled) {
  SinkPy sink({"--reject-rcpt", "m1@x.example"});
  ASSERT_NE(sink.port(), 0);
  ASSERT_TRUE(outbox_->add(outgoing("D", 3), std::time(nullptr)));
  start(sink.port());
  ASSERT_TRUE(run_until([&] { return counts().delivered == 2 && counts().failed == 1; }))
      << sink.log();
  ASSERT_TRUE(run_until([&] { return failed_signals_ == 1; }));
  auto f = outbox_->unreported_failures(10);
  ASSERT_TRUE(f);
  ASSERT_EQ(f->size(), 1u);
  EXPECT_EQ((*f)[0].recipient, "m1@x.example");
  EXPECT_EQ((*f)[0].reply.substr(0, 9), "550 5.1.1");
  stop(1s);
}

TEST_F(SchedulerTest, RelayDownDefersWithoutLosingAnything) {
  const std::uint16_t port = free_port();  // nothing listens here
  ASSERT_TRUE(outbox_->add(outgoing("E", 4), std::time(nullptr)));
  start(port);
  ASSERT_TRUE(run_until([&] { return counts().deferred == 4; }));
  auto w = outbox_->waiting(10);
  ASSERT_TRUE(w);
  for (const auto& c : *w) {
    EXPECT_EQ(c.attempts, 1);
    EXPECT_NE(c.last_reply.find("127.0.0.1:" + std::to_string(port)), std::string::npos)
        << c.last_reply;
    EXPECT_GE(c.next_attempt_at, c.queued_at + 60);
  }
  stop(1s);
}

TEST_F(SchedulerTest, StopInTheMiddleLosesNoCopy) {
  SinkPy sink({"--delay-ms", "100"});
  ASSERT_NE(sink.port(), 0);
  ASSERT_TRUE(outbox_->add(outgoing("F", 40), std::time(nullptr)));
  start(sink.port());
  ASSERT_TRUE(run_until([&] { return sink.messages() >= 5; })) << sink.log();
  stop(0ms);
  // Nothing is left queued or deferred by the stop itself: every copy is
  // delivered, or in flight (and then requeued, due at once).
  const queue::OutboxCounts c = counts();
  EXPECT_EQ(c.delivered + c.in_flight + c.queued, 40);
  EXPECT_EQ(c.deferred, 0);
  EXPECT_EQ(c.failed, 0);
  auto again = outbox_->requeue_in_flight(std::time(nullptr));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, c.in_flight);
  EXPECT_EQ(counts().queued, 40 - c.delivered);
}

}  // namespace
}  // namespace tlpmail::delivery
