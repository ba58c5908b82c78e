// The cryptographic layer: decrypts the outermost layer (only when the
// addressed list's key is the one that decrypts it) and verifies the
// signature, following docs/mime.md "How the pipeline uses it". Fills
// Evidence::content with the entity whose bytes were verified and
// Evidence::signatures with every signature found. Judging the signatures
// is rule_signature.cc's job. gpg's plaintext is never kept beyond the
// parsed entity of the message being verified.
#include "openpgp/decrypt.h"
#include "openpgp/handoff.h"
#include "openpgp/list_key.h"
#include "pipeline/rules.h"
#include "util/text.h"

namespace tlpmail::pipeline::rules {
namespace {

Refusal refuse(RefusalKind kind, std::string_view reason) {
  return Refusal{kind, std::string(reason)};
}

// Maps what verification says about the input (before individual
// signatures) to a refusal; nullopt when gpg checked signatures.
Outcome verification_outcome(const openpgp::Verification& v) {
  switch (v.outcome) {
    case openpgp::VerifyOutcome::checked:
      return std::nullopt;
    case openpgp::VerifyOutcome::no_signature:
      return refuse(RefusalKind::unsigned_message, kReasonUnsigned);
    case openpgp::VerifyOutcome::text_outside_signature:
      return refuse(RefusalKind::partly_signed, kReasonPartlySigned);
    case openpgp::VerifyOutcome::malformed:
      return refuse(RefusalKind::bad_signature, kReasonBadSignature);
  }
  return refuse(RefusalKind::bad_signature, kReasonBadSignature);
}

// PGP/MIME multipart/signed: verify the exact signed bytes, then read the
// facts from those bytes.
Result<Outcome> open_pgpmime_signed(openpgp::Context& gpg, const mime::PgpMimeSigned& s,
                                    Evidence& ev) {
  auto v = openpgp::verify_detached(gpg, s.signed_bytes, s.signature);
  if (!v) return Unexpected(v.error());
  if (auto r = verification_outcome(*v)) return r;
  ev.signatures = std::move(v->signatures);
  auto e = mime::parse_entity(s.signed_bytes);
  if (!e) return Outcome(refuse(RefusalKind::malformed, malformed_reason(e.error().message)));
  ev.content = std::move(e).value();
  ev.content_bytes = s.signed_bytes;
  ev.content_is_mime = true;
  return Outcome{};
}

// Inline cleartext signature: verify the block; the facts come from the
// text gpg says was signed.
Result<Outcome> open_clearsigned(openpgp::Context& gpg, const mime::InlineClearsigned& s,
                                 Evidence& ev) {
  auto v = openpgp::verify_clearsigned(gpg, s.block);
  if (!v) return Unexpected(v.error());
  if (auto r = verification_outcome(*v)) return r;
  ev.signatures = std::move(v->signatures);
  ev.content = mime::parse_text(v->plaintext);
  ev.content_bytes = std::move(v->plaintext);
  ev.content_is_mime = false;
  return Outcome{};
}

Outcome decryption_outcome(const openpgp::Decryption& d, bool is_mime,
                           std::size_t max_plaintext) {
  switch (d.status) {
    case openpgp::DecryptStatus::decrypted:
      return std::nullopt;
    case openpgp::DecryptStatus::not_encrypted:
      // Inline, an armored PGP MESSAGE that holds no encryption is a
      // signed-only message; in a PGP/MIME encrypted part it is garbage.
      if (is_mime) return refuse(RefusalKind::bad_encrypted_part, kReasonBadEncryptedPart);
      return refuse(RefusalKind::unsupported_format, kReasonSignedOnly);
    case openpgp::DecryptStatus::aead_unsupported:
      return refuse(RefusalKind::aead_not_supported, kReasonAead);
    case openpgp::DecryptStatus::too_large:
      return Refusal{RefusalKind::decrypted_too_large, decrypted_too_large_reason(max_plaintext)};
    case openpgp::DecryptStatus::no_secret_key:
      return refuse(RefusalKind::not_encrypted_to_list, kReasonNotToList);
    case openpgp::DecryptStatus::no_integrity_protection:
      return refuse(RefusalKind::no_integrity_protection, kReasonNoMdc);
    case openpgp::DecryptStatus::integrity_failed:
      return refuse(RefusalKind::integrity_failed, kReasonBadMdc);
    case openpgp::DecryptStatus::nested_encryption:
      return refuse(RefusalKind::nested_encryption, kReasonNested);
    case openpgp::DecryptStatus::text_outside_message:
      return refuse(RefusalKind::partly_encrypted, kReasonPartlyEncrypted);
    case openpgp::DecryptStatus::malformed:
      return Refusal{RefusalKind::malformed, malformed_reason("damaged OpenPGP data")};
  }
  return Refusal{RefusalKind::malformed, malformed_reason("damaged OpenPGP data")};
}

// Whether a decrypted message was meant for the list: for its current key,
// or for a key it replaced whose grace period has not ended. Mail for a
// replaced key past its grace is refused with a reason that names the
// current key, so that the sender knows which key to take.
Outcome check_meant_for_list(const openpgp::Decryption& d, const directory::MailingList& list,
                             const openpgp::ListKeys& keys) {
  if (openpgp::is_meant_for(d, keys.current)) return std::nullopt;
  for (const openpgp::PreviousListKey& p : keys.previous) {
    if (!openpgp::is_meant_for(d, p.facts)) continue;
    if (p.in_grace) return std::nullopt;
    return Refusal{RefusalKind::not_encrypted_to_list,
                   "message is encrypted to the list's old key " + p.facts.fingerprint +
                       ", replaced by " + keys.current.fingerprint +
                       "; encrypt to the new key (send \"key\" to " + list.request_address() +
                       ")"};
  }
  return refuse(RefusalKind::not_encrypted_to_list, kReasonNotToList);
}

// Decrypts `ciphertext`; then either the plaintext was signed in the same
// pass (its signatures come with the decryption), or it holds a signed
// entity (sign, then encrypt) that is verified here. Anything else inside
// is judged by check_content_structure.
Result<Outcome> open_encrypted(openpgp::Context& gpg, const directory::MailingList& list,
                               std::string_view ciphertext, bool is_mime,
                               std::size_t max_plaintext, Evidence& ev) {
  auto d = openpgp::decrypt(gpg, ciphertext, max_plaintext);
  if (!d) return Unexpected(d.error());
  if (auto r = decryption_outcome(*d, is_mime, max_plaintext)) return r;
  ev.was_encrypted = true;

  // The home holds every list's key: the message must be meant for this
  // list's key (decrypted by it, or naming it among its recipients: a
  // cross-post decrypted by the other list's key); a message to another
  // list's key alone sent here is refused. After a rotation, a key the
  // list replaced counts while it is in its grace period; after that the
  // refusal names the key to use instead (docs/keys.md, "Rotation").
  auto list_keys = openpgp::find_list_keys_cached(gpg, list.address);
  if (!list_keys) return Unexpected(Error::temporary(list_keys.error().message));
  if (!*list_keys) {
    return Unexpected(openpgp::list_key_not_found(list.address));
  }
  if (auto r = check_meant_for_list(*d, list, **list_keys)) return r;
  ev.encrypted_to = d->recipients;
  // A copy for the fan-out (openpgp::Handoff), not of a large posting.
  if (d->plaintext.size() <= openpgp::Handoff::kLargest) {
    ev.decryption = openpgp::shared_decryption(*d);
  }
  std::vector<const openpgp::KeyFacts*> accepted{&(*list_keys)->current};
  for (const openpgp::PreviousListKey& p : (*list_keys)->previous) {
    if (p.in_grace) accepted.push_back(&p.facts);
  }
  for (const openpgp::KeyFacts* key : accepted) {
    for (const openpgp::SubkeyFacts& sub : key->subkeys) {
      if (sub.can_encrypt && sub.fingerprint.size() >= 16) {
        ev.list_key_ids.push_back(sub.fingerprint.substr(sub.fingerprint.size() - 16));
      }
    }
  }

  mime::Entity inner;
  if (is_mime) {
    auto e = mime::parse_entity(d->plaintext);
    if (!e) return Outcome(refuse(RefusalKind::malformed, malformed_reason(e.error().message)));
    inner = std::move(e).value();
  } else {
    inner = mime::parse_text(d->plaintext);
  }

  const bool signed_inside = inner.kind() == mime::ShapeKind::pgpmime_signed ||
                             inner.kind() == mime::ShapeKind::inline_clearsigned;
  if (!signed_inside) {
    ev.signatures = std::move(d->signatures);
    ev.content = std::move(inner);
    ev.content_bytes = std::move(d->plaintext);
    ev.content_is_mime = is_mime;
    return Outcome{};
  }
  if (!d->signatures.empty()) {
    // Signed in the encryption pass and again inside.
    return Outcome(refuse(RefusalKind::several_signatures, kReasonSeveralSignatures));
  }
  // Sign, then encrypt: the wrapper's own header fields are not signed.
  if (inner.protected_subject) ev.wrapper_subjects.push_back(*inner.protected_subject);
  if (const auto* s = std::get_if<mime::PgpMimeSigned>(&inner.shape)) {
    return open_pgpmime_signed(gpg, *s, ev);
  }
  return open_clearsigned(gpg, std::get<mime::InlineClearsigned>(inner.shape), ev);
}

Result<Outcome> open_outer(openpgp::Context& gpg, const directory::MailingList& list,
                           std::size_t max_plaintext, Evidence& ev) {
  const mime::Shape& shape = ev.message.content.shape;
  if (const auto* s = std::get_if<mime::PgpMimeSigned>(&shape)) {
    return open_pgpmime_signed(gpg, *s, ev);
  }
  if (const auto* s = std::get_if<mime::InlineClearsigned>(&shape)) {
    return open_clearsigned(gpg, *s, ev);
  }
  if (const auto* s = std::get_if<mime::PgpMimeEncrypted>(&shape)) {
    return open_encrypted(gpg, list, s->ciphertext, true, max_plaintext, ev);
  }
  if (const auto* s = std::get_if<mime::InlineEncrypted>(&shape)) {
    return open_encrypted(gpg, list, s->block, false, max_plaintext, ev);
  }
  // parse_and_check_structure refused every other shape.
  return Outcome(refuse(RefusalKind::unsigned_message, kReasonUnsigned));
}

}  // namespace

Result<Outcome> unwrap(openpgp::Context& gpg, const directory::MailingList& list,
                       std::size_t max_plaintext, Evidence& ev) {
  auto opened = open_outer(gpg, list, max_plaintext, ev);
  if (opened && !*opened) ev.protected_headers = mime::read_protected_headers(ev.content);
  return opened;
}

}  // namespace tlpmail::pipeline::rules
