// queue::Outbox: the durable queue of outgoing copies in tlpmail.db
// (tables outbox_messages / outbox_copies, schema steps 4 and 8). One row
// per message (its frame and the shared encrypted data) and one row per
// copy (recipient, session key packet, VERP token, delivery state). Copies
// are written in the fan-out's transaction, claimed by the delivery
// scheduler, their outcomes recorded, and a bounce naming a copy's token
// marks it bounced. It stores ciphertext only; it neither encrypts nor
// talks SMTP, and it does not decide retry times (lib/delivery/retry.h).
// State machine and recovery: docs/delivery.md.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.h"
#include "util/result.h"

namespace tlpmail::queue {

enum class CopyState {
  queued,     // waiting for its first attempt
  in_flight,  // handed to the relay client, outcome not yet recorded
  deferred,   // a temporary failure; next attempt at next_attempt_at
  delivered,  // the relay took it (2xx)
  failed,     // a permanent failure, or deferred for too long
  bounced,    // delivered, then a bounce for its VERP token came back (lib/bounces)
};
std::string_view to_string(CopyState s);
std::optional<CopyState> parse_copy_state(std::string_view s);

// copy: a member's copy of a posting; notice: to an admin (withheld
// members, failures); reply: the answer to a -request message, encrypted
// to its sender; plain: an unencrypted message (the list's public key for
// someone the list cannot encrypt to), whole in `head`, without PKESK or
// shared data; check: a communication check's message to a member
// (lib/comcheck). Only copies' failures are reported to the admins.
enum class OutgoingKind { copy, notice, reply, plain, check };
std::string_view to_string(OutgoingKind k);

struct NewCopy {
  std::string recipient;    // forward-path mailbox
  std::string fingerprint;  // primary fingerprint the copy is encrypted to
  std::string pkesk;        // the recipient's PKESK packet, binary
  // util/random_token.h; "" sends the copy from the plain envelope_from.
  std::string verp_token = {};
};

// The envelope sender of a copy: `envelope_from` (LIST-bounces@DOMAIN)
// with "+token" after its local part; `envelope_from` itself when the
// token is empty.
std::string verp_address(std::string_view envelope_from, std::string_view token);

// Everything one fan-out (or one notice) writes.
namespace detail {
// Whether message ?1 has a copy still waiting: asked after every recorded
// delivery, so it must be index seeks (outbox_copies_by_message_state),
// never a walk over the message's finished copies (tests check the plan).
inline constexpr std::string_view kOpenCopyQuery =
    "SELECT 1 FROM outbox_copies WHERE message = ?1"
    " AND state IN ('queued', 'in_flight', 'deferred') LIMIT 1";
}  // namespace detail

struct NewOutgoing {
  std::string id;  // unique: the source queue id for copies, a notice id for notices
  OutgoingKind kind = OutgoingKind::copy;
  std::string list;             // list address (stored lower case)
  std::string list_message_id;  // without <>
  std::string source_id;        // the spooled message it came from; "" for notices
  std::string envelope_from;    // the list's -bounces address
  std::string head, tail;       // compose::Frame around the armored ciphertext
  std::string shared_data;      // the shared encrypted data packet(s), binary
  std::vector<NewCopy> copies;  // at least one, recipients distinct
  // Who encrypted: "tlpmaild" or "gpg" (openpgp/fanout.h); logged, not stored.
  std::string encrypted_by;
};

// A message's frame and data, to assemble its copies.
struct OutgoingMessage {
  std::string id;
  OutgoingKind kind = OutgoingKind::copy;
  std::string list;
  std::string list_message_id;
  std::string envelope_from;
  std::string head, tail, shared_data;
};

// A copy claimed for delivery (now in_flight).
struct ClaimedCopy {
  std::int64_t id = 0;
  std::string message;  // OutgoingMessage::id
  std::string recipient;
  std::string pkesk;
  int attempts = 0;  // finished attempts before this one
  std::int64_t queued_at = 0;
  std::string verp_token;  // "" for copies without one
};

// The recorded outcome of one attempt.
struct CopyResult {
  std::int64_t id = 0;
  CopyState state = CopyState::delivered;  // delivered | deferred | failed
  std::int64_t next_attempt_at = 0;        // deferred only
  std::string reply;                       // "250 2.0.0 ..." / "451 ..." / local reason
};

// A failed copy nobody was told about yet.
struct UnreportedFailure {
  std::int64_t id = 0;
  std::string message;  // OutgoingMessage::id
  OutgoingKind kind = OutgoingKind::copy;
  std::string list;
  std::string list_message_id;
  std::string recipient;
  std::string reply;
  int attempts = 0;
  std::int64_t queued_at = 0;
};

// One row of `tlpmailctl queue`.
struct WaitingCopy {
  std::int64_t id = 0;
  std::string message;
  OutgoingKind kind = OutgoingKind::copy;
  std::string list;
  std::string recipient;
  CopyState state = CopyState::queued;
  int attempts = 0;
  std::int64_t queued_at = 0;
  std::int64_t next_attempt_at = 0;
  std::string last_reply;
  std::int64_t updated_at = 0;  // the last change of state
};

struct OutboxCounts {
  std::int64_t queued = 0, in_flight = 0, deferred = 0, delivered = 0, failed = 0, bounced = 0;
};

// The copy a VERP token names (lib/bounces).
struct TokenCopy {
  std::int64_t id = 0;
  std::string message;  // OutgoingMessage::id
  OutgoingKind kind = OutgoingKind::copy;
  std::string list;
  std::string recipient;
  CopyState state = CopyState::queued;
};

// Thread-safe (the Database serialises statements); the Database must
// outlive the Outbox.
class Outbox {
 public:
  explicit Outbox(store::Database& db) : db_(db) {}

