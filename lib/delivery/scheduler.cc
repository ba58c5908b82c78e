// The delivery loop (see scheduler.h): claim due copies on the worker,
// hand them to the relay, collect outcomes, record them on the worker.
#include "delivery/scheduler.h"

#include <malloc.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <ctime>
#include <mutex>
#include <optional>
#include <utility>

#include "log/log.h"
#include "openpgp/packets.h"
#include "util/offload.h"
#include "util/text.h"

namespace tlpmail::delivery {
namespace {

using spdlog::level::level_enum;

constexpr std::chrono::milliseconds kDbLimit{std::chrono::minutes(5)};
constexpr std::chrono::milliseconds kRetryAfterDbError{std::chrono::seconds(2)};
constexpr std::size_t kCachedMessages = 8;
// An outcome waits at most this long for others to be recorded with it.
constexpr std::chrono::milliseconds kRecordDelay{20};
// Shared data of cached messages, at most (the newest is kept whatever its
// size): with its armor, about 2.4 times this in memory.
constexpr std::size_t kCachedBytes = std::size_t{32} * 1024 * 1024;

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

}  // namespace

// Frames and shared armor of recent messages: a message's copies differ
// only in their PKESK, so the base64 of its (large) shared packet is made
// once (openpgp::SharedArmor) and every copy's body holds it as a shared
// part (smtp::MessageBody) with the frame's head and tail: a copy waiting
// for the relay costs its own few hundred bytes, whatever the message's
// size. Bounded by kCachedBytes of shared data (at least the newest
// message); cleared when the scheduler has nothing in flight, and the
// memory is returned to the system then (malloc_trim). Used by one worker
// job at a time; the lock makes that safe anyway.
class detail::MessageCache {
 public:
  struct Entry {
    queue::OutgoingMessage message;  // shared_data moved into `armor`
    std::shared_ptr<const openpgp::SharedArmor> armor;
    std::shared_ptr<const smtp::BodyPart> head, tail;
    // The armor's shared lines per alignment, checked once as body parts.
    mutable std::mutex mu;
    mutable std::map<const std::string*, std::shared_ptr<const smtp::BodyPart>> lines;

    // The body of the copy with this PKESK: head, armor, tail.
    smtp::MessageBody body_for(std::string_view pkesk) const {
      openpgp::SharedArmor::Pieces p = armor->armored_pieces(pkesk);
      std::shared_ptr<const smtp::BodyPart> shared;
      {
        std::lock_guard lock(mu);
        auto& slot = lines[p.lines.get()];
        if (!slot) slot = std::make_shared<const smtp::BodyPart>(p.lines);
        shared = slot;
      }
      smtp::MessageBody body;
      body.append(head);
      body.append(std::move(p.first));
      body.append(std::move(shared));
      body.append(std::move(p.last));
      body.append(tail);
      return body;
    }
  };

  Result<std::shared_ptr<const Entry>> get(queue::Outbox& outbox, const std::string& id) {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(id); it != cache_.end()) return it->second;
    auto m = outbox.message(id);
    if (!m) return Unexpected(m.error());
    auto e = std::make_shared<Entry>();
    const std::size_t bytes = m->shared_data.size() + m->head.size() + m->tail.size();
    e->armor = std::make_shared<openpgp::SharedArmor>(std::move(m->shared_data));
    m->shared_data.clear();
    e->head = std::make_shared<const smtp::BodyPart>(m->head);
    e->tail = std::make_shared<const smtp::BodyPart>(m->tail);
    e->message = std::move(*m);
    if (cache_.size() >= kCachedMessages || bytes_ + bytes > kCachedBytes) {
      cache_.clear();
      bytes_ = 0;
    }
    cache_.emplace(id, e);
    bytes_ += bytes;
    return std::shared_ptr<const Entry>(e);
  }

