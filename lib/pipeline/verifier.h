// pipeline::Verifier: the verification of one received message for one
// list (DESIGN.md "What happens to a message", steps 2-4) as an ordered
// set of small rules (rules.h, one file each), giving a typed Verdict; and
// record(), which writes the replay digest, the thread index entry and the
// audit row of a verdict in one SQLite transaction. Not here: SMTP, the
// spool, building and encrypting the copies. Rules, precedence, tables:
// docs/pipeline.md.
#pragma once

#include <chrono>
#include <ctime>
#include <string_view>

#include "config/config.h"
#include "directory/directory.h"
#include "keyring/keyring.h"
#include "openpgp/context.h"
#include "pipeline/verdict.h"
#include "store/database.h"
#include "util/result.h"

namespace tlpmail::pipeline {

struct Options {
  // A signature older than this (creation time before now - max) is
  // refused as too old. No configuration key yet (the lead decides).
  std::chrono::seconds max_signature_age = std::chrono::hours(24 * 7);
  // A signature dated up to this far after `now` is still accepted
  // (senders' clocks drift); later is "dated in the future".
  std::chrono::seconds clock_skew = std::chrono::minutes(5);
};

class Verifier {
 public:
  // Keeps references: config, keys and db must outlive the Verifier.
  // `keys` must come from keyring::load_keys into the GnuPG home that the
  // Contexts passed to verify() use (that home also holds the lists'
  // secret keys).
  Verifier(const config::Config& config, const keyring::KeyReport& keys, store::Database& db,
           Options options = {});

  // Runs every rule on `raw` (the message as received, CRLF or LF) sent to
  // `list` and returns the verdict at time `now`: accepted with a label and
  // a policy::Decision, or refused with the first refusal in rule order and
  // its reply, or (once the signature is verified) a duplicate: an exact
  // retry of a message accepted and spooled for this list with the same
  // Message-ID (Verdict::duplicate_of). Reads the database (replay
  // digests, thread index) but never writes it: call record() for that.
  // Errors: local faults only (gpg failing, a list key that cannot be
  // found, the database busy or broken); the caller answers
  // reply_for_fault(error), i.e. 451 4.3.0, so the MTA retries.
  // Thread safety: const; may run concurrently on different threads, each
  // with its own Context. REQUIRES: `gpg` is used by this thread only.
  Result<Verdict> verify(openpgp::Context& gpg, const directory::MailingList& list,
                         std::string_view raw, std::time_t now) const;

  // Writes, in ONE transaction: for an accepted verdict the replay digest
  // (with the list, Message-ID and `queue_id`, for exact retries) and the
  // thread index entry (its Message-ID and label for this list; a
  // Message-ID already indexed keeps the higher of the two labels), and
  // for every verdict an audit row with its recipients and left-out
  // members (a duplicate verdict: a 'duplicate' row with the original's
  // queue id, nothing else). `queue_id` may be empty (a refused message
  // never spooled). Returns the verdict as written: `verdict` itself, or,
  // when the digest of an accepted verdict was recorded in the meantime by
  // an exact retry's original (same list and Message-ID), the duplicate
  // verdict (duplicate_of set; only its audit row written; answer its
  // reply and do not deliver).
  // Errors: Error::refused(kReasonReplay) when the digest of an accepted
  // verdict was recorded in the meantime otherwise (two sessions raced
  // with the same signature): nothing but a refusal audit row is written,
  // and the caller answers reply_for_fault(error), 550 5.7.1, and must not
  // deliver. Database faults: temporary or corrupt (451; nothing written).
  // Thread-safe (the Database serialises transactions).
  Result<Verdict> record(const Verdict& verdict, const directory::MailingList& list,
                         std::string_view queue_id, std::time_t now);

  // The body of record() for a caller that owns the transaction (the
  // spool's commit, so that a message is committed exactly when its replay
  // digest is). Returns the verdict as written: `verdict`, or for an
  // accepted verdict whose digest is already recorded (a race) the replay
  // refusal or the duplicate verdict, whose audit row was written in `tx`:
  // the caller rolls back whenever the result is not accepted, then
  // record()s the returned verdict on its own.
  // Errors: database faults. Thread safety: as the Transaction's.
  static store::DbResult<Verdict> record_in_transaction(store::Transaction& tx,
                                                        const Verdict& verdict,
                                                        const directory::MailingList& list,
                                                        std::string_view queue_id,
                                                        std::time_t now);

  const Options& options() const { return options_; }

 private:
  const config::Config& config_;
  const keyring::KeyReport& keys_;
  store::Database& db_;
  Options options_;
};

}  // namespace tlpmail::pipeline
