// The DELETEs of the retention, each "rows of one batch by rowid", run
// until a batch deletes less than its size. SQL on tables other modules
// own (audit, pipeline, queue, bounces, comcheck): only deletions of rows
// their owners no longer read for decisions (see docs/retention.md).
#include "store/retention.h"

#include <array>

namespace tlpmail::store {
namespace {

// Deletes in batches while the statement (with ?1 = cutoff, ?2 = batch)
// deletes full batches; returns the total.
DbResult<std::int64_t> in_batches(Database& db, std::string_view sql, std::int64_t cutoff,
                                  int batch) {
  std::int64_t total = 0;
  for (;;) {
    std::int64_t n = 0;
    auto r = db.transaction([&](Transaction& tx) -> DbResult<void> {
      auto changed = tx.execute(sql, {cutoff, static_cast<std::int64_t>(batch)});
      if (!changed) return Unexpected(changed.error());
      n = *changed;
      return {};
    });
    if (!r) return Unexpected(r.error());
    total += n;
    if (n < batch) return total;
  }
}

}  // namespace

std::string PruneReport::text() const {
  return "audit " + std::to_string(audit) + ", replay " + std::to_string(replay) + ", spool " +
         std::to_string(spool) + ", outbox " + std::to_string(outbox) + ", request replies " +
         std::to_string(request_replies) + ", bounces " + std::to_string(bounces) + ", comchecks " +
         std::to_string(comchecks) + "; " + std::to_string(pages_freed) + " pages freed" +
         (incremental_vacuum ? "" : " (no incremental vacuum: docs/retention.md)");
}

DbResult<PruneReport> prune(Database& db, const Cutoffs& c, int batch) {
  PruneReport r;
  struct Step {
    std::int64_t cutoff;
    std::int64_t* count;
    std::string_view sql;
  };
  const std::array<Step, 8> steps = {{
      {c.audit, &r.audit,
       "DELETE FROM audit_log WHERE id IN "
       "(SELECT id FROM audit_log WHERE at < ?1 ORDER BY id LIMIT ?2)"},
      {c.replay, &r.replay,
       "DELETE FROM replay_digests WHERE rowid IN "
       "(SELECT rowid FROM replay_digests WHERE signed_at < ?1 LIMIT ?2)"},
      {c.replay, &r.replay,
       "DELETE FROM replay_cross_posts WHERE rowid IN "
       "(SELECT rowid FROM replay_cross_posts WHERE seen_at < ?1 LIMIT ?2)"},
      {c.finished, &r.spool,
       "DELETE FROM spool_messages WHERE rowid IN (SELECT rowid FROM spool_messages "
       "WHERE state IN ('done', 'corrupt') AND updated_at < ?1 LIMIT ?2)"},
      {c.finished, &r.outbox,
       "DELETE FROM outbox_messages WHERE rowid IN (SELECT m.rowid FROM outbox_messages m "
       "WHERE m.created_at < ?1 AND NOT EXISTS (SELECT 1 FROM outbox_copies k "
       "WHERE k.message = m.id AND k.state IN ('queued', 'in_flight', 'deferred')) LIMIT ?2)"},
      {c.finished, &r.request_replies,
       "DELETE FROM request_key_replies WHERE rowid IN "
       "(SELECT rowid FROM request_key_replies WHERE sent_at < ?1 LIMIT ?2)"},
      {c.bounces, &r.bounces,
       "DELETE FROM bounce_reports WHERE id IN "
       "(SELECT id FROM bounce_reports WHERE at < ?1 LIMIT ?2)"},
      {c.comchecks, &r.comchecks,
       "DELETE FROM comchecks WHERE id IN (SELECT id FROM comchecks "
       "WHERE closed_at IS NOT NULL AND closed_at < ?1 LIMIT ?2)"},
  }};
  for (const auto& s : steps) {
    if (s.cutoff <= 0) continue;
    auto n = in_batches(db, s.sql, s.cutoff, batch);
    if (!n) return Unexpected(n.error());
    *s.count += *n;
  }
  auto mode = db.query("PRAGMA auto_vacuum");
  if (!mode) return Unexpected(mode.error());
  r.incremental_vacuum = !mode->empty() && (*mode)[0].integer(0) == 2;
  if (r.incremental_vacuum) {
    auto freed = vacuum_incrementally(db);
    if (!freed) return Unexpected(freed.error());
    r.pages_freed = *freed;
  }
  return r;
}

DbResult<std::int64_t> vacuum_incrementally(Database& db, std::int64_t max_pages) {
  auto mode = db.query("PRAGMA auto_vacuum");
  if (!mode) return Unexpected(mode.error());
  if (mode->empty() || (*mode)[0].integer(0) != 2) return std::int64_t{0};
  std::int64_t freed = 0;
  while (freed < max_pages) {
    auto before = db.query("PRAGMA freelist_count");
    if (!before) return Unexpected(before.error());
    const std::int64_t free_pages = (*before)[0].integer(0);
    if (free_pages == 0) break;
    const std::int64_t step = std::min<std::int64_t>({256, free_pages, max_pages - freed});
    // Each statement is its own short write transaction.
    auto rows = db.query("PRAGMA incremental_vacuum(" + std::to_string(step) + ")");
    if (!rows) return Unexpected(rows.error());
    auto after = db.query("PRAGMA freelist_count");
    if (!after) return Unexpected(after.error());
    const std::int64_t done = free_pages - (*after)[0].integer(0);
    if (done <= 0) break;
    freed += done;
  }
  return freed;
}

}  // namespace tlpmail::store
