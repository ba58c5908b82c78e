// tlpmaild's fan-out loops, delivery scheduler and relay client (see
// outgoing.h). Up to fanout_workers fan-outs at a time on the worker pool,
// each taking the oldest spooled message no other loop has taken; the
// scheduler is woken after each, so copies of one message go out while
// the next ones are being encrypted.
#include "delivery/outgoing.h"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <ctime>
#include <mutex>
#include <utility>

#include "bounces/bounce.h"
#include "fanout/distribute.h"
#include "log/log.h"
#include "openpgp/context.h"
#include "openpgp/deadline.h"
#include "requests/request.h"
#include "util/offload.h"
#include "util/text.h"

namespace tlpmail::delivery {
namespace {

using spdlog::level::level_enum;

// A fan-out of a large list (10,000 members) takes seconds. A hung gpg is
// cut by the deadline of each gpg operation (openpgp/deadline.h); this is
// a last resort beyond those, for the log.
constexpr std::chrono::milliseconds kFanoutLimit{std::chrono::minutes(10)};
// After a failed fan-out (gpg or database trouble), wait this long; after
// a gpg stall (its agent was restarted) the message is tried again at once.
constexpr std::chrono::seconds kRetryAfterFault{30};
// Messages read from the spool beyond those the loops hold and the two a
// look needs: what other loops take while this one reads.
constexpr std::size_t kWindowMargin = 8;
// Even without a wake-up the spool and the failure reports are looked at
// this often.
constexpr std::chrono::seconds kPoll{60};
// How often the state filesystem's free space is looked at (space_loop).
constexpr std::chrono::seconds kSpaceTick{1};
// A reserve made again is a few MiB written and fsynced; a last resort.
constexpr std::chrono::milliseconds kSpaceLimit{std::chrono::minutes(1)};

smtp::StartTlsPolicy starttls_policy(config::StartTls s) {
  switch (s) {
    case config::StartTls::opportunistic:
      return smtp::StartTlsPolicy::opportunistic;
    case config::StartTls::required:
      return smtp::StartTlsPolicy::required;
    case config::StartTls::off:
      break;
  }
  return smtp::StartTlsPolicy::off;
}

struct FanoutStep {
  bool idle = true;  // nothing (left) to fan out
  bool stalled = false;  // a gpg operation passed its deadline
  std::string id;
  std::optional<fanout::Distribution> done;       // a posting
  std::optional<requests::Processed> request;     // mail to -request
  // Mail to -bounces; on the heap: a larger FanoutStep makes g++ 12 report
  // a false mismatched-new-delete in fanout_once's coroutine frame.
  std::shared_ptr<const bounces::Processed> bounce;
  std::string error;
  bool permanent = false;
};

// A stage that failed: nothing was written, the message stays received.
void failed(FanoutStep& step, const Error& e) {
  step.error = e.message;
  step.permanent = e.kind == ErrorClass::permanent;
}

std::string join_withheld(const std::vector<fanout::Withheld>& w) {
  std::string out;
  for (const auto& x : w) {
    if (!out.empty()) out += ",";
    out += x.email + "(" + x.why + ")";
  }
  return out;
}

// Out of the coroutines: g++ 12 reports a false mismatched-new-delete in
// a coroutine frame that holds this much.
void log_request(const std::string& id, const requests::Processed& r) {
  if (r.skipped) {
    log::event(level_enum::warn, id, "request", {{"status", "skipped"}, {"reason", r.reason}});
    return;
  }
  std::string commands;
  for (const std::string& c : r.commands) commands += (commands.empty() ? "" : ",") + c;
  log::event(level_enum::info, id, "request",
             {{"list", r.list},
              {"from", escape_for_log(r.from)},
              {"signer", r.signer.empty() ? "-" : r.signer},
              {"commands", commands.empty() ? "-" : commands},
              {"outcome", r.outcome},
              {"reason", r.reason.empty() ? "-" : escape_for_log(r.reason)}});
}

// Status fields only: nothing of the bounce's text.
void log_bounce(const std::string& id, const bounces::Processed& b) {
  if (b.skipped) {
    log::event(level_enum::warn, id, "bounce", {{"status", "skipped"}, {"reason", b.reason}});
    return;
  }
  const std::string copy = b.copy ? "copy-" + std::to_string(b.copy) : "-";
  log::event(b.outcome == "dropped" ? level_enum::warn : level_enum::info, id, "bounce",
             {{"list", b.list},
              {"token", b.token},
              {"copy", copy},
              {"to", b.recipient.empty() ? "-" : b.recipient},
              {"kind", b.kind.empty() ? "-" : b.kind},
              {"status", b.status.empty() ? "-" : b.status},
              {"action", b.action.empty() ? "-" : b.action},
              {"outcome", b.outcome},
              {"reason", b.reason.empty() ? "-" : b.reason}});
}

void log_distribution(const std::string& id, const fanout::Distribution& d) {
  if (d.kind == fanout::Distribution::Kind::skipped) {
    log::event(level_enum::warn, id, "fanout", {{"status", "skipped"}, {"reason", d.reason}});
    return;
  }
  std::string copies = std::to_string(d.copies);
  std::string withheld = join_withheld(d.withheld);
  log::event(d.withheld.empty() ? level_enum::info : level_enum::warn, id, "fanout",
             {{"list", d.list},
              {"message_id", d.list_message_id},
              {"label", d.label},
              {"copies", copies},
              {"withheld", withheld.empty() ? "-" : withheld},
              {"encryption", d.encrypted_by.empty() ? "-" : d.encrypted_by},
              {"decryption", d.decrypted_by.empty() ? "-" : d.decrypted_by}});
}

// One look at the state filesystem: what the guard did, and whether
// intake is refused now.
struct SpaceStep {
  queue::SpaceChange change;
  std::optional<queue::SpaceShortage> shortage;
};

void log_space_change(const queue::SpaceChange& c, const queue::SpaceSettings& s) {
  const std::string available = std::to_string(c.available);
  const std::string reserve = std::to_string(s.reserve);
  switch (c.kind) {
    case queue::SpaceChange::Kind::none:
      break;
    case queue::SpaceChange::Kind::released:
      log::event(level_enum::warn, "-", "space",
                 {{"status", "reserve-released"},
                  {"reason", escape_for_log(c.reason)},
                  {"available", available},
                  {"reserve", reserve},
                  {"intake_needs", std::to_string(c.needed)}});
      break;
    case queue::SpaceChange::Kind::recreated:
      log::event(level_enum::info, "-", "space",
                 {{"status", "reserve-made"}, {"available", available}, {"reserve", reserve}});
      break;
    case queue::SpaceChange::Kind::failed:
      log::event(level_enum::warn, "-", "space",
                 {{"status", "failed"}, {"reason", escape_for_log(c.reason)}});
      break;
  }
}

}  // namespace

// Shared between the io thread and the fan-outs on the worker threads.
struct Outgoing::Claims {
  std::mutex mu;
  std::set<std::string> busy;     // being fanned out now
  std::set<std::string> skipped;  // left alone (reason logged once)
  // Failed; when to try again.
  std::map<std::string, std::chrono::steady_clock::time_point> held;
  // When the oldest message waiting for a loop (not taken, left alone or
  // held) was spooled, Unix seconds; 0: none. Set at each look at the
  // spool and, when 0, by message_spooled(): the flow control's measure.
  std::atomic<std::int64_t> waiting_since{0};
};

Outgoing::Outgoing(asio::io_context& io, asio::thread_pool& pool, queue::Spool& spool,
                   store::Database& db, std::shared_ptr<const OutgoingSetup> setup,
                   OutgoingOptions options)
    : io_(io),
      pool_(pool),
      spool_(spool),
      db_(db),
      setup_(std::move(setup)),
      options_(options),
      outbox_(db),
      stopped_timer_(io),
      space_timer_(io),
      claims_(std::make_shared<Claims>()) {
  for (std::size_t i = 0; i < std::max<std::size_t>(1, options_.fanout_workers); ++i) {
    workers_.push_back(std::make_unique<Worker>(io_));
  }
  const config::Config& c = *setup_->config;
  RelayOptions ro;
  ro.host = c.relay.host;
  ro.port = c.relay.port;
  ro.starttls = starttls_policy(c.relay.starttls);
  ro.max_connections = c.relay.max_connections;
  ro.helo_name = c.server.hostname;
  if (ro.starttls != smtp::StartTlsPolicy::off) ro.tls = make_relay_tls_context();
  if (options_.relay_timeouts) ro.timeouts = *options_.relay_timeouts;
  relay_ = std::make_unique<Relay>(
      io_.get_executor(), std::move(ro),
      [this](std::uint64_t job, const smtp::TransactionResult& r) {
        if (scheduler_) scheduler_->on_relay_done(job, r);
      });
  SchedulerOptions so;
  if (options_.retry) so.retry = *options_.retry;
  if (options_.outbox_poll) so.poll = *options_.outbox_poll;
  so.window = std::max<std::size_t>(64, std::size_t{16} * c.relay.max_connections);
  scheduler_ = std::make_unique<Scheduler>(io_.get_executor(), pool_.get_executor(),
                                                     outbox_, *relay_, so);
  scheduler_->set_on_failed([this] {
    report_wanted_ = true;
    wake();
  });
  scheduler_->set_on_db_error([this](const std::string& reason) { space_alarm(reason); });
}

Outgoing::~Outgoing() = default;

Result<void> Outgoing::start() {
  auto requeued = outbox_.requeue_in_flight(std::time(nullptr));
  if (!requeued) return Unexpected(requeued.error());
  auto counts = outbox_.counts();
  if (!counts) return Unexpected(counts.error());
  std::string again = std::to_string(*requeued);
  std::string waiting = std::to_string(counts->queued + counts->deferred);
  std::string failed = std::to_string(counts->failed);
  log::event(*requeued > 0 ? level_enum::warn : level_enum::info, "-", "outbox",
             {{"requeued_in_flight", again}, {"waiting", waiting}, {"failed_total", failed}});
  report_wanted_ = true;  // failures recorded before a crash, not reported yet
  scheduler_->start();
  if (space_ != nullptr && space_->is_enabled()) {
    ++running_;
    asio::co_spawn(io_, space_loop(), asio::detached);
  }
  if (options_.hold_spool) {
    log::event(level_enum::warn, "-", "outbox", {{"spool", "held (test option --hold-spool)"}});
    return {};
  }
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    ++running_;
    asio::co_spawn(io_, fanout_loop(i), asio::detached);
  }
  return {};
}

