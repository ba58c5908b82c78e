// The outcome of verifying one received message for one list: a typed
// Verdict (accepted, or refused with a RefusalKind named after what the
// sender did and a reason safe to show the sender). Which reply a verdict
// gets is the stage's business (SMTP: lib/intake/replies.h). Pure values
// and functions; no I/O. Rules and texts: docs/pipeline.md.
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/decision.h"
#include "policy/tlp.h"
#include "util/result.h"

namespace tlpmail::openpgp {
struct Decryption;
}

namespace tlpmail::pipeline {

// Why a message was refused, in the order the rules run (docs/pipeline.md).
enum class RefusalKind {
  none,                     // accepted
  malformed,                // broken or ambiguous MIME/OpenPGP structure
  partly_signed,            // signed content wrapped in or next to unsigned content
  partly_encrypted,         // unsigned message with ciphertext beside other content
  unsupported_format,       // a signed-only OpenPGP message (neither PGP/MIME nor cleartext)
  not_one_from,             // not exactly one From header with exactly one address
  not_encrypted_to_list,    // ciphertext this list's key cannot (or did not) decrypt
  bad_encrypted_part,       // a PGP/MIME encrypted part that holds no encrypted OpenPGP message
  aead_not_supported,       // AEAD-encrypted (OCB/EAX): not decrypted
  decrypted_too_large,      // the decrypted content exceeds max_message_size
  no_integrity_protection,  // ciphertext without MDC/AEAD
  integrity_failed,         // MDC mismatch / damaged ciphertext
  nested_encryption,        // ciphertext inside the (decrypted or signed) content
  unsigned_message,         // no signature at all
  several_signatures,       // more than one signature
  weak_hash,                // MD5 or SHA-1 signature
  bad_signature,            // the signature does not verify
  key_not_pinned,           // the signing key is pinned for nobody (or unknown)
  key_revoked,
  key_expired,
  key_weak,
  key_unusable,   // pinned key unusable for another reason (invalid, no subkey)
  from_mismatch,  // From is not the signing key's person
  protected_from_mismatch,  // the signed (protected) From is not the signing key's person
  not_addressed_to_list,    // the signed (protected) To/Cc do not name this list
  not_a_member,   // the signer is not a member of this list
  signature_in_future,
  signature_too_old,
  signature_expired,
  replay,             // this signature was seen before
  tlp_above_ceiling,  // policy::RefusalKind::above_ceiling / default_above_ceiling
  no_recipients,      // policy::RefusalKind::no_recipients
};

// "none", "malformed", "partly_signed", ... (the enumerator's name), for
// key=value logs and the audit log's `refusal` column.
std::string_view to_string(RefusalKind k);

// The fixed reason texts (the contract with tests/fixtures/make_corpus.py's
// R_* constants). Kinds whose reason carries a detail (malformed,
// weak_hash, key_unusable, TLP refusals) have their own builders below.
inline constexpr std::string_view kReasonUnsigned = "message is not signed";
inline constexpr std::string_view kReasonNotPinned = "signing key is not pinned for any member";
inline constexpr std::string_view kReasonFromMismatch = "From does not match the signing key";
inline constexpr std::string_view kReasonOneFrom = "message must have exactly one From address";
inline constexpr std::string_view kReasonPartlySigned = "message is only partly signed";
inline constexpr std::string_view kReasonPartlyEncrypted = "message is only partly encrypted";
inline constexpr std::string_view kReasonBadSignature = "signature is not valid";
inline constexpr std::string_view kReasonExpired = "signing key is expired";
inline constexpr std::string_view kReasonRevoked = "signing key is revoked";
inline constexpr std::string_view kReasonWeakKey = "signing key is too weak";
inline constexpr std::string_view kReasonSeveralSignatures = "message has more than one signature";
inline constexpr std::string_view kReasonNoMdc = "encrypted message has no integrity protection";
inline constexpr std::string_view kReasonBadMdc = "encrypted message failed its integrity check";
inline constexpr std::string_view kReasonNested = "message contains nested encrypted content";
inline constexpr std::string_view kReasonReplay = "signature was already used (replay)";
inline constexpr std::string_view kReasonTooOld = "signature is too old";
inline constexpr std::string_view kReasonFuture = "signature is dated in the future";
inline constexpr std::string_view kReasonSignatureExpired = "signature is expired";
inline constexpr std::string_view kReasonNotMember = "signer is not a member of this list";
inline constexpr std::string_view kReasonNotToList = "message is not encrypted to this list's key";
inline constexpr std::string_view kReasonSignedOnly =
    "signed-only OpenPGP messages are not supported; use PGP/MIME or a cleartext signature";
inline constexpr std::string_view kReasonBadEncryptedPart =
    "the encrypted part is not a valid encrypted OpenPGP message";
inline constexpr std::string_view kReasonAead =
    "AEAD-encrypted messages (OCB/EAX) are not supported yet; please encrypt without AEAD";
inline constexpr std::string_view kReasonProtectedFrom =
    "the signed From header does not match the signing key";
inline constexpr std::string_view kReasonNotAddressed =
    "the signed To/Cc headers do not name this list";

// "signature uses a weak hash algorithm (SHA1)".
std::string weak_hash_reason(std::string_view hash_algorithm);
// "message is malformed (DETAIL)"; DETAIL must be a fixed text (lib/mime's
// reasons are).
std::string malformed_reason(std::string_view detail);
// "signing key is not usable (no encryption key)".
std::string unusable_key_reason(std::string_view status_word);
// "decrypted content is too large (more than 26214400 bytes)".
std::string decrypted_too_large_reason(std::size_t limit);

// One refusal as a rule returns it.
struct Refusal {
  RefusalKind kind = RefusalKind::malformed;
  std::string reason;  // exact, safe to show the sender
};

// The signer as far as it is known: fingerprint once a good signature is
// seen (the primary key's), email once the key is pinned for a person.
struct Signer {
  std::string email;        // the directory's address; "" when pinned for nobody
  std::string fingerprint;  // primary fingerprint, 40 upper-case hex digits
};

struct Verdict {
  bool accepted = false;
  RefusalKind refusal = RefusalKind::none;  // none exactly when accepted or a duplicate
  std::string reason;                       // refusal text; "" when accepted
  std::optional<Signer> signer;
  std::optional<policy::Tlp> label;          // accepted: the label every copy carries
  std::optional<policy::Decision> decision;  // accepted: recipients, left out, raises
  std::string message_id;                    // the received Message-ID (without <>), "" when none
  std::string replay_digest;                 // of the one good signature; "" before that is known
  // Encrypted messages: the ciphertext's session key packets' key ids and
  // the list key's encryption subkey ids, recorded with the digest so that
  // a cross-post is accepted once by each list it was encrypted to.
  std::vector<std::string> encrypted_to;
  std::vector<std::string> list_key_ids;
  std::string parent_message_id;             // the thread message whose label was inherited, if any
  std::time_t signed_at = 0;                 // signature creation time, 0 when unknown
  // An exact retry: this signature was accepted for the same list with the
  // same Message-ID and spooled under this queue id (its 250 was lost).
  // Then accepted is false, refusal none, and the caller must not spool a
  // second copy. "" otherwise.
  std::string duplicate_of;
  // Accepted encrypted postings: what the intake decrypted, so that the
  // fan-out need not decrypt the spooled message again (openpgp::Handoff).
  // Plaintext: wiped when the last owner lets it go; never stored or logged.
  std::shared_ptr<openpgp::Decryption> decryption;

  bool is_duplicate() const { return !duplicate_of.empty(); }
};

}  // namespace tlpmail::pipeline
