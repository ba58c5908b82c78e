// The metric families of tlpmaild and the SELECTs that fill them
// (read-only, on tables owned by audit, queue and comcheck; see
// docs/monitoring.md for each family).
#include "metrics/collector.h"

#include <cmath>
#include <map>

#include "metrics/state_report.h"
#include "openpgp/context.h"
#include "openpgp/deadline.h"
#include "openpgp/list_key.h"

namespace tlpmail::metrics {
namespace {

constexpr std::time_t kListKeyEvery = 600;

// A function, not a static vector: nothing that can throw before main().
std::vector<double> seconds_buckets() {
  return {1, 2, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400};
}

}  // namespace

Collector::Collector(Registry& registry, std::filesystem::path database)
    : registry_(registry), path_(std::move(database)) {
  auto& r = registry_;
  r.declare("tlpmail_messages_total", Type::counter,
            "Messages decided at intake since tlpmaild started, by verdict "
            "(accepted, refused, duplicate) and refusal reason (none when accepted).");
  r.declare("tlpmail_copies_total", Type::counter,
            "Outgoing copies that reached a final state since tlpmaild started "
            "(delivered, failed, bounced).");
  r.declare("tlpmail_outbox_copies", Type::gauge,
            "Copies in the outbox by state (queued, in_flight, deferred, delivered, failed, "
            "bounced); finished rows are pruned after [retention] delivered_days.");
  r.declare("tlpmail_outbox_oldest_deferred_age_seconds", Type::gauge,
            "Age (since queued) of the oldest deferred copy; 0 when none is deferred.");
  r.declare("tlpmail_spool_messages", Type::gauge, "Accepted messages waiting for their fan-out.");
  r.declare("tlpmail_spool_oldest_age_seconds", Type::gauge,
            "Age of the oldest message waiting for its fan-out; 0 when none.");
  r.declare("tlpmail_last_delivery_timestamp_seconds", Type::gauge,
            "Unix time of the last copy the relay took; 0 when never.");
  r.declare("tlpmail_fanout_seconds", Type::histogram,
            "Time from spooling an accepted message to its copies in the outbox "
            "(one-second resolution).",
            seconds_buckets());
  r.declare("tlpmail_delivery_seconds", Type::histogram,
            "Time from queueing a copy to the relay taking it (one-second resolution).",
            seconds_buckets());
  r.declare("tlpmail_member_keys", Type::gauge,
            "Pinned member keys by status (ok, expires soon, expired, revoked, ...).");
  r.declare("tlpmail_list_key_expiry_days", Type::gauge,
            "Days until the current list key of a list expires (negative: expired); "
            "absent for a key without expiry.");
  r.declare("tlpmail_comcheck_success_ratio", Type::gauge,
            "Share of members who answered the latest communication check of a list.");
  r.declare("tlpmail_maintenance_job_ok", Type::gauge,
            "1 when the last run of a periodic job succeeded, 0 when it failed.");
  r.declare("tlpmail_maintenance_job_last_run_timestamp_seconds", Type::gauge,
            "Unix time a periodic job last ran.");
  r.declare("tlpmail_gpg_stalls_total", Type::counter,
            "gpg operations cut by their deadline since tlpmaild started (the home's gpg-agent "
            "was killed and restarted; the work was retried).");
  r.declare("tlpmail_metrics_errors_total", Type::counter,
            "Scrapes whose database or key reading failed (the gauges kept their values).");
}

void Collector::set_runtime(std::shared_ptr<const config::Config> config,
                            std::shared_ptr<const keyring::KeyReport> keys,
                            std::filesystem::path home) {
  std::lock_guard lock(mu_);
  config_ = std::move(config);
  keys_ = std::move(keys);
  home_ = std::move(home);
  list_keys_at_ = 0;
  registry_.clear("tlpmail_member_keys");
  if (keys_) {
    std::map<std::string, int> by_status;
    for (const auto& k : keys_->people) {
      ++by_status[std::string(keyring::to_string(k.status))];
    }
    for (const auto& [status, n] : by_status) {
      registry_.set("tlpmail_member_keys", {{"status", status}}, n);
    }
  }
}

store::Database* Collector::db_locked() {
  if (!db_) {
    auto db = store::Database::open_read_only(path_);
    if (!db) return nullptr;
    db_ = std::move(*db);
  }
  return db_.get();
}

void Collector::start(std::time_t now) {
  std::lock_guard lock(mu_);
  start_locked(now);
}

void Collector::start_locked(std::time_t now) {
  store::Database* db = db_locked();
  if (db == nullptr) return;
  auto audit = db->query("SELECT COALESCE(MAX(id), 0) FROM audit_log");
  auto fanout = db->query("SELECT COALESCE(MAX(rowid), 0) FROM outbox_messages");
  if (!audit || !fanout) return;
  audit_cursor_ = (*audit)[0].integer(0);
  fanout_cursor_ = (*fanout)[0].integer(0);
  copy_cut_ = now;
  started_ = true;
}

void Collector::refresh(std::time_t now) {
  std::lock_guard lock(mu_);
  if (!started_) start_locked(now);
  refresh_locked(now);
  refresh_keys_locked(now);
}

void Collector::refresh_locked(std::time_t now) {
  store::Database* db = db_locked();
  auto failed = [&] { registry_.add("tlpmail_metrics_errors_total", {}, 1); };
  const std::uint64_t stalls = openpgp::stall_count();
  registry_.add("tlpmail_gpg_stalls_total", {}, static_cast<double>(stalls - gpg_stalls_seen_));
  gpg_stalls_seen_ = stalls;
  if (db == nullptr || !started_) return failed();

  auto state = read_state(*db, now);
  if (!state) return failed();
  registry_.set("tlpmail_spool_messages", {}, static_cast<double>(state->spooled));
  registry_.set(
      "tlpmail_spool_oldest_age_seconds", {},
      state->oldest_spooled_at == 0 ? 0.0 : static_cast<double>(now - state->oldest_spooled_at));
  for (const auto& [s, n] : state->copies) {
    registry_.set("tlpmail_outbox_copies", {{"state", s}}, static_cast<double>(n));
  }
  registry_.set(
      "tlpmail_outbox_oldest_deferred_age_seconds", {},
      state->oldest_deferred_at == 0 ? 0.0 : static_cast<double>(now - state->oldest_deferred_at));
  registry_.set("tlpmail_last_delivery_timestamp_seconds", {},
                static_cast<double>(state->last_delivery_at));
  registry_.clear("tlpmail_comcheck_success_ratio");
  for (const auto& c : state->last_checks) {
    if (c.asked == 0) continue;
    registry_.set("tlpmail_comcheck_success_ratio", {{"list", c.list}},
                  static_cast<double>(c.answered) / static_cast<double>(c.asked));
  }
  for (const auto& j : state->jobs) {
    registry_.set("tlpmail_maintenance_job_ok", {{"job", j.name}}, j.ok ? 1 : 0);
    registry_.set("tlpmail_maintenance_job_last_run_timestamp_seconds", {{"job", j.name}},
                  static_cast<double>(j.last_run_at));
  }

  // Verdicts since the cursor.
  auto verdicts = db->query(
      "SELECT verdict, COALESCE(refusal, 'none'), COUNT(*), MAX(id) FROM audit_log WHERE id > ?1 "
      "GROUP BY verdict, refusal",
      {audit_cursor_});
  if (!verdicts) return failed();
  std::int64_t audit_max = audit_cursor_;
  for (const auto& row : *verdicts) {
    registry_.add("tlpmail_messages_total", {{"verdict", row.text(0)}, {"reason", row.text(1)}},
                  static_cast<double>(row.integer(2)));
    audit_max = std::max(audit_max, row.integer(3));
  }
  audit_cursor_ = audit_max;

  // Fan-outs since the cursor: copies' message rows against their spool row.
  auto fanouts = db->query(
      "SELECT m.rowid, m.created_at - s.received_at FROM outbox_messages m "
      "LEFT JOIN spool_messages s ON s.id = m.source_id "
      "WHERE m.rowid > ?1 AND m.kind = 'copy' ORDER BY m.rowid",
      {fanout_cursor_});
  if (!fanouts) return failed();
  for (const auto& row : *fanouts) {
    fanout_cursor_ = std::max(fanout_cursor_, row.integer(0));
    if (!row.is_null(1)) {
      registry_.observe("tlpmail_fanout_seconds", {},
                        static_cast<double>(std::max<std::int64_t>(0, row.integer(1))));
    }
  }
  auto max_rowid = db->query("SELECT COALESCE(MAX(rowid), 0) FROM outbox_messages");
  if (max_rowid) fanout_cursor_ = std::max(fanout_cursor_, (*max_rowid)[0].integer(0));

  // Copies whose final state was recorded in a second that is over.
  const std::int64_t cut = now;
  if (cut > copy_cut_) {
    auto finals = db->query(
        "SELECT state, updated_at - queued_at FROM outbox_copies "
        "WHERE state IN ('delivered', 'failed', 'bounced') AND updated_at >= ?1 AND updated_at < "
        "?2",
        {copy_cut_, cut});
    if (!finals) return failed();
    for (const auto& row : *finals) {
      registry_.add("tlpmail_copies_total", {{"state", row.text(0)}}, 1);
      if (row.text(0) == "delivered") {
        registry_.observe("tlpmail_delivery_seconds", {},
                          static_cast<double>(std::max<std::int64_t>(0, row.integer(1))));
      }
    }
    copy_cut_ = cut;
  }
}

void Collector::refresh_keys_locked(std::time_t now) {
  if (!config_ || home_.empty()) return;
  if (list_keys_at_ != 0 && now - list_keys_at_ < kListKeyEvery) return;
  list_keys_at_ = now;
  auto ctx = openpgp::Context::open(home_);
  if (!ctx) {
    registry_.add("tlpmail_metrics_errors_total", {}, 1);
    return;
  }
  registry_.clear("tlpmail_list_key_expiry_days");
  for (const auto& list : config_->directory.lists()) {
    auto key = openpgp::find_list_key(*ctx, list.address);
    if (!key) {
      registry_.add("tlpmail_metrics_errors_total", {}, 1);
      continue;
    }
    if (!key->has_value() || (*key)->expires == 0) continue;
    const double days = static_cast<double>((*key)->expires - now) / 86400.0;
    registry_.set("tlpmail_list_key_expiry_days", {{"list", list.address}},
                  std::floor(days * 10) / 10);
  }
}

}  // namespace tlpmail::metrics
