// The SQL of communication checks and reviews (see store.h).
#include "comcheck/store.h"

#include <sys/random.h>

#include <array>

#include "util/random_token.h"
#include "util/text.h"

namespace tlpmail::comcheck {
namespace {

using store::DbResult;
using store::Value;

constexpr std::array<std::string_view, 6> kStateNames = {
    "pending", "answered", "answered_unsigned", "bounced", "not_sent", "no_answer"};

constexpr std::string_view kCheckColumns =
    "SELECT id, list, origin, review, started_at, spread_s, deadline_at, closed_at FROM comchecks ";
constexpr std::string_view kMemberColumns =
    "SELECT check_id, email, organization, token, send_at, state, reason, sent_at, message_id,"
    " outbox_id, answered_at, review_result FROM comcheck_members ";

Check check_from(const store::Row& r) {
  Check c;
  c.id = r.integer(0);
  c.list = r.text(1);
  c.origin = r.text(2);
  c.review = r.integer(3) != 0;
  c.started_at = r.integer(4);
  c.spread_s = r.integer(5);
  c.deadline_at = r.integer(6);
  c.closed_at = r.integer_or_zero(7);
  return c;
}

Member member_from(const store::Row& r) {
  Member m;
  m.check_id = r.integer(0);
  m.email = r.text(1);
  m.organization = r.text(2);
  m.token = r.text(3);
  m.send_at = r.integer(4);
  m.state = parse_state(r.text(5)).value_or(State::pending);
  m.reason = r.text_or_empty(6);
  m.sent_at = r.integer_or_zero(7);
  m.message_id = r.text_or_empty(8);
  m.outbox_id = r.text_or_empty(9);
  m.answered_at = r.integer_or_zero(10);
  m.review_result = r.text_or_empty(11);
  return m;
}

std::vector<Check> checks_from(const store::Rows& rows) {
  std::vector<Check> out;
  for (const auto& r : rows) out.push_back(check_from(r));
  return out;
}

// The check of the first row of a query, if there is a row.
DbResult<std::optional<Check>> first_check(const DbResult<store::Rows>& rows) {
  if (!rows) return Unexpected(rows.error());
  if (rows->empty()) return std::optional<Check>();
  return std::optional<Check>(check_from(rows->front()));
}

// A uniform draw from [0, n] (n >= 0), from the kernel's random source.
Result<std::int64_t> uniform(std::int64_t n) {
  if (n <= 0) return std::int64_t{0};
  const std::uint64_t range = static_cast<std::uint64_t>(n) + 1;
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % range;
  for (;;) {
    std::uint64_t x = 0;
    if (::getrandom(&x, sizeof x, 0) != static_cast<ssize_t>(sizeof x)) {
      return Unexpected(Error::temporary("no random bytes from the kernel"));
    }
    if (x < limit) return static_cast<std::int64_t>(x % range);
  }
}

DbResult<std::optional<Found>> found_by(store::Database& db, std::string_view column,
                                        std::string_view value) {
  auto rows = db.query(std::string(kMemberColumns) + "WHERE " + std::string(column) + " = ?1",
                       {std::string(value)});
  if (!rows) return Unexpected(rows.error());
  if (rows->empty()) return std::optional<Found>();
  Found f;
  f.member = member_from(rows->front());
  auto check = find_check(db, f.member.check_id);
  if (!check) return Unexpected(check.error());
  if (!*check) return std::optional<Found>();
  f.check = std::move(**check);
  return std::optional<Found>(std::move(f));
}

}  // namespace

std::string_view to_string(State s) { return kStateNames.at(static_cast<std::size_t>(s)); }

std::optional<State> parse_state(std::string_view s) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == s) return static_cast<State>(i);
  }
  return std::nullopt;
}

DbResult<bool> has_tables(store::Database& db) {
  auto rows = db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'comchecks'");
  if (!rows) return Unexpected(rows.error());
  return !rows->empty();
}

