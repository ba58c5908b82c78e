// The rules of the verification pipeline, in the order Verifier::verify
// runs them, and the Evidence they share. Each rule looks at one thing and
// returns std::nullopt (pass) or a Refusal named after what the sender did.
// Internal to lib/pipeline: include it from lib/pipeline/*.cc and tests only.
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "directory/directory.h"
#include "keyring/keyring.h"
#include "mime/mime.h"
#include "openpgp/context.h"
#include "openpgp/decrypt.h"
#include "openpgp/verify.h"
#include "pipeline/verdict.h"
#include "pipeline/verifier.h"
#include "store/database.h"
#include "util/result.h"

namespace tlpmail::pipeline::rules {

using Outcome = std::optional<Refusal>;

// What the rules learn about one message, filled in as they run.
struct Evidence {
  mime::Message message;  // the received message (rule_structure)
  mime::Mailbox from;     // its single From mailbox (rule_from)
  mime::Entity content;   // the entity the facts come from: exactly what was
                          // verified, after decryption (unwrap)
  mime::ProtectedHeaders protected_headers;  // of `content` (unwrap)
  // The bytes `content` was parsed from (a MIME entity, or the text of an
  // inline message): kept for requests, whose commands and attached keys
  // come from exactly what was verified. Plaintext: never logged or stored.
  std::string content_bytes;
  bool content_is_mime = false;
  // Subjects of unsigned wrappers inside the encryption (the protected
  // headers of a multipart/signed wrapper: sign, then encrypt). Like the
  // outer Subject they can raise a label, never lower it.
  std::vector<std::string> wrapper_subjects;
  bool was_encrypted = false;
  // Encrypted messages: the key ids of the ciphertext's session key packets
  // and of this list key's encryption subkeys (cross-posts, rule_replay).
  std::vector<std::string> encrypted_to;
  std::vector<std::string> list_key_ids;
  // Encrypted messages meant for this list: the decryption (a copy, wiped
  // when let go), for the fan-out of an accepted posting (Verdict).
  std::shared_ptr<openpgp::Decryption> decryption;
  std::vector<openpgp::SignatureFacts> signatures;     // every signature found (unwrap)
  const openpgp::SignatureFacts* signature = nullptr;  // the one good signature
  const keyring::PersonKey* key = nullptr;             // its pinned key (rule_signer)
  const directory::Person* person = nullptr;
};

// rule_structure.cc: parse the message; refuse broken structure, partly
// signed/encrypted messages and plain (unsigned) ones.
Outcome parse_and_check_structure(std::string_view raw, Evidence& ev);
// rule_structure.cc: the same for the content entity after unwrap: every
// ciphertext there is nested; malformed or partly signed content refused.
Outcome check_content_structure(const Evidence& ev);

// rule_from.cc: exactly one From header holding exactly one address.
Outcome check_single_from(Evidence& ev);

// unwrap.cc: decrypt the outermost layer (only for `list`'s key; gpg's
// output limited to `max_plaintext` bytes) and/or verify; fills
// ev.content, ev.protected_headers, ev.wrapper_subjects and ev.signatures.
// Errors: local faults.
Result<Outcome> unwrap(openpgp::Context& gpg, const directory::MailingList& list,
                       std::size_t max_plaintext, Evidence& ev);

// rule_signature.cc: exactly one signature, good, with a strong hash.
// Signatures dated in the future count as such, whatever gpg made of them.
Outcome check_signature(Evidence& ev, std::time_t now, const Options& options);

// rule_signer.cc: the signing key's primary fingerprint is pinned for a
// person, and the key (and the signing subkey) is usable at `now`.
Outcome check_signing_key(Evidence& ev, const keyring::KeyReport& keys,
                          const directory::Directory& dir, std::time_t now);

// rule_sender.cc: From (and the signed From, when present) equals the
// signer's address; the signed To/Cc, when present, name the list; the
// signer is a member.
Outcome check_from_matches_signer(const Evidence& ev);
Outcome check_protected_from(const Evidence& ev);
// `address`: the list's posting address, or its -request address for requests.
Outcome check_addressed_to(const Evidence& ev, std::string_view address);
Outcome check_membership(const Evidence& ev, const directory::MailingList& list);

// rule_age.cc: the signature is neither from the future, nor too old, nor
// expired.
Outcome check_signature_age(const openpgp::SignatureFacts& sig, std::time_t now,
                            const Options& options);

// rule_replay.cc: the signature's replay digest was never recorded (or
// this is a cross-post: tables::may_cross_post). Errors: database faults.
Result<Outcome> check_replay(const Evidence& ev, const directory::MailingList& list,
                             store::Database& db);
// rule_replay.cc: the queue id when this message is an exact retry (its
// digest recorded as accepted for `list` with the same Message-ID), ""
// otherwise. Errors: database faults. REQUIRES: check_signature passed.
Result<std::string> find_exact_retry(const Evidence& ev, const directory::MailingList& list,
                                     store::Database& db);

// rule_label.cc: TLP label, thread inheritance, ceiling, recipients.
// Fills verdict.label, decision, parent_message_id on success.
// Errors: database faults (thread index lookup).
Result<Outcome> decide_label(const Evidence& ev, const directory::MailingList& list,
                             const directory::Directory& dir, const keyring::KeyReport& keys,
                             store::Database& db, std::time_t now, Verdict& verdict);

}  // namespace tlpmail::pipeline::rules
