// audit [--since DATE] [--list A]: the audit log of state_dir/tlpmail.db
// (lib/audit) with each copy's delivery state (lib/queue's outbox), oldest
// first, as aligned text or JSON. The database is opened read-only; a
// missing database or state_dir is reported, never created. It shows only
// what the tables hold (no subjects, no bodies).
#include <toml++/toml.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <system_error>

#include "admin/table.h"
#include "audit/audit_log.h"
#include "config/config.h"
#include "queue/outbox.h"
#include "store/database.h"
#include "tlpmailctl/ctl.h"
#include "util/text.h"

namespace tlpmail::ctl {
namespace {

namespace fs = std::filesystem;

struct Entry {
  audit::Row row;
  std::map<std::string, std::string> delivery;  // lower-case recipient -> the copy's outbox state
};

std::string utc(std::int64_t t, const char* format) {
  return utc_time(static_cast<std::time_t>(t), format);
}

std::string or_dash(const std::string& s) { return s.empty() ? "-" : escape_for_log(s, 1000); }

}  // namespace

std::unique_ptr<store::Database> open_state_db(const config::Config& c, int min_version,
                                               std::string_view what, std::ostream& err) {
  const fs::path file = c.paths.state_dir / "tlpmail.db";
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    err << "tlpmailctl: no " << what << " yet: " << file.string() << " does not exist\n";
    return nullptr;
  }
  auto db = store::Database::open_read_only(file);
  if (!db) {
    err << "tlpmailctl: " << db.error().message << "\n";
    return nullptr;
  }
  if ((*db)->schema_version() < min_version) {
    err << "tlpmailctl: no " << what << " yet: " << file.string()
        << " was last used by an older tlpmaild; start the new one once\n";
    return nullptr;
  }
  return std::move(*db);
}

std::optional<std::int64_t> parse_audit_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  auto num = [&](std::size_t at, std::size_t len) {
    int v = 0;
    for (std::size_t i = at; i < at + len; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  using namespace std::chrono;
  const year_month_day ymd{year{num(0, 4)}, month{static_cast<unsigned>(num(5, 2))},
                           day{static_cast<unsigned>(num(8, 2))}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd}.time_since_epoch() / seconds{1};
}

int audit(const Options& o, std::ostream& out, std::ostream& err) {
  std::int64_t since = 0;
  if (!o.since.empty()) {
    auto d = parse_audit_date(o.since);
    if (!d) {
      // Checked in main before loading anything; kept here for direct callers.
      err << "tlpmailctl: --since wants a date YYYY-MM-DD, got '" << o.since << "'\n";
      return 2;
    }
    since = *d;
  }
  auto cfg = load_config_or_report(o, out, err);
  if (!cfg) return 1;
  auto db = open_state_db(*cfg, 2, "audit log", err);
  if (!db) return 1;
  auto rows = audit::read(*db, audit::Filter{since, ascii_lower(o.list)});
  if (!rows) {
    err << "tlpmailctl: " << rows.error().message << "\n";
    return 1;
  }
  std::vector<Entry> entries;
  for (auto& r : *rows) entries.push_back(Entry{std::move(r), {}});
  // Where each copy stands (schema step 4: the outbox, keyed by queue id).
  if (db->schema_version() >= 4) {
    queue::Outbox outbox(*db);
    for (auto& e : entries) {
      if (e.row.verdict != "accepted" || e.row.queue_id.empty()) continue;
      auto copies = outbox.copies_of_message(e.row.queue_id);
      if (!copies) {
        err << "tlpmailctl: " << copies.error().message << "\n";
        return 1;
      }
      for (const auto& c : *copies) {
        e.delivery[ascii_lower(c.recipient)] = std::string(queue::to_string(c.state));
      }
    }
  }
  auto delivery_of = [](const Entry& e, const audit::Recipient& r) -> std::string {
    if (!r.chosen) return {};
    auto it = e.delivery.find(ascii_lower(r.address));
    return it == e.delivery.end() ? std::string() : it->second;
  };

  if (o.json) {
    toml::array a;
    for (const auto& entry : entries) {
      const audit::Row& e = entry.row;
      toml::array copies, left_out;
      toml::table delivery;
      for (const auto& r : e.recipients) {
        if (r.chosen) {
          copies.push_back(r.address);
          if (auto state = delivery_of(entry, r); !state.empty()) delivery.insert(r.address, state);
        } else {
          left_out.push_back(toml::table{{"address", r.address}, {"why", r.why}});
        }
      }
      a.push_back(toml::table{{"at", utc(e.at, "%Y-%m-%dT%H:%M:%SZ")},
                              {"list", e.list},
                              {"verdict", e.verdict},
                              {"label", e.label},
                              {"signer_email", e.signer_email},
                              {"signer_fingerprint", e.signer_fingerprint},
                              {"queue_id", e.queue_id},
                              {"refusal", e.refusal},
                              {"reason", e.reason},
                              {"smtp_reply", e.smtp_reply},
                              {"message_id", e.message_id},
                              {"list_message_id", e.list_message_id},
                              {"copies", std::move(copies)},
                              {"delivery", std::move(delivery)},
                              {"left_out", std::move(left_out)}});
    }
    out << toml::json_formatter{toml::table{{"entries", std::move(a)}}} << "\n";
    return 0;
  }

  admin::Table t({"AT (UTC)", "LIST", "VERDICT", "LABEL", "SIGNER", "QUEUE ID", "REASON"});
  for (const auto& entry : entries) {
    const audit::Row& e = entry.row;
    std::string reason = e.reason.empty() ? e.refusal : e.reason;
    t.add({utc(e.at, "%Y-%m-%d %H:%M"), e.list, e.verdict, or_dash(e.label),
           or_dash(e.signer_email), or_dash(e.queue_id), or_dash(reason)});
  }
  // The table's lines, with each entry's recipients under its row.
  std::istringstream rendered(t.render());
  std::string line;
  std::getline(rendered, line);
  out << line << "\n";
  for (const auto& entry : entries) {
    const audit::Row& e = entry.row;
    std::getline(rendered, line);
    out << line << "\n";
    std::string copies;
    for (const auto& r : e.recipients) {
      if (!r.chosen) continue;
      copies += (copies.empty() ? "" : ", ") + r.address;
      if (auto state = delivery_of(entry, r); !state.empty()) copies += " [" + state + "]";
    }
    if (e.verdict == "accepted" || !copies.empty()) {
      out << "    copies: " << (copies.empty() ? "-" : copies) << "\n";
    }
    for (const auto& r : e.recipients) {
      if (!r.chosen) out << "    left out: " << r.address << " (" << or_dash(r.why) << ")\n";
    }
  }
  return 0;
}

}  // namespace tlpmail::ctl
