// Verifier::verify runs the rules of rules.h in their fixed order and
// turns the first refusal into a Verdict. The order is the precedence
// between refusals (docs/pipeline.md, "Rules in order").
#include "pipeline/verifier.h"

#include "pipeline/rules.h"

namespace tlpmail::pipeline {
namespace {

Verdict refused(Verdict v, Refusal r) {
  v.accepted = false;
  v.refusal = r.kind;
  v.reason = std::move(r.reason);
  v.label.reset();
  v.decision.reset();
  return v;
}

}  // namespace

Verifier::Verifier(const config::Config& config, const keyring::KeyReport& keys,
                   store::Database& db, Options options)
    : config_(config), keys_(keys), db_(db), options_(options) {}

Result<Verdict> Verifier::verify(openpgp::Context& gpg, const directory::MailingList& list,
                                 std::string_view raw, std::time_t now) const {
  return run(gpg, list, raw, now, Purpose::post, nullptr);
}

Result<Verdict> Verifier::verify_request(openpgp::Context& gpg,
                                         const directory::MailingList& list,
                                         std::string_view raw, std::time_t now,
                                         RequestContent* content) const {
  return run(gpg, list, raw, now, Purpose::request, content);
}

Result<Verdict> Verifier::run(openpgp::Context& gpg, const directory::MailingList& list,
                              std::string_view raw, std::time_t now, Purpose purpose,
                              RequestContent* content) const {
  using rules::Outcome;
  Verdict v;
  rules::Evidence ev;

  // 1. Structure of the message as received.
  const rules::Outcome structure = rules::parse_and_check_structure(raw, ev);
  v.message_id = ev.message.message_id;  // "" when the message could not be parsed
  if (structure) return refused(std::move(v), *structure);
  // 2. Exactly one From address.
  if (auto r = rules::check_single_from(ev)) return refused(std::move(v), *r);
  // 3. Decrypt the outermost layer with this list's key, verify.
  auto opened = rules::unwrap(gpg, list, config_.server.max_message_size, ev);
  if (!opened) return Unexpected(opened.error());
  if (*opened) return refused(std::move(v), **opened);
  // 4. Structure of what was verified: nested ciphertext, partly signed.
  if (auto r = rules::check_content_structure(ev)) return refused(std::move(v), *r);
  // 5. One good signature with a strong hash.
  if (auto r = rules::check_signature(ev, now, options_)) return refused(std::move(v), *r);
  v.signer = Signer{"", ev.signature->primary_fingerprint};
  v.replay_digest = ev.signature->replay_digest;
  v.signed_at = ev.signature->created;
  v.encrypted_to = ev.encrypted_to;
  v.list_key_ids = ev.list_key_ids;
  // 5a. An exact retry of a message accepted and spooled before (its 250
  // was lost): "already queued", whatever the later rules would say now.
  if (purpose == Purpose::post) {
    auto retry = rules::find_exact_retry(ev, list, db_);
    if (!retry) return Unexpected(retry.error());
    if (!retry->empty()) {
      v.duplicate_of = std::move(*retry);
      return v;
    }
  }
  // 6. The key is pinned for a person and usable now.
  if (auto r = rules::check_signing_key(ev, keys_, config_.directory, now)) {
    return refused(std::move(v), *r);
  }
  v.signer->email = ev.person->email;
  // 7. From (and the signed From) is that person; 8. the signed To/Cc
  // name this list.
  if (auto r = rules::check_from_matches_signer(ev)) return refused(std::move(v), *r);
  if (auto r = rules::check_protected_from(ev)) return refused(std::move(v), *r);
  const std::string addressed = purpose == Purpose::post ? list.address : list.request_address();
  if (auto r = rules::check_addressed_to(ev, addressed)) return refused(std::move(v), *r);
  // 9. Signature time; 10. replay. Both before membership: whoever holds
  // a member's old signed message learns nothing about who belongs to
  // which list (the answer is "too old" or "replay" either way).
  if (auto r = rules::check_signature_age(*ev.signature, now, options_)) {
    return refused(std::move(v), *r);
  }
  auto replay = rules::check_replay(ev, list, db_);
  if (!replay) return Unexpected(replay.error());
  if (*replay) return refused(std::move(v), **replay);
  if (purpose == Purpose::request) {
    v.accepted = true;
    v.refusal = RefusalKind::none;
    if (content) {
      content->entity = std::move(ev.content_bytes);
      content->is_mime = ev.content_is_mime;
      content->body_text = ev.content.body_head;
      content->message_id = ev.message.message_id;
      content->in_reply_to = ev.message.in_reply_to;
      content->references = ev.message.references;
      const mime::ProtectedHeaders& p = ev.protected_headers;
      content->in_reply_to.insert(content->in_reply_to.end(), p.in_reply_to.begin(),
                                  p.in_reply_to.end());
      content->references.insert(content->references.end(), p.references.begin(),
                                 p.references.end());
    }
    return v;
  }
  // 11. The signer is a member of the list.
  if (auto r = rules::check_membership(ev, list)) return refused(std::move(v), *r);
  // 12. TLP label, thread, ceiling, recipients.
  auto label = rules::decide_label(ev, list, config_.directory, keys_, db_, now, v);
  if (!label) return Unexpected(label.error());
  if (*label) return refused(std::move(v), **label);

  v.accepted = true;
  v.refusal = RefusalKind::none;
  v.decryption = std::move(ev.decryption);
  return v;
}

}  // namespace tlpmail::pipeline
