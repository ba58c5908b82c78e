// queue: what waits for delivery. Reads state_dir/tlpmail.db read-only:
// messages still in the spool (not yet fanned out), the outbox's copies per
// state, and every copy not yet delivered or failed with its attempts, next
// attempt and the relay's last answer. Never shows content or subjects.
#include <toml++/toml.h>

#include <ctime>
#include <iostream>

#include "admin/table.h"
#include "config/config.h"
#include "tlpmailctl/ctl.h"
#include "queue/outbox.h"
#include "queue/spool.h"
#include "store/database.h"
#include "util/text.h"

namespace tlpmail::ctl {
namespace {

// Copies listed at most (the counts above the table cover all of them).
constexpr std::size_t kMaxListed = 10000;

std::string utc(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return std::string(buf, n);
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
  if (!spooled || !counts || !waiting) {
    err << "tlpmailctl: "
        << (!spooled ? spooled.error().message
                     : !counts ? counts.error().message : waiting.error().message)
        << "\n";
    return 1;
  }
  const std::int64_t in_spool = spooled->messages;

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
    out << toml::json_formatter{toml::table{
               {"spooled", in_spool},
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

  out << "messages in the spool, not yet fanned out: " << in_spool << "\n";
  out << "copies: " << counts->queued << " queued, " << counts->in_flight << " in flight, "
      << counts->deferred << " deferred, " << counts->delivered << " delivered, "
      << counts->failed << " failed, " << counts->bounced << " bounced\n";
  if (waiting->empty()) {
    out << "nothing waits for delivery\n";
    return 0;
  }
  out << "\n";
  admin::Table t(
      {"COPY", "KIND", "LIST", "RECIPIENT", "STATE", "TRIES", "QUEUED (UTC)", "NEXT (UTC)",
       "LAST REPLY"});
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
