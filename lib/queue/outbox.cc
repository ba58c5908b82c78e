// The outbox's SQL (tables in lib/store/schema.cc, steps 4 and 8). Every
// state change of a copy happens here, in one statement or one transaction.
#include "queue/outbox.h"

#include <algorithm>
#include <array>
#include <set>
#include <utility>

#include "util/text.h"

namespace tlpmail::queue {
namespace {

using store::DbError;
using store::DbResult;
using store::Value;

constexpr std::array<std::string_view, 6> kStateNames = {"queued",    "in_flight", "deferred",
                                                         "delivered", "failed",    "bounced"};

DbError constraint(std::string message) {
  DbError e;
  e.kind = ErrorClass::permanent;
  e.message = "outbox: " + std::move(message);
  e.fault = store::DbFault::constraint;
  return e;
}

constexpr std::array<std::string_view, 5> kKindNames = {"copy", "notice", "reply", "plain",
                                                        "check"};

OutgoingKind kind_from(std::string_view s) {
  for (std::size_t i = 0; i < kKindNames.size(); ++i) {
    if (s == kKindNames[i]) return static_cast<OutgoingKind>(i);
  }
  return OutgoingKind::copy;
}

// SELECT list for WaitingCopy rows (copy c joined with message m).
constexpr std::string_view kWaitingColumns =
    "SELECT c.id, c.message, m.kind, m.list, c.recipient, c.state, c.attempts, c.queued_at,"
    " c.next_attempt_at, c.last_reply, c.updated_at FROM outbox_copies c"
    " JOIN outbox_messages m ON m.id = c.message ";

std::vector<WaitingCopy> waiting_rows(const store::Rows& rows) {
  std::vector<WaitingCopy> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    WaitingCopy w;
    w.id = r.integer(0);
    w.message = r.text(1);
    w.kind = kind_from(r.text(2));
    w.list = r.text(3);
    w.recipient = r.text(4);
    w.state = parse_copy_state(r.text(5)).value_or(CopyState::queued);
    w.attempts = static_cast<int>(r.integer(6));
    w.queued_at = r.integer(7);
    w.next_attempt_at = r.integer(8);
    w.last_reply = r.text_or_empty(9);
    w.updated_at = r.integer(10);
    out.push_back(std::move(w));
  }
  return out;
}

// Empties the ciphertext of message `m` once none of its copies waits.
DbResult<void> drop_ciphertext_when_final(store::Transaction& tx, const std::string& m) {
  auto open = tx.query(detail::kOpenCopyQuery, {m});
  if (!open) return Unexpected(open.error());
  if (!open->empty()) return {};
  auto a = tx.execute(
      "UPDATE outbox_messages SET head = '', tail = '', shared_data = '' WHERE id = ?1", {m});
  if (!a) return Unexpected(a.error());
  auto b = tx.execute("UPDATE outbox_copies SET pkesk = '' WHERE message = ?1", {m});
  if (!b) return Unexpected(b.error());
  return {};
}

}  // namespace

std::string verp_address(std::string_view envelope_from, std::string_view token) {
  const std::size_t at = envelope_from.rfind('@');
  if (token.empty() || at == std::string_view::npos) return std::string(envelope_from);
  return std::string(envelope_from.substr(0, at)) + "+" + std::string(token) +
         std::string(envelope_from.substr(at));
}

std::string_view to_string(CopyState s) { return kStateNames[static_cast<std::size_t>(s)]; }

std::optional<CopyState> parse_copy_state(std::string_view s) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == s) return static_cast<CopyState>(i);
  }
  return std::nullopt;
}

std::string_view to_string(OutgoingKind k) { return kKindNames.at(static_cast<std::size_t>(k)); }

