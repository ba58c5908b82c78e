// SQL for audit_log and audit_recipients (see audit_log.h).
#include "audit/audit_log.h"

#include <map>

namespace tlpmail::audit {
namespace {

using store::Value;

Value text_or_null(const std::string& s) {
  if (s.empty()) return nullptr;
  return s;
}

constexpr std::string_view kColumns =
    "id, at, list, queue_id, verdict, refusal, reason, smtp_reply, signer_email,"
    " signer_fingerprint, label, raised, message_id, parent_message_id, replay_digest";

Row row_from(const store::Row& r) {
  Row out;
  out.id = r.integer(0);
  out.at = r.integer(1);
  out.list = r.text(2);
  out.queue_id = r.text_or_empty(3);
  out.verdict = r.text(4);
  out.refusal = r.text_or_empty(5);
  out.reason = r.text_or_empty(6);
  out.smtp_reply = r.text_or_empty(7);
  out.signer_email = r.text_or_empty(8);
  out.signer_fingerprint = r.text_or_empty(9);
  out.label = r.text_or_empty(10);
  out.raised = r.text_or_empty(11);
  out.message_id = r.text_or_empty(12);
  out.parent_message_id = r.text_or_empty(13);
  out.replay_digest = r.text_or_empty(14);
  if (r.size() > 15) out.list_message_id = r.text_or_empty(15);
  return out;
}

Recipient recipient_from(const store::Row& r, std::size_t first) {
  return Recipient{r.text(first), r.integer(first + 1) != 0, r.text_or_empty(first + 2)};
}

}  // namespace

store::DbResult<std::int64_t> append(store::Transaction& tx, const Row& row) {
  auto inserted = tx.execute(
      "INSERT INTO audit_log (at, list, queue_id, verdict, refusal, reason, smtp_reply,"
      " signer_email, signer_fingerprint, label, raised, message_id, parent_message_id,"
      " replay_digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
      {row.at, row.list, text_or_null(row.queue_id), row.verdict, text_or_null(row.refusal),
       text_or_null(row.reason), row.smtp_reply, text_or_null(row.signer_email),
       text_or_null(row.signer_fingerprint), text_or_null(row.label), text_or_null(row.raised),
       text_or_null(row.message_id), text_or_null(row.parent_message_id),
       text_or_null(row.replay_digest)});
  if (!inserted) return Unexpected(inserted.error());
  auto id_rows = tx.query("SELECT last_insert_rowid()");
  if (!id_rows) return Unexpected(id_rows.error());
  const std::int64_t id = id_rows->at(0).integer(0);
  std::int64_t position = 0;
  for (const Recipient& r : row.recipients) {
    auto ok = tx.execute(
        "INSERT INTO audit_recipients (audit_id, position, address, chosen, why)"
        " VALUES (?1, ?2, ?3, ?4, ?5)",
        {id, position++, r.address, std::int64_t{r.chosen ? 1 : 0}, text_or_null(r.why)});
    if (!ok) return Unexpected(ok.error());
  }
  return id;
}

store::DbResult<std::optional<Row>> accepted_row(store::Database& db,
                                                 std::string_view queue_id) {
  auto rows = db.query("SELECT " + std::string(kColumns) +
                           " FROM audit_log WHERE queue_id = ?1 AND verdict = 'accepted'"
                           " ORDER BY id DESC LIMIT 1",
                       {std::string(queue_id)});
  if (!rows) return Unexpected(rows.error());
  if (rows->empty()) return std::optional<Row>();
  Row out = row_from(rows->front());
  auto people = db.query(
      "SELECT address, chosen, why FROM audit_recipients WHERE audit_id = ?1 ORDER BY position",
      {out.id});
  if (!people) return Unexpected(people.error());
  for (const auto& p : *people) out.recipients.push_back(recipient_from(p, 0));
  return std::optional<Row>(std::move(out));
}

store::DbResult<void> set_list_message_id(store::Transaction& tx, std::int64_t id,
                                          std::string_view list_message_id) {
  auto a = tx.execute("UPDATE audit_log SET list_message_id = ?2 WHERE id = ?1",
                      {id, std::string(list_message_id)});
  if (!a) return Unexpected(a.error());
  return {};
}

store::DbResult<void> mark_left_out(store::Transaction& tx, std::int64_t id,
                                    std::string_view address, std::string_view why) {
  auto a = tx.execute(
      "UPDATE audit_recipients SET chosen = 0, why = ?3"
      " WHERE audit_id = ?1 AND address = ?2 AND chosen = 1",
      {id, std::string(address), std::string(why)});
  if (!a) return Unexpected(a.error());
  return {};
}

store::DbResult<std::map<std::string, std::int64_t>> left_out_counts(store::Database& db,
                                                                     std::string_view list,
                                                                     std::int64_t since,
                                                                     std::string_view why) {
  auto rows = db.query(
      "SELECT lower(r.address), count(*) FROM audit_recipients r"
      " JOIN audit_log a ON a.id = r.audit_id"
      " WHERE a.list = ?1 AND a.at >= ?2 AND r.chosen = 0 AND r.why = ?3"
      " GROUP BY lower(r.address)",
      {std::string(list), since, std::string(why)});
  if (!rows) return Unexpected(rows.error());
  std::map<std::string, std::int64_t> out;
  for (const auto& r : *rows) out[r.text(0)] = r.integer(1);
  return out;
}

store::DbResult<std::vector<Row>> read(store::Database& db, const Filter& filter) {
  const std::string where = " WHERE a.at >= ?1 AND (?2 = '' OR a.list = ?2)";
  std::string columns;
  for (std::string_view c : {"id", "at", "list", "queue_id", "verdict", "refusal", "reason",
                             "smtp_reply", "signer_email", "signer_fingerprint", "label",
                             "raised", "message_id", "parent_message_id", "replay_digest"}) {
    columns += (columns.empty() ? "a." : ", a.") + std::string(c);
  }
  columns += db.schema_version() >= 4 ? ", a.list_message_id" : ", NULL";
  const store::Params params{filter.since, filter.list};
  auto rows = db.query("SELECT " + columns + " FROM audit_log a" + where + " ORDER BY a.at, a.id",
                       params);
  if (!rows) return Unexpected(rows.error());
  auto recipients = db.query(
      "SELECT r.audit_id, r.address, r.chosen, r.why FROM audit_recipients r"
      " JOIN audit_log a ON a.id = r.audit_id" +
          where + " ORDER BY r.audit_id, r.position",
      params);
  if (!recipients) return Unexpected(recipients.error());
  std::vector<Row> out;
  std::map<std::int64_t, std::size_t> index;
  for (const auto& r : *rows) {
    index[r.integer(0)] = out.size();
    out.push_back(row_from(r));
  }
  for (const auto& r : *recipients) {
    auto it = index.find(r.integer(0));
    if (it != index.end()) out[it->second].recipients.push_back(recipient_from(r, 1));
  }
  return out;
}

}  // namespace tlpmail::audit
