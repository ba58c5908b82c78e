// Rule on the signing key: its primary fingerprint (a signing subkey maps
// to its primary) must be pinned for a person of the directory, and the
// key must be usable at `now`: not revoked, not expired, not weak, and the
// subkey that signed neither revoked, expired nor weak. The key's user IDs
// never count. REQUIRES: check_signature passed (ev.signature is set).
#include "pipeline/rules.h"
#include "util/text.h"

namespace tlpmail::pipeline::rules {

Outcome check_signing_key(Evidence& ev, const keyring::KeyReport& keys,
                          const directory::Directory& dir, std::time_t now) {
  const openpgp::SignatureFacts& s = *ev.signature;
  const keyring::PersonKey* key = keys.find_by_key(s.primary_fingerprint);
  // Only a key whose *primary* fingerprint is the pinned one counts.
  if (!key || !key->facts || !iequals(key->fingerprint, s.primary_fingerprint)) {
    return Refusal{RefusalKind::key_not_pinned, std::string(kReasonNotPinned)};
  }
  const directory::Person* person = dir.find_person(key->email);
  if (!person || !iequals(person->fingerprint, key->fingerprint)) {
    return Refusal{RefusalKind::key_not_pinned, std::string(kReasonNotPinned)};
  }
  ev.key = key;
  ev.person = person;

  // Judged at `now`, not at the time the keyring was loaded; gpg's own
  // flags (real clock) can only add a refusal.
  const keyring::KeyAssessment a = keyring::assess_key(*key->facts, now);
  if (a.status == keyring::KeyStatus::revoked || s.key_revoked) {
    return Refusal{RefusalKind::key_revoked, std::string(kReasonRevoked)};
  }
  if (a.status == keyring::KeyStatus::expired || s.key_expired) {
    return Refusal{RefusalKind::key_expired, std::string(kReasonExpired)};
  }
  if (a.status == keyring::KeyStatus::weak) {
    return Refusal{RefusalKind::key_weak, std::string(kReasonWeakKey)};
  }
  if (const openpgp::SubkeyFacts* sub = key->facts->find_subkey(s.signing_fingerprint)) {
    if (sub->revoked) return Refusal{RefusalKind::key_revoked, std::string(kReasonRevoked)};
    if (sub->expires != 0 && sub->expires <= now) {
      return Refusal{RefusalKind::key_expired, std::string(kReasonExpired)};
    }
    if (sub->is_weak()) return Refusal{RefusalKind::key_weak, std::string(kReasonWeakKey)};
  }
  if (!a.usable) return Refusal{RefusalKind::key_unusable, unusable_key_reason(a.word)};
  return std::nullopt;
}

}  // namespace tlpmail::pipeline::rules
