// The audit log: one row per decision about a message (tables audit_log
// and audit_recipients, lib/store/schema.cc steps 2 and 4) with who got a
// copy and who was left out and why. The only SQL for these tables lives
// here: the intake appends rows, the fan-out reads the accepted row of a
// message and notes the copies' Message-ID, tlpmailctl audit reads them.
// Facts only: never message text, never a Subject.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.h"

namespace tlpmail::audit {

struct Recipient {
  std::string address;
  bool chosen = false;  // gets a copy; false: left out for `why`
  std::string why;      // "" for chosen recipients
};

// One row. Empty strings stand for SQL NULL (and are stored as NULL).
struct Row {
  std::int64_t id = 0;  // assigned by append()
  std::int64_t at = 0;  // Unix time of the decision
  std::string list;     // lower case
  std::string queue_id;
  std::string verdict;     // "accepted", "refused", "duplicate"
  std::string refusal;     // pipeline::to_string(RefusalKind), "" when none
  std::string reason;      // the refusal's text, safe to show the sender
  std::string smtp_reply;  // "550 5.7.1" (code and enhanced code only)
  std::string signer_email, signer_fingerprint;
  std::string label;   // "AMBER", "" when none
  std::string raised;  // the TLP raises, "; "-separated
  std::string message_id, parent_message_id, replay_digest;
  std::string list_message_id;  // the copies' Message-ID, set by the fan-out
  std::vector<Recipient> recipients;  // in position order
};

// Appends `row` (its id and list_message_id are ignored) with its
// recipients inside `tx`; returns the new row's id. Errors: database faults.
store::DbResult<std::int64_t> append(store::Transaction& tx, const Row& row);

// The newest accepted row of the spooled message `queue_id`, with its
// recipients; std::nullopt when there is none.
store::DbResult<std::optional<Row>> accepted_row(store::Database& db, std::string_view queue_id);

// Notes the Message-ID the copies of row `id` went out with.
store::DbResult<void> set_list_message_id(store::Transaction& tx, std::int64_t id,
                                          std::string_view list_message_id);

// Turns the chosen recipient `address` of row `id` into one left out for
// `why` (the fan-out found their key unusable after the intake chose them:
// the audit log shows who got no copy either way). Nothing when the row
// has no such chosen recipient.
store::DbResult<void> mark_left_out(store::Transaction& tx, std::int64_t id,
                                    std::string_view address, std::string_view why);

// For each address, how many rows of `list` (lower case) at or after
// `since` left it out for exactly `why` (the admins' digest counts the
// messages a member was withheld from for their key).
store::DbResult<std::map<std::string, std::int64_t>> left_out_counts(store::Database& db,
                                                                     std::string_view list,
                                                                     std::int64_t since,
                                                                     std::string_view why);

struct Filter {
  std::int64_t since = 0;  // rows at or after this Unix time
  std::string list;        // lower case; "" for every list
};

// Every row that passes `filter`, oldest first, with its recipients.
// Reads databases of schema step 2 on (list_message_id is "" before step 4).
store::DbResult<std::vector<Row>> read(store::Database& db, const Filter& filter);

}  // namespace tlpmail::audit
