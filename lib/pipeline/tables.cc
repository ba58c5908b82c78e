// SQL for the pipeline's tables: replay_digests, thread_index, audit_log
// and audit_recipients (schema: lib/store/schema.cc, steps 2-3). Stores only
// verdict facts: never message text, never a Subject.
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

std::string raises_text(const Verdict& v) {
  std::string out;
  if (!v.decision) return out;
  for (const policy::Raise& r : v.decision->raises) {
    if (!out.empty()) out += "; ";
    out += policy::describe(r);
  }
  return out;
}

store::DbResult<void> write_audit(store::Transaction& tx, const Verdict& v, std::string_view list,
                                  std::string_view queue_id, std::time_t now) {
  const Reply reply = v.is_duplicate() ? v.reply : reply_for(v.refusal, v.reason);
  auto inserted = tx.execute(
      "INSERT INTO audit_log (at, list, queue_id, verdict, refusal, reason, smtp_reply,"
      " signer_email, signer_fingerprint, label, raised, message_id, parent_message_id,"
      " replay_digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
      {static_cast<std::int64_t>(now), ascii_lower(list),
       text_or_null(v.is_duplicate() ? std::string_view(v.duplicate_of) : queue_id),
       std::string(v.accepted ? "accepted" : v.is_duplicate() ? "duplicate" : "refused"),
       v.refusal == RefusalKind::none ? Value(nullptr) : Value(std::string(to_string(v.refusal))),
       text_or_null(v.reason), std::to_string(reply.code) + " " + reply.enhanced,
       v.signer ? text_or_null(v.signer->email) : Value(nullptr),
       v.signer ? text_or_null(v.signer->fingerprint) : Value(nullptr),
       v.label ? Value(std::string(policy::to_string(*v.label))) : Value(nullptr),
       text_or_null(raises_text(v)), text_or_null(v.message_id), text_or_null(v.parent_message_id),
       text_or_null(v.replay_digest)});
  if (!inserted) return Unexpected(inserted.error());
  auto id_rows = tx.query("SELECT last_insert_rowid()");
  if (!id_rows) return Unexpected(id_rows.error());
  const std::int64_t id = id_rows->at(0).integer(0);
  if (!v.decision) return {};
  std::int64_t position = 0;
  for (const std::string& r : v.decision->recipients) {
    auto ok = tx.execute(
        "INSERT INTO audit_recipients (audit_id, position, address, chosen, why)"
        " VALUES (?1, ?2, ?3, 1, NULL)",
        {id, position++, r});
    if (!ok) return Unexpected(ok.error());
  }
  for (const policy::LeftOut& l : v.decision->left_out) {
    auto ok = tx.execute(
        "INSERT INTO audit_recipients (audit_id, position, address, chosen, why)"
        " VALUES (?1, ?2, ?3, 0, ?4)",
        {id, position++, l.email, l.reason});
    if (!ok) return Unexpected(ok.error());
  }
  return {};
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

store::DbResult<Verdict> write_verdict(store::Transaction& tx, const Verdict& v,
                                       std::string_view list, std::string_view queue_id,
                                       std::time_t now) {
  if (v.accepted && !v.replay_digest.empty()) {
    auto rows = tx.query("SELECT list, message_id, queue_id FROM replay_digests WHERE digest = ?1",
                         {v.replay_digest});
    if (!rows) return Unexpected(rows.error());
    if (auto seen = record_from(*rows)) {
      // Another session recorded this signature after our verify(): this
      // message is an exact retry of that one, or a replay after all.
      Verdict other = v;
      other.accepted = false;
      other.label.reset();
      other.decision.reset();
      other.duplicate_of = exact_retry_of(*seen, list, v.message_id);
      if (other.is_duplicate()) {
        other.refusal = RefusalKind::none;
        other.reason.clear();
        other.reply = duplicate_reply(other.duplicate_of);
      } else {
        other.refusal = RefusalKind::replay;
        other.reason = std::string(kReasonReplay);
        other.reply = reply_for(other.refusal, other.reason);
      }
      auto audit = write_audit(tx, other, list, queue_id, now);
      if (!audit) return Unexpected(audit.error());
      return other;
    }
    auto ok = tx.execute(
        "INSERT INTO replay_digests (digest, list, signer_fingerprint, signed_at, seen_at,"
        " message_id, queue_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        {v.replay_digest, ascii_lower(list), v.signer ? v.signer->fingerprint : std::string(),
         static_cast<std::int64_t>(v.signed_at), static_cast<std::int64_t>(now),
         text_or_null(v.message_id), text_or_null(queue_id)});
    if (!ok) return Unexpected(ok.error());
  }
  if (v.accepted && v.label && !v.message_id.empty()) {
    // A Message-ID seen again keeps the higher label: never lower a thread.
    auto ok = tx.execute(
        "INSERT INTO thread_index (list, message_id, label, label_rank, recorded_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5)"
        " ON CONFLICT (list, message_id) DO UPDATE SET label = excluded.label,"
        " label_rank = excluded.label_rank, recorded_at = excluded.recorded_at"
        " WHERE excluded.label_rank > thread_index.label_rank",
        {ascii_lower(list), v.message_id, std::string(policy::to_string(*v.label)),
         static_cast<std::int64_t>(*v.label), static_cast<std::int64_t>(now)});
    if (!ok) return Unexpected(ok.error());
  }
  auto audit = write_audit(tx, v, list, queue_id, now);
  if (!audit) return Unexpected(audit.error());
  return v;
}

}  // namespace tlpmail::pipeline::tables
