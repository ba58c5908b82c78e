// bounces::process: mail to LIST-bounces@ taken from the spool and read
// (docs/bounces.md). Each copy leaves from LIST-bounces+TOKEN@DOMAIN
// (VERP): the token is the bounce's only credential. A permanent failure
// (a DSN's "failed", or a bounce that is not a report but reads as one)
// marks that copy `bounced` with the remote status and diagnostic; a
// temporary one ("delayed", 4.x.x) is recorded and changes nothing; a
// missing, unknown or reused token, an automatic reply or anything else
// is dropped with a log line. Nothing of a bounce is forwarded; only its
// status fields are stored. The copy's state, the report row and the
// spool's `done` are written in one transaction. No sockets, no gpg.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "config/config.h"
#include "queue/outbox.h"
#include "queue/spool.h"
#include "store/database.h"
#include "util/result.h"

namespace tlpmail::bounces {

// What process() works with. References; all must outlive the call.
struct Env {
  const config::Config& config;
  store::Database& db;
  queue::Spool& spool;
};

// What one call did, for the log: status fields only, never text.
struct Processed {
  std::string list;
  std::string token;  // "ok", "missing", "malformed", "unknown", "reused"
  std::int64_t copy = 0;    // outbox_copies.id when the token named one
  std::string recipient;    // that copy's recipient
  std::string kind;         // mime::to_string(BounceKind)
  std::string status;       // "5.1.1"
  std::string action;       // the report's Action, "" otherwise
  std::string outcome;      // "bounced", "recorded", "dropped"
  std::string reason;       // why, for "recorded" and "dropped"
  bool skipped = false;     // not a -bounces message waiting in the spool: left alone
};

// Reads the spooled -bounces message `id` and records what it says; the
// message is `done` afterwards, whatever it was. Errors: temporary for
// local faults (database, spool): nothing was written and it is tried
// again.
Result<Processed> process(const Env& env, const queue::QueueId& id, std::time_t now);

// ------------------------------------------------------ the bounce streak

// A copy as the streak sees it.
struct CopyFact {
  queue::CopyState state = queue::CopyState::queued;
  std::int64_t updated_at = 0;
};

// A delivered copy younger than this may still bounce: it neither counts
// nor breaks a streak.
inline constexpr std::int64_t kBounceWindow = std::int64_t{24} * 60 * 60;
// How many copies are looked at, at most.
inline constexpr std::size_t kStreakHorizon = 100;

// How many of a member's newest copies (`newest_first`) in a row did not
// arrive: bounced or failed. Copies still waiting, and copies delivered
// within kBounceWindow of `now`, are skipped; the first copy delivered
// before that ends the streak. Pure.
int bounce_streak(const std::vector<CopyFact>& newest_first, std::time_t now);

// The streak of `recipient`'s copies from `list`. Errors: database faults.
Result<int> streak_of(queue::Outbox& outbox, const std::string& list, const std::string& recipient,
                      std::time_t now);

struct Flagged {
  std::string email;
  int streak = 0;
};

// Members of `list` whose streak reached its bounce_threshold, in list
// order. Errors: database faults.
Result<std::vector<Flagged>> flagged_members(queue::Outbox& outbox,
                                             const directory::MailingList& list, std::time_t now);

// The admins' daily digest's section about them (lib/digest's Section,
// field for field, so that this stage does not depend on the digest): a
// title, one line per member, the advice; no lines when nobody is flagged.
struct DigestSection {
  std::string title;
  std::vector<std::string> lines;
  std::string advice;
};
DigestSection digest_section(const directory::MailingList& list,
                             const std::vector<Flagged>& flagged);

}  // namespace tlpmail::bounces
