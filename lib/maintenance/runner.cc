// The periodic-job loop (see runner.h).
#include "maintenance/runner.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "log/log.h"
#include "util/offload.h"
#include "util/text.h"

namespace tlpmail::maintenance {
namespace {

using spdlog::level::level_enum;

// A job that hangs (gpg) is given up after this; it runs again later.
constexpr std::chrono::minutes kJobLimit{30};

struct Outcome {
  std::optional<JobResult> result;
  std::string error;
};

store::DbResult<void> record_run(store::Database& db, const std::string& job, std::time_t at,
                                 bool ok, const std::string& summary) {
  auto r = db.execute(
      "INSERT INTO maintenance_runs (job, last_run_at, ok, summary) VALUES (?1, ?2, ?3, ?4)"
      " ON CONFLICT (job) DO UPDATE SET last_run_at = excluded.last_run_at, ok = excluded.ok,"
      " summary = excluded.summary",
      {job, static_cast<std::int64_t>(at), std::int64_t{ok ? 1 : 0}, summary});
  if (!r) return Unexpected(r.error());
  return {};
}

}  // namespace

store::DbResult<LastRun> last_run(store::Database& db, const std::string& job) {
  auto rows = db.query("SELECT last_run_at, ok, summary FROM maintenance_runs WHERE job = ?1",
                       {job});
  if (!rows) return Unexpected(rows.error());
  LastRun out;
  if (!rows->empty()) {
    out.at = rows->front().integer(0);
    out.ok = rows->front().integer(1) != 0;
    if (!rows->front().is_null(2)) out.summary = rows->front().text(2);
  }
  return out;
}

Runner::Runner(asio::io_context& io, asio::thread_pool& pool, store::Database& db,
               queue::Spool& spool, std::shared_ptr<const delivery::OutgoingSetup> setup)
    : io_(io),
      pool_(pool),
      db_(db),
      spool_(spool),
      setup_(std::move(setup)),
      timer_(io),
      stopped_(io) {}

void Runner::add(Job job) { jobs_.push_back(std::move(job)); }

void Runner::start() {
  running_ = true;
  asio::co_spawn(io_, loop(), asio::detached);
}

void Runner::set_setup(std::shared_ptr<const delivery::OutgoingSetup> setup) {
  setup_ = std::move(setup);
}

void Runner::run_soon(const std::string& name) {
  soon_.insert(name);
  timer_.cancel();
}

asio::awaitable<void> Runner::run_one(const Job& job) {
  auto setup = setup_;
  store::Database* db = &db_;
  queue::Spool* spool = &spool_;
  auto run = job.run;
  auto work = [setup, db, spool, run]() {
    Outcome out;
    auto gpg = openpgp::thread_context(setup->home);
    if (!gpg) {
      out.error = gpg.error().message;
      return out;
    }
    JobEnv env{*setup->config, *setup->keys, *db, *spool, **gpg, std::time(nullptr)};
    auto r = run(env);
    if (!r) {
      out.error = r.error().message;
    } else {
      out.result = std::move(*r);
    }
    return out;
  };
  const std::time_t started = std::time(nullptr);
  auto task = start_offload(pool_.get_executor(), io_.get_executor(), std::move(work), kJobLimit);
  Offloaded<Outcome> done = co_await task->wait();
  std::string error;
  if (!done.value) {
    error = done.timed_out ? "timed out" : done.failure;
  } else if (!done.value->error.empty()) {
    error = done.value->error;
  }
  const bool ok = error.empty();
  const std::string summary = ok ? done.value->result->summary : error;
  // A failed run counts as run `retry_after` before its period ends.
  const std::time_t recorded =
      ok ? started
         : started - static_cast<std::time_t>(std::max<std::int64_t>(
                         0, job.every.count() - job.retry_after.count()));
  (void)record_run(db_, job.name, recorded, ok, summary);
  if (ok) {
    // A run with nothing to say (a frequent job that found nothing due) is
    // logged at debug level only.
    log::event(summary.empty() ? level_enum::debug : level_enum::info, "-", "job",
               {{"job", job.name}, {"status", "ok"}, {"summary", escape_for_log(summary)}});
    if (done.value->result->queued_mail && on_mail_) on_mail_();
  } else {
    log::event(level_enum::err, "-", "job",
               {{"job", job.name}, {"status", "error"}, {"reason", escape_for_log(error)}});
  }
}

asio::awaitable<void> Runner::loop() {
  while (!stopping_) {
    for (const Job& job : jobs_) {
      if (stopping_) break;
      bool due = soon_.erase(job.name) > 0;
      if (!due) {
        auto last = last_run(db_, job.name);
        if (!last) continue;  // the database is busy: next tick
        due = std::time(nullptr) - last->at >= job.every.count();
      }
      if (due) co_await run_one(job);
    }
    if (stopping_) break;
    timer_.expires_after(tick_);
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  running_ = false;
  stopped_.cancel();
}

asio::awaitable<void> Runner::stop() {
  stopping_ = true;
  timer_.cancel();
  while (running_) {
    stopped_.expires_after(std::chrono::seconds(1));
    co_await stopped_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace tlpmail::maintenance
