// Signals, reloads (everything on SIGHUP, the members' keys alone after
// update-key or a change in keys_dir or keys.d) and watchdog of tlpmaild.
#include "tlpmaild/controller.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <ctime>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "intake/stage.h"
#include "keyring/keyring.h"
#include "log/log.h"
#include "tlpmaild/notify.h"
#include "util/offload.h"

namespace tlpmail::daemon {

using spdlog::level::level_enum;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// At a stop, copies being sent get this long to finish; then they are cut
// and retried at the next start.
constexpr std::chrono::milliseconds kRelayGrace{std::chrono::seconds(10)};
// gpg can hang on a broken keys_dir; a reload that takes longer is given up.
constexpr std::chrono::minutes kReloadLimit{5};
// The periodic job that looks at every member's key (lib/keylife): run at
// start and after every reload, besides its daily run.
constexpr const char* kKeyCheckJob = "key-check";
// The admins' notices about the list keys (daemon/tlpmaild/jobs.cc): run
// at start and after every full reload, besides its daily run.
constexpr const char* kListKeyJob = "list-key-notices";

const char* signal_name(int sig) {
  switch (sig) {
    case SIGTERM:
      return "TERM";
    case SIGINT:
      return "INT";
    case SIGHUP:
      return "HUP";
  }
  return "other";
}

void log_failure(const char* where, const std::exception_ptr& e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log::event(level_enum::critical, "-", "error", {{"where", where}, {"reason", ex.what()}});
  }
}

// The completion handler of a co_spawned coroutine: logs what escaped it.
auto logged(const char* where) {
  return [where](const std::exception_ptr& e) { log_failure(where, e); };
}

bool same_listen(const config::ServerSettings& a, const config::ServerSettings& b) {
  if (a.listen.size() != b.listen.size()) return false;
  for (std::size_t i = 0; i < a.listen.size(); ++i) {
    if (a.listen[i].host != b.listen[i].host || a.listen[i].port != b.listen[i].port) return false;
  }
  return true;
}

// The names, sizes and modification times of the files in keys_dir and
// state_dir/keys.d, one line each, sorted: what the keys watch compares.
// A folder that cannot be read gives a line with the reason. A few stat
// calls per key file, on the io thread: cheap next to a keys load.
std::string key_files_state(const config::Config& config) {
  std::vector<std::string> lines;
  for (const std::filesystem::path& dir :
       {config.paths.keys_dir, keyring::updated_keys_dir(config)}) {
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec);
    for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      std::error_code size_ec, time_ec;
      const std::uintmax_t size = it->file_size(size_ec);
      const auto mtime = it->last_write_time(time_ec);
      lines.push_back(it->path().string() + " " + std::to_string(size_ec ? 0 : size) + " " +
                      std::to_string(time_ec ? 0 : mtime.time_since_epoch().count()));
    }
    if (ec) lines.push_back(dir.string() + " ! " + ec.message());
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

}  // namespace

std::shared_ptr<const net::Settings> server_settings(const Runtime& runtime, queue::Spool& spool,
                                                     store::Database& db,
                                                     std::shared_ptr<intake::MemoryBudget> memory) {
  auto intake = std::make_shared<const intake::Stage>(
      intake::Context{runtime.config, runtime.keys, runtime.home, &spool, &db, runtime.handoff},
      std::move(memory));
  const auto& server = runtime.config->server;
  return std::make_shared<const net::Settings>(net::Settings{
      std::move(intake), runtime.tls, server.hostname, server.max_connections,
      server.max_connections_per_client, std::chrono::seconds(server.max_session_time),
      std::chrono::milliseconds(server.in_flow_delay_ms)});
}

std::shared_ptr<const delivery::OutgoingSetup> outgoing_setup(const Runtime& runtime) {
  return std::make_shared<const delivery::OutgoingSetup>(
      delivery::OutgoingSetup{runtime.config, runtime.keys, runtime.home, runtime.handoff});
}

void log_diagnostics(const std::vector<config::Diagnostic>& diagnostics) {
  for (const auto& d : diagnostics) {
    bool error = d.severity == config::Severity::error;
    std::string text = d.to_string();
    log::event(error ? level_enum::err : level_enum::warn, "-", "config",
               {{"severity", error ? "error" : "warning"}, {"problem", text}});
  }
}

void log_list_keys(const std::vector<ListKeyEvent>& keys) {
  for (const auto& k : keys) {
    log::event(
        level_enum::info, "-", "list-key",
        {{"list", k.list}, {"fingerprint", k.fingerprint}, {"created", k.created ? "yes" : "no"}});
  }
}

Controller::Controller(asio::io_context& io, asio::thread_pool& pool, asio::signal_set& signals,
                       net::Server& server, queue::Spool& spool, store::Database& db,
                       std::shared_ptr<intake::MemoryBudget> memory,
                       std::filesystem::path config_file, std::filesystem::path gnupg_home,
                       std::shared_ptr<const Runtime> runtime)
    : io_(io),
      pool_(pool),
      signals_(signals),
      server_(server),
      spool_(spool),
      db_(db),
      memory_(std::move(memory)),
      config_file_(std::move(config_file)),
      gnupg_home_(std::move(gnupg_home)),
      runtime_(std::move(runtime)),
      watchdog_(io),
      keys_watch_(io) {}

