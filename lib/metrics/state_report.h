// metrics::read_state: what tlpmail.db says about the work in hand, for
// `tlpmailctl status` and the Prometheus gauges: spool backlog, copies by
// state, the oldest deferred copy, the last delivery, recent failures,
// maintenance jobs that failed, the last communication check. Read-only
// SELECTs on tables other modules own (queue, comcheck, maintenance): this
// file only counts and never changes them. Nothing about content.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "store/database.h"

namespace tlpmail::metrics {

struct StateReport {
  std::int64_t spooled = 0;                    // messages received, not yet fanned out
  std::int64_t oldest_spooled_at = 0;          // 0: none
  std::map<std::string, std::int64_t> copies;  // state -> copies (every state, 0 included)
  std::int64_t oldest_deferred_at = 0;         // queued_at of the oldest deferred copy; 0: none
  std::int64_t deferred_over_hour = 0;         // deferred copies queued more than an hour ago
  std::int64_t last_delivery_at = 0;           // 0: never
  std::int64_t failed_last_day = 0;            // copies that failed within 24 h
  std::int64_t bounced_last_day = 0;
  struct Job {
    std::string name;
    std::int64_t last_run_at = 0;
    bool ok = true;
    std::string summary;
  };
  std::vector<Job> jobs;  // maintenance_runs (schema 7+)
  struct Check {
    std::string list;
    std::int64_t id = 0;
    std::int64_t asked = 0;     // members the check went to
    std::int64_t answered = 0;  // answered (signed or not)
    bool closed = false;
  };
  std::vector<Check> last_checks;  // the latest check of every list (schema 8+)
};

// The copy states, in the order reports show them.
inline const std::vector<std::string>& copy_states() {
  static const std::vector<std::string> kStates = {"queued",    "in_flight", "deferred",
                                                   "delivered", "failed",    "bounced"};
  return kStates;
}

// Reads the report at `now` (Unix seconds). Tables a schema older than
// their step lacks are reported empty. Errors: database faults.
store::DbResult<StateReport> read_state(store::Database& db, std::int64_t now);

}  // namespace tlpmail::metrics