  // Inserts the message and its copies (state queued, due at `now`)
  // inside the caller's transaction. Errors: constraint when the id exists
  // or a recipient repeats; bad arguments (no copies) as constraint too.
  static store::DbResult<void> add(store::Transaction& tx, const NewOutgoing& m, std::time_t now);
  // The same in a transaction of its own.
  Result<void> add(const NewOutgoing& m, std::time_t now);

  // At start-up: every in_flight copy (the process died before its
  // outcome was recorded) becomes queued again, due now. At-least-once:
  // such a copy may reach its recipient twice. Returns how many.
  Result<std::int64_t> requeue_in_flight(std::time_t now);

  // Up to `max` due copies (queued or deferred with next_attempt_at <=
  // now), oldest due first, moved to in_flight in one transaction.
  Result<std::vector<ClaimedCopy>> claim_due(std::time_t now, std::size_t max);

  // The frame and data of a message. Errors: permanent when unknown.
  Result<OutgoingMessage> message(std::string_view id);

  // Records outcomes of in_flight copies in one transaction (attempts + 1,
  // state, next attempt, reply, updated_at). A message whose copies are
  // all delivered or failed afterwards has its ciphertext emptied.
  // Results for copies that are not in_flight are ignored.
  Result<void> record(const std::vector<CopyResult>& results, std::time_t now);

  // The earliest next_attempt_at of a queued or deferred copy; nullopt
  // when none waits.
  Result<std::optional<std::int64_t>> next_due();

  // Failed copies not yet reported, oldest first (at most `max`).
  Result<std::vector<UnreportedFailure>> unreported_failures(std::size_t max);
  // Marks failures reported inside the caller's transaction (the one that
  // queues the notice about them).
  static store::DbResult<void> mark_reported(store::Transaction& tx,
                                             const std::vector<std::int64_t>& ids);

  // Copies not yet delivered or failed, oldest first.
  Result<std::vector<WaitingCopy>> waiting(std::size_t max);
  Result<OutboxCounts> counts();

  // For messages with copies of `list_message_id` (any state): recipients
  // and states. For tests and tlpmailctl.
  Result<std::vector<WaitingCopy>> copies_of(std::string_view message_id);
  // The copies (any state) of the outbox message `id`: the fan-out of the
  // spooled message with that queue id (its notices have ids of their own).
  Result<std::vector<WaitingCopy>> copies_of_message(std::string_view id);

  // The copy whose VERP token is `token` (lower case), if any.
  static store::DbResult<std::optional<TokenCopy>> copy_by_token(store::Transaction& tx,
                                                                 std::string_view token);
  // A bounce for copy `id`: state bounced, `reply` as its last reply (the
  // bounce's status and diagnostic). A copy still waiting stops being
  // tried; a failed or bounced copy is left as it is. Once every copy of
  // its message is final the ciphertext goes, as in record().
  static store::DbResult<void> mark_bounced(store::Transaction& tx, std::int64_t id,
                                            std::string_view reply, std::time_t now);
  // The newest `max` members' copies (kind copy) of `list` to `recipient`,
  // newest first, any state (for the bounce streak; lib/bounces).
  Result<std::vector<WaitingCopy>> recent_copies(std::string_view list,
                                                 std::string_view recipient, std::size_t max);

 private:
  store::Database& db_;
};

}  // namespace tlpmail::queue
