// The pure predicates of key_facts.h: algorithm names, weakness and
// usability at a given time. No GPGME here.
#include "openpgp/key_facts.h"

#include "util/enum_names.h"
#include "util/text.h"

namespace tlpmail::openpgp {

constexpr auto kAlgoFamilyNames =
    std::to_array<std::string_view>({"rsa", "dsa", "elgamal", "ecdsa", "eddsa", "ecdh", "other"});
static_assert(util::names_cover(kAlgoFamilyNames, AlgoFamily::other));
std::string_view to_string(AlgoFamily f) { return util::name_of(kAlgoFamilyNames, f, "other"); }

bool is_weak_algorithm(AlgoFamily family, unsigned bits) {
  switch (family) {
    case AlgoFamily::rsa:
    case AlgoFamily::dsa:
    case AlgoFamily::elgamal:
      return bits < kMinimumFiniteFieldBits;
    default:
      return false;
  }
}

bool SubkeyFacts::is_live_at(std::time_t now) const {
  if (revoked || invalid || disabled) return false;
  return expires == 0 || expires > now;
}

namespace {

bool has_capability_at(const KeyFacts& key, std::time_t now, bool SubkeyFacts::*capability) {
  if (key.subkeys.empty() || key.revoked || key.invalid || key.disabled) return false;
  if (!key.subkeys.front().is_live_at(now)) return false;
  for (const SubkeyFacts& sub : key.subkeys) {
    if (sub.*capability && sub.is_live_at(now)) return true;
  }
  return false;
}

}  // namespace

bool KeyFacts::has_signing_key_at(std::time_t now) const {
  return has_capability_at(*this, now, &SubkeyFacts::can_sign);
}

bool KeyFacts::has_encryption_key_at(std::time_t now) const {
  return has_capability_at(*this, now, &SubkeyFacts::can_encrypt);
}

const SubkeyFacts* KeyFacts::find_subkey(std::string_view fingerprint) const {
  for (const SubkeyFacts& sub : subkeys) {
    if (iequals(sub.fingerprint, fingerprint)) return &sub;
  }
  return nullptr;
}

}  // namespace tlpmail::openpgp
