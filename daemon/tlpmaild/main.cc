// tlpmaild: the service. Wiring only: command line, configuration, keys,
// database and spool, the SMTP/LMTP server (lib/net) with the intake
// (lib/intake) and the outgoing loop (lib/delivery) on one io_context
// thread plus a small worker pool for blocking work, signals and sd_notify
// (controller.cc). See docs/operator-guide.md and docs/architecture.md.
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <csignal>
#include <ctime>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "delivery/outgoing.h"
#include "intake/memory_budget.h"
#include "log/log.h"
#include "maintenance/runner.h"
#include "metrics/service.h"
#include "metrics/status_file.h"
#include "net/server.h"
#include "openpgp/context.h"
#include "openpgp/deadline.h"
#include "queue/env.h"
#include "queue/space_guard.h"
#include "queue/spool.h"
#include "store/database.h"
#include "tlpmaild/controller.h"
#include "tlpmaild/jobs.h"
#include "tlpmaild/notify.h"
#include "tlpmaild/options.h"
#include "tlpmaild/runtime.h"

namespace {

namespace asio = boost::asio;
using namespace tlpmail;
using spdlog::level::level_enum;

// Spool commits (fsync, SQLite) and reloads (gpg) run here; several
// commits in parallel share the filesystem's journal flushes (docs/spool.md).
constexpr int kWorkerThreads = 4;

void log_recovery(const queue::RecoveryReport& r) {
  std::string pending = std::to_string(r.pending);
  std::string temp = std::to_string(r.temp_files_removed);
  std::string orphans = std::to_string(r.orphan_files_removed);
  std::string finished = std::to_string(r.finished_files_removed);
  std::string corrupt = std::to_string(r.corrupt.size());
  std::string ignored = std::to_string(r.ignored_files.size());
  bool clean = r.temp_files_removed == 0 && r.orphan_files_removed == 0 &&
               r.finished_files_removed == 0 && r.corrupt.empty() && r.ignored_files.empty();
  log::event(clean ? level_enum::info : level_enum::warn, "-", "recovery",
             {{"pending", pending},
              {"temp_removed", temp},
              {"orphans_removed", orphans},
              {"finished_removed", finished},
              {"corrupt", corrupt},
              {"ignored", ignored}});
  for (const auto& id : r.corrupt) {
    log::event(level_enum::warn, id, "recovery",
               {{"state", "corrupt"}, {"reason", "file missing or of the wrong size"}});
  }
  for (const auto& name : r.ignored_files) {
    log::event(level_enum::warn, "-", "recovery", {{"ignored", name}});
  }
}

void log_space_start(queue::SpaceGuard& space) {
  const queue::SpaceChange c = space.start();
  const std::string min_free = std::to_string(space.settings().min_free);
  const std::string reserve = std::to_string(space.settings().reserve);
  if (!space.is_enabled()) {
    log::event(level_enum::warn, "-", "space", {{"min_free", "0"}, {"reserve", "off"}});
  } else if (c.kind == queue::SpaceChange::Kind::failed) {
    log::event(level_enum::warn, "-", "space",
               {{"min_free", min_free}, {"reserve", "not made"}, {"reason", c.reason}});
  } else {
    log::event(space.is_reserve_held() ? level_enum::info : level_enum::warn, "-", "space",
               {{"min_free", min_free},
                {"reserve", space.is_reserve_held() ? reserve : "not made (too little space)"}});
  }
}

int fail(const std::string& what) {
  log::event(level_enum::err, "-", "error", {{"reason", what}});
  return 1;
}

int run(const daemon::Options& options) {
  ::umask(077);
  (void)std::signal(SIGPIPE, SIG_IGN);  // gpg pipes; sockets use MSG_NOSIGNAL anyway

  // Before any thread exists (docs/decisions.md, "GPGME and threads").
  if (auto r = openpgp::initialize(); !r) {
    std::cerr << "tlpmaild: " << r.error().message << "\n";
    return 1;
  }
  if (options.gpg_deadline) openpgp::set_operation_deadline(*options.gpg_deadline);

  // Caught from here on: a SIGTERM during start-up stops right after it.
  asio::io_context io(1);
  asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);