DbResult<void> Outbox::add(store::Transaction& tx, const NewOutgoing& m, std::time_t now) {
  if (m.copies.empty()) return Unexpected(constraint("message " + m.id + " has no copies"));
  if (m.id.empty()) return Unexpected(constraint("message without an id"));
  const auto at = static_cast<std::int64_t>(now);
  auto inserted = tx.execute(
      "INSERT INTO outbox_messages (id, kind, list, list_message_id, source_id, envelope_from,"
      " head, tail, shared_data, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
      {m.id, std::string(to_string(m.kind)), ascii_lower(m.list), m.list_message_id,
       m.source_id.empty() ? Value(nullptr) : Value(m.source_id), m.envelope_from, m.head, m.tail,
       m.shared_data, at});
  if (!inserted) return Unexpected(inserted.error());
  for (const NewCopy& c : m.copies) {
    auto ok = tx.execute(
        "INSERT INTO outbox_copies (message, recipient, fingerprint, pkesk, state, attempts,"
        " next_attempt_at, queued_at, updated_at, last_reply, reported, verp_token)"
        " VALUES (?1, ?2, ?3, ?4, 'queued', 0, ?5, ?5, ?5, NULL, 0, ?6)",
        {m.id, c.recipient, c.fingerprint, c.pkesk, at,
         c.verp_token.empty() ? Value(nullptr) : Value(ascii_lower(c.verp_token))});
    if (!ok) return Unexpected(ok.error());
  }
  return {};
}

Result<void> Outbox::add(const NewOutgoing& m, std::time_t now) {
  auto r = db_.transaction([&](store::Transaction& tx) { return add(tx, m, now); });
  if (!r) return Unexpected(Error(r.error()));
  return {};
}

Result<std::int64_t> Outbox::requeue_in_flight(std::time_t now) {
  auto n = db_.execute(
      "UPDATE outbox_copies SET state = 'queued', next_attempt_at = ?1, updated_at = ?1"
      " WHERE state = 'in_flight'",
      {static_cast<std::int64_t>(now)});
  if (!n) return Unexpected(Error(n.error()));
  return *n;
}

Result<std::vector<ClaimedCopy>> Outbox::claim_due(std::time_t now, std::size_t max) {
  std::vector<ClaimedCopy> out;
  if (max == 0) return out;
  const auto at = static_cast<std::int64_t>(now);
  // One statement, in a transaction so that nothing is claimed unless the
  // rows reach the caller. RETURNING gives the rows in no particular
  // order, so they are sorted as the SELECT chose them.
  store::Rows claimed;
  auto done = db_.transaction([&](store::Transaction& tx) -> DbResult<void> {
    auto rows = tx.query(
        "UPDATE outbox_copies SET state = 'in_flight', updated_at = ?1 WHERE id IN"
        " (SELECT id FROM outbox_copies WHERE state IN ('queued', 'deferred')"
        " AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2)"
        " RETURNING id, message, recipient, pkesk, attempts, queued_at, verp_token,"
        " next_attempt_at",
        {at, static_cast<std::int64_t>(max)});
    if (!rows) return Unexpected(rows.error());
    claimed = std::move(*rows);
    return {};
  });
  if (!done) return Unexpected(Error(done.error()));
  std::sort(claimed.begin(), claimed.end(), [](const store::Row& a, const store::Row& b) {
    return std::pair(a.integer(7), a.integer(0)) < std::pair(b.integer(7), b.integer(0));
  });
  out.reserve(claimed.size());
  for (const auto& row : claimed) {
    ClaimedCopy c;
    c.id = row.integer(0);
    c.message = row.text(1);
    c.recipient = row.text(2);
    c.pkesk = row.text(3);
    c.attempts = static_cast<int>(row.integer(4));
    c.queued_at = row.integer(5);
    c.verp_token = row.text_or_empty(6);
    out.push_back(std::move(c));
  }
  return out;
}