  // Forgets every message (copies in flight keep what they hold) and
  // returns freed memory to the system. True when there was something.
  bool clear() {
    std::lock_guard lock(mu_);
    if (cache_.empty()) return false;
    cache_.clear();
    bytes_ = 0;
    return true;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Entry>> cache_;
  std::size_t bytes_ = 0;
};

namespace {

struct Prepared {
  queue::ClaimedCopy copy;
  std::optional<smtp::OutboundEnvelope> envelope;  // nullopt: could not be assembled
  std::string problem;
};

struct Claimed {
  std::vector<Prepared> copies;
  std::string error;  // the claim itself failed
};

}  // namespace

Scheduler::Scheduler(asio::any_io_executor io, asio::any_io_executor worker,
                     queue::Outbox& outbox, Relay& relay, SchedulerOptions options)
    : io_(std::move(io)),
      worker_(std::move(worker)),
      outbox_(outbox),
      relay_(relay),
      options_(options),
      wake_timer_(io_),
      stopped_timer_(io_),
      cache_(std::make_shared<detail::MessageCache>()) {}

Scheduler::~Scheduler() = default;

void Scheduler::start() {
  if (running_) return;
  running_ = true;
  asio::co_spawn(io_, run(), asio::detached);
}

void Scheduler::wake() {
  woken_ = true;
  wake_timer_.cancel();
}

void Scheduler::on_relay_done(std::uint64_t job, const smtp::TransactionResult& result) {
  auto it = in_flight_.find(job);
  if (it == in_flight_.end()) return;
  const InFlight f = it->second;
  in_flight_.erase(it);
  if (stopping_ && result.outcome == smtp::Outcome::deferred) {
    // Cut short by the stop: left in_flight, so the next start requeues it
    // due at once (no retry delay for a restart).
    wake();
    return;
  }
  queue::CopyResult r =
      decide(options_.retry, f.copy_id, result, f.attempts + 1, f.queued_at, unix_now());
  level_enum level = level_enum::info;
  switch (r.state) {
    case queue::CopyState::delivered:
      ++counters_.delivered;
      break;
    case queue::CopyState::deferred:
      ++counters_.deferred;
      level = level_enum::warn;
      break;
    default:
      ++counters_.failed;
      level = level_enum::warn;
      break;
  }
  std::string copy = std::to_string(f.copy_id);
  std::string attempt = std::to_string(f.attempts + 1);
  std::string reply = escape_for_log(r.reply);
  std::string state(queue::to_string(r.state));
  if (r.state == queue::CopyState::deferred) {
    std::string next = std::to_string(r.next_attempt_at - unix_now()) + "s";
    log::event(level, "copy-" + copy, "deliver",
               {{"to", f.recipient}, {"state", state}, {"attempt", attempt}, {"retry_in", next},
                {"reply", reply}});
  } else {
    log::event(level, "copy-" + copy, "deliver",
               {{"to", f.recipient}, {"state", state}, {"attempt", attempt}, {"reply", reply}});
  }
  results_.push_back(std::move(r));
  wake();
}

asio::awaitable<void> Scheduler::fill() {
  const std::size_t room = options_.window - std::min(options_.window, in_flight_.size());
  if (room == 0) co_return;
  auto cache = cache_;
  queue::Outbox* outbox = &outbox_;
  auto work = [outbox, cache, room]() {
    Claimed out;
    auto claimed = outbox->claim_due(std::time(nullptr), room);
    if (!claimed) {
      out.error = claimed.error().message;
      return out;
    }
    for (queue::ClaimedCopy& c : *claimed) {
      Prepared p;
      auto m = cache->get(*outbox, c.message);
      if (!m) {
        p.problem = m.error().message;
      } else if ((*m)->message.kind == queue::OutgoingKind::plain) {
        // An unencrypted message is stored whole in its head.
        smtp::OutboundEnvelope e;
        e.from = queue::verp_address((*m)->message.envelope_from, c.verp_token);
        e.recipients = {c.recipient};
        e.body.append((*m)->head);
        if (e.body.empty()) p.problem = "the message is gone";
        else p.envelope = std::move(e);
      } else if ((*m)->armor->shared().empty() || c.pkesk.empty()) {
        p.problem = "the copy's ciphertext is gone";
      } else {
        const queue::OutgoingMessage& msg = (*m)->message;
        smtp::OutboundEnvelope e;
        // LIST-bounces+TOKEN@DOMAIN: a bounce names this copy (lib/bounces).
        e.from = queue::verp_address(msg.envelope_from, c.verp_token);
        e.recipients = {c.recipient};
        // compose::Frame::assemble(armor) for an armor already in CRLF,
        // sharing the message's parts.
        e.body = (*m)->body_for(c.pkesk);
        p.envelope = std::move(e);
      }
      std::string().swap(c.pkesk);
      p.copy = std::move(c);
      out.copies.push_back(std::move(p));
    }
    return out;
  };
  auto task = start_offload(worker_, io_, std::move(work), kDbLimit);
  Offloaded<Claimed> done = co_await task->wait();
  std::string claim_error;
  if (!done.value) {
    claim_error = done.timed_out ? "timed out" : done.failure;
  } else if (!done.value->error.empty()) {
    claim_error = done.value->error;
  }
  if (!claim_error.empty()) {
    // E.g. a full disk (SQLITE_FULL): the copies stay queued. Without a
    // pause the loop tried again at once, thousands of times (and log
    // lines) a second, since the copies are due.
    log::event(level_enum::err, "-", "outbox",
               {{"op", "claim"},
                {"reason", claim_error},
                {"retry_in", std::to_string(kRetryAfterDbError.count() / 1000) + "s"}});
    if (on_db_error_) on_db_error_(claim_error);
    asio::steady_timer pause(io_, kRetryAfterDbError);
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return;
  }
  for (Prepared& p : done.value->copies) {
    if (stopping_) {
      // Claimed while the stop began: stays in_flight in the outbox and
      // is requeued, due at once, at the next start.
      continue;
    }
    if (!p.envelope) {
      // Never sendable again: failed, and the admins are told.
      queue::CopyResult r;
      r.id = p.copy.id;
      r.state = queue::CopyState::failed;
      r.reply = "local error: " + p.problem;
      std::string copy = std::to_string(p.copy.id);
      log::event(level_enum::err, "copy-" + copy, "deliver",
                 {{"to", p.copy.recipient}, {"state", "failed"}, {"reason", p.problem}});
      ++counters_.failed;
      results_.push_back(std::move(r));
      continue;
    }
    const std::uint64_t job = next_job_++;
    in_flight_[job] = InFlight{p.copy.id, p.copy.attempts, p.copy.queued_at, p.copy.recipient};
    ++counters_.submitted;
    relay_.submit(Job{job, std::move(*p.envelope)});
  }
}

asio::awaitable<void> Scheduler::flush() {
  if (results_.empty()) co_return;
  auto batch = std::make_shared<std::vector<queue::CopyResult>>(std::move(results_));
  results_.clear();
  pending_since_.reset();
  queue::Outbox* outbox = &outbox_;
  auto work = [outbox, batch]() -> std::string {
    auto r = outbox->record(*batch, std::time(nullptr));
    return r ? std::string() : r.error().message;
  };
  auto task = start_offload(worker_, io_, std::move(work), kDbLimit);
  Offloaded<std::string> done = co_await task->wait();
  std::string error = done.value ? *done.value : (done.timed_out ? "timed out" : done.failure);
  if (!error.empty()) {
    // Keep them: recorded on the next round (a crash meanwhile requeues
    // the copies, which may then reach their recipients twice).
    log::event(level_enum::err, "-", "outbox", {{"op", "record"}, {"reason", error}});
    if (on_db_error_) on_db_error_(error);
    for (auto& r : *batch) results_.push_back(std::move(r));
    asio::steady_timer pause(io_, kRetryAfterDbError);
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return;
  }
  if (on_recorded_) on_recorded_(counters_);
  // Only now is the failure on disk for the report to find.
  const bool any_failed = std::any_of(batch->begin(), batch->end(), [](const auto& r) {
    return r.state == queue::CopyState::failed;
  });
  if (any_failed && on_failed_) on_failed_();
}

asio::awaitable<void> Scheduler::run() {
  for (;;) {
    woken_ = false;
    const auto now = std::chrono::steady_clock::now();
    if (!results_.empty() && !pending_since_) pending_since_ = now;
    // While the relay has more than half the window to work on, outcomes
    // and claims wait for a batch: one claim and one record transaction
    // per half window instead of one each per copy (they were 39 % of
    // tlpmaild's CPU in a fan-out to 1,000 members). An outcome waits at
    // most kRecordDelay to be recorded.
    const bool busy = !stopping_ && in_flight_.size() > options_.window / 2;
    const bool record_now = !busy ||
                            results_.size() >= std::max<std::size_t>(1, options_.window / 2) ||
                            (pending_since_ && now - *pending_since_ >= kRecordDelay);
    if (record_now) co_await flush();
    // Outcomes kept after a failed write wait 20 ms more at most, too.
    if (!results_.empty() && !pending_since_) pending_since_ = std::chrono::steady_clock::now();
    if (busy) {
      if (woken_) continue;
      // Woken by the next completion, or when the oldest outcome is due.
      std::chrono::steady_clock::duration wait = options_.poll;
      if (pending_since_ && !results_.empty()) {
        wait = std::max<std::chrono::steady_clock::duration>(
            *pending_since_ + kRecordDelay - std::chrono::steady_clock::now(),
            std::chrono::milliseconds(1));
      }
      wake_timer_.expires_after(wait);
      co_await wake_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (stopping_) {
      if (in_flight_.empty() && results_.empty()) break;
      if (!results_.empty()) continue;
      wake_timer_.expires_after(options_.poll);
      co_await wake_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    const std::size_t before = counters_.submitted;
    co_await fill();
    if (woken_ || !results_.empty() || stopping_) continue;
    std::chrono::milliseconds wait = options_.poll;
    if (counters_.submitted == before && in_flight_.size() < options_.window) {
      // Nothing due now: sleep until the next copy is.
      queue::Outbox* outbox = &outbox_;
      auto cache = in_flight_.empty() ? cache_ : nullptr;
      auto work = [outbox, cache]() -> std::optional<std::int64_t> {
        // Nothing in flight: the messages' armor is not needed until more
        // copies are due, and a large one's memory goes back to the system.
        if (cache && cache->clear()) malloc_trim(0);
        auto due = outbox->next_due();
        return due ? *due : std::nullopt;
      };
      auto task = start_offload(worker_, io_, std::move(work), kDbLimit);
      Offloaded<std::optional<std::int64_t>> due = co_await task->wait();
      if (due.value && *due.value) {
        const std::int64_t in = **due.value - unix_now();
        wait = std::min(wait, std::chrono::milliseconds(std::max<std::int64_t>(in, 0) * 1000));
      }
    } else if (counters_.submitted != before) {
      continue;  // claimed some: there may be more
    }
    if (woken_) continue;
    wake_timer_.expires_after(wait);
    co_await wake_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  running_ = false;
  stopped_timer_.cancel();
}

void Scheduler::request_stop() {
  stopping_ = true;
  wake();
}

asio::awaitable<void> Scheduler::stop() {
  request_stop();
  while (running_) {
    stopped_timer_.expires_after(std::chrono::seconds(1));
    co_await stopped_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace tlpmail::delivery
