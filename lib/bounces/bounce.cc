// The -bounces stage (see bounce.h): the token, the bounce read by
// lib/mime/dsn.h, and one transaction for what it means. The bounce's
// bytes live only in memory here; only status fields go to the database.
#include "bounces/bounce.h"

#include "mime/dsn.h"
#include "util/random_token.h"
#include "util/text.h"

namespace tlpmail::bounces {
namespace {

using store::DbResult;
using store::Value;

// The reply the copy shows afterwards (tlpmailctl queue, audit).
std::string bounce_reply(const mime::Bounce& b) {
  std::string r = "bounced: " + b.status;
  if (!b.diagnostic.empty()) r += " " + b.diagnostic;
  return r;
}

Value or_null(const std::string& s) { return s.empty() ? Value(nullptr) : Value(s); }

DbResult<void> insert_report(store::Transaction& tx, const queue::QueueId& id,
                             std::int64_t copy, const mime::Bounce& b, const std::string& outcome,
                             std::time_t now) {
  auto r = tx.execute(
      "INSERT INTO bounce_reports (at, queue_id, copy_id, kind, status, action, diagnostic,"
      " remote_mta, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
      {static_cast<std::int64_t>(now), id, copy, std::string(mime::to_string(b.kind)), b.status,
       or_null(b.action), or_null(b.diagnostic), or_null(b.remote_mta), outcome});
  if (!r) return Unexpected(r.error());
  return {};
}

}  // namespace

Result<Processed> process(const Env& env, const queue::QueueId& id, std::time_t now) {
  Processed out;
  auto spooled = env.spool.message(id);
  if (!spooled) return Unexpected(spooled.error());
  if (spooled->state != queue::MessageState::received) {
    out.skipped = true;
    out.reason = "not waiting in the spool";
    return out;
  }
  auto m = env.config.directory.match_recipients(spooled->recipients);
  if (!m || m->role != directory::ListRole::bounces) {
    out.skipped = true;
    out.reason = "not a -bounces message of a configured list";
    return out;
  }
  out.list = m->list->address;
  const std::string token = ascii_lower(m->tag);

  // Which copy the token names (read in a transaction of its own; this
  // stage runs one message at a time, and the write below checks again).
  std::optional<queue::TokenCopy> copy;
  if (token.empty()) {
    out.token = "missing";
  } else if (!is_random_token(token)) {
    out.token = "malformed";
  } else {
    auto found = env.db.transaction([&](store::Transaction& tx) -> DbResult<void> {
      auto c = queue::Outbox::copy_by_token(tx, token);
      if (!c) return Unexpected(c.error());
      copy = std::move(*c);
      return {};
    });
    if (!found) return Unexpected(Error(found.error()));
    if (!copy || !iequals(copy->list, m->list->address)) {
      copy.reset();
      out.token = "unknown";
    } else if (copy->state == queue::CopyState::bounced) {
      out.token = "reused";
    } else {
      out.token = "ok";
    }
  }

  mime::Bounce bounce;
  if (copy && out.token == "ok") {
    out.copy = copy->id;
    out.recipient = copy->recipient;
    auto raw = env.spool.read_message(id);
    if (!raw) return Unexpected(raw.error());
    bounce = mime::read_bounce(*raw, copy->recipient);
    out.kind = std::string(mime::to_string(bounce.kind));
    out.status = bounce.status;
    out.action = bounce.action;
  } else if (copy) {
    out.copy = copy->id;
    out.recipient = copy->recipient;
  }

  std::string report_outcome;  // a bounce_reports row is written when set
  if (out.token != "ok") {
    out.outcome = "dropped";
    out.reason = out.token == "missing"     ? "no VERP token: sent to the plain -bounces address"
                 : out.token == "malformed" ? "the VERP tag is not a token"
                 : out.token == "unknown"   ? "no copy of this list has this token"
                                            : "the token's copy has bounced already";
  } else if (bounce.kind == mime::BounceKind::permanent) {
    if (copy->state == queue::CopyState::failed) {
      out.outcome = "recorded";
      out.reason = "the copy had failed at the relay already";
    } else {
      out.outcome = "bounced";
    }
    report_outcome = out.outcome;
  } else if (bounce.kind == mime::BounceKind::temporary) {
    out.outcome = "recorded";
    out.reason = "a temporary failure: the remote MTA is still trying";
    report_outcome = out.outcome;
  } else {
    out.outcome = "dropped";
    out.reason = bounce.kind == mime::BounceKind::auto_reply    ? "an automatic reply, not a bounce"
                 : bounce.kind == mime::BounceKind::not_failure ? "reports no failure"
                                                                : "does not read as a bounce";
  }

  auto written = env.db.transaction([&](store::Transaction& tx) -> DbResult<void> {
    if (!report_outcome.empty()) {
      if (out.outcome == "bounced") {
        auto b = queue::Outbox::mark_bounced(tx, copy->id, bounce_reply(bounce), now);
        if (!b) return b;
      }
      if (auto r = insert_report(tx, id, copy->id, bounce, report_outcome, now); !r) return r;
    }
    return queue::Spool::mark_in_transaction(tx, id, queue::MessageState::done);
  });
  if (!written) return Unexpected(Error(written.error()));
  (void)env.spool.remove_finished_file(id, queue::MessageState::done);
  return out;
}

int bounce_streak(const std::vector<CopyFact>& newest_first, std::time_t now) {
  int streak = 0;
  for (const CopyFact& c : newest_first) {
    switch (c.state) {
      case queue::CopyState::bounced:
      case queue::CopyState::failed:
        ++streak;
        break;
      case queue::CopyState::delivered:
        if (c.updated_at > static_cast<std::int64_t>(now) - kBounceWindow) break;
        return streak;
      case queue::CopyState::queued:
      case queue::CopyState::in_flight:
      case queue::CopyState::deferred:
        break;
    }
  }
  return streak;
}

Result<int> streak_of(queue::Outbox& outbox, const std::string& list, const std::string& recipient,
                      std::time_t now) {
  auto copies = outbox.recent_copies(list, recipient, kStreakHorizon);
  if (!copies) return Unexpected(copies.error());
  std::vector<CopyFact> facts;
  facts.reserve(copies->size());
  for (const auto& c : *copies) facts.push_back({c.state, c.updated_at});
  return bounce_streak(facts, now);
}

Result<std::vector<Flagged>> flagged_members(queue::Outbox& outbox,
                                             const directory::MailingList& list, std::time_t now) {
  std::vector<Flagged> out;
  for (const std::string& member : list.members) {
    auto n = streak_of(outbox, list.address, member, now);
    if (!n) return Unexpected(n.error());
    if (*n >= list.bounce_threshold) out.push_back({member, *n});
  }
  return out;
}

DigestSection digest_section(const directory::MailingList& list,
                             const std::vector<Flagged>& flagged) {
  DigestSection s;
  s.title = "Members whose copies bounced";
  for (const Flagged& f : flagged) {
    s.lines.push_back(f.email + ": the last " + std::to_string(f.streak) +
                      " copies in a row did not arrive (bounced or refused)");
  }
  s.advice = "Flagged from " + std::to_string(list.bounce_threshold) +
             " in a row (bounce_threshold). The mailbox may be gone or full: check with the\n"
             "member over another channel. tlpmail unsubscribes nobody; tlpmailctl members\n"
             "shows the flag, tlpmailctl audit each copy's state.";
  return s;
}

}  // namespace tlpmail::bounces
