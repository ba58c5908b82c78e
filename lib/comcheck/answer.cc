// Matching a reply to a check member and recording it (see answer.h).
#include "comcheck/answer.h"

#include "comcheck/admin_letters.h"
#include "comcheck/messages.h"
#include "fanout/letters.h"
#include "keyring/keyring.h"
#include "util/text.h"
#include "util/wiped.h"

namespace tlpmail::comcheck {
namespace {

// The found member if it belongs to `list`.
std::optional<Found> of_list(std::optional<Found> f, const directory::MailingList& list) {
  if (f && iequals(f->check.list, list.address)) return f;
  return std::nullopt;
}

// The correction, one sealed letter per admin who can receive one.
Result<void> forward_correction(openpgp::Context& gpg, const Env& env,
                                const directory::MailingList& list, const queue::QueueId& id,
                                const directory::Person& person, const ReplyFacts& reply,
                                const std::string& correction, std::time_t now, Answer& a) {
  auto letters = letters_to_admins(
      gpg, env.keys, list, now,
      [&](compose::NoticeFacts& f) {
        f.subject = correction_subject(list, person.email);
        f.body = correction_body(list, a.check, person, reply.signer_fingerprint, correction);
        f.message_id = fanout::new_message_id(env.config, id + ".correction");
      },
      [&](int n) { return id + ".correction." + std::to_string(n); },
      [&](const std::string& admin, const keyring::PersonKey* k) {
        a.admins_without_forward.push_back(admin + " (" + (k ? k->status_word : "no key") + ")");
      });
  if (!letters) return Unexpected(letters.error());
  for (queue::NewOutgoing& m : *letters) a.forwards.push_back(std::move(m));
  return {};
}

}  // namespace

std::string Answer::summary() const {
  std::string s = "check " + std::to_string(check.id) + ": ";
  if (late) return s + "after the deadline, not recorded";
  s += std::string(to_string(state));
  if (!reason.empty()) s += " (" + reason + ")";
  if (!review_result.empty()) s += ", review " + review_result;
  return s;
}

Result<std::optional<Answer>> match_answer(openpgp::Context& gpg, const Env& env,
                                           const directory::MailingList& list,
                                           const queue::QueueId& id, const ReplyFacts& reply,
                                           std::time_t now) {
  std::optional<Found> found;
  for (const std::string& token : tokens_in(reply.text)) {
    auto f = by_token(env.db, token);
    if (!f) return Unexpected(Error(f.error()));
    found = of_list(std::move(*f), list);
    if (found) break;
  }
  for (std::size_t i = 0; !found && i < reply.ids.size() && i < 40; ++i) {
    auto f = by_message_id(env.db, reply.ids[i]);
    if (!f) return Unexpected(Error(f.error()));
    found = of_list(std::move(*f), list);
  }
  if (!found) return std::optional<Answer>();

  Answer a;
  a.check = found->check;
  a.member = found->member;
  if (!a.check.is_open() || static_cast<std::int64_t>(now) >= a.check.deadline_at) {
    a.late = true;
    return std::optional<Answer>(std::move(a));
  }
  if (!reply.verified) {
    a.state = State::answered_unsigned;
    a.reason = "not signed by the member's key: " + reply.refusal;
    return std::optional<Answer>(std::move(a));
  }
  if (!iequals(reply.signer_email, a.member.email)) {
    a.state = State::answered_unsigned;
    a.reason = "signed by " + reply.signer_email + ", not by the member";
    return std::optional<Answer>(std::move(a));
  }
  a.state = State::answered;
  if (a.check.review) {
    const ReviewReply r = read_review_reply(reply.text);
    if (r.confirmed) {
      a.review_result = "confirmed";
    } else if (!r.correction.empty()) {
      a.review_result = "corrected";
      const directory::Person* person = env.config.directory.find_person(a.member.email);
      if (person) {
        std::string correction = r.correction;
        auto f = forward_correction(gpg, env, list, id, *person, reply, correction, now, a);
        wipe(correction);
        if (!f) return Unexpected(f.error());
      }
    }
  }
  return std::optional<Answer>(std::move(a));
}

store::DbResult<void> record(store::Transaction& tx, const Answer& a, std::time_t now) {
  if (a.late) return {};
  auto r = record_answer(tx, a.check.id, a.member.email, a.state, a.reason, a.review_result, now);
  if (!r) return r;
  for (const queue::NewOutgoing& f : a.forwards) {
    if (auto ok = queue::Outbox::add(tx, f, now); !ok) return ok;
  }
  return {};
}

}  // namespace tlpmail::comcheck
