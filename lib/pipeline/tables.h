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

struct ThreadEntry {
  std::string message_id;
  policy::Tlp label = policy::Tlp::clear;
};

// The thread entries of `list` for the given Message-IDs (those present).
store::DbResult<std::vector<ThreadEntry>> thread_labels(store::Database& db, std::string_view list,
                                                        const std::vector<std::string>& ids);

// Writes the verdict's rows inside `tx` (see Verifier::record). Returns
// false, after writing a replay refusal audit row, when an accepted
// verdict's digest is already recorded.
store::DbResult<bool> write_verdict(store::Transaction& tx, const Verdict& v, std::string_view list,
                                    std::string_view queue_id, std::time_t now);

}  // namespace tlpmail::pipeline::tables
