// fanout::distribute: the fan-out of one accepted, spooled message
// (docs/delivery.md): read the verdict recorded at intake (label,
// recipients), open the message once more (decrypt the outer layer with the
// list key; never anything nested), build the copy (lib/compose), sign and
// encrypt it once for every recipient (lib/openpgp/fanout.h), and in ONE
// transaction queue a copy per recipient in the outbox, record in the
// audit row who was withheld for their key since the intake chose them,
// index the copies' Message-ID for threading and mark the spooled message
// done (members withheld for their keys are told to the admins in their
// daily digest, lib/digest, not per message). Also the admins' reports of
// failed copies. No sockets, no SMTP: lib/delivery sends
// what is queued here. Details: docs/delivery.md.
#pragma once

#include <cstddef>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "keyring/keyring.h"
#include "openpgp/context.h"
#include "queue/outbox.h"
#include "queue/spool.h"
#include "store/database.h"
#include "util/result.h"

namespace tlpmail::openpgp {
class Handoff;
}

namespace tlpmail::fanout {

// What the fan-out works with. References; all must outlive the call.
// `keys` must be the KeyReport loaded into the home of the Context passed
// to the functions below (that home also holds the list keys).
struct FanoutEnv {
  const config::Config& config;
  const keyring::KeyReport& keys;
  store::Database& db;
  queue::Spool& spool;
  // The intake's decryptions of accepted postings; null: the fan-out
  // decrypts every spooled message itself.
  openpgp::Handoff* handoff = nullptr;
};

struct Withheld {
  std::string email;
  std::string why;  // "key expired", "no longer in the directory", ...
};

// What one call of distribute() did, for the log (no message content).
struct Distribution {
  enum class Kind {
    fanned_out,  // copies queued (maybe none, when every recipient was withheld); message done
    skipped,     // left in the spool untouched: `reason` says why (not a posting, no verdict)
  };
  Kind kind = Kind::fanned_out;
  std::string reason;
  std::string list;
  std::string list_message_id;
  std::string label;
  std::size_t copies = 0;
  std::string encrypted_by;        // "tlpmaild" or "gpg"; "" without copies
  // Who decrypted the spooled posting for the copies: "intake" (handed
  // over in memory, openpgp::Handoff), "gpg" (decrypted again here), ""
  // when nothing was decrypted (a signed posting, or no copies).
  std::string decrypted_by;
  std::vector<Withheld> withheld;  // for their key (the audit row says so too)
};

struct FailureReport {
  std::size_t failures = 0;  // failed copies handled (now marked reported)
  std::size_t notices = 0;   // notices queued (one per admin and list)
  std::vector<Withheld> admins_without_notice;
};

// Fans out the received message `id`. Errors: temporary for local faults
// (gpg, database, spool file unreadable) — nothing was written and the
// message stays received, to be tried again; permanent when the message
// cannot be opened any more with what the intake accepted (e.g. the list
// key changed): it stays received too and an operator must look.
// REQUIRES: `gpg` is used by this thread only.
Result<Distribution> distribute(openpgp::Context& gpg, const FanoutEnv& env,
                                const queue::QueueId& id, std::time_t now);

// Queues, per list, one notice to its admins (each admin's own encrypted
// copy) about copies that failed (5xx, or deferred for 5 days) and marks
// those failures reported in the same transaction. Failed notices are
// marked reported without a notice (no notices about notices), and so are
// failures of a list none of whose admins can receive one (the report says
// who). Errors: temporary (gpg, database).
Result<FailureReport> report_failures(openpgp::Context& gpg, const FanoutEnv& env,
                                      std::time_t now);

}  // namespace tlpmail::fanout
