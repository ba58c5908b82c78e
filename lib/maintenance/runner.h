// The daemon's periodic work: jobs that run every so often on the worker
// pool (the daily key check and the admins' digests, communication checks
// and directory reviews, retention), one at a time, each at most once per
// period. When a job last ran is kept in the database (table
// maintenance_runs), so a restart does not run a daily job again, and a
// job missed while the daemon was down runs soon after the start. A job
// may be asked to run soon (after a reload, after tlpmailctl changed what
// it works on). No job logic here: the jobs live with their stages.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "delivery/outgoing.h"
#include "keyring/keyring.h"
#include "openpgp/context.h"
#include "queue/spool.h"
#include "store/database.h"
#include "util/result.h"

namespace tlpmail::maintenance {

namespace asio = boost::asio;

// What a job works with. References; valid for the call.
struct JobEnv {
  const config::Config& config;
  const keyring::KeyReport& keys;
  store::Database& db;
  queue::Spool& spool;
  openpgp::Context& gpg;  // the daemon's GnuPG home, this thread's context
  std::time_t now;
};

struct JobResult {
  std::string summary;       // one line for the log ("2 notices, 1 digest"); "": debug only
  bool queued_mail = false;  // wrote to the outbox: the delivery scheduler is woken
};

struct Job {
  std::string name;                 // "key-check"; unique
  std::chrono::seconds every{86400};
  // Blocking; runs on the worker pool. Errors are logged and the job is
  // tried again after `retry_after`.
  std::function<Result<JobResult>(const JobEnv&)> run;
  std::chrono::seconds retry_after{600};
};

// Thread safety: none; construct and call on the io thread. The database,
// spool and pool must outlive it.
class Runner {
 public:
  Runner(asio::io_context& io, asio::thread_pool& pool, store::Database& db, queue::Spool& spool,
         std::shared_ptr<const delivery::OutgoingSetup> setup);

  // Call before start().
  void add(Job job);
  // Called after a job queued mail (the daemon wakes the scheduler).
  void set_on_mail(std::function<void()> on_mail) { on_mail_ = std::move(on_mail); }
  // How often due jobs are looked for (test hook; default 30 s).
  void set_tick(std::chrono::milliseconds tick) { tick_ = tick; }

  void start();
  // The configuration and keys for the next runs (a reload).
  void set_setup(std::shared_ptr<const delivery::OutgoingSetup> setup);
  // Runs `name` at the next tick, whenever it last ran.
  void run_soon(const std::string& name);
  // Finishes the job in progress; runs no more.
  asio::awaitable<void> stop();

  const std::vector<Job>& jobs() const { return jobs_; }

 private:
  asio::awaitable<void> loop();
  asio::awaitable<void> run_one(const Job& job);

  asio::io_context& io_;
  asio::thread_pool& pool_;
  store::Database& db_;
  queue::Spool& spool_;
  std::shared_ptr<const delivery::OutgoingSetup> setup_;
  std::vector<Job> jobs_;
  std::set<std::string> soon_;
  std::function<void()> on_mail_;
  std::chrono::milliseconds tick_{std::chrono::seconds(30)};
  asio::steady_timer timer_;
  asio::steady_timer stopped_;
  bool stopping_ = false, running_ = false;
};

// When `job` last ran (0: never) and whether that run succeeded, from
// maintenance_runs. Errors: database faults.
struct LastRun {
  std::int64_t at = 0;
  bool ok = false;
  std::string summary;
};
store::DbResult<LastRun> last_run(store::Database& db, const std::string& job);

}  // namespace tlpmail::maintenance