Result<OutgoingMessage> Outbox::message(std::string_view id) {
  auto rows = db_.query(
      "SELECT id, kind, list, list_message_id, envelope_from, head, tail, shared_data"
      " FROM outbox_messages WHERE id = ?1",
      {std::string(id)});
  if (!rows) return Unexpected(Error(rows.error()));
  if (rows->empty()) return Unexpected(Error::permanent("outbox: no message " + std::string(id)));
  const auto& r = rows->front();
  OutgoingMessage m;
  m.id = r.text(0);
  m.kind = kind_from(r.text(1));
  m.list = r.text(2);
  m.list_message_id = r.text(3);
  m.envelope_from = r.text(4);
  m.head = r.text(5);
  m.tail = r.text(6);
  m.shared_data = r.text(7);
  return m;
}

Result<void> Outbox::record(const std::vector<CopyResult>& results, std::time_t now) {
  if (results.empty()) return {};
  const auto at = static_cast<std::int64_t>(now);
  auto r = db_.transaction([&](store::Transaction& tx) -> DbResult<void> {
    std::set<std::string> touched;
    for (const CopyResult& c : results) {
      const bool deferred = c.state == CopyState::deferred;
      auto updated = tx.query(
          "UPDATE outbox_copies SET state = ?2, attempts = attempts + 1, next_attempt_at = ?3,"
          " last_reply = ?4, updated_at = ?5 WHERE id = ?1 AND state = 'in_flight'"
          " RETURNING message",
          {c.id, std::string(to_string(c.state)), deferred ? c.next_attempt_at : at, c.reply, at});
      if (!updated) return Unexpected(updated.error());
      if (!deferred && !updated->empty()) touched.insert(updated->front().text(0));
    }
    // Messages whose copies are all final keep no ciphertext.
    for (const std::string& m : touched) {
      if (auto d = drop_ciphertext_when_final(tx, m); !d) return d;
    }
    return {};
  });
  if (!r) return Unexpected(Error(r.error()));
  return {};
}

Result<std::optional<std::int64_t>> Outbox::next_due() {
  auto rows = db_.query(
      "SELECT MIN(next_attempt_at) FROM outbox_copies WHERE state IN ('queued', 'deferred')");
  if (!rows) return Unexpected(Error(rows.error()));
  if (rows->empty() || rows->front().is_null(0)) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(rows->front().integer(0));
}

Result<std::vector<UnreportedFailure>> Outbox::unreported_failures(std::size_t max) {
  auto rows = db_.query(
      "SELECT c.id, c.message, m.kind, m.list, m.list_message_id, c.recipient, c.last_reply,"
      " c.attempts, c.queued_at FROM outbox_copies c JOIN outbox_messages m ON m.id = c.message"
      " WHERE c.state = 'failed' AND c.reported = 0 ORDER BY c.id LIMIT ?1",
      {static_cast<std::int64_t>(max)});
  if (!rows) return Unexpected(Error(rows.error()));
  std::vector<UnreportedFailure> out;
  for (const auto& r : *rows) {
    UnreportedFailure f;
    f.id = r.integer(0);
    f.message = r.text(1);
    f.kind = kind_from(r.text(2));
    f.list = r.text(3);
    f.list_message_id = r.text(4);
    f.recipient = r.text(5);
    f.reply = r.text_or_empty(6);
    f.attempts = static_cast<int>(r.integer(7));
    f.queued_at = r.integer(8);
    out.push_back(std::move(f));
  }
  return out;
}

DbResult<void> Outbox::mark_reported(store::Transaction& tx, const std::vector<std::int64_t>& ids) {
  for (std::int64_t id : ids) {
    auto ok = tx.execute("UPDATE outbox_copies SET reported = 1 WHERE id = ?1", {id});
    if (!ok) return Unexpected(ok.error());
  }
  return {};
}

Result<std::vector<WaitingCopy>> Outbox::waiting(std::size_t max) {
  auto rows = db_.query(std::string(kWaitingColumns) +
                            "WHERE c.state IN ('queued', 'in_flight', 'deferred')"
                            " ORDER BY c.queued_at, c.id LIMIT ?1",
                        {static_cast<std::int64_t>(max)});
  if (!rows) return Unexpected(Error(rows.error()));
  return waiting_rows(*rows);
}

