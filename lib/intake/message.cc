// One message's decision at the end of DATA (see message.h). Logs accept,
// spool, duplicate, reject (a refusal, or the memory budget's 452), verify
// and spool failures; never message content or subjects.
#include "intake/message.h"

#include <algorithm>
#include <ctime>
#include <utility>

#include "intake/record.h"
#include "intake/replies.h"
#include "log/log.h"
#include "openpgp/context.h"
#include "openpgp/decrypt.h"
#include "openpgp/handoff.h"
#include "pipeline/verifier.h"
#include "policy/tlp.h"

namespace tlpmail::intake {
namespace {

using spdlog::level::level_enum;

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out.push_back(',');
    out.append(s);
  }
  return out;
}

}  // namespace

Outcome Outcome::spool_failure(queue::SpoolError e) {
  Outcome out;
  out.kind = Kind::spool_failed;
  out.reply = spool_failure_reply(e);
  out.spool_error = std::move(e);
  return out;
}

void log_outcome(const std::string& session, const smtp::Envelope& envelope, std::uint64_t size,
                 const Outcome& outcome) {
  std::string size_text = std::to_string(size);
  std::string reply = outcome.reply.to_string();
  switch (outcome.kind) {
    case Outcome::Kind::queued: {
      if (outcome.already) {
        log::event(level_enum::info, session, "duplicate",
                   {{"queue_id", outcome.id},
                    {"list", outcome.list},
                    {"signer", outcome.signer},
                    {"from", envelope.mail_from}});
        break;
      }
      std::string to = join(envelope.recipients);
      const char* tls = envelope.tls ? "yes" : "no";
      if (outcome.verified) {
        log::event(level_enum::info, session, "accept",
                   {{"queue_id", outcome.id},
                    {"list", outcome.list},
                    {"signer", outcome.signer},
                    {"label", outcome.label}});
      }
      log::event(level_enum::info, outcome.id, "spool",
                 {{"session", session},
                  {"from", envelope.mail_from},
                  {"to", to},
                  {"size", size_text},
                  {"tls", tls}});
      break;
    }
    case Outcome::Kind::refused:
      log::event(level_enum::info, session, "reject",
                 {{"reason", outcome.reason},
                  {"list", outcome.list},
                  {"signer", outcome.signer},
                  {"from", envelope.mail_from},
                  {"reply", reply}});
      break;
    case Outcome::Kind::fault:
      log::event(level_enum::err, session, "verify",
                 {{"status", "failed"},
                  {"list", outcome.list},
                  {"error", outcome.detail},
                  {"reply", reply}});
      break;
    case Outcome::Kind::busy:
      log::event(level_enum::warn, session, "reject",
                 {{"reason", "memory budget exhausted"},
                  {"budget", outcome.detail},
                  {"from", envelope.mail_from},
                  {"size", size_text},
                  {"reply", reply}});
      break;
    case Outcome::Kind::spool_failed: {
      queue::SpoolError e = outcome.spool_error.value_or(queue::SpoolError{});
      auto level =
          e.code == queue::SpoolErrorCode::io_error || e.code == queue::SpoolErrorCode::poisoned
              ? level_enum::err
              : level_enum::warn;
      log::event(level, session, "spool",
                 {{"status", "failed"},
                  {"error", queue::to_string(e.code)},
                  {"detail", e.detail},
                  {"size", size_text},
                  {"reply", reply}});
      break;
    }
  }
}

Message::Message(std::shared_ptr<const Context> context, std::shared_ptr<MemoryBudget> memory,
                 std::string session, smtp::Envelope envelope)
    : context_(std::move(context)),
      memory_(std::move(memory)),
      session_(std::move(session)),
      envelope_(std::move(envelope)),
      content_(memory_) {
  // SIZE= is what MTAs send: charging it now means a message that fits is
  // never refused halfway, and one that does not is never held at all.
  std::uint64_t declared = std::min<std::uint64_t>(envelope_.declared_size.value_or(0),
                                                   context_->config->server.max_message_size);
  std::lock_guard<std::mutex> lock(mu_);
  if (!content_.reserve(declared, kTransitAllowance)) refuse_for_memory_locked();
}

bool Message::write(std::string bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (over_budget_) return true;  // discarded as it comes; finish() says why
  begin_locked();
  if (!content_.append(bytes)) {
    refuse_for_memory_locked();
    return true;
  }
  if (tx_ && !bytes.empty()) (void)tx_->write(bytes);  // a failure sticks; commit() returns it
  return true;
}

void Message::refuse_for_memory_locked() {
  if (memory_) {
    budget_note_ = std::to_string(memory_->in_use()) + " of " + std::to_string(memory_->limit()) +
                   " bytes in use";
  } else {
    budget_note_ = "no memory for the message";
  }
  over_budget_ = true;
  content_.clear();
  if (tx_) tx_->abort();
  tx_.reset();
}

Outcome Message::memory_outcome() const {
  Outcome out;
  out.kind = Outcome::Kind::busy;
  out.reply = memory_budget_reply();
  out.detail = budget_note_;
  return out;
}

