// delivery::Scheduler: moves due copies from the outbox (lib/queue/outbox.h)
// to the relay client (relay.h) and records what became of them. Claiming
// copies, assembling their bytes and recording outcomes are SQLite work and
// run on the worker executor; the Scheduler itself lives on the io thread.
// Retry times come from retry.h. It does not build or encrypt copies (the
// fan-out does) and does not report failures itself: it calls on_failed.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "delivery/relay.h"
#include "delivery/retry.h"
#include "queue/outbox.h"

namespace tlpmail::delivery {

namespace detail {
class MessageCache;
}

struct SchedulerOptions {
  // Copies handed to the relay and not yet finished, at most. Bounds the
  // memory held by assembled copies.
  std::size_t window = 64;
  // Even without a wake-up the outbox is looked at this often.
  std::chrono::milliseconds poll{std::chrono::seconds(30)};
  RetryPolicy retry;
};

// What the scheduler did, for tests and `tlpmailctl queue`-like figures.
struct SchedulerCounters {
  std::size_t submitted = 0, delivered = 0, deferred = 0, failed = 0;
};

// Thread safety: none; construct, call and destroy on the io thread. The
// outbox and relay must outlive it; the worker must keep running until
// stop() has finished.
class Scheduler {
 public:
  Scheduler(asio::any_io_executor io, asio::any_io_executor worker, queue::Outbox& outbox,
            Relay& relay, SchedulerOptions options = {});
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Starts the loop. Copies left in_flight by a previous process must have
  // been requeued (Outbox::requeue_in_flight) before.
  void start();
  // New copies may be due: look now rather than at the next poll.
  void wake();
  // Called on the io thread after outcomes including a failed copy were
  // recorded (the daemon queues the admins' report then).
  void set_on_failed(std::function<void()> f) { on_failed_ = std::move(f); }
  // Called on the io thread with the text of a failed claim or record
  // (the outbox's write failed: a full disk, a locked database); the
  // scheduler itself waits and tries again.
  void set_on_db_error(std::function<void(const std::string&)> f) { on_db_error_ = std::move(f); }
  // Called on the io thread after every batch of recorded outcomes.
  void set_on_recorded(std::function<void(const SchedulerCounters&)> f) {
    on_recorded_ = std::move(f);
  }

  // Stops claiming and handing copies to the relay (copies claimed from
  // now on stay in_flight in the outbox: requeued at the next start).
  void request_stop();
  // request_stop(), then waits for the relay's completions of what was handed
  // over (the caller stops the relay first, which completes them), records
  // them and finishes. A copy deferred by the stop itself (or any deferral
  // arriving while stopping) is not recorded: it stays in_flight and the
  // next start requeues it, due at once.
  asio::awaitable<void> stop();

  const SchedulerCounters& counters() const { return counters_; }

  // The relay's Completion: route Relay's on_done here (the daemon builds
  // the Relay first with a callback that calls this).
  void on_relay_done(std::uint64_t job, const smtp::TransactionResult& result);

 private:
  struct InFlight {
    std::int64_t copy_id = 0;
    int attempts = 0;  // before this one
    std::int64_t queued_at = 0;
    std::string recipient;
  };
  asio::awaitable<void> run();
  asio::awaitable<void> fill();
  asio::awaitable<void> flush();

  asio::any_io_executor io_, worker_;
  queue::Outbox& outbox_;
  Relay& relay_;
  SchedulerOptions options_;
  asio::steady_timer wake_timer_;
  asio::steady_timer stopped_timer_;
  bool running_ = false, stopping_ = false, woken_ = false;
  std::map<std::uint64_t, InFlight> in_flight_;
  std::vector<queue::CopyResult> results_;
  // When the oldest of results_ was first seen by run().
  std::optional<std::chrono::steady_clock::time_point> pending_since_;
  std::uint64_t next_job_ = 1;
  SchedulerCounters counters_;
  std::function<void()> on_failed_;
  std::function<void(const SchedulerCounters&)> on_recorded_;
  std::function<void(const std::string&)> on_db_error_;
  std::shared_ptr<detail::MessageCache> cache_;
};

}  // namespace tlpmail::delivery
