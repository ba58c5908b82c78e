// The fan-out of one spooled message and the admins' failure reports (see
// distribute.h). Plaintext exists only in memory here, between the list
// key's decryption and the members' encryption, and is wiped after use.
#include "fanout/distribute.h"

#include <algorithm>
#include <map>
#include <variant>

#include "audit/audit_log.h"
#include "compose/compose.h"
#include "fanout/letters.h"
#include "mime/mime.h"
#include "openpgp/decrypt.h"
#include "openpgp/handoff.h"
#include "openpgp/list_key.h"
#include "openpgp/publish.h"
#include "pipeline/presentation.h"
#include "pipeline/tables.h"
#include "policy/decision.h"
#include "policy/tlp.h"
#include "util/text.h"
#include "util/wiped.h"

namespace tlpmail::fanout {
namespace {

Error db_error(const store::DbError& e) { return Error(e); }

// The accepted verdict recorded at intake for a spooled message.
struct RecordedVerdict {
  std::int64_t audit_id = 0;
  std::string signer_email;
  std::string signer_fingerprint;
  policy::Tlp label = policy::Tlp::red;
  std::vector<std::string> raise_lines;
  std::string message_id;
  std::vector<std::string> recipients;    // chosen, in list order
  std::vector<std::string> key_withheld;  // left out for their key at intake
};

// The audit row's banner lines (intake/record.cc): "; " between lines that
// each start with "TLP " (a raise, or an unsigned label not used).
std::vector<std::string> split_raises(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find("; TLP ", start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end == text.size() ? end : end + 2;
  }
  return out;
}

Result<std::optional<RecordedVerdict>> recorded_verdict(store::Database& db,
                                                        const queue::QueueId& id) {
  auto row = audit::accepted_row(db, id);
  if (!row) return Unexpected(db_error(row.error()));
  if (!*row) return std::optional<RecordedVerdict>();
  const audit::Row& r = **row;
  RecordedVerdict v;
  v.audit_id = r.id;
  v.signer_email = r.signer_email;
  v.signer_fingerprint = r.signer_fingerprint;
  auto label = r.label.empty() ? std::nullopt : policy::parse_name(r.label);
  if (!label) return Unexpected(Error::permanent("audit row of " + id + " has no label"));
  v.label = *label;
  if (!r.raised.empty()) v.raise_lines = split_raises(r.raised);
  v.message_id = r.message_id;
  const std::string key_reason =
      policy::describe(policy::Exclusion::key_unusable, policy::Tlp::clear, policy::Tlp::clear);
  for (const audit::Recipient& p : r.recipients) {
    if (p.chosen) {
      v.recipients.push_back(p.address);
    } else if (p.why == key_reason) {
      v.key_withheld.push_back(p.address);
    }
  }
  return std::optional<RecordedVerdict>(std::move(v));
}

// The content to forward and what the copy shows of the sender's header
// fields, from the spooled bytes.
struct Opened {
  Wiped content;        // a MIME entity (compose::content_of_*)
  pipeline::Shown shown;  // from the signed place when there is one (pipeline/presentation.h)
};

// Whether `d` was meant for one of the list's keys: its current key or
// any key it replaced (the intake accepted the message, perhaps in the
// last second of a grace period that has ended since).
bool meant_for_list(const openpgp::Decryption& d, const openpgp::ListKeys& keys) {
  if (openpgp::is_meant_for(d, keys.current)) return true;
  for (const openpgp::PreviousListKey& p : keys.previous) {
    if (openpgp::is_meant_for(d, p.facts)) return true;
  }
  return false;
}

// `handed`: the intake's decryption of this message (openpgp::Handoff),
// used instead of a gpg run when not null (its plaintext is moved out);
// `decrypted_by` says who decrypted ("intake", "gpg"; unchanged for a
// message that was not encrypted).
Result<Opened> open_message(openpgp::Context& gpg, const openpgp::ListKeys& list_keys,
                            std::size_t max_plaintext, std::string_view raw,
                            openpgp::Decryption* handed, std::string& decrypted_by) {
  auto parsed = mime::parse_message(raw);
  if (!parsed) return Unexpected(Error::permanent("spooled message does not parse any more"));
  Opened out;
  const mime::Shape& shape = parsed->content.shape;

  if (std::holds_alternative<mime::PgpMimeSigned>(shape) ||
      std::holds_alternative<mime::InlineClearsigned>(shape)) {
    auto c = compose::content_of_message(raw);
    if (!c) return Unexpected(c.error());
    out.content.value = std::move(*c);
    out.shown = pipeline::shown_headers(*parsed, pipeline::signed_entity_of(*parsed, nullptr));
    return out;
  }

  std::string_view ciphertext;
  bool is_mime = false;
  if (const auto* e = std::get_if<mime::PgpMimeEncrypted>(&shape)) {
    ciphertext = e->ciphertext;
    is_mime = true;
  } else if (const auto* i = std::get_if<mime::InlineEncrypted>(&shape)) {
    ciphertext = i->block;
  } else {
    return Unexpected(Error::permanent("spooled message is no longer of an accepted shape (" +
                                       std::string(mime::to_string(parsed->content.kind())) + ")"));
  }
  decrypted_by = handed ? "intake" : "gpg";
  auto d = handed ? Result<openpgp::Decryption>(std::move(*handed))
                  : openpgp::decrypt(gpg, ciphertext, max_plaintext);
  if (!d) return Unexpected(d.error());
  Wiped plaintext{std::move(d->plaintext)};
  if (d->status != openpgp::DecryptStatus::decrypted) {
    return Unexpected(Error::permanent("the list key no longer decrypts the spooled message (" +
                                       escape_for_log(d->detail) + ")"));
  }
  if (!meant_for_list(*d, list_keys)) {
    return Unexpected(Error::permanent("the spooled message is not encrypted to the list key"));
  }
  if (!is_mime) {
    out.content.value = compose::content_of_plaintext(plaintext.value, false);
    out.shown = pipeline::shown_headers(*parsed, std::nullopt);
    return out;
  }
  auto inner = mime::parse_entity(plaintext.value);
  if (!inner) return Unexpected(Error::permanent("the decrypted message does not parse any more"));
  if (inner->kind() == mime::ShapeKind::pgpmime_signed ||
      inner->kind() == mime::ShapeKind::inline_clearsigned) {
    // Sign, then encrypt: the wrapper's own fields are not signed.
    auto c = compose::content_of_message(plaintext.value);
    if (!c) return Unexpected(c.error());
    out.content.value = std::move(*c);
  } else {
    out.content.value = compose::content_of_plaintext(plaintext.value, true);
  }
  out.shown = pipeline::shown_headers(*parsed, pipeline::signed_entity_of(*parsed, &*inner));
  return out;
}

// The recipients' fingerprints, or why each one is withheld now.
struct Recipients {
  std::vector<std::string> emails;
  std::vector<std::string> fingerprints;
  std::vector<Withheld> withheld;
  // Chosen at intake, withheld now (their key stopped being usable since):
  // the audit row is changed to say so.
  std::vector<std::string> left_out_now;
};

// Why a recipient is withheld now.
std::string key_problem(const keyring::PersonKey* k, std::time_t now) {
  return keyring::unusable_reason(k, now, "no longer in the directory");
}

Recipients resolve(const FanoutEnv& env, const RecordedVerdict& v, std::time_t now) {
  Recipients out;
  for (const std::string& email : v.recipients) {
    const keyring::PersonKey* k = env.keys.find(email);
    if (!keyring::usable_at(k, now) || !env.config.directory.find_person(email)) {
      out.withheld.push_back({email, key_problem(k, now)});
      out.left_out_now.push_back(email);
      continue;
    }
    out.emails.push_back(email);
    out.fingerprints.push_back(k->fingerprint);
  }
  for (const std::string& email : v.key_withheld) {
    out.withheld.push_back({email, key_problem(env.keys.find(email), now)});
  }
  return out;
}

// The admins of `list` who can receive a notice, and those who cannot.
Recipients admins_of(const FanoutEnv& env, const directory::MailingList& list, std::time_t now) {
  Recipients out;
  for (const std::string& a : list.admins) {
    const keyring::PersonKey* k = env.keys.find(a);
    if (!keyring::usable_at(k, now)) {
      out.withheld.push_back({a, key_problem(k, now)});
      continue;
    }
    out.emails.push_back(a);
    out.fingerprints.push_back(k->fingerprint);
  }
  return out;
}

// One notice per usable admin of `list`, each signed by the list and
// encrypted to that admin alone (ids ID.1, ID.2, ...). Admins whose key is
// unusable get none: they are added to `unreachable` for the log.
Result<std::vector<queue::NewOutgoing>> notices(openpgp::Context& gpg, const FanoutEnv& env,
                                                const directory::MailingList& list,
                                                const std::string& id, const std::string& subject,
                                                const std::string& body, std::time_t now,
                                                std::vector<Withheld>& unreachable) {
  Recipients admins = admins_of(env, list, now);
  for (auto& w : admins.withheld) unreachable.push_back(std::move(w));
  std::vector<queue::NewOutgoing> out;
  if (admins.emails.empty()) return out;
  auto list_key = list_key_of(gpg, list);
  if (!list_key) return Unexpected(list_key.error());
  const std::string list_fpr = list_key->fingerprint;
  for (std::size_t i = 0; i < admins.emails.size(); ++i) {
    compose::NoticeFacts f;
    f.list = list_facts(list);
    f.to = admins.emails[i];
    f.subject = subject;
    f.body = body;
    f.message_id = new_message_id(env.config, id);
    f.date = now;
    auto sealed = sealed_letter(gpg, list, list_fpr, f, admins.fingerprints[i],
                                id + "." + std::to_string(i + 1), queue::OutgoingKind::notice);
    if (!sealed) return Unexpected(sealed.error());
    out.push_back(std::move(*sealed));
  }
  return out;
}

}  // namespace

Result<Distribution> distribute(openpgp::Context& gpg, const FanoutEnv& env,
                                const queue::QueueId& id, std::time_t now) {
  Distribution out;
  // Taken first: used once or not at all (wiped when it goes).
  const std::shared_ptr<openpgp::Decryption> handed =
      env.handoff ? env.handoff->take(id, now) : nullptr;
  auto spooled = env.spool.message(id);
  if (!spooled) return Unexpected(spooled.error());
  if (spooled->state != queue::MessageState::received) {
    out.kind = Distribution::Kind::skipped;
    out.reason = "not waiting in the spool (" + std::string(queue::to_string(spooled->state)) + ")";
    return out;
  }
  const directory::MailingList* list = nullptr;
  if (auto m = env.config.directory.match_recipients(spooled->recipients)) {
    if (m->role != directory::ListRole::post) {
      out.kind = Distribution::Kind::skipped;
      out.reason = "mail for the -request/-bounces address is kept, not processed yet";
      return out;
    }
    list = m->list;
  }
  if (!list) {
    out.kind = Distribution::Kind::skipped;
    out.reason = "its list is no longer configured";
    return out;
  }
  out.list = list->address;
  auto verdict = recorded_verdict(env.db, id);
  if (!verdict) return Unexpected(verdict.error());
  if (!*verdict) {
    out.kind = Distribution::Kind::skipped;
    out.reason = "no accepted verdict recorded for it";
    return out;
  }
  const RecordedVerdict& v = **verdict;
  out.label = std::string(policy::to_string(v.label));

  Recipients rcpt = resolve(env, v, now);
  out.withheld = rcpt.withheld;
  out.list_message_id = new_message_id(env.config, id);

  std::optional<queue::NewOutgoing> copies;
  if (!rcpt.emails.empty()) {
    Wiped raw;
    {
      auto r = env.spool.read_message(id);
      if (!r) return Unexpected(r.error());
      raw.value = std::move(*r);
    }
    auto list_keys = openpgp::find_list_keys_cached(gpg, list->address);
    if (!list_keys) return Unexpected(Error::temporary(list_keys.error().message));
    if (!*list_keys) return Unexpected(openpgp::list_key_not_found(list->address));
    const openpgp::KeyFacts* list_key = &(*list_keys)->current;
    auto opened = open_message(gpg, **list_keys, env.config.server.max_message_size, raw.value,
                               handed.get(), out.decrypted_by);
    if (!opened) return Unexpected(opened.error());
    // Each copy of a large posting in memory at once is what sets the
    // fan-out's peak (a 25 MB posting: spooled text, plaintext, the inner
    // entity, gpg's output): what is no longer needed goes at once.
    wipe(raw.value);

    compose::CopyFacts f;
    f.list = list_facts(*list);
    if (const directory::Person* p = env.config.directory.find_person(v.signer_email)) {
      f.sender = {p->name, p->organization, p->email, v.signer_fingerprint};
    } else {
      f.sender = {v.signer_email, "", v.signer_email, v.signer_fingerprint};
    }
    f.label = v.label;
    policy::Decision d;
    d.label = v.label;
    f.banner_lines = policy::banner_lines(d);
    for (const std::string& line : v.raise_lines) f.banner_lines.push_back(line);
    f.subject = opened->shown.subject;
    f.message_id = out.list_message_id;
    f.date = now;
    f.in_reply_to = opened->shown.in_reply_to;
    f.references = opened->shown.references;
    if (list->autocrypt) {
      auto key = openpgp::autocrypt_key_cached(gpg, *list_key, list->address);
      if (!key) return Unexpected(Error::temporary("Autocrypt key data: " + key.error().message));
      f.autocrypt_key = std::move(*key);
    }

    Wiped inner{compose::inner_entity(f, opened->content.value)};
    wipe(opened->content.value);
    auto sealed = seal(gpg, *list, list_key->fingerprint, inner.value, rcpt.emails,
                       rcpt.fingerprints, env.keys.handles.get());
    if (!sealed) return Unexpected(sealed.error());
    compose::Frame frame = compose::copy_frame(f);
    sealed->id = id;
    sealed->kind = queue::OutgoingKind::copy;
    sealed->list_message_id = out.list_message_id;
    sealed->source_id = id;
    sealed->head = std::move(frame.head);
    sealed->tail = std::move(frame.tail);
    copies = std::move(*sealed);
    out.copies = copies->copies.size();
    out.encrypted_by = copies->encrypted_by;
  }

  // Members withheld for their keys get no notice to the admins per
  // message: the admins' daily digest lists every key problem (with how
  // many messages each member missed, from the audit log), and the audit
  // row of this message says who was left out and why.
  const std::string key_reason =
      policy::describe(policy::Exclusion::key_unusable, policy::Tlp::clear, policy::Tlp::clear);

  auto written = env.db.transaction([&](store::Transaction& tx) -> store::DbResult<void> {
    if (copies) {
      if (auto r = queue::Outbox::add(tx, *copies, now); !r) return r;
      auto t = pipeline::tables::index_copies(tx, list->address, out.list_message_id, v.label, now);
      if (!t) return t;
      if (auto a = audit::set_list_message_id(tx, v.audit_id, out.list_message_id); !a) return a;
    }
    for (const std::string& email : rcpt.left_out_now) {
      if (auto a = audit::mark_left_out(tx, v.audit_id, email, key_reason); !a) return a;
    }
    return queue::Spool::mark_in_transaction(tx, id, queue::MessageState::done);
  });
  if (!written) return Unexpected(Error(written.error()));
  // The row no longer claims the file; a lost unlink is redone at recovery.
  (void)env.spool.remove_finished_file(id, queue::MessageState::done);
  return out;
}

Result<FailureReport> report_failures(openpgp::Context& gpg, const FanoutEnv& env,
                                      std::time_t now) {
  FailureReport report;
  queue::Outbox outbox(env.db);
  auto failures = outbox.unreported_failures(500);
  if (!failures) return Unexpected(failures.error());
  std::map<std::string, std::vector<const queue::UnreportedFailure*>> by_list;
  for (const auto& f : *failures) by_list[f.list].push_back(&f);

  for (const auto& [address, group] : by_list) {
    std::vector<std::int64_t> ids;
    std::string lines;
    for (const queue::UnreportedFailure* f : group) {
      ids.push_back(f->id);
      // Only members' copies: no notices about notices or request replies.
      if (f->kind != queue::OutgoingKind::copy) continue;
      lines += "  " + f->recipient + ": " + escape_for_log(f->reply) + "\n    message <" +
               f->list_message_id + ">, " + std::to_string(f->attempts) + " attempt(s), queued " +
               iso_date(static_cast<std::time_t>(f->queued_at)) + "\n";
    }
    std::vector<queue::NewOutgoing> made;
    const directory::MailingList* list = env.config.directory.find_list(address);
    if (list && !lines.empty()) {
      std::string body = "Copies from " + list->address +
                         " could not be delivered and will not be retried:\n\n" + lines +
                         "\nThe relay's answer is quoted for each. The message content is not part"
                         "\nof this notice; tlpmailctl audit shows who got the message.\n";
      auto n = notices(gpg, env, *list, "failures." + std::to_string(ids.front()),
                       "[" + list->local_part() + "] delivery failures", body, now,
                       report.admins_without_notice);
      if (!n) return Unexpected(n.error());
      made = std::move(*n);
      report.notices += made.size();
    }
    auto written = env.db.transaction([&](store::Transaction& tx) -> store::DbResult<void> {
      for (const queue::NewOutgoing& n : made) {
        if (auto r = queue::Outbox::add(tx, n, now); !r) return r;
      }
      return queue::Outbox::mark_reported(tx, ids);
    });
    if (!written) return Unexpected(Error(written.error()));
  }
  report.failures = failures->size();
  return report;
}

}  // namespace tlpmail::fanout