void Outgoing::wake() {
  for (auto& w : workers_) {
    w->woken = true;
    w->timer.cancel();
  }
}

void Outgoing::message_spooled() {
  // Until a loop looks at the spool again, this one waits (if none did).
  std::int64_t none = 0;
  claims_->waiting_since.compare_exchange_strong(none,
                                                 static_cast<std::int64_t>(std::time(nullptr)));
  log_backlog_change();
  wake();
}

bool Outgoing::congested() const {
  // A held spool (a test option) is not a fan-out that falls behind;
  // once stopping, nothing will catch up.
  if (options_.hold_spool || stopping_) return false;
  const std::int64_t since = claims_->waiting_since.load();
  return since != 0 && static_cast<std::int64_t>(std::time(nullptr)) - since >=
                           static_cast<std::int64_t>(setup_->config->server.in_flow_backlog);
}

void Outgoing::log_backlog_change() {
  const std::int64_t since = claims_->waiting_since.load();
  if (!behind_ && congested()) {
    behind_ = true;
    const std::int64_t age = static_cast<std::int64_t>(std::time(nullptr)) - since;
    log::event(level_enum::warn, "-", "backlog",
               {{"status", "behind"},
                {"oldest", std::to_string(age) + "s"},
                {"in_flow_delay_ms", std::to_string(setup_->config->server.in_flow_delay_ms)}});
  } else if (behind_ && since == 0) {
    // Once per episode: under flow control the age stays near the
    // threshold, crossing it back and forth.
    behind_ = false;
    log::event(level_enum::info, "-", "backlog", {{"status", "caught-up"}});
  }
}

