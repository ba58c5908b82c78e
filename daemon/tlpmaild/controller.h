// The running daemon's control loop on the io_context thread: signals
// (SIGHUP reload, SIGTERM/SIGINT graceful stop, a second one closes every
// connection at once), the atomic configuration swap on reload, the
// reload of the members' keys alone after a member updated theirs by
// mail or a file in keys_dir or keys.d changed (the keys watch), and the
// systemd watchdog pings. Blocking reload work runs on the
// worker pool.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <filesystem>
#include <memory>

#include "delivery/outgoing.h"
#include "maintenance/runner.h"
#include "metrics/service.h"
#include "intake/memory_budget.h"
#include "net/server.h"
#include "queue/spool.h"
#include "store/database.h"
#include "tlpmaild/runtime.h"

namespace tlpmail::daemon {

namespace asio = boost::asio;

// Thread safety: none; everything runs on the io_context's one thread.
// REQUIRES: all references outlive the io_context's run().
class Controller {
 public:
  // `spool`, `db` and `memory` are what each new configuration's intake
  // works with; a reload sets the budget's limit.
  Controller(asio::io_context& io, asio::thread_pool& pool, asio::signal_set& signals,
             net::Server& server, queue::Spool& spool, store::Database& db,
             std::shared_ptr<intake::MemoryBudget> memory, std::filesystem::path config_file,
             std::filesystem::path gnupg_home, std::shared_ptr<const Runtime> runtime);

  // Starts the signal loop, the keys watch and, under a systemd watchdog,
  // the pings; asks the periodic jobs for a key check and the list key
  // notices (start, and after every reload).
  void start();

  // A member's key changed under state_dir/keys.d (update-key): loads the
  // members' keys again with the configuration in force and, when that
  // load has no error, swaps them in everywhere (intake, fan-out, jobs);
  // otherwise the old keys stay and the errors are logged. Serialised
  // with SIGHUP reloads. The outgoing side calls it (set_outgoing), and
  // the keys watch: every `keys_poll` it compares the names, sizes and
  // modification times of the files in keys_dir and state_dir/keys.d with
  // those it saw last, so that a revocation an admin puts into keys_dir
  // takes effect within seconds, without a SIGHUP.
  void keys_changed();
  // How often the keys watch looks (default 10 s; tests shorten it).
  // Call before start().
  void set_keys_poll(std::chrono::milliseconds every) { keys_poll_ = every; }

  // The outgoing side gets each new configuration and is stopped after the
  // server. Optional; call before start().
  void set_outgoing(delivery::Outgoing* outgoing) { outgoing_ = outgoing; }
  // The periodic jobs get each new configuration and are stopped with the
  // outgoing side. Optional; call before start().
  void set_maintenance(maintenance::Runner* runner) { maintenance_ = runner; }
  // The /metrics endpoint ([metrics]): instruments each new server
  // settings, gets each new runtime, stops with the server. Optional.
  void set_metrics(metrics::Service* metrics) { metrics_ = metrics; }

  // The configuration in force (replaced on a successful reload).
  std::shared_ptr<const Runtime> runtime() const { return runtime_; }

 private:
  asio::awaitable<void> signal_loop();
  asio::awaitable<void> reload(bool full);
  asio::awaitable<void> load_all();
  asio::awaitable<void> load_keys_only();
  asio::awaitable<void> shutdown(int signal);
  asio::awaitable<void> watchdog_loop(std::chrono::microseconds interval);
  asio::awaitable<void> keys_watch_loop();
  void apply(std::shared_ptr<const Runtime> next);

  asio::io_context& io_;
  asio::thread_pool& pool_;
  asio::signal_set& signals_;
  net::Server& server_;
  queue::Spool& spool_;
  store::Database& db_;
  std::shared_ptr<intake::MemoryBudget> memory_;
  delivery::Outgoing* outgoing_ = nullptr;
  maintenance::Runner* maintenance_ = nullptr;
  metrics::Service* metrics_ = nullptr;
  std::filesystem::path config_file_;
  std::filesystem::path gnupg_home_;
  std::shared_ptr<const Runtime> runtime_;
  asio::steady_timer watchdog_;
  asio::steady_timer keys_watch_;
  std::chrono::milliseconds keys_poll_{std::chrono::seconds(10)};
  std::string keys_seen_;  // key_files_state() at the last look or keys load
  bool reloading_ = false;
  bool reload_again_ = false;  // a SIGHUP during a reload: one more full pass
  bool keys_again_ = false;    // keys changed during a reload: one more keys pass
  bool stopping_ = false;
  bool stopped_ = false;
};

// net::Settings for a Runtime: STARTTLS, limits and an intake::Stage that
// verifies into `spool` and `db` and charges `memory` (the daemon's one
// budget; its limit is the caller's to set).
std::shared_ptr<const net::Settings> server_settings(const Runtime& runtime, queue::Spool& spool,
                                                     store::Database& db,
                                                     std::shared_ptr<intake::MemoryBudget> memory);

// What the outgoing loop works with under a Runtime.
std::shared_ptr<const delivery::OutgoingSetup> outgoing_setup(const Runtime& runtime);

// Logs each diagnostic as a "config" event: errors at error level,
// warnings at warn level, with the FILE:LINE text.
void log_diagnostics(const std::vector<config::Diagnostic>& diagnostics);

// Logs each list key as "- list-key list=A fingerprint=F created=yes|no"
// (info level).
void log_list_keys(const std::vector<ListKeyEvent>& keys);

}  // namespace tlpmail::daemon
