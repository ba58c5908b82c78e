// The spool's waiting messages for readers outside the daemon (see
// spool_waiting.h): one statement, so the list is a consistent snapshot.
#include "queue/spool_waiting.h"

namespace tlpmail::queue {

Result<std::vector<WaitingMessage>> waiting_in_spool(store::Database& db, std::size_t max) {
  auto rows = db.query(
      "SELECT m.id, m.received_at, r.address FROM spool_messages m"
      " LEFT JOIN spool_recipients r ON r.message_id = m.id"
      " WHERE m.id IN (SELECT id FROM spool_messages WHERE state = 'received'"
      " ORDER BY received_at, id LIMIT ?1)"
      " ORDER BY m.received_at, m.id, r.position",
      {static_cast<std::int64_t>(max)});
  if (!rows) return Unexpected(Error(rows.error()));
  std::vector<WaitingMessage> out;
  for (const store::Row& row : *rows) {
    if (out.empty() || out.back().id != row.text(0)) {
      WaitingMessage m;
      m.id = row.text(0);
      m.received_at = row.integer(1);
      out.push_back(std::move(m));
    }
    if (!row.is_null(2)) out.back().recipients.push_back(row.text(2));
  }
  return out;
}

}  // namespace tlpmail::queue
