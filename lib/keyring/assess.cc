// assess_key() and the status words: what a key is worth at a given time.
// Pure functions over openpgp::KeyFacts; no GPGME, no I/O.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <optional>

#include "keyring/keyring.h"
#include "util/enum_names.h"
#include "util/text.h"

namespace tlpmail::keyring {

namespace {

constexpr std::time_t kDay = 86400;

// The latest expiry among the live subkeys with a capability (0: one never
// expires), or nullopt when no live subkey has it.
std::optional<std::time_t> last_expiry(const openpgp::KeyFacts& k, std::time_t now,
                                       bool openpgp::SubkeyFacts::*capability) {
  std::optional<std::time_t> out;
  for (const auto& s : k.subkeys) {
    if (!(s.*capability) || !s.is_live_at(now)) continue;
    if (s.expires == 0) return std::time_t{0};
    out = std::max(out.value_or(0), s.expires);
  }
  return out;
}

// Earliest of two expiries where 0 means never.
std::time_t earliest(std::time_t a, std::time_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

KeyAssessment unusable(KeyStatus status, std::string detail) {
  KeyAssessment a;
  a.status = status;
  a.word = std::string(to_string(status));
  a.usable = false;
  a.detail = std::move(detail);
  return a;
}

}  // namespace

constexpr auto kKeyStatusNames =
    std::to_array<std::string_view>({"ok", "expires soon", "expired", "revoked", "invalid", "weak",
                                     "no encryption key", "no signing key", "missing"});
static_assert(util::names_cover(kKeyStatusNames, KeyStatus::missing));
std::string_view to_string(KeyStatus s) { return util::name_of(kKeyStatusNames, s, "missing"); }

KeyAssessment assess_key(const openpgp::KeyFacts& k, std::time_t now) {
  if (k.subkeys.empty() || k.invalid || k.disabled) {
    return unusable(KeyStatus::invalid, "gpg marks the key invalid or disabled");
  }
  const openpgp::SubkeyFacts& primary = k.subkeys.front();
  if (k.revoked || primary.revoked) return unusable(KeyStatus::revoked, "revoked");
  if (primary.expires != 0 && primary.expires <= now) {
    return unusable(KeyStatus::expired, "expired on " + iso_date(primary.expires));
  }
  for (const auto& s : k.subkeys) {
    if (!s.is_live_at(now) || !s.is_weak()) continue;
    return unusable(KeyStatus::weak,
                    (s.is_primary ? "primary key " : "subkey " + s.fingerprint + " ") +
                        s.algorithm + ", below " +
                        std::to_string(openpgp::kMinimumFiniteFieldBits) + " bits");
  }
  const auto encrypt_until = last_expiry(k, now, &openpgp::SubkeyFacts::can_encrypt);
  if (!encrypt_until) {
    return unusable(KeyStatus::no_encryption_key, "no usable encryption subkey");
  }
  const auto sign_until = last_expiry(k, now, &openpgp::SubkeyFacts::can_sign);
  if (!sign_until) return unusable(KeyStatus::no_signing_key, "no usable signing key");

  KeyAssessment a;
  a.usable = true;
  a.usable_until = earliest(primary.expires, earliest(*encrypt_until, *sign_until));
  if (a.usable_until != 0 && a.usable_until - now < kExpiryWarningDays * kDay) {
    const std::time_t days = (a.usable_until - now + kDay - 1) / kDay;
    a.status = KeyStatus::expires_soon;
    a.word = "expires in " + std::to_string(days) + (days == 1 ? " day" : " days");
    a.detail = "expires on " + iso_date(a.usable_until);
    return a;
  }
  a.status = KeyStatus::ok;
  a.word = "ok";
  return a;
}

bool usable_at(const PersonKey* k, std::time_t now) {
  return k && k->usable && k->facts && assess_key(*k->facts, now).usable;
}

std::string unusable_reason(const PersonKey* k, std::time_t now, std::string_view absent) {
  if (!k) return std::string(absent);
  if (k->facts) {
    const KeyAssessment a = assess_key(*k->facts, now);
    if (!a.usable && !a.word.empty()) return "key " + a.word;
  }
  if (k->status_word.empty() || k->usable) return "key not usable";
  return "key " + k->status_word;
}

}  // namespace tlpmail::keyring
