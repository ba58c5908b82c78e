// Answers to communication checks and directory reviews, as they arrive
// at LIST-request@ (docs/requests.md, "Answers to checks"): the request
// stage asks match_answer() before it reads any command. A reply matches a
// member by the token it quotes (anywhere in its text) or by naming that
// member's check message in In-Reply-To/References. Signed by that
// member's pinned key it is `answered`; otherwise `answered_unsigned` (not
// a success). For a review, a signed "confirm" records reviewed_at and
// corrections go to the list's admins, encrypted to each. Nothing of the
// reply is stored or logged; only its state and time.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "comcheck/job.h"
#include "comcheck/store.h"
#include "directory/directory.h"
#include "openpgp/context.h"
#include "queue/outbox.h"
#include "queue/queue_id.h"
#include "util/result.h"

namespace tlpmail::comcheck {

// What the request stage knows of a reply.
struct ReplyFacts {
  bool verified = false;           // signed by a pinned, usable key (verify_request)
  std::string signer_email;        // verified: the signer
  std::string signer_fingerprint;  // verified: the signer's primary fingerprint
  std::string refusal;             // not verified: the verification's reason
  std::string_view text;           // the reply's first text part (the signed one when verified)
  std::vector<std::string> ids;    // In-Reply-To and References, outer and signed, without <>
};

struct Answer {
  Check check;
  Member member;  // whom the reply answers
  State state = State::answered;  // answered or answered_unsigned
  std::string reason;             // answered_unsigned: why it does not count
  bool late = false;              // after the deadline: nothing is recorded
  std::string review_result;      // "", "confirmed", "corrected"
  std::vector<queue::NewOutgoing> forwards;  // a correction, one letter per admin
  std::vector<std::string> admins_without_forward;
  // For the log line and the audit row: "check 3: answered",
  // "check 3: answered_unsigned (...)", "check 3: after the deadline".
  std::string summary() const;
};

// The check member `reply` answers on `list`, or nullopt when it answers
// none (then it is a request). Errors: temporary (database, gpg while
// sealing a forwarded correction). REQUIRES: `gpg` is this thread's
// context on the daemon's home.
Result<std::optional<Answer>> match_answer(openpgp::Context& gpg, const Env& env,
                                           const directory::MailingList& list,
                                           const queue::QueueId& id, const ReplyFacts& reply,
                                           std::time_t now);

// Records `a` inside the request's transaction: the member's state and
// answer time, the review result, the forwarded corrections in the outbox.
// Nothing for a late answer.
store::DbResult<void> record(store::Transaction& tx, const Answer& a, std::time_t now);

}  // namespace tlpmail::comcheck
