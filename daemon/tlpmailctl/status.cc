// status [--json]: is tlpmaild running (its status file and a live pid),
// when it last delivered, what waits, what needs attention. Exit 1 when
// anything does, so that a monitoring check (Nagios/Icinga style, or a
// systemd timer) can run it as it is. Reads only: the status file,
// tlpmail.db read-only (lib/metrics/state_report.h) and a snapshot of the
// list keys.
#include <toml++/toml.h>

#include <ctime>
#include <iostream>
#include <optional>
#include <sstream>

#include "config/config.h"
#include "metrics/state_report.h"
#include "metrics/status_file.h"
#include "store/database.h"
#include "tlpmailctl/ctl.h"
#include "util/text.h"

namespace tlpmail::ctl {
namespace {

// A spooled message waits for its fan-out this long before it is a problem.
constexpr std::int64_t kSpoolAlarm = std::int64_t{15} * 60;

std::string utc(std::int64_t t) {
  if (t == 0) return "never";
  return utc_time(static_cast<std::time_t>(t), "%Y-%m-%dT%H:%M:%SZ");
}

std::string span(std::int64_t s) {
  if (s < 0) s = 0;
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m";
  if (s < std::int64_t{2} * 86400) {
    return std::to_string(s / 3600) + "h" + std::to_string(s % 3600 / 60) + "m";
  }
  return std::to_string(s / 86400) + "d" + std::to_string(s % 86400 / 3600) + "h";
}

}  // namespace

int status(const Options& o, std::ostream& out, std::ostream& err) {
  auto cfg = load_config_or_report(o, out, err);
  if (!cfg) return 1;
  const std::int64_t now = std::time(nullptr);
  std::vector<std::string> problems;

  auto st = metrics::read_status(cfg->paths.state_dir);
  std::optional<metrics::DaemonStatus> daemon;
  if (!st) {
    problems.push_back(st.error().message);
  } else if (!*st) {
    problems.push_back("tlpmaild is not running (no " +
                       (cfg->paths.state_dir / metrics::kStatusFileName).string() + ")");
  } else if (!metrics::is_tlpmaild_alive((*st)->pid)) {
    problems.push_back("tlpmaild is not running (its status file names pid " +
                       std::to_string((*st)->pid) + ", which is gone: it did not stop cleanly)");
  } else {
    daemon = **st;
  }

  std::optional<metrics::StateReport> report;
  std::ostringstream db_err;
  if (auto db = open_state_db(*cfg, 1, "database", db_err)) {
    auto r = metrics::read_state(*db, now);
    if (r) {
      report = std::move(*r);
    } else {
      problems.push_back(r.error().message);
    }
  } else {
    std::string why = db_err.str();
    while (!why.empty() && why.back() == '\n') why.pop_back();
    if (why.starts_with("tlpmailctl: ")) why = why.substr(12);
    problems.push_back(why);
  }
  if (report) {
    if (report->deferred_over_hour > 0) {
      problems.push_back(std::to_string(report->deferred_over_hour) +
                         " copies deferred for more than an hour (oldest queued " +
                         span(now - report->oldest_deferred_at) +
                         " ago): is the relay reachable? (tlpmailctl queue)");
    }
    if (report->failed_last_day > 0) {
      problems.push_back(std::to_string(report->failed_last_day) +
                         " copies failed within the last 24 hours (tlpmailctl queue, audit)");
    }
    if (report->spooled > 0 && now - report->oldest_spooled_at > kSpoolAlarm) {
      problems.push_back(std::to_string(report->spooled) +
                         " accepted messages wait for their fan-out, the oldest for " +
                         span(now - report->oldest_spooled_at) + " (see the log)");
    }
    for (const auto& j : report->jobs) {
      if (!j.ok)
        problems.push_back("the job " + j.name + " failed at " + utc(j.last_run_at) + ": " +
                           j.summary);
    }
  }
  for (const auto& k : view_list_keys(*cfg)) {
    if (!k.warning.empty()) problems.push_back(k.warning);
    if (!k.problem.empty()) problems.push_back("list key: " + k.problem);
  }

  if (o.json) {
    toml::table t{{"ok", problems.empty()}, {"running", daemon.has_value()}, {"now", now}};
    if (daemon) {
      toml::array listen;
      for (const auto& l : daemon->listen) listen.push_back(l);
      t.insert("pid", daemon->pid);
      t.insert("version", daemon->version);
      t.insert("started_at", daemon->started_at);
      t.insert("uptime_seconds", now - daemon->started_at);
      t.insert("listen", std::move(listen));
      t.insert("metrics", daemon->metrics);
    }
    if (report) {
      toml::table copies;
      for (const auto& [state, n] : report->copies) copies.insert(state, n);
      t.insert("last_delivery_at", report->last_delivery_at);
      t.insert("spooled", report->spooled);
      t.insert("oldest_spooled_at", report->oldest_spooled_at);
      t.insert("copies", std::move(copies));
      t.insert("oldest_deferred_at", report->oldest_deferred_at);
      t.insert("oldest_deferred_age_seconds",
               report->oldest_deferred_at == 0 ? 0 : now - report->oldest_deferred_at);
      t.insert("failed_last_day", report->failed_last_day);
      t.insert("bounced_last_day", report->bounced_last_day);
    }
    toml::array p;
    for (const auto& s : problems) p.push_back(s);
    t.insert("problems", std::move(p));
    out << toml::json_formatter{t} << "\n";
    return problems.empty() ? 0 : 1;
  }

  if (daemon) {
    out << "tlpmaild: running, pid " << daemon->pid << ", version " << daemon->version << ", up "
        << span(now - daemon->started_at) << " (since " << utc(daemon->started_at) << ")\n";
    for (const auto& l : daemon->listen) out << "  listening on " << l << "\n";
    if (!daemon->metrics.empty()) out << "  metrics on http://" << daemon->metrics << "/metrics\n";
  } else {
    out << "tlpmaild: not running\n";
  }
  if (report) {
    const auto& c = report->copies;
    out << "last delivery: " << utc(report->last_delivery_at);
    if (report->last_delivery_at != 0)
      out << " (" << span(now - report->last_delivery_at) << " ago)";
    out << "\nwaiting: " << report->spooled << " messages to fan out, " << c.at("queued")
        << " copies queued, " << c.at("in_flight") << " in flight, " << c.at("deferred")
        << " deferred";
    if (report->oldest_deferred_at != 0) {
      out << " (oldest queued " << span(now - report->oldest_deferred_at) << " ago)";
    }
    out << "\nlast 24 hours: " << report->failed_last_day << " copies failed, "
        << report->bounced_last_day << " bounced\n";
    for (const auto& j : report->jobs) {
      out << "job " << j.name << ": " << (j.ok ? "ok" : "FAILED") << " at " << utc(j.last_run_at)
          << "\n";
    }
  }
  if (problems.empty()) {
    out << "nothing needs attention\n";
    return 0;
  }
  out << "needs attention:\n";
  for (const auto& p : problems) out << "  - " << p << "\n";
  return 1;
}

}  // namespace tlpmail::ctl
