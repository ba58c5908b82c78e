// The daemon's periodic work for communication checks and reviews
// (docs/comchecks.md), one call per tick of the "comcheck" job
// (lib/maintenance, registered in daemon/tlpmaild/jobs.cc): start the
// checks and reviews that comcheck_interval and directory_review_interval
// make due; send each member's message once its random moment has come
// (signed by the list, encrypted to the member, from LIST-request@, with
// the member's token); and close every check whose deadline has passed,
// with the report to the list's admins. Checks started by tlpmailctl are
// rows in the database: this job sends them. No sockets; the outbox
// delivers what is queued here.
#pragma once

#include <cstddef>
#include <ctime>
#include <string>
#include <vector>

#include "comcheck/store.h"
#include "config/config.h"
#include "keyring/keyring.h"
#include "openpgp/context.h"
#include "store/database.h"
#include "util/result.h"

namespace tlpmail::comcheck {

// What a run works with. References; all must outlive the call. `keys`
// must be loaded into the home of the Context passed to run().
struct Env {
  const config::Config& config;
  const keyring::KeyReport& keys;
  store::Database& db;
};

// At most this many check messages are sent per run (each one is a gpg
// run); the rest go at the next tick.
inline constexpr std::size_t kSendsPerRun = 200;
// Deadline and spread of the checks the daemon starts by itself.
inline constexpr std::int64_t kAutomaticDeadline = std::int64_t{48} * 3600;
inline constexpr std::int64_t kAutomaticSpread = 0;

struct RunSummary {
  std::size_t started = 0;   // checks started by an interval
  std::size_t sent = 0;      // check messages queued
  std::size_t not_sent = 0;  // members the list could not write to
  std::size_t closed = 0;    // checks closed at their deadline
  std::size_t reports = 0;   // reports queued to admins
  std::vector<std::string> admins_without_report;  // "ADDRESS (LIST: key expired)"
  bool queued_mail() const { return sent > 0 || reports > 0; }
  // "" when nothing happened, else "started=1 sent=6 ...".
  std::string text() const;
};

// One tick. Errors: temporary (gpg, the database); what was written
// before the error stays (each member's send and each close is its own
// transaction). REQUIRES: `gpg` is this thread's context on the daemon's
// home.
Result<RunSummary> run(openpgp::Context& gpg, const Env& env, std::time_t now);

// The members a new check of `list` asks (every member, team mailboxes
// included), with their organization from the directory.
std::vector<NewMember> members_for(const config::Config& config,
                                   const directory::MailingList& list);

}  // namespace tlpmail::comcheck
