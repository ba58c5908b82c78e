// Verdicts into the replay digests, the thread index and the audit log
// (see record.h). Stores verdict facts only: never message text, never a
// Subject.
#include "intake/record.h"

#include <string>
#include <utility>

#include "intake/replies.h"
#include "pipeline/tables.h"
#include "util/text.h"

namespace tlpmail::intake {
namespace {

// The banner's extra lines (raises, an unsigned label not used), "; "
// between them; each starts with "TLP " (the fan-out splits on "; TLP ").
std::string raises_text(const pipeline::Verdict& v) {
  std::string out;
  if (!v.decision) return out;
  for (const policy::Raise& r : v.decision->raises) {
    if (!out.empty()) out += "; ";
    out += policy::describe(r);
  }
  if (v.decision->not_lowered_to) {
    if (!out.empty()) out += "; ";
    out += policy::describe_not_lowered(*v.decision->not_lowered_to);
  }
  return out;
}

const char* verdict_word(const pipeline::Verdict& v) {
  if (v.accepted) return "accepted";
  return v.is_duplicate() ? "duplicate" : "refused";
}

}  // namespace

pipeline::Verdict as_replay(pipeline::Verdict v) {
  v.accepted = false;
  v.refusal = pipeline::RefusalKind::replay;
  v.reason = std::string(pipeline::kReasonReplay);
  v.label.reset();
  v.decision.reset();
  v.duplicate_of.clear();
  return v;
}

audit::Row audit_row(const pipeline::Verdict& v, std::string_view list, std::string_view queue_id,
                     std::time_t now) {
  const smtp::Reply reply = reply_for(v);
  audit::Row row;
  row.at = static_cast<std::int64_t>(now);
  row.list = ascii_lower(list);
  row.queue_id = std::string(v.is_duplicate() ? std::string_view(v.duplicate_of) : queue_id);
  row.verdict = verdict_word(v);
  if (v.refusal != pipeline::RefusalKind::none) {
    row.refusal = std::string(pipeline::to_string(v.refusal));
  }
  row.reason = v.reason;
  row.smtp_reply = std::to_string(reply.code) + " " + reply.enhanced;
  if (v.signer) {
    row.signer_email = v.signer->email;
    row.signer_fingerprint = v.signer->fingerprint;
  }
  if (v.label) row.label = std::string(policy::to_string(*v.label));
  row.raised = raises_text(v);
  row.message_id = v.message_id;
  row.parent_message_id = v.parent_message_id;
  row.replay_digest = v.replay_digest;
  if (v.decision) {
    for (const std::string& r : v.decision->recipients) row.recipients.push_back({r, true, ""});
    for (const policy::LeftOut& l : v.decision->left_out) {
      row.recipients.push_back({l.email, false, l.reason});
    }
  }
  return row;
}

store::DbResult<pipeline::Verdict> record_in_transaction(store::Transaction& tx,
                                                         const pipeline::Verdict& v,
                                                         const directory::MailingList& list,
                                                         std::string_view queue_id,
                                                         std::time_t now) {
  if (v.accepted && !v.replay_digest.empty()) {
    pipeline::tables::NewDigest d{v.replay_digest,
                                  list.address,
                                  v.signer ? v.signer->fingerprint : std::string(),
                                  v.signed_at,
                                  v.message_id,
                                  std::string(queue_id),
                                  v.encrypted_to,
                                  v.list_key_ids};
    auto seen = pipeline::tables::claim_replay_digest(tx, d, now);
    if (!seen) return Unexpected(seen.error());
    if (*seen) {
      // Another session recorded this signature after our verify(): this
      // message is an exact retry of that one, or a replay after all.
      const std::string original =
          pipeline::tables::exact_retry_of(**seen, list.address, v.message_id);
      pipeline::Verdict other = as_replay(v);
      if (!original.empty()) {
        other.refusal = pipeline::RefusalKind::none;
        other.reason.clear();
        other.duplicate_of = original;
      }
      auto audit = audit::append(tx, audit_row(other, list.address, queue_id, now));
      if (!audit) return Unexpected(audit.error());
      return other;
    }
  }
  if (v.accepted && v.label && !v.message_id.empty()) {
    auto ok = pipeline::tables::index_thread(tx, list.address, v.message_id, *v.label, now);
    if (!ok) return Unexpected(ok.error());
  }
  auto audit = audit::append(tx, audit_row(v, list.address, queue_id, now));
  if (!audit) return Unexpected(audit.error());
  return v;
}

Result<pipeline::Verdict> record(store::Database& db, const pipeline::Verdict& verdict,
                                 const directory::MailingList& list, std::string_view queue_id,
                                 std::time_t now) {
  pipeline::Verdict written;
  auto done = db.transaction([&](store::Transaction& tx) -> store::DbResult<void> {
    auto wrote = record_in_transaction(tx, verdict, list, queue_id, now);
    if (!wrote) return Unexpected(wrote.error());
    written = std::move(*wrote);
    return {};
  });
  if (!done) return Unexpected(Error(done.error()));
  if (verdict.accepted && !written.accepted && !written.is_duplicate()) {
    return Unexpected(Error::refused(std::string(pipeline::kReasonReplay)));
  }
  return written;
}

}  // namespace tlpmail::intake
