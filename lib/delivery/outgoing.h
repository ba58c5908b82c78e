// The outgoing side of tlpmaild on the io_context thread: the fan-out
// loops (spooled messages -> fanout::distribute on the worker pool ->
// outbox, several messages at a time; messages whose fan-out failed are
// held and tried again, at once after a gpg stall, messages that are not
// postings are left alone), the delivery scheduler and the relay client
// wired to each other, and the admins' failure reports. What a fan-out
// does is lib/fanout's; what an answer means is retry.h's.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "delivery/relay.h"
#include "delivery/scheduler.h"
#include "keyring/keyring.h"
#include "queue/outbox.h"
#include "queue/space_guard.h"
#include "queue/spool.h"
#include "store/database.h"

namespace tlpmail::openpgp {
class Handoff;
}

namespace tlpmail::delivery {

namespace asio = boost::asio;

// What the fan-outs work with: the configuration, the members' keys and
// the GnuPG home they (and the list keys) are in. Replaced on reload.
struct OutgoingSetup {
  std::shared_ptr<const config::Config> config;  // REQUIRES: not null
  std::shared_ptr<const keyring::KeyReport> keys;  // REQUIRES: not null
  std::filesystem::path home;
  // The intake's decryptions of accepted postings (may be null): the
  // same object the intake's Context holds.
  std::shared_ptr<openpgp::Handoff> handoff;
};

struct OutgoingOptions {
  // Test hooks (hidden options): shorter relay timeouts and retry delays.
  std::optional<delivery::RelayTimeouts> relay_timeouts;
  std::optional<delivery::RetryPolicy> retry;
  // Test hook: how often the scheduler looks at the outbox unasked.
  std::optional<std::chrono::milliseconds> outbox_poll;
  // Test hook: take nothing from the spool (intake tests).
  bool hold_spool = false;
  // Messages fanned out at the same time (each on its own worker thread
  // with its own gpg processes); copies of one message are queued
  // together, in list order, in one transaction.
  std::size_t fanout_workers = 2;
};

// Thread safety: none; construct and call on the io thread. The spool, db
// and pool must outlive it.
class Outgoing {
 public:
  Outgoing(asio::io_context& io, asio::thread_pool& pool, queue::Spool& spool,
           store::Database& db, std::shared_ptr<const OutgoingSetup> setup,
           OutgoingOptions options = {});
  ~Outgoing();

  // Requeues copies a previous process left in flight (blocking: call
  // before io.run()), then starts the loops; messages already waiting in
  // the spool are fanned out first.
  Result<void> start();
  // A message was spooled: fan it out now.
  void message_spooled();
  // Whether the fan-out is behind: the oldest message waiting for it was
  // spooled config server.in_flow_backlog seconds ago or earlier (the
  // intake's flow control, net::ServerCore::congested). Messages held
  // after a failure or left alone do not count; false with a held spool
  // (OutgoingOptions::hold_spool) and once stopping. On the io thread.
  bool congested() const;
  // Something else queued mail in the outbox (a periodic job): send it now.
  void outbox_changed();
  // Called on the io thread after a request stored a member's key
  // (update-key, requests::Processed::keys_changed): the daemon loads its
  // keys again. Optional; call before start().
  void set_on_keys_changed(std::function<void()> f) { on_keys_changed_ = std::move(f); }
  // The state filesystem's guard (queue/space_guard.h): looked at every
  // second and at once after a write of the outbox or a fan-out failed for
  // space; its reserve is given up and made again here, so that what is
  // held goes out while the disk is full. Each change is logged once
  // (`space` events). Optional; call before start(). REQUIRES: the guard
  // outlives the pool's work.
  void set_space_guard(queue::SpaceGuard* guard) { space_ = guard; }
  // The configuration and keys for the next fan-outs (a reload). Relay
  // settings take effect on restart.
  void set_setup(std::shared_ptr<const OutgoingSetup> setup);
  // Finishes the fan-out in progress, stops the relay (running
  // transactions get `grace`) and records every outcome.
  asio::awaitable<void> stop(std::chrono::milliseconds grace);

 private:
  struct Claims;
  struct Worker {
    explicit Worker(asio::io_context& io) : timer(io) {}
    asio::steady_timer timer;
    bool woken = false;
  };

  asio::awaitable<void> fanout_loop(std::size_t index);
  asio::awaitable<bool> fanout_once();
  asio::awaitable<void> report_once();
  asio::awaitable<void> space_loop();
  // A write failed with `reason`: when it was for space, the reserve is
  // given up at once.
  void space_alarm(const std::string& reason);
  void wake();
  // Logs `backlog status=behind` when congested() becomes true, and
  // `status=caught-up` once no message waits any more (one pair per
  // episode).
  void log_backlog_change();

  asio::io_context& io_;
  asio::thread_pool& pool_;
  queue::Spool& spool_;
  store::Database& db_;
  std::shared_ptr<const OutgoingSetup> setup_;
  OutgoingOptions options_;
  queue::Outbox outbox_;
  std::unique_ptr<delivery::Relay> relay_;
  std::unique_ptr<delivery::Scheduler> scheduler_;
  std::vector<std::unique_ptr<Worker>> workers_;
  asio::steady_timer stopped_timer_;
  bool stopping_ = false, report_wanted_ = false;
  bool behind_ = false;      // congested() when log_backlog_change() last looked
  std::size_t running_ = 0;  // fan-out loops not yet finished
  std::function<void()> on_keys_changed_;
  queue::SpaceGuard* space_ = nullptr;
  asio::steady_timer space_timer_;
  std::string space_failure_;  // a write failed for space: give the reserve up
  // Which spooled messages a fan-out loop has taken, which are left
  // alone and which wait after a failure; shared with the worker threads.
  std::shared_ptr<Claims> claims_;
};

}  // namespace tlpmail::delivery
