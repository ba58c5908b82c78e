// The tables of communication checks and directory reviews (comchecks,
// comcheck_members, directory_reviews; schema step 8) and the only SQL
// for them: starting a check (tlpmailctl or the daemon's job), the job's
// sends and closes, the answers matched at LIST-request@, and the readers
// behind tlpmailctl comcheck, members and directory. Facts only: never
// the text of an answer. Thread-safe as store::Database is.
#pragma once

#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.h"
#include "util/result.h"

namespace tlpmail::comcheck {

// A member's state in a check (docs/comchecks.md). Stored as its name.
enum class State {
  pending,            // before the deadline, no answer yet (or not sent yet)
  answered,           // a reply signed by the member's pinned key
  answered_unsigned,  // a reply that matched but is not validly signed by the member
  bounced,            // the check message bounced or was refused by the relay
  not_sent,           // no usable key (or gone from the list): counted as a failure
  no_answer,          // the deadline passed without an answer
};
std::string_view to_string(State s);
std::optional<State> parse_state(std::string_view s);

// Where a check came from.
inline constexpr std::string_view kManual = "manual";                  // tlpmailctl comcheck start
inline constexpr std::string_view kInterval = "interval";              // comcheck_interval
inline constexpr std::string_view kReviewInterval = "review_interval";  // directory_review_interval

struct Check {
  std::int64_t id = 0;
  std::string list;  // lower case
  std::string origin;
  bool review = false;
  std::int64_t started_at = 0;
  std::int64_t spread_s = 0;
  std::int64_t deadline_at = 0;
  std::int64_t closed_at = 0;  // 0 while open
  bool is_open() const { return closed_at == 0; }
};

struct Member {
  std::int64_t check_id = 0;
  std::string email;
  std::string organization;
  std::string token;
  std::int64_t send_at = 0;
  State state = State::pending;
  std::string reason;
  std::int64_t sent_at = 0;  // 0: not sent (yet)
  std::string message_id;    // the check message's, without <>
  std::string outbox_id;     // its outbox message
  std::int64_t answered_at = 0;
  std::string review_result;  // "", "confirmed", "corrected"
};

struct NewMember {
  std::string email;
  std::string organization;
};

struct NewCheck {
  std::string list;
  std::string origin{kManual};
  bool review = false;
  std::int64_t deadline_s = std::int64_t{48} * 3600;
  std::int64_t spread_s = 0;  // < deadline_s
  std::vector<NewMember> members;
};

// "comcheck-" + the member's token: what the message shows and replies quote.
inline constexpr std::string_view kTokenPrefix = "comcheck-";

// Whether `db` has the tables of this file (schema step 8 applied): a
// database last used by an older tlpmaild has not.
store::DbResult<bool> has_tables(store::Database& db);

// Inserts the check and one row per member (a fresh token each, the send
// moment drawn uniformly from [now, now + spread]) in one transaction.
// Errors: refused ("a check of LIST is open until ...") when the list has
// an open check, or when there are no members or spread >= deadline;
// temporary for database faults and a kernel without random bytes.
Result<Check> start(store::Database& db, const NewCheck& c, std::time_t now);

store::DbResult<std::optional<Check>> find_check(store::Database& db, std::int64_t id);
// The open check of `list`, if any.
store::DbResult<std::optional<Check>> open_check(store::Database& db, std::string_view list);
// Every check of `list`, oldest first.
store::DbResult<std::vector<Check>> checks_of(store::Database& db, std::string_view list);
// Every open check whose deadline is at or before `now`.
store::DbResult<std::vector<Check>> expired(store::Database& db, std::time_t now);
// The members of a check, in the order they were added.
store::DbResult<std::vector<Member>> members_of(store::Database& db, std::int64_t check_id);
// Members of open checks before their deadline whose message is due and
// not sent yet, oldest send moment first, at most `max`.
store::DbResult<std::vector<Member>> due_sends(store::Database& db, std::time_t now,
                                               std::size_t max);

// The job's writes, inside the transaction that queues the message.
store::DbResult<void> mark_sent(store::Transaction& tx, std::int64_t check_id,
                                const std::string& email, std::time_t at,
                                const std::string& message_id, const std::string& outbox_id);
store::DbResult<void> mark_not_sent(store::Transaction& tx, std::int64_t check_id,
                                    const std::string& email, const std::string& reason);
// Closes a check: each (email, state, reason) given is stored (the final
// states of members still pending), and closed_at is set.
struct FinalState {
  std::string email;
  State state = State::no_answer;
  std::string reason;
};
store::DbResult<void> close(store::Transaction& tx, std::int64_t check_id,
                            const std::vector<FinalState>& states, std::time_t at);

// The member a token (lower case, without the prefix) or a Message-ID
// belongs to, with its check.
struct Found {
  Check check;
  Member member;
};
store::DbResult<std::optional<Found>> by_token(store::Database& db, std::string_view token);
store::DbResult<std::optional<Found>> by_message_id(store::Database& db,
                                                    std::string_view message_id);

// An answer: the state (answered or answered_unsigned) when the member is
// still pending, or answered_unsigned and now answered; answered_at when
// none was recorded or the state just became answered (the latency counts
// to the first answer that counts); the latest review result when given
// ("confirmed" also records reviewed_at for the person). An answered
// member stays answered.
store::DbResult<void> record_answer(store::Transaction& tx, std::int64_t check_id,
                                    const std::string& email, State state,
                                    const std::string& reason, const std::string& review_result,
                                    std::time_t at);

// When each person (lower-case email) last confirmed their entry.
struct Review {
  std::int64_t reviewed_at = 0;
  std::int64_t check_id = 0;
};
store::DbResult<std::map<std::string, Review>> reviews(store::Database& db);

// The latest review check each person (lower-case email) was part of.
struct ReviewAsk {
  std::int64_t check_id = 0;
  std::int64_t started_at = 0;
  std::int64_t deadline_at = 0;
  bool closed = false;
};
store::DbResult<std::map<std::string, ReviewAsk>> last_review_asks(store::Database& db);

}  // namespace tlpmail::comcheck