void Controller::start() {
  if (outgoing_) outgoing_->set_on_keys_changed([this] { keys_changed(); });
  if (maintenance_) {
    maintenance_->run_soon(kKeyCheckJob);
    maintenance_->run_soon(kListKeyJob);
  }
  asio::co_spawn(io_, signal_loop(), logged("signals"));
  keys_seen_ = key_files_state(*runtime_->config);
  asio::co_spawn(io_, keys_watch_loop(), logged("keys-watch"));
  if (auto interval = watchdog_interval()) {
    asio::co_spawn(io_, watchdog_loop(*interval), logged("watchdog"));
  }
}

asio::awaitable<void> Controller::signal_loop() {
  // co_spawn runs shutdown() inline up to its first suspension, so it may
  // be over (and have cancelled the signal wait) before the next wait.
  while (!stopped_) {
    auto [ec, sig] = co_await signals_.async_wait(kTuple);
    if (ec || stopped_) co_return;
    if (sig == SIGHUP) {
      if (stopping_) continue;
      if (reloading_) {
        reload_again_ = true;  // one more pass after the one running
        continue;
      }
      reloading_ = true;
      asio::co_spawn(io_, reload(true), logged("reload"));
      continue;
    }
    if (!stopping_) {
      stopping_ = true;
      asio::co_spawn(io_, shutdown(sig), logged("stop"));
    } else {
      std::string open = std::to_string(server_.connection_count());
      log::event(level_enum::warn, "-", "stopping",
                 {{"signal", signal_name(sig)}, {"closing", open}, {"reason", "second signal"}});
      server_.close_all();
    }
  }
}

asio::awaitable<void> Controller::shutdown(int sig) {
  std::string open = std::to_string(server_.connection_count());
  log::event(level_enum::info, "-", "stopping",
             {{"signal", signal_name(sig)}, {"connections", open}});
  notify_stopping();
  co_await server_.stop();
  if (metrics_) metrics_->stop();
  if (maintenance_) co_await maintenance_->stop();
  if (outgoing_) co_await outgoing_->stop(kRelayGrace);
  stopped_ = true;
  signals_.cancel();
  watchdog_.cancel();
  keys_watch_.cancel();
}

void Controller::keys_changed() {
  if (stopping_) return;
  // The load below reads what is there now: the watch need not call again.
  keys_seen_ = key_files_state(*runtime_->config);
  if (reloading_) {
    keys_again_ = true;  // one more pass after the one running
    return;
  }
  reloading_ = true;
  asio::co_spawn(io_, reload(false), logged("reload"));
}

// One pass at a time: a SIGHUP or a key change during a pass asks for one
// more (a full pass also loads the keys).
asio::awaitable<void> Controller::reload(bool full) {
  do {
    const bool this_full = full || reload_again_;
    full = false;
    reload_again_ = false;
    keys_again_ = false;
    if (this_full) {
      co_await load_all();
    } else {
      co_await load_keys_only();
    }
  } while ((reload_again_ || keys_again_) && !stopping_);
  reloading_ = false;
}

asio::awaitable<void> Controller::load_keys_only() {
  auto config = runtime_->config;
  const std::filesystem::path home = runtime_->home;
  log::event(level_enum::info, "-", "reload", {{"status", "started"}, {"what", "keys"}});
  auto work = [config, home]() -> Result<keyring::KeyReport> {
    auto keys = keyring::load_keys(*config, home, std::time(nullptr));
    if (keys && !keys->has_errors()) {
      if (auto h = keyring::list_handles(*keys, home); !h) return Unexpected(h.error());
    }
    return keys;
  };
  auto task =
      start_offload(pool_.get_executor(), io_.get_executor(), std::move(work), kReloadLimit);
  Offloaded<Result<keyring::KeyReport>> done = co_await task->wait();
  std::string error;
  if (!done.value) {
    error = done.timed_out ? std::string("loading took too long") : done.failure;
  } else if (!*done.value) {
    error = done.value->error().message;
  }
  if (!error.empty()) {
    log::event(level_enum::err, "-", "reload",
               {{"status", "failed"}, {"what", "keys"}, {"error", error}, {"kept", "old keys"}});
    co_return;
  }
  keyring::KeyReport& keys = **done.value;
  log_diagnostics(keys.diagnostics);
  if (keys.has_errors()) {
    log::event(level_enum::err, "-", "reload",
               {{"status", "failed"}, {"what", "keys"}, {"kept", "old keys"}});
    co_return;
  }
  if (stopping_ || runtime_->config != config) co_return;  // a full reload came first
  auto next = std::make_shared<Runtime>(*runtime_);
  next->keys = std::make_shared<const keyring::KeyReport>(std::move(keys));
  apply(next);
  std::size_t usable = 0;
  for (const auto& k : runtime_->keys->people) usable += k.usable;
  log::event(level_enum::info, "-", "reload",
             {{"status", "ok"},
              {"what", "keys"},
              {"usable", std::to_string(usable) + "/" +
                             std::to_string(runtime_->keys->people.size())}});
  if (maintenance_) maintenance_->run_soon(kKeyCheckJob);
}

