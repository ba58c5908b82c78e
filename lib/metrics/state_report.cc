// The SELECTs of read_state, each a count or a minimum over an indexed or
// small table; run on a read-only connection, they never wait for writers.
#include "metrics/state_report.h"

namespace tlpmail::metrics {
namespace {

std::int64_t int_or_zero(const store::Rows& rows) {
  if (rows.empty() || rows[0].size() == 0 || rows[0].is_null(0)) return 0;
  return rows[0].integer(0);
}

}  // namespace

store::DbResult<StateReport> read_state(store::Database& db, std::int64_t now) {
  StateReport r;
  for (const auto& s : copy_states()) r.copies[s] = 0;
  const int schema = db.schema_version();
  if (schema >= 1) {
    auto rows =
        db.query("SELECT COUNT(*), MIN(received_at) FROM spool_messages WHERE state = 'received'");
    if (!rows) return Unexpected(rows.error());
    r.spooled = (*rows)[0].integer(0);
    r.oldest_spooled_at = (*rows)[0].is_null(1) ? 0 : (*rows)[0].integer(1);
  }
  if (schema >= 4) {
    auto rows = db.query("SELECT state, COUNT(*) FROM outbox_copies GROUP BY state");
    if (!rows) return Unexpected(rows.error());
    for (const auto& row : *rows) r.copies[row.text(0)] = row.integer(1);
    auto oldest = db.query("SELECT MIN(queued_at) FROM outbox_copies WHERE state IN ('deferred')");
    if (!oldest) return Unexpected(oldest.error());
    r.oldest_deferred_at = int_or_zero(*oldest);
    auto old =
        db.query("SELECT COUNT(*) FROM outbox_copies WHERE state = 'deferred' AND queued_at < ?1",
                 {now - 3600});
    if (!old) return Unexpected(old.error());
    r.deferred_over_hour = int_or_zero(*old);
    auto last = db.query("SELECT MAX(updated_at) FROM outbox_copies WHERE state = 'delivered'");
    if (!last) return Unexpected(last.error());
    r.last_delivery_at = int_or_zero(*last);
    auto failed = db.query(
        "SELECT state, COUNT(*) FROM outbox_copies WHERE state IN ('failed', 'bounced') "
        "AND updated_at >= ?1 GROUP BY state",
        {now - 86400});
    if (!failed) return Unexpected(failed.error());
    for (const auto& row : *failed) {
      (row.text(0) == "failed" ? r.failed_last_day : r.bounced_last_day) = row.integer(1);
    }
  }
  if (schema >= 7) {
    auto rows = db.query(
        "SELECT job, last_run_at, ok, COALESCE(summary, '') FROM maintenance_runs ORDER BY job");
    if (!rows) return Unexpected(rows.error());
    for (const auto& row : *rows) {
      r.jobs.push_back({row.text(0), row.integer(1), row.integer(2) != 0, row.text(3)});
    }
  }
  if (schema >= 8) {
    auto rows = db.query(
        "SELECT c.list, c.id, c.closed_at IS NOT NULL, COUNT(m.email), "
        "SUM(m.state IN ('answered', 'answered_unsigned')) "
        "FROM comchecks c LEFT JOIN comcheck_members m ON m.check_id = c.id "
        "WHERE c.id = (SELECT MAX(id) FROM comchecks WHERE list = c.list) "
        "GROUP BY c.id ORDER BY c.list");
    if (!rows) return Unexpected(rows.error());
    for (const auto& row : *rows) {
      r.last_checks.push_back({row.text(0), row.integer(1), row.integer(3),
                               row.is_null(4) ? 0 : row.integer(4), row.integer(2) != 0});
    }
  }
  return r;
}

}  // namespace tlpmail::metrics