  auto loaded = daemon::load_runtime(options.config_path, {}, std::time(nullptr));
  if (!loaded.ok()) {
    bool config_errors = false;
    for (const auto& d : loaded.diagnostics) {
      std::cerr << d.to_string() << "\n";
      config_errors = config_errors || d.severity == config::Severity::error;
    }
    for (const auto& k : loaded.list_keys) {
      if (k.created)
        std::cerr << "tlpmaild: created the list key of " << k.list << ": " << k.fingerprint
                  << "\n";
    }
    for (const auto& e : loaded.errors) std::cerr << "tlpmaild: " << e << "\n";
    // A list without its key could take mail it can never decrypt: no start.
    std::cerr << (config_errors ? "tlpmaild: not started: the configuration has errors\n"
                                : "tlpmaild: not started\n");
    return 1;
  }
  auto runtime = loaded.runtime;
  const config::Config& config = *runtime->config;
  log::init(config.log.level);
  // A gpg operation past its deadline (openpgp/deadline.h): one warning
  // per stall, from the watchdog's thread.
  openpgp::set_stall_handler([](const openpgp::Stall& s) {
    log::event(
        level_enum::warn, "-", "gpg",
        {{"status", "stalled"},
         {"operation", s.operation},
         {"home", s.home.string()},
         {"after_ms", std::to_string(s.limit.count())},
         {"agents_killed", std::to_string(s.agents_killed)},
         {"gpg_killed", std::to_string(s.gpg_killed)},
         {"action", s.gpg_killed > 0 ? "gpg processes killed" : "agent restarted, retrying"}});
  });
  std::string config_text = options.config_path;
  log::event(level_enum::info, "-", "start",
             {{"version", TLPMAIL_VERSION}, {"config", config_text}});
  daemon::log_diagnostics(loaded.diagnostics);  // warnings only at this point
  daemon::log_list_keys(loaded.list_keys);

  const auto state_dir = config.paths.state_dir;
  auto db = store::Database::open(state_dir / "tlpmail.db");
  if (!db)
    return fail("database " + (state_dir / "tlpmail.db").string() + ": " + db.error().message);
  auto spool = queue::Spool::open(queue::Env::posix(), (state_dir / "spool").string(), **db);
  if (!spool) return fail("spool " + (state_dir / "spool").string() + ": " + spool.error().message);
  log_recovery((*spool)->recovery_report());
  std::size_t pending = (*spool)->recovery_report().pending;

  // [server] min_free_space (queue/space_guard.h): the spool refuses new
  // mail below it, and the reserve file keeps room for delivery when the
  // disk fills; the outgoing loop looks after it from here on.
  queue::SpaceSettings space_settings;
  space_settings.min_free = config.server.min_free_space;
  queue::SpaceGuard space(queue::Env::posix(), state_dir.string(), space_settings);
  log_space_start(space);
  (*spool)->set_space_guard(&space);

  net::Timeouts timeouts;
  if (options.timeouts) timeouts = net::test_timeouts(*options.timeouts);

  // One budget for the daemon's life: sessions that started under an older
  // configuration keep charging it after a reload.
  auto memory = std::make_shared<intake::MemoryBudget>(config.server.max_message_memory);

