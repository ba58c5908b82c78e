// RefusalKind names and the reason builders. Pure; no I/O.
#include "pipeline/verdict.h"

#include "util/enum_names.h"

namespace tlpmail::pipeline {

constexpr auto kRefusalKindNames = std::to_array<std::string_view>({"none",
                                                                    "malformed",
                                                                    "partly_signed",
                                                                    "partly_encrypted",
                                                                    "unsupported_format",
                                                                    "not_one_from",
                                                                    "not_encrypted_to_list",
                                                                    "bad_encrypted_part",
                                                                    "aead_not_supported",
                                                                    "decrypted_too_large",
                                                                    "no_integrity_protection",
                                                                    "integrity_failed",
                                                                    "nested_encryption",
                                                                    "unsigned_message",
                                                                    "several_signatures",
                                                                    "weak_hash",
                                                                    "bad_signature",
                                                                    "key_not_pinned",
                                                                    "key_revoked",
                                                                    "key_expired",
                                                                    "key_weak",
                                                                    "key_unusable",
                                                                    "from_mismatch",
                                                                    "protected_from_mismatch",
                                                                    "not_addressed_to_list",
                                                                    "not_a_member",
                                                                    "signature_in_future",
                                                                    "signature_too_old",
                                                                    "signature_expired",
                                                                    "replay",
                                                                    "tlp_above_ceiling",
                                                                    "no_recipients"});
static_assert(util::names_cover(kRefusalKindNames, RefusalKind::no_recipients));
std::string_view to_string(RefusalKind k) {
  return util::name_of(kRefusalKindNames, k, "malformed");
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