Result<Check> start(store::Database& db, const NewCheck& c, std::time_t now) {
  if (c.members.empty()) return Unexpected(Error::refused("the list has no members"));
  if (c.deadline_s <= 0 || c.spread_s < 0 || c.spread_s >= c.deadline_s) {
    return Unexpected(Error::refused("the spread must be shorter than the deadline"));
  }
  // Tokens and send moments are drawn before the transaction.
  std::vector<std::pair<std::string, std::int64_t>> draws;
  for (std::size_t i = 0; i < c.members.size(); ++i) {
    auto token = random_token();
    if (!token) return Unexpected(token.error());
    auto delay = uniform(c.spread_s);
    if (!delay) return Unexpected(delay.error());
    draws.emplace_back(std::move(*token), static_cast<std::int64_t>(now) + *delay);
  }
  Check out;
  std::string open_until;
  auto r = db.transaction([&](store::Transaction& tx) -> DbResult<void> {
    auto open = tx.query("SELECT deadline_at FROM comchecks WHERE list = ?1 AND closed_at IS NULL",
                         {ascii_lower(c.list)});
    if (!open) return Unexpected(open.error());
    if (!open->empty()) {
      open_until = iso_date(static_cast<std::time_t>(open->front().integer(0)));
      return {};
    }
    auto id = tx.query(
        "INSERT INTO comchecks (list, origin, review, started_at, spread_s, deadline_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        {ascii_lower(c.list), c.origin, std::int64_t{c.review ? 1 : 0},
         static_cast<std::int64_t>(now), c.spread_s,
         static_cast<std::int64_t>(now) + c.deadline_s});
    if (!id) return Unexpected(id.error());
    out.id = id->front().integer(0);
    for (std::size_t i = 0; i < c.members.size(); ++i) {
      auto ok = tx.execute(
          "INSERT INTO comcheck_members (check_id, email, organization, token, send_at, state)"
          " VALUES (?1, ?2, ?3, ?4, ?5, 'pending')",
          {out.id, c.members[i].email, c.members[i].organization, draws[i].first,
           draws[i].second});
      if (!ok) return Unexpected(ok.error());
    }
    return {};
  });
  if (!r) return Unexpected(Error(r.error()));
  if (!open_until.empty()) {
    return Unexpected(Error::refused("a check of " + c.list + " is open until " + open_until +
                                     ": wait for its deadline"));
  }
  out.list = ascii_lower(c.list);
  out.origin = c.origin;
  out.review = c.review;
  out.started_at = now;
  out.spread_s = c.spread_s;
  out.deadline_at = static_cast<std::int64_t>(now) + c.deadline_s;
  return out;
}

DbResult<std::optional<Check>> find_check(store::Database& db, std::int64_t id) {
  return first_check(db.query(std::string(kCheckColumns) + "WHERE id = ?1", {id}));
}

DbResult<std::optional<Check>> open_check(store::Database& db, std::string_view list) {
  return first_check(db.query(std::string(kCheckColumns) + "WHERE list = ?1 AND closed_at IS NULL",
                              {ascii_lower(list)}));
}

DbResult<std::vector<Check>> checks_of(store::Database& db, std::string_view list) {
  auto rows = db.query(std::string(kCheckColumns) + "WHERE list = ?1 ORDER BY id",
                       {ascii_lower(list)});
  if (!rows) return Unexpected(rows.error());
  return checks_from(*rows);
}

DbResult<std::vector<Check>> expired(store::Database& db, std::time_t now) {
  auto rows = db.query(
      std::string(kCheckColumns) + "WHERE closed_at IS NULL AND deadline_at <= ?1 ORDER BY id",
      {static_cast<std::int64_t>(now)});
  if (!rows) return Unexpected(rows.error());
  return checks_from(*rows);
}

DbResult<std::vector<Member>> members_of(store::Database& db, std::int64_t check_id) {
  auto rows = db.query(std::string(kMemberColumns) + "WHERE check_id = ?1 ORDER BY rowid",
                       {check_id});
  if (!rows) return Unexpected(rows.error());
  std::vector<Member> out;
  for (const auto& r : *rows) out.push_back(member_from(r));
  return out;
}

DbResult<std::vector<Member>> due_sends(store::Database& db, std::time_t now, std::size_t max) {
  auto rows = db.query(
      std::string(kMemberColumns) +
          "WHERE sent_at IS NULL AND state = 'pending' AND send_at <= ?1 AND check_id IN"
          " (SELECT id FROM comchecks WHERE closed_at IS NULL AND deadline_at > ?1)"
          " ORDER BY send_at, check_id LIMIT ?2",
      {static_cast<std::int64_t>(now), static_cast<std::int64_t>(max)});
  if (!rows) return Unexpected(rows.error());
  std::vector<Member> out;
  for (const auto& r : *rows) out.push_back(member_from(r));
  return out;
}

DbResult<void> mark_sent(store::Transaction& tx, std::int64_t check_id, const std::string& email,
                         std::time_t at, const std::string& message_id,
                         const std::string& outbox_id) {
  auto r = tx.execute(
      "UPDATE comcheck_members SET sent_at = ?3, message_id = ?4, outbox_id = ?5"
      " WHERE check_id = ?1 AND email = ?2",
      {check_id, email, static_cast<std::int64_t>(at), message_id, outbox_id});
  if (!r) return Unexpected(r.error());
  return {};
}

