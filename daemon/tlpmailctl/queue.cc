// queue: what waits for delivery. Reads state_dir/tlpmail.db read-only:
// list postings still in the spool (not yet fanned out; mail waiting for a
// list's -request or -bounces stage is counted apart, so that the first
// counter is the one monitoring watches), the outbox's copies per state,
// and every copy not yet delivered or failed with its attempts, next
// attempt and the relay's last answer. Never shows content or subjects.
#include <toml++/toml.h>

#include <algorithm>
#include <ctime>
#include <iostream>

#include "admin/table.h"
#include "config/config.h"
#include "queue/outbox.h"
#include "queue/spool.h"
#include "queue/spool_waiting.h"
#include "store/database.h"
#include "tlpmailctl/ctl.h"
#include "util/text.h"

namespace tlpmail::ctl {
namespace {

// Copies listed at most (the counts above the table cover all of them).
constexpr std::size_t kMaxListed = 10000;
// Spooled messages whose address is looked at, at most; any beyond count
// as postings (the counter errs towards "something waits").
constexpr std::size_t kMaxClassified = 100000;

std::string utc(std::int64_t t) {
  return utc_time(static_cast<std::time_t>(t), "%Y-%m-%d %H:%M:%S");
}

}  // namespace

int queue(const Options& o, std::ostream& out, std::ostream& err) {
  auto cfg = load_config_or_report(o, out, err);
  if (!cfg) return 1;
  auto db = open_state_db(*cfg, 4, "outbox", err);
  if (!db) return 1;
  auto spooled = queue::Spool::backlog(*db);
  queue::Outbox outbox(*db);
  auto counts = outbox.counts();
  auto waiting = outbox.waiting(kMaxListed);
  auto in_spool_mail = queue::waiting_in_spool(*db, kMaxClassified);
  if (!spooled || !counts || !waiting || !in_spool_mail) {
    err << "tlpmailctl: "
        << (!spooled   ? spooled.error().message
            : !counts  ? counts.error().message
            : !waiting ? waiting.error().message
                       : in_spool_mail.error().message)
        << "\n";
    return 1;
  }
  // Mail to a list's -request and -bounces addresses waits for its own
  // stage, not for a fan-out.
  std::int64_t service = 0;
  for (const auto& m : *in_spool_mail) {
    auto role = cfg->directory.match_recipients(m.recipients);
    if (role && role->role != directory::ListRole::post) ++service;
  }
  const std::int64_t in_spool = std::max<std::int64_t>(0, spooled->messages - service);
  // The backlog's age: how long the oldest message in the spool has waited.
  const std::int64_t oldest_age =
      spooled->messages > 0 && spooled->oldest_received_at > 0
          ? std::max<std::int64_t>(
                0, static_cast<std::int64_t>(std::time(nullptr)) - spooled->oldest_received_at)
          : 0;

  if (o.json) {
    toml::array copies;
    for (const auto& w : *waiting) {
      copies.push_back(toml::table{{"id", w.id},
                                   {"message", w.message},
                                   {"kind", std::string(queue::to_string(w.kind))},
                                   {"list", w.list},
                                   {"recipient", w.recipient},
                                   {"state", std::string(queue::to_string(w.state))},
                                   {"attempts", w.attempts},
                                   {"queued_at", w.queued_at},
                                   {"next_attempt_at", w.next_attempt_at},
                                   {"last_reply", w.last_reply}});
    }
    out << toml::json_formatter{toml::table{{"spooled", in_spool},
                                            {"spooled_service", service},
                                            {"spooled_oldest_age_seconds", oldest_age},
                                            {"copies", toml::table{{"queued", counts->queued},
                                                                   {"in_flight", counts->in_flight},
                                                                   {"deferred", counts->deferred},
                                                                   {"delivered", counts->delivered},
                                                                   {"failed", counts->failed},
                                                                   {"bounced", counts->bounced}}},
                                            {"waiting", std::move(copies)}}}
        << "\n";
    return 0;
  }

  out << "messages in the spool, not yet fanned out: " << in_spool;
  if (in_spool > 0) out << " (the oldest waits for " << oldest_age << " s)";
  out << "\n";
  if (service > 0) {
    out << "mail to -request/-bounces addresses, not yet processed: " << service << "\n";
  }
  out << "copies: " << counts->queued << " queued, " << counts->in_flight << " in flight, "
      << counts->deferred << " deferred, " << counts->delivered << " delivered, " << counts->failed
      << " failed, " << counts->bounced << " bounced\n";
  if (waiting->empty()) {
    out << "nothing waits for delivery\n";
    return 0;
  }
  out << "\n";
  admin::Table t({"COPY", "KIND", "LIST", "RECIPIENT", "STATE", "TRIES", "QUEUED (UTC)",
                  "NEXT (UTC)", "LAST REPLY"});
  for (const auto& w : *waiting) {
    t.add({std::to_string(w.id), std::string(queue::to_string(w.kind)), w.list, w.recipient,
           std::string(queue::to_string(w.state)), std::to_string(w.attempts), utc(w.queued_at),
           w.state == queue::CopyState::in_flight ? "-" : utc(w.next_attempt_at),
           w.last_reply.empty() ? "-" : escape_for_log(w.last_reply, 200)});
  }
  out << t.render();
  return 0;
}

}  // namespace tlpmail::ctl