asio::awaitable<void> Controller::load_all() {
  {
    notify_reloading();
    keys_seen_ = key_files_state(*runtime_->config);  // this pass loads the keys too
    std::string file = config_file_.string();
    log::event(level_enum::info, "-", "reload", {{"status", "started"}, {"config", file}});
    // Named locals, not temporaries inside the co_await (g++ 12, offload.h).
    auto work = [file = config_file_, home = gnupg_home_] {
      return load_runtime(file, home, std::time(nullptr));
    };
    auto task =
        start_offload(pool_.get_executor(), io_.get_executor(), std::move(work), kReloadLimit);
    Offloaded<Loaded> done = co_await task->wait();
    if (!done.value) {
      std::string why = done.timed_out ? std::string("loading took too long") : done.failure;
      log::event(level_enum::err, "-", "reload",
                 {{"status", "failed"}, {"error", why}, {"kept", "old configuration"}});
    } else {
      const Loaded& loaded = *done.value;
      log_diagnostics(loaded.diagnostics);
      log_list_keys(loaded.list_keys);
      for (const auto& e : loaded.errors) {
        log::event(level_enum::err, "-", "config", {{"severity", "error"}, {"problem", e}});
      }
      if (loaded.ok() && !stopping_) {
        apply(loaded.runtime);
        const auto& c = *runtime_->config;
        std::string lists = std::to_string(c.directory.lists().size());
        std::string people = std::to_string(c.directory.people().size());
        const char* tls = runtime_->tls ? "yes" : "no";
        log::event(level_enum::info, "-", "reload",
                   {{"status", "ok"}, {"lists", lists}, {"people", people}, {"tls", tls}});
        if (maintenance_) {
          maintenance_->run_soon(kKeyCheckJob);
          maintenance_->run_soon(kListKeyJob);
        }
      } else if (!loaded.ok()) {
        std::size_t errors = loaded.errors.size();
        for (const auto& d : loaded.diagnostics) {
          if (d.severity == config::Severity::error) ++errors;
        }
        std::string count = std::to_string(errors);
        log::event(level_enum::err, "-", "reload",
                   {{"status", "failed"}, {"errors", count}, {"kept", "old configuration"}});
      }
    }
    if (!stopping_) notify_ready("serving");
  }
}

void Controller::apply(std::shared_ptr<const Runtime> next) {
  const auto& old_config = *runtime_->config;
  const auto& new_config = *next->config;
  if (!same_listen(old_config.server, new_config.server)) {
    log::event(
        level_enum::warn, "-", "reload",
        {{"status", "partial"}, {"setting", "listen"}, {"reason", "takes effect on restart"}});
  }
  if (old_config.paths.state_dir != new_config.paths.state_dir) {
    std::string dir = new_config.paths.state_dir.string();
    log::event(level_enum::warn, "-", "reload",
               {{"status", "partial"},
                {"setting", "state_dir"},
                {"value", dir},
                {"reason", "takes effect on restart"}});
  }
  auto level = spdlog::level::from_str(new_config.log.level);
  if (level != spdlog::level::off || new_config.log.level == "off") spdlog::set_level(level);
  memory_->set_limit(new_config.server.max_message_memory);
  auto settings = server_settings(*next, spool_, db_, memory_);
  if (metrics_) {
    settings = metrics_->instrument(settings);
    metrics_->set_runtime(next->config, next->keys, next->home);
  }
  server_.set_settings(std::move(settings));
  if (outgoing_) outgoing_->set_setup(outgoing_setup(*next));
  if (maintenance_) maintenance_->set_setup(outgoing_setup(*next));
  runtime_ = std::move(next);
}

// A change is acted on at the look after it; a keys load that fails keeps
// the old keys (load_keys_only) and is not tried again until the files
// change again (an admin still copying files in).
asio::awaitable<void> Controller::keys_watch_loop() {
  while (!stopping_) {
    keys_watch_.expires_after(keys_poll_);
    auto [ec] = co_await keys_watch_.async_wait(kTuple);
    if (ec || stopping_) co_return;
    if (key_files_state(*runtime_->config) == keys_seen_) continue;
    log::event(level_enum::info, "-", "keys-watch", {{"changed", "keys_dir or keys.d"}});
    keys_changed();
  }
}

asio::awaitable<void> Controller::watchdog_loop(std::chrono::microseconds interval) {
  while (!stopped_) {
    notify_watchdog();
    watchdog_.expires_after(interval);
    auto [ec] = co_await watchdog_.async_wait(kTuple);
    if (ec) co_return;
  }
}

}  // namespace tlpmail::daemon