void Outgoing::outbox_changed() { scheduler_->wake(); }

void Outgoing::set_setup(std::shared_ptr<const OutgoingSetup> setup) {
  const auto& a = setup_->config->relay;
  const auto& b = setup->config->relay;
  if (a.host != b.host || a.port != b.port || a.starttls != b.starttls ||
      a.max_connections != b.max_connections) {
    log::event(level_enum::warn, "-", "reload",
               {{"status", "partial"}, {"setting", "relay"}, {"reason", "takes effect on restart"}});
  }
  setup_ = std::move(setup);
}

asio::awaitable<bool> Outgoing::fanout_once() {
  auto setup = setup_;
  queue::Spool* spool = &spool_;
  store::Database* db = &db_;
  auto claims = claims_;
  auto work = [setup, spool, db, claims]() {
    FanoutStep step;
    // Enough of the oldest messages to find two that are free (the one to
    // take and the one that waits longest after it), with room for what
    // other loops take meanwhile: with a long backlog the whole list would
    // be read for every message.
    std::size_t window = 2 + kWindowMargin;
    {
      std::lock_guard lock(claims->mu);
      window += claims->busy.size() + claims->skipped.size() + claims->held.size();
    }
    auto pending = spool->pending(window);
    if (!pending) {
      step.idle = false;
      step.error = pending.error().message;
      return step;
    }
    // The oldest message no other loop has taken, not left alone and not
    // waiting after a failure.
    std::optional<queue::SpooledMessage> taken;
    {
      std::lock_guard lock(claims->mu);
      const auto now = std::chrono::steady_clock::now();
      std::int64_t waiting_since = 0;
      for (auto& m : *pending) {
        if (claims->busy.count(m.id) || claims->skipped.count(m.id)) continue;
        const auto h = claims->held.find(m.id);
        if (h != claims->held.end() && h->second > now) continue;
        if (taken) {
          waiting_since = m.received_at;
          break;
        }
        if (h != claims->held.end()) claims->held.erase(h);
        claims->busy.insert(m.id);
        taken = std::move(m);
      }
      // A full window without a second free message: more wait beyond it,
      // none of them older than its last one.
      if (taken && waiting_since == 0 && pending->size() >= window) {
        waiting_since = pending->back().received_at;
      }
      claims->waiting_since.store(waiting_since);
    }
    if (!taken) return step;
    const queue::SpooledMessage& m = *taken;
    step.idle = false;
    step.id = m.id;
    const auto stalls_before = openpgp::stall_count_this_thread();
    auto gpg = openpgp::thread_context(setup->home);
    if (!gpg) {
      step.error = gpg.error().message;
      return step;
    }
    // The stage is the one of the address the message was sent to.
    auto role = setup->config->directory.match_recipients(m.recipients);
    if (role && role->role == directory::ListRole::request) {
      requests::Env env{*setup->config, *setup->keys, *db, *spool};
      auto r = requests::process(**gpg, env, m.id, std::time(nullptr));
      if (!r) {
        failed(step, r.error());
      } else {
        step.request = std::move(*r);
      }
    } else if (role && role->role == directory::ListRole::bounces) {
      bounces::Env env{*setup->config, *db, *spool};
      auto b = bounces::process(env, m.id, std::time(nullptr));
      if (!b) {
        failed(step, b.error());
      } else {
        step.bounce = std::make_shared<const bounces::Processed>(std::move(*b));
      }
    } else {
      fanout::FanoutEnv env{*setup->config, *setup->keys, *db, *spool, setup->handoff.get()};
      auto d = fanout::distribute(**gpg, env, m.id, std::time(nullptr));
      if (!d) {
        failed(step, d.error());
      } else {
        step.done = std::move(*d);
      }
    }
    step.stalled = !step.error.empty() && openpgp::stall_count_this_thread() != stalls_before;
    return step;
  };
  auto task =
      start_offload(pool_.get_executor(), io_.get_executor(), std::move(work), kFanoutLimit);
  Offloaded<FanoutStep> out = co_await task->wait();
  if (!out.value) {
    // The message stays claimed: the worker may still be working on it.
    std::string reason = out.timed_out ? "timed out" : out.failure;
    log::event(level_enum::err, "-", "fanout", {{"status", "error"}, {"reason", reason}});
    co_return false;
  }
  FanoutStep& step = *out.value;
  if (step.idle) co_return false;
  const std::string id = step.id.empty() ? "-" : step.id;
  // What happens to the message next, decided before other loops may take it.
  const auto settle = [&](bool skip, std::optional<std::chrono::seconds> hold) {
    std::lock_guard lock(claims_->mu);
    if (skip) claims_->skipped.insert(step.id);
    if (hold) claims_->held[step.id] = std::chrono::steady_clock::now() + *hold;
    claims_->busy.erase(step.id);
  };
  if (!step.error.empty()) {
    // Nothing was written; the message stays received and is tried again
    // after a pause (at once after a gpg stall: its agent was restarted),
    // while the messages behind it go on.
    const std::chrono::seconds pause = step.stalled ? std::chrono::seconds(0) : kRetryAfterFault;
    if (!step.id.empty()) settle(false, pause);
    space_alarm(step.error);
    log::event(level_enum::err, id, "fanout",
               {{"status", step.permanent ? "stuck" : "error"},
                {"reason", escape_for_log(step.error)},
                {"retry_in", std::to_string(pause.count()) + "s"}});
    co_return true;
  }
  if (step.request) {
    settle(step.request->skipped, std::nullopt);
    log_request(id, *step.request);
    if (step.request->keys_changed && on_keys_changed_) on_keys_changed_();
    scheduler_->wake();
    co_return true;
  }
  if (step.bounce) {
    settle(step.bounce->skipped, std::nullopt);
    log_bounce(id, *step.bounce);
    co_return true;
  }
  settle(step.done->kind == fanout::Distribution::Kind::skipped, std::nullopt);
  log_distribution(id, *step.done);
  scheduler_->wake();
  co_return true;
}

