// SQL for the pipeline's tables: replay_digests and thread_index (schema:
// lib/store/schema.cc, steps 2-3). Stores only verdict facts: never message
// text, never a Subject.
#include "pipeline/tables.h"

#include "util/text.h"

namespace tlpmail::pipeline::tables {
namespace {

using store::Value;

Value text_or_null(std::string_view s) {
  if (s.empty()) return nullptr;
  return std::string(s);
}

std::optional<policy::Tlp> label_from_rank(std::int64_t label_rank) {
  if (label_rank < 0 || label_rank > static_cast<std::int64_t>(policy::Tlp::red))
    return std::nullopt;
  return static_cast<policy::Tlp>(label_rank);
}

std::optional<ReplayRecord> record_from(const store::Rows& rows) {
  if (rows.empty()) return std::nullopt;
  const auto& row = rows.front();
  ReplayRecord r;
  r.list = row.text(0);
  if (!row.is_null(1)) r.message_id = row.text(1);
  if (!row.is_null(2)) r.queue_id = row.text(2);
  return r;
}

}  // namespace

store::DbResult<bool> replay_seen(store::Database& db, std::string_view digest) {
  auto rows = db.query("SELECT 1 FROM replay_digests WHERE digest = ?1", {std::string(digest)});
  if (!rows) return Unexpected(rows.error());
  return !rows->empty();
}

store::DbResult<std::optional<ReplayRecord>> replay_record(store::Database& db,
                                                           std::string_view digest) {
  auto rows = db.query("SELECT list, message_id, queue_id FROM replay_digests WHERE digest = ?1",
                       {std::string(digest)});
  if (!rows) return Unexpected(rows.error());
  return record_from(*rows);
}

std::string exact_retry_of(const ReplayRecord& r, std::string_view list,
                           std::string_view message_id) {
  if (r.queue_id.empty() || r.message_id.empty() || message_id.empty()) return {};
  if (r.list != ascii_lower(list) || r.message_id != message_id) return {};
  return r.queue_id;
}

store::DbResult<std::vector<ThreadEntry>> thread_labels(store::Database& db, std::string_view list,
                                                        const std::vector<std::string>& ids) {
  std::vector<ThreadEntry> out;
  for (const std::string& id : ids) {
    if (id.empty()) continue;
    auto rows = db.query("SELECT label_rank FROM thread_index WHERE list = ?1 AND message_id = ?2",
                         {ascii_lower(list), id});
    if (!rows) return Unexpected(rows.error());
    if (rows->empty()) continue;
    if (auto label = label_from_rank(rows->front().integer(0))) out.push_back({id, *label});
  }
  return out;
}

store::DbResult<std::optional<ReplayRecord>> claim_replay_digest(store::Transaction& tx,
                                                                 const NewDigest& d,
                                                                 std::time_t now) {
  auto rows = tx.query("SELECT list, message_id, queue_id FROM replay_digests WHERE digest = ?1",
                       {d.digest});
  if (!rows) return Unexpected(rows.error());
  if (auto seen = record_from(*rows)) return seen;
  auto ok = tx.execute(
      "INSERT INTO replay_digests (digest, list, signer_fingerprint, signed_at, seen_at,"
      " message_id, queue_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
      {d.digest, ascii_lower(d.list), d.signer_fingerprint,
       static_cast<std::int64_t>(d.signed_at), static_cast<std::int64_t>(now),
       text_or_null(d.message_id), text_or_null(d.queue_id)});
  if (!ok) return Unexpected(ok.error());
  return std::optional<ReplayRecord>();
}

namespace {

store::DbResult<void> insert_thread(store::Transaction& tx, std::string_view list,
                                    std::string_view message_id, policy::Tlp label,
                                    std::time_t now, std::string_view on_conflict) {
  auto ok = tx.execute(
      "INSERT INTO thread_index (list, message_id, label, label_rank, recorded_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (list, message_id) " +
          std::string(on_conflict),
      {ascii_lower(list), std::string(message_id), std::string(policy::to_string(label)),
       static_cast<std::int64_t>(label), static_cast<std::int64_t>(now)});
  if (!ok) return Unexpected(ok.error());
  return {};
}

}  // namespace

store::DbResult<void> index_thread(store::Transaction& tx, std::string_view list,
                                   std::string_view message_id, policy::Tlp label,
                                   std::time_t now) {
  return insert_thread(tx, list, message_id, label, now,
                       "DO UPDATE SET label = excluded.label, label_rank = excluded.label_rank,"
                       " recorded_at = excluded.recorded_at"
                       " WHERE excluded.label_rank > thread_index.label_rank");
}

store::DbResult<void> index_copies(store::Transaction& tx, std::string_view list,
                                   std::string_view message_id, policy::Tlp label,
                                   std::time_t now) {
  return insert_thread(tx, list, message_id, label, now, "DO NOTHING");
}

}  // namespace tlpmail::pipeline::tables
