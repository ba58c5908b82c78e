// One tick of the comcheck job (see job.h): start what the intervals make
// due, send what is due, close what has passed its deadline.
#include "comcheck/job.h"

#include <map>

#include "comcheck/admin_letters.h"
#include "comcheck/messages.h"
#include "comcheck/report.h"
#include "fanout/letters.h"
#include "log/log.h"
#include "util/text.h"

namespace tlpmail::comcheck {
namespace {

using spdlog::level::level_enum;

// Checks the intervals make due now, one per list at most.
Result<void> start_due(const Env& env, std::time_t now, RunSummary& out) {
  for (const directory::MailingList& list : env.config.directory.lists()) {
    if (list.comcheck_interval <= 0 && list.directory_review_interval <= 0) continue;
    auto checks = checks_of(env.db, list.address);
    if (!checks) return Unexpected(Error(checks.error()));
    const Check* last = checks->empty() ? nullptr : &checks->back();
    if (last && last->is_open()) continue;
    const Check* last_review = nullptr;
    for (const Check& c : *checks) {
      if (c.review) last_review = &c;
    }
    const auto at = static_cast<std::int64_t>(now);
    const bool check_due = list.comcheck_interval > 0 &&
                           (!last || at - last->started_at >= list.comcheck_interval);
    const bool review_due =
        list.directory_review_interval > 0 &&
        (!last_review || at - last_review->started_at >= list.directory_review_interval);
    if (!check_due && !review_due) continue;
    NewCheck c;
    c.list = list.address;
    c.origin = std::string(check_due ? kInterval : kReviewInterval);
    c.review = review_due;
    c.deadline_s = kAutomaticDeadline;
    c.spread_s = kAutomaticSpread;
    c.members = members_for(env.config, list);
    if (c.members.empty()) continue;
    auto started = start(env.db, c, now);
    if (!started) {
      if (started.error().kind == ErrorClass::refused) continue;  // tlpmailctl was first
      return Unexpected(started.error());
    }
    ++out.started;
    log::event(level_enum::info, "-", "comcheck",
               {{"check", std::to_string(started->id)},
                {"list", list.address},
                {"event", "started"},
                {"origin", c.origin},
                {"review", c.review ? "yes" : "no"},
                {"members", std::to_string(c.members.size())},
                {"deadline", utc_iso(started->deadline_at)}});
  }
  return {};
}

// The messages whose moment has come.
Result<void> send_due(openpgp::Context& gpg, const Env& env, std::time_t now, RunSummary& out) {
  auto due = due_sends(env.db, now, kSendsPerRun);
  if (!due) return Unexpected(Error(due.error()));
  std::map<std::int64_t, Check> checks;
  std::map<std::string, std::string> list_keys;  // list address -> list key fingerprint
  for (const Member& m : *due) {
    if (!checks.count(m.check_id)) {
      auto c = find_check(env.db, m.check_id);
      if (!c) return Unexpected(Error(c.error()));
      if (!*c) continue;
      checks[m.check_id] = **c;
    }
    const Check& check = checks[m.check_id];
    const directory::MailingList* list = env.config.directory.find_list(check.list);
    const directory::Person* person = env.config.directory.find_person(m.email);
    const keyring::PersonKey* key = env.keys.find(m.email);
    std::string why;
    if (!list) {
      why = "the list is no longer configured";
    } else if (!person) {
      why = "no longer in the directory";
    } else if (!list->has_member(m.email)) {
      why = "no longer a member of the list";
    } else if (!usable_now(key, now)) {
      why = key_problem(key, now);
    }
    if (!why.empty()) {
      auto w = env.db.transaction([&](store::Transaction& tx) {
        return mark_not_sent(tx, m.check_id, m.email, why);
      });
      if (!w) return Unexpected(Error(w.error()));
      ++out.not_sent;
      log::event(level_enum::warn, "-", "comcheck",
                 {{"check", std::to_string(m.check_id)},
                  {"event", "not_sent"},
                  {"to", m.email},
                  {"reason", why}});
      continue;
    }
    if (!list_keys.count(list->address)) {
      auto k = fanout::list_key_of(gpg, *list);
      if (!k) return Unexpected(k.error());
      list_keys[list->address] = k->fingerprint;
    }
    compose::NoticeFacts f;
    f.list = fanout::list_facts(*list);
    f.to = m.email;
    f.subject = check_subject(*list, check);
    f.body = check_body(*list, check, *person, m.token);
    f.message_id = fanout::new_message_id(env.config, "check" + std::to_string(check.id));
    f.date = now;
    const std::string outbox_id = "check." + std::to_string(check.id) + "." + ascii_lower(m.email);
    auto sealed = fanout::sealed_letter(gpg, *list, list_keys[list->address], f, key->fingerprint,
                                        outbox_id, queue::OutgoingKind::check);
    if (!sealed) return Unexpected(sealed.error());
    auto w = env.db.transaction([&](store::Transaction& tx) -> store::DbResult<void> {
      if (auto a = queue::Outbox::add(tx, *sealed, now); !a) return a;
      return mark_sent(tx, m.check_id, m.email, now, f.message_id, outbox_id);
    });
    if (!w) return Unexpected(Error(w.error()));
    ++out.sent;
    log::event(level_enum::debug, "-", "comcheck",
               {{"check", std::to_string(check.id)}, {"event", "sent"}, {"to", m.email}});
  }
  return {};
}

// The report to every admin who can receive one, with the HTML page.
Result<std::vector<queue::NewOutgoing>> report_letters(openpgp::Context& gpg, const Env& env,
                                                       const directory::MailingList& list,
                                                       const Summary& s, std::time_t now,
                                                       RunSummary& out) {
  auto history = load_history(env.db, list.address, now);
  if (!history) return Unexpected(history.error());
  // The check itself as it is being closed (the stored rows are still open).
  for (Point& p : *history) {
    if (p.id != s.check.id) continue;
    p.closed = true;
    p.answered = s.answered;
    p.members = s.members.size();
    p.success_rate = s.success_rate;
  }
  const std::string text = report_text(s);
  const std::string html = report_html(s, *history, now);
  return letters_to_admins(
      gpg, env.keys, list, now,
      [&](compose::NoticeFacts& f) {
        f.subject = report_subject(list, s.check, s.success_rate);
        f.body = text +
                 "\nThe attached page shows the same with the success rate of every check of "
                 "the list and the latencies of this one.\ntlpmailctl comcheck report " +
                 list.address + " --check " + std::to_string(s.check.id) +
                 " prints it again; --html FILE writes the page.\n";
        f.message_id = fanout::new_message_id(env.config, "check" + std::to_string(s.check.id));
        f.attachments.push_back(compose::Attachment{
            "text/html", "comcheck-" + std::to_string(s.check.id) + ".html", html});
      },
      [&](int n) { return "check." + std::to_string(s.check.id) + ".report." + std::to_string(n); },
      [&](const std::string& admin, const keyring::PersonKey* k) {
        out.admins_without_report.push_back(admin + " (" + list.address + ": " +
                                            key_problem(k, now) + ")");
      });
}

// Every check past its deadline: final states, the report, closed.
Result<void> close_expired(openpgp::Context& gpg, const Env& env, std::time_t now,
                           RunSummary& out) {
  auto checks = expired(env.db, now);
  if (!checks) return Unexpected(Error(checks.error()));
  for (const Check& check : *checks) {
    auto in = load_inputs(env.db, check, now);
    if (!in) return Unexpected(in.error());
    std::vector<FinalState> finals;
    for (Member& m : in->members) {
      if (m.state != State::pending) continue;
      FinalState f;
      f.email = m.email;
      auto d = in->deliveries.find(ascii_lower(m.email));
      if (m.sent_at == 0) {
        f.state = State::not_sent;
        f.reason = "not sent before the deadline (tlpmaild was not running?)";
      } else if (d != in->deliveries.end() && d->second.bounced) {
        f.state = State::bounced;
        f.reason = d->second.reply;
      } else {
        f.state = State::no_answer;
      }
      m.state = f.state;
      m.reason = f.reason;
      finals.push_back(std::move(f));
    }
    Check closed = check;
    closed.closed_at = now;
    const Summary s = summarize(closed, in->members, in->deliveries, in->previous, now);
    std::vector<queue::NewOutgoing> letters;
    const directory::MailingList* list = env.config.directory.find_list(check.list);
    if (list) {
      auto l = report_letters(gpg, env, *list, s, now, out);
      if (!l) return Unexpected(l.error());
      letters = std::move(*l);
    }
    auto w = env.db.transaction([&](store::Transaction& tx) -> store::DbResult<void> {
      for (const queue::NewOutgoing& letter : letters) {
        if (auto a = queue::Outbox::add(tx, letter, now); !a) return a;
      }
      return close(tx, check.id, finals, now);
    });
    if (!w) return Unexpected(Error(w.error()));
    ++out.closed;
    out.reports += letters.size();
    char rate[16];
    (void)std::snprintf(rate, sizeof rate, "%.4f", s.success_rate);
    log::event(level_enum::info, "-", "comcheck",
               {{"check", std::to_string(check.id)},
                {"list", check.list},
                {"event", "closed"},
                {"members", std::to_string(s.members.size())},
                {"answered", std::to_string(s.answered)},
                {"success_rate", rate},
                {"reports", std::to_string(letters.size())}});
  }
  return {};
}

}  // namespace

std::string RunSummary::text() const {
  std::string s;
  auto add = [&s](const char* name, std::size_t n) {
    if (n) s += (s.empty() ? "" : " ") + std::string(name) + "=" + std::to_string(n);
  };
  add("started", started);
  add("sent", sent);
  add("not_sent", not_sent);
  add("closed", closed);
  add("reports", reports);
  for (const std::string& a : admins_without_report) {
    s += (s.empty() ? "" : " ") + std::string("no_report_for=") + a;
  }
  return s;
}

std::vector<NewMember> members_for(const config::Config& config,
                                   const directory::MailingList& list) {
  std::vector<NewMember> out;
  for (const std::string& email : list.members) {
    const directory::Person* p = config.directory.find_person(email);
    out.push_back({email, p ? p->organization : std::string()});
  }
  return out;
}

Result<RunSummary> run(openpgp::Context& gpg, const Env& env, std::time_t now) {
  RunSummary out;
  if (auto r = start_due(env, now, out); !r) return Unexpected(r.error());
  if (auto r = send_due(gpg, env, now, out); !r) return Unexpected(r.error());
  if (auto r = close_expired(gpg, env, now, out); !r) return Unexpected(r.error());
  return out;
}

}  // namespace tlpmail::comcheck