asio::awaitable<void> Outgoing::report_once() {
  auto setup = setup_;
  queue::Spool* spool = &spool_;
  store::Database* db = &db_;
  using Outcome = std::pair<fanout::FailureReport, std::string>;
  auto work = [setup, spool, db]() -> Outcome {
    auto gpg = openpgp::thread_context(setup->home);
    if (!gpg) return {{}, gpg.error().message};
    fanout::FanoutEnv env{*setup->config, *setup->keys, *db, *spool, setup->handoff.get()};
    auto r = fanout::report_failures(**gpg, env, std::time(nullptr));
    if (!r) return {{}, r.error().message};
    return {std::move(*r), std::string()};  // typed: `{}` would pick pair's copying constructor
  };
  auto task = start_offload(pool_.get_executor(), io_.get_executor(), std::move(work),
                                 kFanoutLimit);
  Offloaded<Outcome> out = co_await task->wait();
  std::string error =
      out.value ? out.value->second : (out.timed_out ? "timed out" : out.failure);
  if (!error.empty()) {
    report_wanted_ = true;
    log::event(level_enum::err, "-", "report", {{"status", "error"}, {"reason", error}});
    co_return;
  }
  const fanout::FailureReport& r = out.value->first;
  if (r.failures > 0) {
    std::string n = std::to_string(r.failures);
    std::string notices = std::to_string(r.notices);
    std::string unreachable = join_withheld(r.admins_without_notice);
    log::event(r.notices == 0 || !r.admins_without_notice.empty() ? level_enum::warn
                                                                   : level_enum::info,
               "-", "report",
               {{"failures", n},
                {"notices", notices},
                {"admins_without_notice", unreachable.empty() ? "-" : unreachable}});
  }
  scheduler_->wake();
}