Result<std::vector<WaitingCopy>> Outbox::copies_of(std::string_view message_id) {
  auto rows = db_.query(std::string(kWaitingColumns) + "WHERE m.list_message_id = ?1 ORDER BY c.id",
                        {std::string(message_id)});
  if (!rows) return Unexpected(Error(rows.error()));
  return waiting_rows(*rows);
}

Result<std::vector<WaitingCopy>> Outbox::copies_of_message(std::string_view id) {
  auto rows = db_.query(std::string(kWaitingColumns) + "WHERE c.message = ?1 ORDER BY c.id",
                        {std::string(id)});
  if (!rows) return Unexpected(Error(rows.error()));
  return waiting_rows(*rows);
}

DbResult<std::optional<TokenCopy>> Outbox::copy_by_token(store::Transaction& tx,
                                                         std::string_view token) {
  auto rows = tx.query(
      "SELECT c.id, c.message, m.kind, m.list, c.recipient, c.state FROM outbox_copies c"
      " JOIN outbox_messages m ON m.id = c.message WHERE c.verp_token = ?1",
      {ascii_lower(token)});
  if (!rows) return Unexpected(rows.error());
  if (rows->empty()) return std::optional<TokenCopy>();
  const auto& r = rows->front();
  TokenCopy t;
  t.id = r.integer(0);
  t.message = r.text(1);
  t.kind = kind_from(r.text(2));
  t.list = r.text(3);
  t.recipient = r.text(4);
  t.state = parse_copy_state(r.text(5)).value_or(CopyState::queued);
  return std::optional<TokenCopy>(std::move(t));
}

DbResult<void> Outbox::mark_bounced(store::Transaction& tx, std::int64_t id,
                                    std::string_view reply, std::time_t now) {
  auto updated = tx.query(
      "UPDATE outbox_copies SET state = 'bounced', last_reply = ?2, updated_at = ?3"
      " WHERE id = ?1 AND state NOT IN ('failed', 'bounced') RETURNING message",
      {id, std::string(reply), static_cast<std::int64_t>(now)});
  if (!updated) return Unexpected(updated.error());
  if (updated->empty()) return {};
  return drop_ciphertext_when_final(tx, updated->front().text(0));
}

Result<std::vector<WaitingCopy>> Outbox::recent_copies(std::string_view list,
                                                       std::string_view recipient,
                                                       std::size_t max) {
  auto rows = db_.query(std::string(kWaitingColumns) +
                            "WHERE c.recipient = ?1 COLLATE NOCASE AND m.list = ?2"
                            " AND m.kind = 'copy' ORDER BY c.id DESC LIMIT ?3",
                        {std::string(recipient), ascii_lower(list), static_cast<std::int64_t>(max)});
  if (!rows) return Unexpected(Error(rows.error()));
  return waiting_rows(*rows);
}

Result<OutboxCounts> Outbox::counts() {
  auto rows = db_.query("SELECT state, COUNT(*) FROM outbox_copies GROUP BY state");
  if (!rows) return Unexpected(Error(rows.error()));
  OutboxCounts c;
  for (const auto& r : *rows) {
    auto s = parse_copy_state(r.text(0));
    if (!s) continue;
    const std::int64_t n = r.integer(1);
    switch (*s) {
      case CopyState::queued:
        c.queued = n;
        break;
      case CopyState::in_flight:
        c.in_flight = n;
        break;
      case CopyState::deferred:
        c.deferred = n;
        break;
      case CopyState::delivered:
        c.delivered = n;
        break;
      case CopyState::failed:
        c.failed = n;
        break;
      case CopyState::bounced:
        c.bounced = n;
        break;
    }
  }
  return c;
}

}  // namespace tlpmail::queue
