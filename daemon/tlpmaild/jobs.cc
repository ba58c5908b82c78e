// tlpmaild's periodic jobs (see jobs.h and docs/operator-guide.md, "What
// tlpmaild does by itself").
#include "tlpmaild/jobs.h"

#include "bounces/bounce.h"
#include "comcheck/job.h"
#include "digest/digest.h"
#include "fanout/announce.h"
#include "keylife/key_check.h"
#include "pipeline/verifier.h"
#include "queue/outbox.h"
#include "store/retention.h"

namespace tlpmail::daemon {

namespace {

// Members whose last bounce_threshold copies or more bounced (lib/bounces).
Result<digest::Section> bounce_section(const digest::SectionContext& ctx) {
  queue::Outbox outbox(ctx.db);
  auto flagged = bounces::flagged_members(outbox, ctx.list, ctx.now);
  if (!flagged) return Unexpected(flagged.error());
  bounces::DigestSection s = bounces::digest_section(ctx.list, *flagged);
  return digest::Section{std::move(s.title), std::move(s.lines), std::move(s.advice)};
}

// The admins' notices about the list keys (lib/fanout/announce.h) for the
// time since this job's last run. A notice whose outbox id is taken was
// queued before (a run repeated after a failure or a lost job record): it
// is skipped, so each goes once, also across restarts.
Result<maintenance::JobResult> queue_list_key_notices(const maintenance::JobEnv& env) {
  auto last = maintenance::last_run(env.db, "list-key-notices");
  if (!last) return Unexpected(Error(last.error()));
  std::vector<std::string> said;
  auto notices = fanout::list_key_notices(env.gpg, env.config, env.keys, last->at, env.now, said);
  if (!notices) return Unexpected(notices.error());
  std::size_t queued = 0, repeated = 0;
  for (const queue::NewOutgoing& m : *notices) {
    auto r = env.db.transaction(
        [&](store::Transaction& tx) { return queue::Outbox::add(tx, m, env.now); });
    if (r) {
      ++queued;
    } else if (r.error().fault == store::DbFault::constraint) {
      ++repeated;
    } else {
      return Unexpected(Error(r.error()));
    }
  }
  std::string summary = std::to_string(queued) + " notices";
  if (repeated > 0) summary += ", " + std::to_string(repeated) + " sent before";
  for (const std::string& s : said) summary += "; " + s;
  return maintenance::JobResult{summary, queued > 0};
}

// The sections of the admins' daily digest, in the order they appear.
// Issue 12 (members whose copies bounced on N consecutive messages) and
// later stages add their digest::Provider here (lib/digest/digest.h,
// "EXTENSION POINT").
std::vector<digest::Provider> digest_sections() {
  return {keylife::key_problems_section, bounce_section};
}

// [retention] as cut-offs at `now`. Replay digests can never match again
// once their signature is older than the verifier's maximum age (such a
// message is refused as too old): they go after that age plus the margin.
store::Cutoffs retention_cutoffs(const config::RetentionSettings& r, std::time_t now) {
  auto before = [now](unsigned days) -> std::int64_t {
    return days == 0 ? 0 : static_cast<std::int64_t>(now) - std::int64_t{86400} * days;
  };
  const std::int64_t max_age = pipeline::Options{}.max_signature_age.count();
  store::Cutoffs c;
  c.audit = before(r.audit_days);
  c.replay = static_cast<std::int64_t>(now) - max_age - std::int64_t{86400} * r.replay_margin_days;
  c.finished = before(r.delivered_days);
  c.bounces = before(r.bounce_days);
  c.comchecks = before(r.comcheck_days);
  return c;
}

}  // namespace

void add_jobs(maintenance::Runner& runner) {
  // Retention (docs/retention.md): what is older than [retention] goes, in
  // batches of 500 rows, each its own short transaction (the intake's
  // commits take the connection between them); then incremental vacuum.
  runner.add({"retention", std::chrono::hours(24),
              [](const maintenance::JobEnv& env) -> Result<maintenance::JobResult> {
                auto r = store::prune(env.db, retention_cutoffs(env.config.retention, env.now));
                if (!r) return Unexpected(Error{r.error().kind, r.error().message});
                return maintenance::JobResult{r->text(), false};
              }});
  // Communication checks and directory reviews (lib/comcheck/job.h): the
  // checks the intervals make due, each member's message at its random
  // moment, the close and the admins' report at the deadline. At every
  // tick, since the moments are seconds apart; a tick with nothing to do
  // logs nothing.
  runner.add({"comcheck", std::chrono::seconds(0),
              [](const maintenance::JobEnv& env) -> Result<maintenance::JobResult> {
                auto r = comcheck::run(env.gpg, comcheck::Env{env.config, env.keys, env.db},
                                       env.now);
                if (!r) return Unexpected(r.error());
                return maintenance::JobResult{r->text(), r->queued_mail()};
              },
              std::chrono::seconds(60)});
  // Expiry notices to members (30, 7, 1 days before). Also run at start,
  // after every reload and after update-key (daemon/tlpmaild/controller.cc).
  runner.add({"key-check", std::chrono::hours(24),
              [](const maintenance::JobEnv& env) -> Result<maintenance::JobResult> {
                auto r = keylife::run_key_check(env.gpg, env.config, env.keys, env.db, env.now);
                if (!r) return Unexpected(r.error());
                std::string summary = std::to_string(r->notices) + " notices, " +
                                      std::to_string(r->expiring) +
                                      " keys expiring within 30 days, " +
                                      std::to_string(r->unusable) + " unusable";
                for (const std::string& f : r->failed) summary += "; no notice for " + f;
                return maintenance::JobResult{summary, r->notices > 0};
              }});
  // The admins' notices that a list key expires (60, 30, 7, 1 days before)
  // or that a rotation's grace period ended. Also run at start and after
  // every reload (daemon/tlpmaild/controller.cc).
  runner.add({"list-key-notices", std::chrono::hours(24), queue_list_key_notices});
  // One digest per list and day for its admins (key problems, ...).
  runner.add({"digest", std::chrono::hours(24),
              [](const maintenance::JobEnv& env) -> Result<maintenance::JobResult> {
                auto r = digest::run_digests(env.gpg, env.config, env.keys, env.db,
                                             digest_sections(), env.now);
                if (!r) return Unexpected(r.error());
                std::string summary = std::to_string(r->lists) + " lists due, " +
                                      std::to_string(r->letters) + " letters";
                for (const std::string& a : r->admins_without_letter) {
                  summary += "; no letter for " + a;
                }
                return maintenance::JobResult{summary, r->letters > 0};
              }});
}

}  // namespace tlpmail::daemon
