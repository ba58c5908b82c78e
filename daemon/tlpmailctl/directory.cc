// directory [--json|--csv]: the whole directory with each person's lists,
// key status and directory review (docs/admin-guide.md maps the fields to
// Trusted Introducer, FIRST and Cerebrate). Keys are judged in a throwaway
// GnuPG home; the review state comes from state_dir/tlpmail.db, opened
// read-only when it exists (without it every review is "never").
#include <toml++/toml.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "admin/table.h"
#include "comcheck/report.h"
#include "comcheck/store.h"
#include "comcheck/summary.h"
#include "config/config.h"
#include "keyring/keyring.h"
#include "openpgp/temp_home.h"
#include "policy/tlp.h"
#include "store/database.h"
#include "tlpmailctl/ctl.h"
#include "tlpmailctl/reviews.h"
#include "util/text.h"

namespace tlpmail::ctl {
namespace {

// RFC 4180: quoted when it holds a comma, a quote or a line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

struct Row {
  const directory::Person* person = nullptr;
  std::vector<std::string> lists;
  std::string key_status;
  std::string reviewed_at;  // ISO date-time, "" when never
  std::string review;       // review_state()
};

}  // namespace

ReviewFacts review_facts(const config::Config& c, std::ostream& err) {
  ReviewFacts f;
  const std::filesystem::path file = c.paths.state_dir / "tlpmail.db";
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return f;
  auto db = store::Database::open_read_only(file);
  if (!db) {
    err << "tlpmailctl: review state unknown: " << db.error().message << "\n";
    return f;
  }
  auto has = comcheck::has_tables(**db);
  if (!has || !*has) return f;
  auto reviews = comcheck::reviews(**db);
  auto asks = comcheck::last_review_asks(**db);
  if (!reviews || !asks) {
    err << "tlpmailctl: review state unknown: "
        << (!reviews ? reviews.error().message : asks.error().message) << "\n";
    return f;
  }
  f.reviews = std::move(*reviews);
  f.asks = std::move(*asks);
  f.db = std::move(*db);
  return f;
}

std::pair<std::string, std::string> review_of(const config::Config& c, const ReviewFacts& f,
                                              const std::string& email, std::time_t now) {
  const std::string key = ascii_lower(email);
  std::int64_t interval = 0;
  for (const auto& l : c.directory.lists()) {
    if (!l.has_member(email) || l.directory_review_interval <= 0) continue;
    interval = interval == 0 ? l.directory_review_interval
                             : std::min(interval, l.directory_review_interval);
  }
  std::optional<comcheck::Review> review;
  if (auto it = f.reviews.find(key); it != f.reviews.end()) review = it->second;
  std::optional<comcheck::ReviewAsk> ask;
  if (auto it = f.asks.find(key); it != f.asks.end()) ask = it->second;
  return {review ? comcheck::utc_iso(review->reviewed_at) : std::string(),
          comcheck::review_state(review, ask, interval, now)};
}

int directory(const Options& o, std::ostream& out, std::ostream& err) {
  auto cfg = load_config_or_report(o, out, err);
  if (!cfg) return 1;
  auto home = openpgp::TempHome::create();
  Result<keyring::KeyReport> keys =
      home ? keyring::load_keys(*cfg, home->path(), std::time(nullptr))
           : Result<keyring::KeyReport>(Unexpected(home.error()));
  if (!keys) {
    err << "tlpmailctl: cannot check keys: " << keys.error().message << "\n";
    return 1;
  }
  const ReviewFacts facts = review_facts(*cfg, err);
  const std::time_t now = std::time(nullptr);
  std::vector<Row> rows;
  for (const auto& p : cfg->directory.people()) {
    Row r;
    r.person = &p;
    for (const auto& l : cfg->directory.lists()) {
      if (l.has_member(p.email)) r.lists.push_back(l.address);
    }
    const keyring::PersonKey* k = keys->find(p.email);
    r.key_status = k ? k->status_word : "missing";
    std::tie(r.reviewed_at, r.review) = review_of(*cfg, facts, p.email, now);
    rows.push_back(std::move(r));
  }

  if (o.json) {
    toml::array people;
    for (const Row& r : rows) {
      const directory::Person& p = *r.person;
      toml::array lists;
      for (const auto& l : r.lists) lists.push_back(l);
      toml::table extra;
      for (const auto& [k, v] : p.extra) extra.insert(k, v);
      people.push_back(toml::table{{"email", p.email},
                                   {"name", p.name},
                                   {"organization", p.organization},
                                   {"team", p.team},
                                   {"country", p.country},
                                   {"kind", std::string(directory::to_string(p.kind))},
                                   {"clearance", std::string(policy::to_string(p.clearance))},
                                   {"fingerprint", p.fingerprint},
                                   {"key_status", r.key_status},
                                   {"phone", p.phone},
                                   {"emergency_phone", p.emergency_phone},
                                   {"timezone", p.timezone},
                                   {"business_hours", p.business_hours},
                                   {"lists", std::move(lists)},
                                   {"reviewed_at", r.reviewed_at},
                                   {"review", r.review},
                                   {"extra", std::move(extra)}});
    }
    out << toml::json_formatter{toml::table{{"people", std::move(people)}}} << "\n";
    return 0;
  }
  if (o.csv) {
    out << "email,name,organization,team,country,kind,clearance,fingerprint,key_status,phone,"
           "emergency_phone,timezone,business_hours,lists,reviewed_at,review\r\n";
    for (const Row& r : rows) {
      const directory::Person& p = *r.person;
      std::string lists;
      for (const auto& l : r.lists) lists += (lists.empty() ? "" : " ") + l;
      const std::vector<std::string> fields = {
          p.email,       p.name,        p.organization,
          p.team,        p.country,     std::string(directory::to_string(p.kind)),
          std::string(policy::to_string(p.clearance)),
          p.fingerprint, r.key_status,  p.phone,
          p.emergency_phone, p.timezone, p.business_hours,
          lists,         r.reviewed_at, r.review};
      for (std::size_t i = 0; i < fields.size(); ++i) {
        out << (i ? "," : "") << csv_field(fields[i]);
      }
      out << "\r\n";
    }
    return 0;
  }
  admin::Table t({"EMAIL", "NAME", "ORGANIZATION", "TEAM", "COUNTRY", "KIND", "CLEARANCE", "KEY",
                  "REVIEW", "LISTS"});
  for (const Row& r : rows) {
    const directory::Person& p = *r.person;
    std::string lists;
    for (const auto& l : r.lists) lists += (lists.empty() ? "" : ", ") + l;
    std::string review = r.review;
    if (!r.reviewed_at.empty()) review += " " + r.reviewed_at.substr(0, 10);
    t.add({p.email, p.name, p.organization.empty() ? "-" : p.organization,
           p.team.empty() ? "-" : p.team, p.country.empty() ? "-" : p.country,
           std::string(directory::to_string(p.kind)), std::string(policy::to_string(p.clearance)),
           r.key_status, review, lists.empty() ? "-" : lists});
  }
  out << t.render();
  return 0;
}

}  // namespace tlpmail::ctl
