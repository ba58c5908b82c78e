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

std::vector<std::string> split_ids(std::string_view text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    if (end > pos) out.emplace_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

std::string join_ids(const std::vector<std::string>& ids) {
  std::string out;
  for (const std::string& id : ids) out += (out.empty() ? "" : " ") + ascii_upper(id);
  return out;
}

ReplayAcceptance acceptance_from(const store::Row& row) {
  ReplayAcceptance a;
  a.list = row.text(0);
  if (!row.is_null(1)) a.message_id = row.text(1);
  if (!row.is_null(2)) a.queue_id = row.text(2);
  return a;
}

// The record of `digest` in two statements (the digest row, then its
// cross-posts); `query` is Database::query or Transaction::query.
template <class Query>
store::DbResult<std::optional<ReplayRecord>> load_record(Query&& query, std::string_view digest) {
  auto rows = query("SELECT list, message_id, queue_id, encrypted_to FROM replay_digests"
                    " WHERE digest = ?1",
                    store::Params{std::string(digest)});
  if (!rows) return Unexpected(rows.error());
  if (rows->empty()) return std::optional<ReplayRecord>();
  ReplayRecord r;
  static_cast<ReplayAcceptance&>(r) = acceptance_from(rows->front());
  if (!rows->front().is_null(3)) r.encrypted_to = split_ids(rows->front().text(3));
  auto cross = query("SELECT list, message_id, queue_id FROM replay_cross_posts"
                     " WHERE digest = ?1 ORDER BY seen_at, list",
                     store::Params{std::string(digest)});
  if (!cross) return Unexpected(cross.error());
  for (const auto& row : *cross) r.cross_posts.push_back(acceptance_from(row));
  return std::optional<ReplayRecord>(std::move(r));
}

std::string retry_of(const ReplayAcceptance& a, std::string_view list,
                     std::string_view message_id) {
  if (a.queue_id.empty() || a.message_id.empty() || message_id.empty()) return {};
  if (a.list != ascii_lower(list) || a.message_id != message_id) return {};
  return a.queue_id;
}

}  // namespace

store::DbResult<std::optional<ReplayRecord>> replay_record(store::Database& db,
                                                           std::string_view digest) {
  return load_record(
      [&](std::string_view sql, const store::Params& p) { return db.query(sql, p); }, digest);
}

std::string exact_retry_of(const ReplayRecord& r, std::string_view list,
                           std::string_view message_id) {
  if (std::string id = retry_of(r, list, message_id); !id.empty()) return id;
  for (const ReplayAcceptance& a : r.cross_posts) {
    if (std::string id = retry_of(a, list, message_id); !id.empty()) return id;
  }
  return {};
}

bool may_cross_post(const ReplayRecord& r, std::string_view list,
                    const std::vector<std::string>& list_key_ids) {
  const std::string l = ascii_lower(list);
  if (r.list == l) return false;
  for (const ReplayAcceptance& a : r.cross_posts) {
    if (a.list == l) return false;
  }
  for (const std::string& id : list_key_ids) {
    for (const std::string& e : r.encrypted_to) {
      if (iequals(id, e)) return true;
    }
  }
  return false;
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
  auto seen = load_record(
      [&](std::string_view sql, const store::Params& p) { return tx.query(sql, p); }, d.digest);
  if (!seen) return Unexpected(seen.error());
  if (*seen) {
    if (!may_cross_post(**seen, d.list, d.list_key_ids)) return seen;
    auto ok = tx.execute(
        "INSERT INTO replay_cross_posts (digest, list, message_id, queue_id, seen_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5)",
        {d.digest, ascii_lower(d.list), text_or_null(d.message_id), text_or_null(d.queue_id),
         static_cast<std::int64_t>(now)});
    if (!ok) return Unexpected(ok.error());
    return std::optional<ReplayRecord>();
  }
  auto ok = tx.execute(
      "INSERT INTO replay_digests (digest, list, signer_fingerprint, signed_at, seen_at,"
      " message_id, queue_id, encrypted_to) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
      {d.digest, ascii_lower(d.list), d.signer_fingerprint,
       static_cast<std::int64_t>(d.signed_at), static_cast<std::int64_t>(now),
       text_or_null(d.message_id), text_or_null(d.queue_id),
       text_or_null(join_ids(d.encrypted_to))});
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
