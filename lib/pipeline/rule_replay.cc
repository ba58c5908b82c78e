// Rule: a signature whose replay digest (openpgp::replay_digest: key,
// time, hash, class, canonical content) is already recorded is a replay,
// whatever the Message-ID, unless it is an exact retry (same list, same
// Message-ID: find_exact_retry, asked first) or a cross-post (the first
// accepted ciphertext was encrypted to this list's key too, and this list
// has not accepted it yet). Reads only; intake::record checks again under
// its write transaction. REQUIRES: check_signature passed.
#include "pipeline/rules.h"
#include "pipeline/tables.h"

namespace tlpmail::pipeline::rules {

Result<Outcome> check_replay(const Evidence& ev, const directory::MailingList& list,
                             store::Database& db) {
  auto seen = tables::replay_record(db, ev.signature->replay_digest);
  if (!seen) return Unexpected(Error(seen.error()));
  if (*seen && !tables::may_cross_post(**seen, list.address, ev.list_key_ids)) {
    return Outcome(Refusal{RefusalKind::replay, std::string(kReasonReplay)});
  }
  return Outcome{};
}

Result<std::string> find_exact_retry(const Evidence& ev, const directory::MailingList& list,
                                     store::Database& db) {
  auto seen = tables::replay_record(db, ev.signature->replay_digest);
  if (!seen) return Unexpected(Error(seen.error()));
  if (!*seen) return std::string();
  return tables::exact_retry_of(**seen, list.address, ev.message.message_id);
}

}  // namespace tlpmail::pipeline::rules
