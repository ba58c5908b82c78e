// RefusalKind names and the reason builders. Pure; no I/O.
#include "pipeline/verdict.h"

namespace tlpmail::pipeline {

std::string_view to_string(RefusalKind k) {
  switch (k) {
    case RefusalKind::none:
      return "none";
    case RefusalKind::malformed:
      return "malformed";
    case RefusalKind::partly_signed:
      return "partly_signed";
    case RefusalKind::partly_encrypted:
      return "partly_encrypted";
    case RefusalKind::unsupported_format:
      return "unsupported_format";
    case RefusalKind::not_one_from:
      return "not_one_from";
    case RefusalKind::not_encrypted_to_list:
      return "not_encrypted_to_list";
    case RefusalKind::bad_encrypted_part:
      return "bad_encrypted_part";
    case RefusalKind::aead_not_supported:
      return "aead_not_supported";
    case RefusalKind::decrypted_too_large:
      return "decrypted_too_large";
    case RefusalKind::no_integrity_protection:
      return "no_integrity_protection";
    case RefusalKind::integrity_failed:
      return "integrity_failed";
    case RefusalKind::nested_encryption:
      return "nested_encryption";
    case RefusalKind::unsigned_message:
      return "unsigned_message";
    case RefusalKind::several_signatures:
      return "several_signatures";
    case RefusalKind::weak_hash:
      return "weak_hash";
    case RefusalKind::bad_signature:
      return "bad_signature";
    case RefusalKind::key_not_pinned:
      return "key_not_pinned";
    case RefusalKind::key_revoked:
      return "key_revoked";
    case RefusalKind::key_expired:
      return "key_expired";
    case RefusalKind::key_weak:
      return "key_weak";
    case RefusalKind::key_unusable:
      return "key_unusable";
    case RefusalKind::from_mismatch:
      return "from_mismatch";
    case RefusalKind::protected_from_mismatch:
      return "protected_from_mismatch";
    case RefusalKind::not_addressed_to_list:
      return "not_addressed_to_list";
    case RefusalKind::not_a_member:
      return "not_a_member";
    case RefusalKind::signature_in_future:
      return "signature_in_future";
    case RefusalKind::signature_too_old:
      return "signature_too_old";
    case RefusalKind::signature_expired:
      return "signature_expired";
    case RefusalKind::replay:
      return "replay";
    case RefusalKind::tlp_above_ceiling:
      return "tlp_above_ceiling";
    case RefusalKind::no_recipients:
      return "no_recipients";
  }
  return "malformed";
}

std::string weak_hash_reason(std::string_view hash_algorithm) {
  return "signature uses a weak hash algorithm (" + std::string(hash_algorithm) + ")";
}

std::string malformed_reason(std::string_view detail) {
  return "message is malformed (" + std::string(detail) + ")";
}

std::string unusable_key_reason(std::string_view status_word) {
  return "signing key is not usable (" + std::string(status_word) + ")";
}

std::string decrypted_too_large_reason(std::size_t limit) {
  return "decrypted content is too large (more than " + std::to_string(limit) + " bytes)";
}

}  // namespace tlpmail::pipeline