asio::awaitable<void> Outgoing::fanout_loop(std::size_t index) {
  Worker& self = *workers_[index];
  while (!stopping_) {
    self.woken = false;
    // The failure reports are loop 0's.
    if (index == 0 && report_wanted_) {
      report_wanted_ = false;
      co_await report_once();
    }
    bool more = co_await fanout_once();
    if (stopping_) break;
    log_backlog_change();
    if (more || self.woken) continue;
    // Idle: wait for a new message, the next look, or a held message's turn.
    auto wait = std::chrono::duration_cast<std::chrono::steady_clock::duration>(kPoll);
    {
      std::lock_guard lock(claims_->mu);
      for (const auto& [id, at] : claims_->held) {
        wait = std::min(wait, std::max(at - std::chrono::steady_clock::now(),
                                       std::chrono::steady_clock::duration::zero()));
      }
    }
    self.timer.expires_after(wait);
    auto [ec] = co_await self.timer.async_wait(asio::as_tuple(asio::use_awaitable));
    // A full poll interval without a wake-up: look for unreported failures
    // too (a safety net; failures normally wake this loop when recorded).
    if (!ec && index == 0) report_wanted_ = true;
  }
  if (--running_ == 0) stopped_timer_.cancel();
}

void Outgoing::space_alarm(const std::string& reason) {
  if (space_ == nullptr || !queue::looks_like_no_space(reason)) return;
  space_failure_ = reason;
  space_timer_.cancel();
}