DbResult<void> mark_not_sent(store::Transaction& tx, std::int64_t check_id,
                             const std::string& email, const std::string& reason) {
  auto r = tx.execute(
      "UPDATE comcheck_members SET state = 'not_sent', reason = ?3"
      " WHERE check_id = ?1 AND email = ?2 AND state = 'pending'",
      {check_id, email, reason});
  if (!r) return Unexpected(r.error());
  return {};
}

DbResult<void> close(store::Transaction& tx, std::int64_t check_id,
                     const std::vector<FinalState>& states, std::time_t at) {
  for (const FinalState& s : states) {
    auto r = tx.execute(
        "UPDATE comcheck_members SET state = ?3, reason = ?4"
        " WHERE check_id = ?1 AND email = ?2 AND state = 'pending'",
        {check_id, s.email, std::string(to_string(s.state)),
         s.reason.empty() ? Value(nullptr) : Value(s.reason)});
    if (!r) return Unexpected(r.error());
  }
  auto c = tx.execute("UPDATE comchecks SET closed_at = ?2 WHERE id = ?1 AND closed_at IS NULL",
                      {check_id, static_cast<std::int64_t>(at)});
  if (!c) return Unexpected(c.error());
  return {};
}

DbResult<std::optional<Found>> by_token(store::Database& db, std::string_view token) {
  return found_by(db, "token", ascii_lower(token));
}

DbResult<std::optional<Found>> by_message_id(store::Database& db, std::string_view message_id) {
  return found_by(db, "message_id", message_id);
}

DbResult<void> record_answer(store::Transaction& tx, std::int64_t check_id,
                             const std::string& email, State state, const std::string& reason,
                             const std::string& review_result, std::time_t at) {
  const auto when = static_cast<std::int64_t>(at);
  // The state only moves up: pending -> answered_unsigned -> answered.
  auto r = tx.execute(
      "UPDATE comcheck_members SET state = ?3, reason = ?4 WHERE check_id = ?1 AND email = ?2"
      " AND (state = 'pending' OR (state = 'answered_unsigned' AND ?3 = 'answered'))",
      {check_id, email, std::string(to_string(state)), reason.empty() ? Value(nullptr) : Value(reason)});
  if (!r) return Unexpected(r.error());
  // The latency is measured to the first answer that counts as such: a
  // signed answer after an unsigned one moves answered_at to the signed one.
  auto t = tx.execute(
      "UPDATE comcheck_members SET answered_at = ?3 WHERE check_id = ?1 AND email = ?2"
      " AND (answered_at IS NULL OR (?4 = 1 AND ?5 > 0))",
      {check_id, email, when, std::int64_t{state == State::answered ? 1 : 0}, *r});
  if (!t) return Unexpected(t.error());
  if (!review_result.empty()) {
    auto v = tx.execute(
        "UPDATE comcheck_members SET review_result = ?3 WHERE check_id = ?1 AND email = ?2",
        {check_id, email, review_result});
    if (!v) return Unexpected(v.error());
    if (review_result == "confirmed") {
      auto d = tx.execute(
          "INSERT INTO directory_reviews (email, reviewed_at, check_id) VALUES (?1, ?2, ?3)"
          " ON CONFLICT (email) DO UPDATE SET reviewed_at = excluded.reviewed_at,"
          " check_id = excluded.check_id",
          {ascii_lower(email), when, check_id});
      if (!d) return Unexpected(d.error());
    }
  }
  return {};
}

DbResult<std::map<std::string, Review>> reviews(store::Database& db) {
  auto rows = db.query("SELECT email, reviewed_at, check_id FROM directory_reviews");
  if (!rows) return Unexpected(rows.error());
  std::map<std::string, Review> out;
  for (const auto& r : *rows) out[r.text(0)] = Review{r.integer(1), r.integer_or_zero(2)};
  return out;
}

DbResult<std::map<std::string, ReviewAsk>> last_review_asks(store::Database& db) {
  auto rows = db.query(
      "SELECT m.email, c.id, c.started_at, c.deadline_at, c.closed_at FROM comcheck_members m"
      " JOIN comchecks c ON c.id = m.check_id WHERE c.review = 1 ORDER BY c.id");
  if (!rows) return Unexpected(rows.error());
  std::map<std::string, ReviewAsk> out;
  for (const auto& r : *rows) {
    out[ascii_lower(r.text(0))] =
        ReviewAsk{r.integer(1), r.integer(2), r.integer(3), !r.is_null(4)};
  }
  return out;
}

}  // namespace tlpmail::comcheck
