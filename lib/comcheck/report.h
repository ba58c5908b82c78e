// A check's report in the three forms it is read in: loaded from the
// tables (the check's rows, its messages' fate in the outbox, the check
// before it), as plain text (tlpmailctl comcheck report, and the admins'
// report at the deadline), and as one self-contained HTML page (no
// script, no external resource; inline SVG charts of the success rate over
// every check of the list and of this check's latencies, and the member
// table). tlpmailctl builds the JSON itself from the same Summary.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "comcheck/summary.h"
#include "store/database.h"
#include "util/result.h"

namespace tlpmail::comcheck {

// What summarize() needs for `check`: its members, what became of their
// messages in the outbox, and the results of the list's check before it.
struct Inputs {
  std::vector<Member> members;
  std::map<std::string, Delivery> deliveries;  // by lower-case email
  std::vector<MemberResult> previous;
};
Result<Inputs> load_inputs(store::Database& db, const Check& check, std::time_t now);

// summarize() over load_inputs(). Errors: database faults.
Result<Summary> load_summary(store::Database& db, const Check& check, std::time_t now);

// One check of a list's history.
struct Point {
  std::int64_t id = 0;
  std::int64_t started_at = 0;
  bool review = false;
  bool closed = false;
  std::size_t members = 0;
  std::size_t answered = 0;
  double success_rate = 0;
  std::optional<std::int64_t> median_latency_s;
};

// Every check of `list`, oldest first. Errors: database faults.
Result<std::vector<Point>> load_history(store::Database& db, std::string_view list,
                                        std::time_t now);

// "2026-12-06 22:39 UTC".
std::string utc_minute(std::int64_t t);
// "2026-12-06T22:39:11Z"; "" for 0.
std::string utc_iso(std::int64_t t);

// The plain-text report (LF line ends): the check's facts, the figures,
// one line per member, the flags.
std::string report_text(const Summary& s);

// The HTML page. `history` should include the check itself. Every text
// from the tables is escaped.
std::string report_html(const Summary& s, const std::vector<Point>& history,
                        std::time_t generated_at);

}  // namespace tlpmail::comcheck