asio::awaitable<void> Outgoing::space_loop() {
  queue::SpaceGuard* guard = space_;
  std::string last_failure;
  bool was_short = false;
  while (!stopping_) {
    std::string alarm = std::exchange(space_failure_, std::string());
    auto work = [guard, alarm]() {
      SpaceStep step;
      if (!alarm.empty()) step.change = guard->release("a write failed: " + alarm);
      if (step.change.kind == queue::SpaceChange::Kind::none) step.change = guard->maintain();
      step.shortage = guard->shortage();
      return step;
    };
    auto task =
        start_offload(pool_.get_executor(), io_.get_executor(), std::move(work), kSpaceLimit);
    Offloaded<SpaceStep> out = co_await task->wait();
    if (out.value) {
      const SpaceStep& step = *out.value;
      // A failure that repeats every tick (the reserve cannot be made
      // again) is logged once.
      const bool failed = step.change.kind == queue::SpaceChange::Kind::failed;
      if (!failed || step.change.reason != last_failure) {
        log_space_change(step.change, guard->settings());
      }
      last_failure = failed ? step.change.reason : std::string();
      if (step.shortage && !was_short) {
        log::event(level_enum::warn, "-", "space",
                   {{"status", "short"},
                    {"intake", "refused with 452 4.3.1"},
                    {"reason", escape_for_log(step.shortage->describe())}});
      } else if (!step.shortage && was_short) {
        log::event(level_enum::info, "-", "space", {{"status", "ok"}, {"intake", "accepting"}});
      }
      was_short = step.shortage.has_value();
    }
    if (stopping_) break;
    if (!space_failure_.empty()) continue;  // an alarm came while looking
    space_timer_.expires_after(kSpaceTick);
    co_await space_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (--running_ == 0) stopped_timer_.cancel();
}

asio::awaitable<void> Outgoing::stop(std::chrono::milliseconds grace) {
  stopping_ = true;
  space_timer_.cancel();
  wake();
  while (running_ > 0) {
    stopped_timer_.expires_after(std::chrono::seconds(1));
    co_await stopped_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  scheduler_->request_stop();
  co_await relay_->stop(grace);
  co_await scheduler_->stop();
}

}  // namespace tlpmail::delivery
