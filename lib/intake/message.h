// One message at the end of DATA: the intake's decision. The bytes go to a
// spool transaction as they arrive (begun with the first write); at the
// end the message's list is resolved from its recipients, a posting is
// verified (lib/pipeline) and either committed with its verdict in the
// same transaction (intake/record.h), refused (nothing kept, an audit row
// written) or answered "already queued" (an exact retry); mail to the
// -request/-bounces addresses is committed as received. Every outcome
// maps to one reply (intake/replies.h). The bytes kept for the verifier
// are charged to the memory budget (intake/memory_budget.h); a message
// that does not fit is discarded as it arrives and answered 452 4.3.1.
// No sockets: the server hands the bytes in through net::MessageIntake,
// and unit tests do the same.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "intake/memory_budget.h"
#include "keyring/keyring.h"
#include "net/intake.h"
#include "queue/spool.h"
#include "smtp/session.h"
#include "store/database.h"

namespace tlpmail::openpgp {
class Handoff;
}

namespace tlpmail::intake {

// What the intake works with. Shared (const) by every message of the
// sessions that started under it; a reload makes a new one.
struct Context {
  std::shared_ptr<const config::Config> config;  // REQUIRES: not null
  // The members' keys (keyring::load_keys into gnupg_home, which also
  // holds the list keys). With these and `db`, a message for a list's
  // posting address is verified before its reply; null: every message is
  // committed unverified (tests of the server alone).
  std::shared_ptr<const keyring::KeyReport> keys;
  std::filesystem::path gnupg_home;
  queue::Spool* spool = nullptr;  // REQUIRES: not null; outlives every Message
  store::Database* db = nullptr;  // the spool's database; verdicts are recorded here
  // Where an accepted encrypted posting's decryption waits for its fan-out
  // (null: the fan-out decrypts the spooled message again).
  std::shared_ptr<openpgp::Handoff> handoff;
};

// Charged for every message besides its bytes: the server's batch being
// filled and the one on its way to the worker (net::DataBatch).
inline constexpr std::uint64_t kTransitAllowance = 2 * net::DataBatch::kDefaultLimit;

// What the intake decided about one message: the reply and what the log
// says about it.
struct Outcome {
  // busy: the memory budget could not hold the message (452 4.3.1).
  enum class Kind { queued, refused, fault, spool_failed, busy };
  Kind kind = Kind::spool_failed;
  smtp::Reply reply;
  queue::QueueId id;      // queued
  std::string list;       // the posting address verified, "" when none
  std::string signer;     // fingerprint, when known
  std::string label;      // accepted: the TLP label
  std::string reason;     // refused: the verdict's reason (safe to show)
  std::string detail;     // fault / spool failure / busy: for the log only
  bool verified = false;  // the pipeline ran
  bool already = false;   // an exact retry of an accepted message
  std::optional<queue::SpoolError> spool_error;

  // The outcome of a spool that could not take the message (its 4xx).
  static Outcome spool_failure(queue::SpoolError e);
};

// Logs an outcome as the intake's events (accept + spool, duplicate,
// reject, verify failed, spool failed) for session `session`.
void log_outcome(const std::string& session, const smtp::Envelope& envelope, std::uint64_t size,
                 const Outcome& outcome);

// Thread safety: every method takes the message's lock (after a timed-out
// write the server no longer waits, and a later abort must not overlap),
// except is_discarding(), which reads an atomic flag.
class Message final : public net::MessageIntake {
 public:
  // A message dropped without finish() or abort() keeps nothing (the spool
  // transaction aborts itself, the budget gets its charge back). Charges
  // the budget with kTransitAllowance plus the declared SIZE= (at most
  // max_message_size); when that does not fit, the message is refused
  // from the start. `memory` null: no budget.
  Message(std::shared_ptr<const Context> context, std::shared_ptr<MemoryBudget> memory,
          std::string session, smtp::Envelope envelope);

  bool write(std::string bytes) override;
  // True once the budget refused the message: its bytes are dropped and
  // finish() answers 452 4.3.1.
  bool is_discarding() const override { return over_budget_.load(); }
  // conclude(), then log_outcome(); the reply and whether a new message
  // was committed.
  net::DataOutcome finish(std::string bytes, std::uint64_t size) override;
  void abort() override;

  // The decision without logging: takes the last bytes, then verifies,
  // commits or refuses. Call once.
  Outcome conclude(const std::string& bytes);

 private:
  void begin_locked();
  // The budget refused: drop what is held (bytes, spool transaction).
  void refuse_for_memory_locked();
  Outcome memory_outcome() const;
  Outcome decide_locked(std::time_t now);

  std::mutex mu_;
  std::shared_ptr<const Context> context_;
  std::shared_ptr<MemoryBudget> memory_;
  std::string session_;
  smtp::Envelope envelope_;
  MessageBuffer content_;  // the message so far, for the verifier (bounded by the session)
  std::atomic<bool> over_budget_{false};
  std::string budget_note_;  // the budget when it refused, for the log
  std::optional<queue::Transaction> tx_;
  std::optional<queue::SpoolError> error_;  // begin() failed
};

}  // namespace tlpmail::intake
