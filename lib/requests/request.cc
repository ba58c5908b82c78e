// The -request stage (see request.h): verify, read the commands, answer,
// record. The texts of the answers are in answers.cc; the request's
// plaintext lives only in memory here and is wiped after use.
#include "requests/request.h"

#include <variant>

#include "audit/audit_log.h"
#include "comcheck/answer.h"
#include "compose/compose.h"
#include "fanout/letters.h"
#include "mime/mime.h"
#include "openpgp/list_key.h"
#include "pipeline/tables.h"
#include "pipeline/verifier.h"
#include "queue/outbox.h"
#include "requests/answers.h"
#include "requests/commands.h"
#include "util/text.h"
#include "util/wiped.h"

namespace tlpmail::requests {
namespace {

constexpr std::int64_t kDay = std::int64_t{24} * 60 * 60;

std::string join(const std::vector<Command>& commands) {
  std::string out;
  for (Command c : commands) out += (out.empty() ? "" : ",") + std::string(to_string(c));
  return out;
}

bool has(const std::vector<Command>& commands, Command c) {
  for (Command x : commands) {
    if (x == c) return true;
  }
  return false;
}

// RFC 3834: never answer what is itself automatic, a bounce or list mail.
std::string why_no_automatic_reply(const mime::Message& m, const std::string& envelope_sender) {
  if (envelope_sender.empty()) return "null envelope sender";
  const std::string local = ascii_lower(envelope_sender.substr(0, envelope_sender.find('@')));
  if (local == "mailer-daemon" || local == "postmaster") return "sent by " + local;
  for (const mime::HeaderField& h : m.headers) {
    const std::string value = ascii_lower(trim(h.value));
    if (iequals(h.name, "Auto-Submitted") && value != "no") return "Auto-Submitted: " + value;
    if (iequals(h.name, "Precedence") &&
        (value == "bulk" || value == "junk" || value == "list")) {
      return "Precedence: " + value;
    }
    if (iequals(h.name, "List-Id")) return "list mail (List-Id)";
  }
  return {};
}

struct Plan {
  Processed log;
  std::optional<queue::NewOutgoing> reply;
  std::optional<pipeline::tables::NewDigest> digest;
  std::string key_reply_to;  // set when the key goes out in clear (rate limit row)
  std::optional<comcheck::Answer> answer;  // an answer to a communication check
  audit::Row row;
};

// Answers to communication checks and directory reviews (lib/comcheck)
// are matched before any command is read: they are answers, not requests,
// and get no reply. True when `reply` answered a check.
Result<bool> check_answer(openpgp::Context& gpg, const Env& env,
                          const directory::MailingList& list, const queue::QueueId& id,
                          const comcheck::ReplyFacts& reply, std::time_t now, Plan& plan) {
  auto a = comcheck::match_answer(gpg, comcheck::Env{env.config, env.keys, env.db}, list, id,
                                  reply, now);
  if (!a) return Unexpected(a.error());
  if (!*a) return false;
  plan.log.outcome = "comcheck answer";
  plan.log.reason = (*a)->summary();
  plan.row.reason = "comcheck answer: " + plan.log.reason;
  plan.answer = std::move(**a);
  return true;
}

std::vector<std::string> thread_ids(const std::vector<std::string>& a,
                                    const std::vector<std::string>& b) {
  std::vector<std::string> ids = a;
  ids.insert(ids.end(), b.begin(), b.end());
  return ids;
}

store::DbResult<bool> key_sent_recently(store::Database& db, const std::string& list,
                                        const std::string& address, std::time_t now) {
  auto rows = db.query(
      "SELECT 1 FROM request_key_replies WHERE list = ?1 AND address = ?2 AND sent_at > ?3",
      {ascii_lower(list), ascii_lower(address), static_cast<std::int64_t>(now) - kDay});
  if (!rows) return Unexpected(rows.error());
  return !rows->empty();
}

compose::NoticeFacts reply_facts(const Env& env, const directory::MailingList& list,
                                 const std::string& to, const std::string& id,
                                 const std::string& in_reply_to, std::time_t now) {
  compose::NoticeFacts f;
  f.list = fanout::list_facts(list);
  f.to = to;
  f.subject = "[" + list.local_part() + "] answer to your request";
  f.message_id = fanout::new_message_id(env.config, id);
  f.date = now;
  f.auto_submitted = "auto-replied";
  if (!in_reply_to.empty()) f.in_reply_to = {in_reply_to};
  return f;
}

// The list's public key as an attachment, and its fingerprint.
Result<std::pair<compose::Attachment, std::string>> list_key_attachment(
    openpgp::Context& gpg, const directory::MailingList& list) {
  auto key = fanout::list_key_of(gpg, list);
  if (!key) return Unexpected(key.error());
  auto armored = openpgp::export_public(gpg, key->fingerprint);
  if (!armored) return Unexpected(armored.error());
  return std::make_pair(
      compose::Attachment{"application/pgp-keys", list.local_part() + ".asc", std::move(*armored)},
      key->fingerprint);
}

// A member's verified request: one encrypted reply with every answer.
Result<void> answer_member(openpgp::Context& gpg, const Env& env,
                           const directory::MailingList& list, const queue::QueueId& id,
                           const pipeline::RequestContent& content, const ParsedCommands& parsed,
                           const keyring::PersonKey& key, std::time_t now, Plan& plan) {
  const directory::Person* person = env.config.directory.find_person(key.email);
  compose::NoticeFacts f = reply_facts(env, list, key.email, id, content.message_id, now);
  AnswerContext ctx{env.config, env.keys, list, person, key, content, now, &gpg};
  std::string body = greeting(ctx);
  for (Command c : parsed.commands) {
    Answer a;
    if (c == Command::key) {
      auto att = list_key_attachment(gpg, list);
      if (!att) return Unexpected(att.error());
      a = answer_key(ctx, att->second);
      f.attachments.push_back(std::move(att->first));
    } else {
      auto r = answer(ctx, c);
      if (!r) return Unexpected(r.error());
      a = std::move(*r);
      if (a.keys_changed) plan.log.keys_changed = true;
    }
    body += a.text + "\n";
  }
  if (parsed.stopped_at) body += stopped_text(*parsed.stopped_at) + "\n";
  if (parsed.commands.empty() && !parsed.stopped_at) {
    auto help = answer(ctx, Command::help);
    if (!help) return Unexpected(help.error());
    body += help->text + "\n";
  }
  body += closing(ctx);
  f.body = std::move(body);
  auto list_key = fanout::list_key_of(gpg, list);
  if (!list_key) return Unexpected(list_key.error());
  auto sealed = fanout::sealed_letter(gpg, list, list_key->fingerprint, f, key.fingerprint,
                                      id + ".reply", queue::OutgoingKind::reply);
  wipe(f.body);
  if (!sealed) return Unexpected(sealed.error());
  plan.reply = std::move(*sealed);
  plan.log.outcome = "replied";
  return {};
}

// The list key in clear, for someone the list cannot encrypt to.
Result<void> send_key_in_clear(openpgp::Context& gpg, const Env& env,
                               const directory::MailingList& list, const queue::QueueId& id,
                               const std::string& to, const std::string& message_id,
                               std::time_t now, Plan& plan) {
  auto recent = key_sent_recently(env.db, list.address, to, now);
  if (!recent) return Unexpected(Error(recent.error()));
  if (*recent) {
    plan.log.outcome = "ignored";
    plan.log.reason = "the key was sent to this address in the last 24 hours";
    return {};
  }
  auto att = list_key_attachment(gpg, list);
  if (!att) return Unexpected(att.error());
  compose::NoticeFacts f = reply_facts(env, list, to, id, message_id, now);
  f.body = key_in_clear_text(list, att->second);
  f.attachments.push_back(std::move(att->first));
  plan.reply = fanout::plain_letter(list, f, id + ".key");
  plan.key_reply_to = to;
  plan.log.outcome = "key sent in clear";
  return {};
}

Result<Plan> plan_answer(openpgp::Context& gpg, const Env& env,
                         const directory::MailingList& list, const queue::QueueId& id,
                         const std::string& envelope_sender, std::string_view raw,
                         std::time_t now) {
  Plan plan;
  plan.log.list = list.address;
  pipeline::Verifier verifier(env.config, env.keys, env.db);
  pipeline::RequestContent content;
  // The verified plaintext is wiped whichever way this function returns.
  struct WipeContent {
    pipeline::RequestContent& c;
    ~WipeContent() {
      wipe(c.entity);
      wipe(c.body_text);
    }
  } wipe_content{content};
  auto verdict = verifier.verify_request(gpg, list, raw, now, &content);
  if (!verdict) return Unexpected(verdict.error());
  plan.row.at = static_cast<std::int64_t>(now);
  plan.row.list = ascii_lower(list.address);
  plan.row.queue_id = id;
  plan.row.verdict = "request";
  plan.row.smtp_reply = "250 2.0.0";

  if (verdict->accepted) {
    const std::string email = verdict->signer->email;
    plan.log.from = email;
    plan.log.signer = verdict->signer->fingerprint;
    plan.row.signer_email = email;
    plan.row.signer_fingerprint = verdict->signer->fingerprint;
    plan.row.message_id = verdict->message_id;
    plan.row.replay_digest = verdict->replay_digest;
    plan.digest = pipeline::tables::NewDigest{verdict->replay_digest,
                                              list.request_address(),
                                              verdict->signer->fingerprint,
                                              verdict->signed_at,
                                              verdict->message_id,
                                              id,
                                              verdict->encrypted_to,
                                              verdict->list_key_ids};
    const comcheck::ReplyFacts reply{true, email, verdict->signer->fingerprint, "",
                                     content.body_text,
                                     thread_ids(content.in_reply_to, content.references)};
    auto answered = check_answer(gpg, env, list, id, reply, now, plan);
    if (!answered) return Unexpected(answered.error());
    if (*answered) return plan;
    const ParsedCommands parsed = parse_commands(content.body_text);
    for (Command c : parsed.commands) plan.log.commands.emplace_back(to_string(c));
    const keyring::PersonKey* key = env.keys.find(email);
    if (!list.has_member(email)) {
      if (has(parsed.commands, Command::key) && !envelope_sender.empty()) {
        auto r = send_key_in_clear(gpg, env, list, id, envelope_sender, content.message_id, now,
                                   plan);
        if (!r) return Unexpected(r.error());
      } else {
        plan.log.outcome = "ignored";
        plan.log.reason = "not a member of this list (only `key` is answered)";
      }
    } else if (!key || !key->usable) {
      plan.log.outcome = "ignored";
      plan.log.reason = "the sender's key cannot be encrypted to";
    } else {
      auto r = answer_member(gpg, env, list, id, content, parsed, *key, now, plan);
      if (!r) return Unexpected(r.error());
    }
    plan.row.reason = plan.log.outcome + (plan.log.reason.empty() ? "" : ": " + plan.log.reason) +
                      (plan.log.commands.empty() ? "" : " (" + join(parsed.commands) + ")");
    if (!plan.log.reason.empty()) plan.row.refusal = "ignored";
    return plan;
  }

  // Not verified: only an unsigned or unverifiable request for the key is
  // answered, in clear and at most daily; nothing else is.
  plan.row.refusal = std::string(pipeline::to_string(verdict->refusal));
  plan.row.message_id = verdict->message_id;
  if (verdict->signer) plan.row.signer_fingerprint = verdict->signer->fingerprint;
  plan.log.reason = verdict->reason;
  plan.log.outcome = "ignored";
  auto parsed_message = mime::parse_message(raw);
  if (parsed_message) {
    if (auto from = parsed_message->single_from()) plan.log.from = from->address;
    if (verdict->refusal != pipeline::RefusalKind::replay) {
      const comcheck::ReplyFacts reply{
          false, "", "", verdict->reason, parsed_message->content.body_head,
          thread_ids(parsed_message->in_reply_to, parsed_message->references)};
      auto answered = check_answer(gpg, env, list, id, reply, now, plan);
      if (!answered) return Unexpected(answered.error());
      if (*answered) return plan;
    }
    const ParsedCommands parsed = parse_commands(parsed_message->content.body_head);
    for (Command c : parsed.commands) plan.log.commands.emplace_back(to_string(c));
    const std::string no_reply = why_no_automatic_reply(*parsed_message, envelope_sender);
    if (verdict->refusal != pipeline::RefusalKind::replay && has(parsed.commands, Command::key)) {
      if (!no_reply.empty()) {
        plan.log.reason += "; no answer: " + no_reply;
      } else {
        auto r = send_key_in_clear(gpg, env, list, id, envelope_sender,
                                   parsed_message->message_id, now, plan);
        if (!r) return Unexpected(r.error());
      }
    }
  }
  plan.row.reason = plan.log.outcome + ": " + plan.log.reason;
  return plan;
}

}  // namespace

Result<Processed> process(openpgp::Context& gpg, const Env& env, const queue::QueueId& id,
                          std::time_t now) {
  auto spooled = env.spool.message(id);
  if (!spooled) return Unexpected(spooled.error());
  Processed skipped;
  skipped.skipped = true;
  if (spooled->state != queue::MessageState::received) {
    skipped.reason = "not waiting in the spool";
    return skipped;
  }
  auto m = env.config.directory.match_recipients(spooled->recipients);
  if (!m || m->role != directory::ListRole::request) {
    skipped.reason = "not a -request message of a configured list";
    return skipped;
  }
  const directory::MailingList& list = *m->list;
  Plan plan;
  {
    auto raw = env.spool.read_message(id);
    if (!raw) return Unexpected(raw.error());
    Wiped bytes{std::move(*raw)};
    auto planned = plan_answer(gpg, env, list, id, spooled->sender, bytes.value, now);
    if (!planned) return Unexpected(planned.error());
    plan = std::move(*planned);
  }

  auto written = env.db.transaction([&](store::Transaction& tx) -> store::DbResult<void> {
    if (plan.digest) {
      auto seen = pipeline::tables::claim_replay_digest(tx, *plan.digest, now);
      if (!seen) return Unexpected(seen.error());
      if (*seen) {
        // Recorded meanwhile (the same request twice at once): a replay.
        plan.reply.reset();
        plan.answer.reset();
        plan.log.outcome = "ignored";
        plan.log.reason = std::string(pipeline::kReasonReplay);
        plan.row.refusal = "replay";
        plan.row.reason = "ignored: " + plan.log.reason;
      }
    }
    if (plan.reply) {
      if (auto r = queue::Outbox::add(tx, *plan.reply, now); !r) return r;
    }
    if (plan.answer) {
      if (auto r = comcheck::record(tx, *plan.answer, now); !r) return r;
    }
    if (!plan.key_reply_to.empty() && plan.reply) {
      auto r = tx.execute(
          "INSERT INTO request_key_replies (list, address, sent_at) VALUES (?1, ?2, ?3)"
          " ON CONFLICT (list, address) DO UPDATE SET sent_at = excluded.sent_at",
          {ascii_lower(list.address), ascii_lower(plan.key_reply_to),
           static_cast<std::int64_t>(now)});
      if (!r) return Unexpected(r.error());
    }
    if (auto a = audit::append(tx, plan.row); !a) return Unexpected(a.error());
    return queue::Spool::mark_in_transaction(tx, id, queue::MessageState::done);
  });
  if (!written) return Unexpected(Error(written.error()));
  (void)env.spool.remove_finished_file(id, queue::MessageState::done);
  return plan.log;
}

}  // namespace tlpmail::requests
