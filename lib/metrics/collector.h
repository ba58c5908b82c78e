// metrics::Collector: fills a Registry from tlpmail.db at each scrape,
// over its own read-only connection (WAL: it never waits for the daemon's
// writers nor makes them wait). Gauges are the present state
// (state_report.h); counters and histograms count what happened since
// this collector started, by cursors over the tables: verdicts by
// audit_log id, fan-outs by outbox_messages rowid, final copy states by
// their updated_at second (a second is counted once it is over). Members'
// keys by status come from the key report in force; the list keys' days to
// expiry from gpg, at most every 10 minutes. Thread safety: refresh() and
// set_runtime() may be called from any thread (one mutex).
#pragma once

#include <ctime>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "config/config.h"
#include "keyring/keyring.h"
#include "metrics/registry.h"
#include "store/database.h"

namespace tlpmail::metrics {

class Collector {
 public:
  // `registry` must outlive the collector. Declares the families it fills.
  Collector(Registry& registry, std::filesystem::path database);

  // The configuration, keys and GnuPG home in force (start, reload).
  void set_runtime(std::shared_ptr<const config::Config> config,
                   std::shared_ptr<const keyring::KeyReport> keys, std::filesystem::path home);

  // Sets the cursors to the database's present end: counters count from
  // here. Called once at start; refresh() calls it when it was not.
  void start(std::time_t now);

  // Reads the database (and, when due, the list keys) into the registry.
  // A database error is counted in tlpmail_metrics_errors_total and the
  // gauges keep their last values.
  void refresh(std::time_t now);

 private:
  void start_locked(std::time_t now);
  void refresh_locked(std::time_t now);
  void refresh_keys_locked(std::time_t now);
  store::Database* db_locked();

  Registry& registry_;
  std::filesystem::path path_;
  std::mutex mu_;
  std::unique_ptr<store::Database> db_;
  bool started_ = false;
  std::int64_t audit_cursor_ = 0;
  std::int64_t fanout_cursor_ = 0;
  std::uint64_t gpg_stalls_seen_ = 0;  // openpgp::stall_count() already counted
  std::int64_t copy_cut_ = 0;  // final copy states counted up to (not including) this second
  std::shared_ptr<const config::Config> config_;
  std::shared_ptr<const keyring::KeyReport> keys_;
  std::filesystem::path home_;
  std::time_t list_keys_at_ = 0;  // when the list keys were last read; 0: due
};

}  // namespace tlpmail::metrics
