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

// One acceptance of a signature by a list: the list, and since schema step
// 3 the Message-ID and queue id of the spooled message ("" when unknown:
// rows from before step 3, or recorded without a queue id).
struct ReplayAcceptance {
  std::string list;  // lower case
  std::string message_id;
  std::string queue_id;
};

// A recorded replay digest: its first acceptance, the key ids its
// ciphertext was encrypted to (schema step 5; empty when not encrypted),
// and the other lists that accepted it as a cross-post.
struct ReplayRecord : ReplayAcceptance {
  std::vector<std::string> encrypted_to;      // 16-digit key ids, upper case
  std::vector<ReplayAcceptance> cross_posts;  // in the order accepted
};

// The row of `digest`, std::nullopt when not recorded. Errors: database faults.
store::DbResult<std::optional<ReplayRecord>> replay_record(store::Database& db,
                                                           std::string_view digest);

// The queue id when `r` makes a message with this Message-ID sent to
// `list` an exact retry of an accepted one (same list, same non-empty
// Message-ID, a known queue id; the first acceptance or a cross-post);
// "" otherwise (a replay).
std::string exact_retry_of(const ReplayRecord& r, std::string_view list,
                           std::string_view message_id);

// True when `list` may accept the recorded signature once more as a
// cross-post: `list` has not accepted it yet, and one of `list_key_ids`
// (the list key's encryption subkey ids) is among the key ids the FIRST
// accepted ciphertext was encrypted to. (Re-encrypting a captured message
// to another list's key later does not change what the first one named.)
bool may_cross_post(const ReplayRecord& r, std::string_view list,
                    const std::vector<std::string>& list_key_ids);

struct ThreadEntry {
  std::string message_id;
  policy::Tlp label = policy::Tlp::clear;
};

// The thread entries of `list` for the given Message-IDs (those present).
store::DbResult<std::vector<ThreadEntry>> thread_labels(store::Database& db, std::string_view list,
                                                        const std::vector<std::string>& ids);

// Inside `tx`: when `digest` is recorded already and this is no cross-post
// (may_cross_post()), returns its record and writes nothing (a replay, or
// an exact retry: exact_retry_of()); else records it for the accepted
// message (list, signer, signature time, the Message-ID and queue id for
// exact retries, the key ids for cross-posts; a cross-post as such) and
// returns std::nullopt.
struct NewDigest {
  std::string digest;
  std::string list;
  std::string signer_fingerprint;
  std::time_t signed_at = 0;
  std::string message_id;                 // "" when none
  std::string queue_id;                   // "" when none
  std::vector<std::string> encrypted_to;  // the ciphertext's key ids; empty: not encrypted
  std::vector<std::string> list_key_ids;  // the list key's encryption subkey ids
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
