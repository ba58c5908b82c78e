// Rules on the structure of the message and of the content that was
// verified: MIME that cannot be read unambiguously, signed content next to
// unsigned content, ciphertext below the outermost layer, no OpenPGP at
// all. Reads lib/mime's classification only; no gpg.
#include "pipeline/rules.h"

namespace tlpmail::pipeline::rules {

namespace {

// What the message and the verified content are both refused for first:
// MIME that cannot be read unambiguously, and a signature that covers only
// a part.
Outcome check_readable_and_wholly_signed(const mime::Entity& e) {
  switch (e.kind()) {
    case mime::ShapeKind::malformed:
      return Refusal{RefusalKind::malformed,
                     malformed_reason(std::get<mime::Malformed>(e.shape).reason)};
    case mime::ShapeKind::partly_signed:
      return Refusal{RefusalKind::partly_signed, std::string(kReasonPartlySigned)};
    default:
      return std::nullopt;
  }
}

}  // namespace

Outcome parse_and_check_structure(std::string_view raw, Evidence& ev) {
  auto parsed = mime::parse_message(raw);
  if (!parsed) return Refusal{RefusalKind::malformed, malformed_reason(parsed.error().message)};
  ev.message = std::move(parsed).value();
  const mime::Entity& root = ev.message.content;
  if (Outcome o = check_readable_and_wholly_signed(root)) return o;
  switch (root.kind()) {
    case mime::ShapeKind::partly_encrypted:
      return Refusal{RefusalKind::partly_encrypted, std::string(kReasonPartlyEncrypted)};
    case mime::ShapeKind::plain:
      // Ciphertext somewhere inside an otherwise plain message is still
      // unsigned: that is what the sender has to fix first.
      return Refusal{RefusalKind::unsigned_message, std::string(kReasonUnsigned)};
    default:
      break;
  }
  if (root.has_nested_ciphertext()) {
    return Refusal{RefusalKind::nested_encryption, std::string(kReasonNested)};
  }
  return std::nullopt;
}

Outcome check_content_structure(const Evidence& ev) {
  const mime::Entity& e = ev.content;
  if (Outcome o = check_readable_and_wholly_signed(e)) return o;
  switch (e.kind()) {
    // Inside content that was already decrypted or verified, any ciphertext
    // is a second layer, which is never decrypted.
    case mime::ShapeKind::partly_encrypted:
    case mime::ShapeKind::pgpmime_encrypted:
    case mime::ShapeKind::inline_encrypted:
      return Refusal{RefusalKind::nested_encryption, std::string(kReasonNested)};
    // A signature inside the verified content (signed twice) is not what
    // the outer signature vouches for.
    case mime::ShapeKind::pgpmime_signed:
    case mime::ShapeKind::inline_clearsigned:
      return Refusal{RefusalKind::several_signatures, std::string(kReasonSeveralSignatures)};
    case mime::ShapeKind::malformed:      // refused above
    case mime::ShapeKind::partly_signed:  // refused above
    case mime::ShapeKind::plain:
      break;
  }
  if (e.has_nested_ciphertext()) {
    return Refusal{RefusalKind::nested_encryption, std::string(kReasonNested)};
  }
  return std::nullopt;
}

}  // namespace tlpmail::pipeline::rules
