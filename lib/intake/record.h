// Recording a verdict: for an accepted message its replay digest and
// thread index entry (lib/pipeline/tables.h), and for every verdict an
// audit row with its recipients and left-out members (lib/audit), all in
// ONE transaction; inside the spool's commit when the message is kept, so
// that a message is committed exactly when its replay digest is. Also the
// replay race: two sessions that verified the same signature before either
// recorded it. No gpg, no sockets.
#pragma once

#include <ctime>
#include <string_view>

#include "audit/audit_log.h"
#include "directory/directory.h"
#include "pipeline/verdict.h"
#include "store/database.h"
#include "util/result.h"

namespace tlpmail::intake {

// Writes, in ONE transaction: for an accepted verdict the replay digest
// (with the list, Message-ID and `queue_id`, for exact retries) and the
// thread index entry (its Message-ID and label for this list; a
// Message-ID already indexed keeps the higher of the two labels), and for
// every verdict an audit row with its recipients and left-out members (a
// duplicate verdict: a 'duplicate' row with the original's queue id,
// nothing else). `queue_id` may be empty (a refused message never
// spooled). Returns the verdict as written: `verdict` itself, or, when the
// digest of an accepted verdict was recorded in the meantime by an exact
// retry's original (same list and Message-ID), the duplicate verdict
// (duplicate_of set; only its audit row written; answer its reply and do
// not deliver).
// Errors: Error::refused(kReasonReplay) when the digest of an accepted
// verdict was recorded in the meantime otherwise (two sessions raced with
// the same signature): nothing but a refusal audit row is written, and the
// caller answers reply_for_fault(error), 550 5.7.1, and must not deliver.
// Database faults: temporary or corrupt (451; nothing written).
// Thread-safe (the Database serialises transactions).
Result<pipeline::Verdict> record(store::Database& db, const pipeline::Verdict& verdict,
                                 const directory::MailingList& list, std::string_view queue_id,
                                 std::time_t now);

// The body of record() for a caller that owns the transaction (the spool's
// commit). Returns the verdict as written: `verdict`, or for an accepted
// verdict whose digest is already recorded (a race) the replay refusal or
// the duplicate verdict, whose audit row was written in `tx`: the caller
// rolls back whenever the result is not accepted, then record()s the
// returned verdict on its own.
// Errors: database faults. Thread safety: as the Transaction's.
store::DbResult<pipeline::Verdict> record_in_transaction(store::Transaction& tx,
                                                         const pipeline::Verdict& verdict,
                                                         const directory::MailingList& list,
                                                         std::string_view queue_id,
                                                         std::time_t now);

// `v` as a replay refusal (the verdict a lost race turns an accepted one into).
pipeline::Verdict as_replay(pipeline::Verdict v);

// The audit row of a verdict for `list` (a duplicate's queue id is the
// original's; the reply column is reply_for(v)'s code and enhanced code).
audit::Row audit_row(const pipeline::Verdict& v, std::string_view list, std::string_view queue_id,
                     std::time_t now);

}  // namespace tlpmail::intake