  asio::thread_pool pool(kWorkerThreads);
  // The fan-outs and the relay's bookkeeping get threads of their own: on
  // the shared pool a burst of postings queued every fan-out behind the
  // intake's verifications (docs/performance.md, "Fan-out at scale").
  // At most fanout_workers of them fan out at a time; the rest keep the
  // scheduler's short database work from waiting behind a long fan-out.
  delivery::OutgoingOptions out_options;
  asio::thread_pool outgoing_pool(out_options.fanout_workers + 2);
  {
    net::Server server(io, pool.get_executor(), timeouts);
    if (auto r = server.listen(config.server.listen); !r) {
      pool.join();
      return fail(r.error().message);
    }
    // [metrics] (docs/monitoring.md): bound before the ready line, like listen.
    std::unique_ptr<metrics::Service> metrics_service;
    if (config.metrics.listen) {
      metrics_service = std::make_unique<metrics::Service>(io, pool, state_dir / "tlpmail.db");
      if (auto r = metrics_service->start(*config.metrics.listen, std::time(nullptr)); !r) {
        pool.join();
        return fail(r.error().message);
      }
      metrics_service->set_runtime(runtime->config, runtime->keys, runtime->home);
      log::event(level_enum::info, "-", "metrics", {{"listen", metrics_service->address()}});
    }
    auto settings = daemon::server_settings(*runtime, **spool, **db, memory);
    if (metrics_service) settings = metrics_service->instrument(settings);
    server.set_settings(std::move(settings));

    out_options.hold_spool = options.hold_spool;
    if (options.timeouts) {
      // Tests: short relay timeouts and retry delays (the retry schedule
      // keeps its shape: first delay, doubling, capped, give-up).
      auto t = *options.timeouts;
      delivery::RelayTimeouts rt;
      rt.connect = rt.reply = rt.data_end = t;
      rt.idle_close = rt.quit = std::min(t, std::chrono::milliseconds(1000));
      out_options.relay_timeouts = rt;
    }
    if (options.retry_seconds) {
      delivery::RetryPolicy rp;
      rp.first_delay = std::chrono::seconds(*options.retry_seconds);
      rp.max_delay = rp.first_delay * 8;
      out_options.retry = rp;
    }
    if (options.outbox_poll) out_options.outbox_poll = *options.outbox_poll;
    delivery::Outgoing outgoing(io, outgoing_pool, **spool, **db, daemon::outgoing_setup(*runtime),
                                out_options);
    outgoing.set_space_guard(&space);
    if (auto r = outgoing.start(); !r) {
      pool.join();
      return fail("outbox: " + r.error().message);
    }
    server.set_on_spooled([&outgoing] { outgoing.message_spooled(); });
    server.set_congested([&outgoing] { return outgoing.congested(); });
    if (metrics_service) {
      server.set_on_flow_delayed([m = metrics_service.get()](std::chrono::milliseconds waited) {
        m->registry().add("tlpmail_intake_flow_delayed_total", {}, 1);
        m->registry().add("tlpmail_intake_flow_delay_seconds_total", {},
                          static_cast<double>(waited.count()) / 1000.0);
      });
    }
    server.start();

    maintenance::Runner jobs(io, pool, **db, **spool, daemon::outgoing_setup(*runtime));
    if (options.job_tick) jobs.set_tick(*options.job_tick);
    jobs.set_on_mail([&outgoing] { outgoing.outbox_changed(); });
    daemon::add_jobs(jobs);
    jobs.start();

    daemon::Controller controller(io, pool, signals, server, **spool, **db, memory,
                                  options.config_path, daemon::gnupg_home(config), runtime);
    controller.set_outgoing(&outgoing);
    controller.set_maintenance(&jobs);
    if (options.keys_poll) controller.set_keys_poll(*options.keys_poll);
    controller.set_metrics(metrics_service.get());
    controller.start();

    std::string listen;
    for (const auto& ep : server.local_endpoints()) {
      if (!listen.empty()) listen.push_back(',');
      listen += net::format_endpoint(ep);
    }
    // For tlpmailctl status and restore (lib/metrics/status_file.h);
    // written before the ready line, so that whoever saw it finds the file.
    metrics::DaemonStatus status;
    status.pid = ::getpid();
    status.version = TLPMAIL_VERSION;
    status.started_at = std::time(nullptr);
    for (const auto& ep : server.local_endpoints()) status.listen.push_back(net::format_endpoint(ep));
    if (metrics_service) status.metrics = metrics_service->address();
    if (auto r = metrics::write_status(state_dir, status); !r) {
      log::event(level_enum::warn, "-", "status-file", {{"reason", r.error().message}});
    }
    const char* protocol = config.server.protocol == config::Protocol::lmtp ? "lmtp" : "smtp";
    std::string pending_text = std::to_string(pending);
    const char* tls = runtime->tls ? "yes" : "no";
    log::event(
        level_enum::info, "-", "ready",
        {{"listen", listen}, {"protocol", protocol}, {"pending", pending_text}, {"tls", tls}});
    daemon::notify_ready("listening on " + listen);

    io.run();
    metrics::remove_status(state_dir, status.pid);
  }
  pool.join();
  outgoing_pool.join();
  log::event(level_enum::info, "-", "stopped", {});
  spdlog::default_logger()->flush();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = daemon::parse_options(args);
  switch (parsed.action) {
    case daemon::Action::help:
      std::cout << daemon::kUsage;
      return 0;
    case daemon::Action::version:
      std::cout << "tlpmaild " TLPMAIL_VERSION "\n";
      return 0;
    case daemon::Action::usage_error:
      std::cerr << "tlpmaild: " << parsed.error << "\n" << daemon::kUsage;
      return 2;
    case daemon::Action::run:
      break;
  }
  // Blocks of 1 MiB and more (a large posting's text and plaintext, gpg's
  // output, the shared armor) get pages of their own that go back to the
  // system when freed. glibc's default raises this threshold up to 32 MiB
  // after the first large free, and then such buffers come from the heap
  // and stay: a 25 MB posting to 1,000 members peaked at 198 MiB and kept
  // 106 MiB after delivery; with the fixed threshold 154 and 27 MiB
  // (docs/performance.md, "Fan-out at scale").
  (void)mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
  try {
    return run(parsed.options);
  } catch (const std::exception& e) {
    std::cerr << "tlpmaild: fatal: " << e.what() << "\n";
    return 1;
  }
}
