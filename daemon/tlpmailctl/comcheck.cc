// comcheck start|report|history ADDRESS: communication checks of a list
// (lib/comcheck, docs/comchecks.md). `start` writes the check and its
// members into state_dir/tlpmail.db (tlpmaild, running or started later,
// sends the messages); `report` and `history` open it read-only and print
// aligned text, JSON, or (report --html FILE) a self-contained page.
#include <toml++/toml.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "admin/table.h"
#include "comcheck/job.h"
#include "comcheck/report.h"
#include "comcheck/store.h"
#include "config/config.h"
#include "config/duration.h"
#include "store/database.h"
#include "tlpmailctl/ctl.h"
#include "util/text.h"

namespace tlpmail::ctl {
namespace {

namespace fs = std::filesystem;

void print_json(std::ostream& out, const toml::table& t) { out << toml::json_formatter{t} << "\n"; }

// The database with the check tables, or null after saying why.
std::unique_ptr<store::Database> checks_db(const config::Config& c, bool writable,
                                           std::ostream& err) {
  auto db = open_state_db(c, 1, "database", err);
  if (!db) return nullptr;
  auto has = comcheck::has_tables(*db);
  if (!has) {
    err << "tlpmailctl: " << has.error().message << "\n";
    return nullptr;
  }
  if (!*has) {
    err << "tlpmailctl: no communication checks yet: " << db->path().string()
        << " was last used by an older tlpmaild; start the new one once\n";
    return nullptr;
  }
  if (!writable) return db;
  db.reset();
  auto rw = store::Database::open(c.paths.state_dir / "tlpmail.db");
  if (!rw) {
    err << "tlpmailctl: " << rw.error().message << "\n";
    return nullptr;
  }
  return std::move(*rw);
}

toml::table member_json(const comcheck::MemberResult& m) {
  toml::table t{{"email", m.email},
                {"organization", m.organization},
                {"state", std::string(comcheck::to_string(m.state))},
                {"reason", m.reason},
                {"sent_at", comcheck::utc_iso(m.sent_at)},
                {"answered_at", comcheck::utc_iso(m.answered_at)},
                {"missed_twice", m.missed_twice},
                {"review", m.review_result}};
  if (m.latency_s) t.insert("latency_s", *m.latency_s);
  return t;
}

toml::table summary_json(const comcheck::Summary& s) {
  const comcheck::Check& c = s.check;
  toml::array members;
  for (const auto& m : s.members) members.push_back(member_json(m));
  toml::table states;
  for (const auto& [state, n] : s.counts) {
    states.insert(std::string(comcheck::to_string(state)), static_cast<std::int64_t>(n));
  }
  toml::table t{{"check", c.id},
                {"list", c.list},
                {"status", c.is_open() ? (s.closed ? "deadline passed" : "open") : "closed"},
                {"origin", c.origin},
                {"review", c.review},
                {"started_at", comcheck::utc_iso(c.started_at)},
                {"deadline_at", comcheck::utc_iso(c.deadline_at)},
                {"closed_at", comcheck::utc_iso(c.closed_at)},
                {"spread_s", c.spread_s},
                {"member_count", static_cast<std::int64_t>(s.members.size())},
                {"answered", static_cast<std::int64_t>(s.answered)},
                {"success_rate", s.success_rate},
                {"states", std::move(states)},
                {"members", std::move(members)}};
  if (s.median_latency_s) t.insert("median_latency_s", *s.median_latency_s);
  return t;
}

int start(const Options& o, const config::Config& cfg, const directory::MailingList& list,
          std::ostream& out, std::ostream& err) {
  std::int64_t deadline = std::int64_t{48} * 3600, spread = 0;
  if (!o.deadline.empty()) {
    auto d = config::parse_duration(o.deadline);
    if (!d || *d < 1) {
      err << "tlpmailctl: --deadline wants a duration such as 48h or 2d, got '" << o.deadline
          << "'\n";
      return 2;
    }
    deadline = *d;
  }
  if (!o.spread.empty()) {
    auto s = config::parse_duration(o.spread);
    if (!s) {
      err << "tlpmailctl: --spread wants a duration such as 8h or 0s, got '" << o.spread << "'\n";
      return 2;
    }
    spread = *s;
  }
  if (spread >= deadline) {
    err << "tlpmailctl: --spread (" << config::format_duration(spread)
        << ") must be shorter than --deadline (" << config::format_duration(deadline) << ")\n";
    return 2;
  }
  auto db = checks_db(cfg, true, err);
  if (!db) return 1;
  comcheck::NewCheck c;
  c.list = list.address;
  c.review = o.review;
  c.deadline_s = deadline;
  c.spread_s = spread;
  c.members = comcheck::members_for(cfg, list);
  const std::time_t now = std::time(nullptr);
  auto started = comcheck::start(*db, c, now);
  if (!started) {
    err << "tlpmailctl: " << started.error().message << "\n";
    return 1;
  }
  const comcheck::Check& s = *started;
  if (o.json) {
    print_json(out, toml::table{{"check", s.id},
                                {"list", s.list},
                                {"review", s.review},
                                {"members", static_cast<std::int64_t>(c.members.size())},
                                {"started_at", comcheck::utc_iso(s.started_at)},
                                {"spread_s", s.spread_s},
                                {"deadline_at", comcheck::utc_iso(s.deadline_at)}});
    return 0;
  }
  out << "started " << (s.review ? "check and directory review " : "check ") << s.id << " of "
      << list.address << ": " << c.members.size() << " members\n"
      << "  messages go out "
      << (spread == 0 ? std::string("at once")
                      : "at random moments until " + comcheck::utc_minute(s.started_at + spread))
      << "\n  deadline " << comcheck::utc_minute(s.deadline_at) << "\n"
      << "tlpmaild sends the messages (within 30 seconds while it runs); `tlpmailctl comcheck "
         "report "
      << list.address << "` shows the answers.\n";
  return 0;
}

int report(const Options& o, const config::Config& cfg, const std::string& address,
           std::ostream& out, std::ostream& err) {
  auto db = checks_db(cfg, false, err);
  if (!db) return 1;
  std::optional<comcheck::Check> check;
  if (o.check > 0) {
    auto c = comcheck::find_check(*db, o.check);
    if (!c) {
      err << "tlpmailctl: " << c.error().message << "\n";
      return 1;
    }
    if (!*c || !iequals((*c)->list, address)) {
      err << "tlpmailctl: no check " << o.check << " of " << address << "\n";
      return 1;
    }
    check = **c;
  } else {
    auto all = comcheck::checks_of(*db, address);
    if (!all) {
      err << "tlpmailctl: " << all.error().message << "\n";
      return 1;
    }
    if (all->empty()) {
      err << "tlpmailctl: no communication check of " << address
          << " yet: start one with tlpmailctl comcheck start " << address << "\n";
      return 1;
    }
    check = all->back();
  }
  const std::time_t now = std::time(nullptr);
  auto s = comcheck::load_summary(*db, *check, now);
  if (!s) {
    err << "tlpmailctl: " << s.error().message << "\n";
    return 1;
  }
  if (!o.html.empty()) {
    auto history = comcheck::load_history(*db, address, now);
    if (!history) {
      err << "tlpmailctl: " << history.error().message << "\n";
      return 1;
    }
    // Only the checks up to this one: the page is this check's report.
    std::vector<comcheck::Point> upto;
    for (const auto& p : *history) {
      if (p.id <= check->id) upto.push_back(p);
    }
    std::ofstream f(o.html, std::ios::binary | std::ios::trunc);
    f << comcheck::report_html(*s, upto, now);
    f.close();
    if (!f) {
      err << "tlpmailctl: cannot write " << o.html << "\n";
      return 1;
    }
  }
  if (o.json) {
    print_json(out, summary_json(*s));
  } else if (o.html.empty()) {
    out << comcheck::report_text(*s);
  } else {
    out << "wrote " << o.html << " (check " << check->id << " of " << address << ")\n";
  }
  return 0;
}

int history(const Options& o, const config::Config& cfg, const std::string& address,
            std::ostream& out, std::ostream& err) {
  auto db = checks_db(cfg, false, err);
  if (!db) return 1;
  auto points = comcheck::load_history(*db, address, std::time(nullptr));
  if (!points) {
    err << "tlpmailctl: " << points.error().message << "\n";
    return 1;
  }
  if (o.json) {
    toml::array checks;
    for (const auto& p : *points) {
      toml::table t{{"check", p.id},
                    {"started_at", comcheck::utc_iso(p.started_at)},
                    {"review", p.review},
                    {"status", p.closed ? "closed" : "open"},
                    {"member_count", static_cast<std::int64_t>(p.members)},
                    {"answered", static_cast<std::int64_t>(p.answered)},
                    {"success_rate", p.success_rate}};
      if (p.median_latency_s) t.insert("median_latency_s", *p.median_latency_s);
      checks.push_back(std::move(t));
    }
    print_json(out, toml::table{{"list", ascii_lower(address)}, {"checks", std::move(checks)}});
    return 0;
  }
  if (points->empty()) {
    out << "no communication check of " << address << " yet\n";
    return 0;
  }
  admin::Table t({"CHECK", "STARTED (UTC)", "KIND", "STATUS", "MEMBERS", "ANSWERED",
                  "SUCCESS RATE", "MEDIAN LATENCY"});
  for (const auto& p : *points) {
    char rate[16];
    (void)std::snprintf(rate, sizeof rate, "%.1f%%", p.success_rate * 100.0);
    t.add({std::to_string(p.id), comcheck::utc_minute(p.started_at).substr(0, 16),
           p.review ? "check+review" : "check", p.closed ? "closed" : "open",
           std::to_string(p.members), std::to_string(p.answered), rate,
           p.median_latency_s ? comcheck::format_latency(*p.median_latency_s) : "-"});
  }
  out << t.render();
  return 0;
}

}  // namespace

int comcheck(const Options& o, std::ostream& out, std::ostream& err) {
  const std::string& what = o.args.at(0);
  const std::string& address = o.args.at(1);
  auto cfg = load_config_or_report(o, out, err);
  if (!cfg) return 1;
  const directory::MailingList* list = cfg->directory.find_list(address);
  if (what == "start") {
    if (!list) {
      err << "tlpmailctl: no list with address '" << address << "'\n";
      return 1;
    }
    return start(o, *cfg, *list, out, err);
  }
  // A list removed from the configuration still has its history.
  const std::string name = list ? list->address : address;
  return what == "report" ? report(o, *cfg, name, out, err) : history(o, *cfg, name, out, err);
}

}  // namespace tlpmail::ctl
