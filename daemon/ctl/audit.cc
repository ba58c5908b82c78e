// audit [--since DATE] [--list A]: reads the verdicts the pipeline wrote to
// audit_log / audit_recipients in state_dir/tlpmail.db (docs/pipeline.md)
// and prints them, oldest first, as aligned text or JSON. The database is
// opened read-only; a missing database or state_dir is reported, never
// created. It shows only what the table holds (no subjects, no bodies).
#include <toml++/toml.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <system_error>

#include "admin/table.h"
#include "config/config.h"
#include "ctl/ctl.h"
#include "store/database.h"
#include "util/text.h"

namespace tlpmail::ctl {
namespace {

namespace fs = std::filesystem;

struct Recipient {
  std::string address;
  bool chosen = false;
  std::string why;
  std::string delivery;  // the copy's outbox state; "" before the fan-out
};

struct Entry {
  std::int64_t id = 0;
  std::int64_t at = 0;
  std::string list, queue_id, verdict, refusal, reason, smtp_reply;
  std::string signer_email, signer_fingerprint, label, message_id, list_message_id;
  std::vector<Recipient> recipients;
};

std::string text_or_empty(const store::Row& r, std::size_t i) {
  return r.is_null(i) ? std::string() : r.text(i);
}

std::string utc(std::int64_t t, const char* format) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::size_t n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
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
  const std::string list = ascii_lower(o.list);
  const std::string where = " WHERE a.at >= ?1 AND (?2 = '' OR a.list = ?2)";
  auto rows = db->query(
      "SELECT a.id, a.at, a.list, a.queue_id, a.verdict, a.refusal, a.reason, a.smtp_reply,"
      " a.signer_email, a.signer_fingerprint, a.label, a.message_id," +
          std::string(db->schema_version() >= 4 ? "a.list_message_id" : "NULL") +
          " FROM audit_log a" +
          where + " ORDER BY a.at, a.id",
      {since, list});
  if (!rows) {
    err << "tlpmailctl: " << rows.error().message << "\n";
    return 1;
  }
  auto recipients = db->query(
      "SELECT r.audit_id, r.address, r.chosen, r.why FROM audit_recipients r"
      " JOIN audit_log a ON a.id = r.audit_id" +
          where + " ORDER BY r.audit_id, r.position",
      {since, list});
  if (!recipients) {
    err << "tlpmailctl: " << recipients.error().message << "\n";
    return 1;
  }
  std::vector<Entry> entries;
  std::map<std::int64_t, std::size_t> index;
  for (const auto& r : *rows) {
    Entry e;
    e.id = r.integer(0);
    e.at = r.integer(1);
    e.list = r.text(2);
    e.queue_id = text_or_empty(r, 3);
    e.verdict = r.text(4);
    e.refusal = text_or_empty(r, 5);
    e.reason = text_or_empty(r, 6);
    e.smtp_reply = r.text(7);
    e.signer_email = text_or_empty(r, 8);
    e.signer_fingerprint = text_or_empty(r, 9);
    e.label = text_or_empty(r, 10);
    e.message_id = text_or_empty(r, 11);
    e.list_message_id = text_or_empty(r, 12);
    index[e.id] = entries.size();
    entries.push_back(std::move(e));
  }
  for (const auto& r : *recipients) {
    auto it = index.find(r.integer(0));
    if (it == index.end()) continue;
    entries[it->second].recipients.push_back(
        Recipient{r.text(1), r.integer(2) != 0, text_or_empty(r, 3), ""});
  }
  // Where each copy stands (schema step 4: the outbox, keyed by queue id).
  if (db->schema_version() >= 4) {
    for (auto& e : entries) {
      if (e.verdict != "accepted" || e.queue_id.empty()) continue;
      auto states = db->query(
          "SELECT recipient, state FROM outbox_copies WHERE message = ?1", {e.queue_id});
      if (!states) {
        err << "tlpmailctl: " << states.error().message << "\n";
        return 1;
      }
      for (const auto& s : *states) {
        for (auto& r : e.recipients) {
          if (r.chosen && iequals(r.address, s.text(0))) r.delivery = s.text(1);
        }
      }
    }
  }

  if (o.json) {
    toml::array a;
    for (const auto& e : entries) {
      toml::array copies, left_out;
      toml::table delivery;
      for (const auto& r : e.recipients) {
        if (r.chosen) {
          copies.push_back(r.address);
          if (!r.delivery.empty()) delivery.insert(r.address, r.delivery);
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
  for (const auto& e : entries) {
    std::string reason = e.reason.empty() ? e.refusal : e.reason;
    t.add({utc(e.at, "%Y-%m-%d %H:%M"), e.list, e.verdict, or_dash(e.label),
           or_dash(e.signer_email), or_dash(e.queue_id), or_dash(reason)});
  }
  // The table's lines, with each entry's recipients under its row.
  std::istringstream rendered(t.render());
  std::string line;
  std::getline(rendered, line);
  out << line << "\n";
  for (const auto& e : entries) {
    std::getline(rendered, line);
    out << line << "\n";
    std::string copies;
    for (const auto& r : e.recipients) {
      if (!r.chosen) continue;
      copies += (copies.empty() ? "" : ", ") + r.address;
      if (!r.delivery.empty()) copies += " [" + r.delivery + "]";
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
