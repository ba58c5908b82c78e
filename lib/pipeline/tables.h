// The pipeline's SQLite tables (migration step in lib/store/schema.cc):
// replay digests, the per-list thread index (Message-ID -> label) and the
// audit log with its recipient rows. SQL lives here and nowhere else in
// lib/pipeline. Internal to lib/pipeline.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/verdict.h"
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

// Writes the verdict's rows inside `tx` (see Verifier::record) and returns
// the verdict as written: `v` itself; or, when an accepted verdict's
// digest is already recorded, the replay refusal or (an exact retry) the
// duplicate verdict, with its audit row and nothing else written.
// A duplicate verdict gets only its audit row (verdict 'duplicate',
// queue_id the original's).
store::DbResult<Verdict> write_verdict(store::Transaction& tx, const Verdict& v,
                                       std::string_view list, std::string_view queue_id,
                                       std::time_t now);

}  // namespace tlpmail::pipeline::tables
