// The pipeline's SQLite tables (lib/store/schema.cc, steps 2-3): replay
// digests and the per-list thread index (Message-ID -> label). The
// verifier reads them; the intake writes them when it commits an accepted
// message (lib/intake/record.h), the fan-out indexes the copies'
// Message-ID. The only SQL for these two tables lives here.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/tlp.h"
#include "store/database.h"

namespace tlpmail::pipeline::tables {

// True when `digest` is recorded. Errors: database faults.
store::DbResult<bool> replay_seen(store::Database& db, std::string_view digest);

// A recorded replay digest: the list it was accepted on and, since schema
// step 3, the Message-ID and queue id of the spooled message ("" when
// unknown: rows from before step 3, or recorded without a queue id).
struct ReplayRecord {
  std::string list;  // lower case
  std::string message_id;
  std::string queue_id;
};

// The row of `digest`, std::nullopt when not recorded. Errors: database faults.
store::DbResult<std::optional<ReplayRecord>> replay_record(store::Database& db,
                                                           std::string_view digest);

// The queue id when `r` makes a message with this Message-ID sent to
// `list` an exact retry of the accepted one (same list, same non-empty
// Message-ID, a known queue id); "" otherwise (a replay).
std::string exact_retry_of(const ReplayRecord& r, std::string_view list,
                           std::string_view message_id);

struct ThreadEntry {
  std::string message_id;
  policy::Tlp label = policy::Tlp::clear;
};

// The thread entries of `list` for the given Message-IDs (those present).
store::DbResult<std::vector<ThreadEntry>> thread_labels(store::Database& db, std::string_view list,
                                                        const std::vector<std::string>& ids);

// Inside `tx`: when `digest` is recorded already, returns its record and
// writes nothing (a replay, or an exact retry: exact_retry_of()); else
// records it for the accepted message (list, signer, signature time, the
// Message-ID and queue id for exact retries) and returns std::nullopt.
struct NewDigest {
  std::string digest;
  std::string list;
  std::string signer_fingerprint;
  std::time_t signed_at = 0;
  std::string message_id;  // "" when none
  std::string queue_id;    // "" when none
};
store::DbResult<std::optional<ReplayRecord>> claim_replay_digest(store::Transaction& tx,
                                                                 const NewDigest& d,
                                                                 std::time_t now);

// Indexes `message_id` of `list` with `label`; a Message-ID already
// indexed keeps the higher of the two labels (never lower a thread).
store::DbResult<void> index_thread(store::Transaction& tx, std::string_view list,
                                   std::string_view message_id, policy::Tlp label,
                                   std::time_t now);

// Indexes the Message-ID the list's copies went out with (members reply
// to it); a Message-ID already indexed is left as it is.
store::DbResult<void> index_copies(store::Transaction& tx, std::string_view list,
                                   std::string_view message_id, policy::Tlp label,
                                   std::time_t now);

}  // namespace tlpmail::pipeline::tables