net::DataOutcome Message::finish(std::string bytes, std::uint64_t size) {
  Outcome out = conclude(bytes);
  log_outcome(session_, envelope_, size, out);
  return net::DataOutcome{out.reply, out.kind == Outcome::Kind::queued && !out.already};
}

void Message::abort() {
  std::lock_guard<std::mutex> lock(mu_);
  if (tx_) tx_->abort();
  tx_.reset();
  content_.clear();
}

void Message::begin_locked() {
  if (tx_ || error_) return;
  auto t = context_->spool->begin();
  if (!t) {
    error_ = t.error();
    return;
  }
  tx_.emplace(std::move(*t));
  tx_->set_sender(envelope_.mail_from);
  for (const auto& r : envelope_.recipients) tx_->add_recipient(r);
}

Outcome Message::conclude(const std::string& bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!over_budget_) {
    begin_locked();
    if (!content_.append(bytes)) refuse_for_memory_locked();
  }
  if (over_budget_) return memory_outcome();
  if (!tx_) return Outcome::spool_failure(error_.value_or(queue::SpoolError{}));
  if (!bytes.empty()) (void)tx_->write(bytes);
  return decide_locked(std::time(nullptr));
}

Outcome Message::decide_locked(std::time_t now) {
  const Context& c = *context_;
  Outcome out;
  const directory::MailingList* list = nullptr;
  if (auto m = c.config->directory.match_recipients(envelope_.recipients)) {
    if (m->role == directory::ListRole::post) list = m->list;
  }
  if (!list || !c.keys || !c.db) {
    // -request / -bounces (or no pipeline): committed as received.
    content_.clear();
    auto committed = tx_->commit();
    tx_.reset();
    if (!committed) return Outcome::spool_failure(committed.error());
    out.kind = Outcome::Kind::queued;
    out.id = *committed;
    out.reply = queued_reply(*committed);
    return out;
  }

  out.verified = true;
  out.list = list->address;
  auto fault = [&](const Error& e) {
    if (tx_) tx_->abort();
    tx_.reset();
    out.kind = Outcome::Kind::fault;
    out.reply = reply_for_fault(e);
    out.detail = e.message;
    return out;
  };
  auto gpg = openpgp::thread_context(c.gnupg_home);
  if (!gpg) return fault(gpg.error());
  pipeline::Verifier verifier(*c.config, *c.keys, *c.db);
  auto verdict = verifier.verify(**gpg, *list, content_.view(), now);
  content_.clear();
  if (!verdict) return fault(verdict.error());
  if (verdict->signer) out.signer = verdict->signer->fingerprint;

  auto refuse = [&](const pipeline::Verdict& v) {
    if (tx_) tx_->abort();
    tx_.reset();
    if (auto r = record(*c.db, v, *list, "", now); !r) {
      // No audit row, no verdict: the MTA retries and the verdict is given then.
      return fault(r.error());
    }
    out.kind = Outcome::Kind::refused;
    out.reply = reply_for(v);
    out.reason = v.reason;
    return out;
  };
  // An exact retry of a message already queued (its 250 was lost): answer
  // with the original's queue id, spool and record nothing but the
  // 'duplicate' audit row.
  auto duplicate = [&](const pipeline::Verdict& v) {
    if (tx_) tx_->abort();
    tx_.reset();
    if (auto r = record(*c.db, v, *list, "", now); !r) return fault(r.error());
    out.kind = Outcome::Kind::queued;
    out.already = true;
    out.id = v.duplicate_of;
    out.reply = reply_for(v);
    return out;
  };
  if (verdict->is_duplicate()) return duplicate(*verdict);
  if (!verdict->accepted) return refuse(*verdict);

  // Not accepted under the commit's transaction: a replay race or, when
  // the racing session was this message's original, an exact retry.
  std::optional<pipeline::Verdict> raced;
  auto committed = tx_->commit([&](store::Transaction& t,
                                   const queue::QueueId& id) -> store::DbResult<void> {
    auto wrote = record_in_transaction(t, *verdict, *list, id, now);
    if (!wrote) return Unexpected(wrote.error());
    if (!wrote->accepted) {
      raced = std::move(*wrote);
      store::DbError e;
      e.kind = ErrorClass::refused;
      e.message = raced->is_duplicate() ? reply_for(*raced).text : raced->reason;
      e.fault = store::DbFault::constraint;
      return Unexpected(std::move(e));
    }
    return {};
  });
  tx_.reset();
  if (raced) return raced->is_duplicate() ? duplicate(*raced) : refuse(as_replay(*verdict));
  if (!committed) return Outcome::spool_failure(committed.error());
  if (c.handoff && verdict->decryption) {
    c.handoff->put(*committed, std::move(*verdict->decryption), now);
  }
  out.kind = Outcome::Kind::queued;
  out.id = *committed;
  out.reply = queued_reply(*committed);
  if (verdict->label) out.label = std::string(policy::to_string(*verdict->label));
  return out;
}

}  // namespace tlpmail::intake
