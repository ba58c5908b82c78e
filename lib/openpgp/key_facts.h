// What GPGME tells about one OpenPGP key, copied into plain values so that
// no gpgme_key_t leaves lib/openpgp: fingerprints, algorithms, dates,
// revocation and usability of the primary key and each subkey.
// Pure data plus a few pure predicates; no I/O, no judgement of policy
// (lib/keyring decides what "ok", "expired" or "weak" means for a person).
#pragma once

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace tlpmail::openpgp {

// The public-key algorithm family of a (sub)key.
enum class AlgoFamily { rsa, dsa, elgamal, ecdsa, eddsa, ecdh, other };

// "rsa", "dsa", "elgamal", "ecdsa", "eddsa", "ecdh", "other".
std::string_view to_string(AlgoFamily f);

// Below this many bits an RSA, DSA or ElGamal key is weak. Elliptic-curve
// keys are never weak by this rule (their curves are 255 bits or more).
inline constexpr unsigned kMinimumFiniteFieldBits = 2048;

// True for RSA, DSA and ElGamal below kMinimumFiniteFieldBits.
bool is_weak_algorithm(AlgoFamily family, unsigned bits);

// One primary key or subkey, as GPGME listed it.
struct SubkeyFacts {
  std::string fingerprint;  // 40 upper-case hex digits (v4)
  std::string algorithm;    // gpgme_pubkey_algo_string: "ed25519", "cv25519", "rsa3072"
  AlgoFamily family = AlgoFamily::other;
  unsigned bits = 0;
  std::time_t created = 0;
  std::time_t expires = 0;  // 0: never
  bool is_primary = false;
  bool revoked = false;
  bool expired = false;     // as gpg saw it at listing time (real clock)
  bool disabled = false;
  bool invalid = false;
  bool can_sign = false;    // has the capability (ignores expiry/revocation)
  bool can_encrypt = false;
  bool can_certify = false;

  // Neither revoked, invalid nor disabled, and not past its expiry at `now`.
  // Does not look at the primary key: see KeyFacts::usable_* below.
  bool is_live_at(std::time_t now) const;
  bool is_weak() const { return is_weak_algorithm(family, bits); }
};

// One key: its primary key and subkeys, user IDs and summary flags.
struct KeyFacts {
  std::string fingerprint;  // primary key, 40 upper-case hex digits
  std::string algorithm;    // of the primary key, e.g. "ed25519", "rsa3072", "dsa1024"
  AlgoFamily family = AlgoFamily::other;
  unsigned bits = 0;
  std::time_t created = 0;
  std::time_t expires = 0;  // primary key's expiry; 0: never
  bool revoked = false;
  bool expired = false;     // gpg's flag at listing time (real clock)
  bool disabled = false;
  bool invalid = false;
  bool has_secret = false;  // the home also holds the secret key
  // Some (sub)key with the capability that is neither revoked, expired nor
  // invalid, and the primary key is usable too (gpg's view at listing time).
  bool has_usable_signing_key = false;
  bool has_usable_encryption_key = false;
  std::vector<std::string> subkey_fingerprints;  // subkeys only, in key order
  std::vector<std::string> user_ids;             // for display only; never trusted
  std::vector<SubkeyFacts> subkeys;              // [0] is the primary key

  // The same questions at an arbitrary time `now` (used with an injected
  // clock): the primary key must be live at `now`, and some live (sub)key
  // must carry the capability. Weak subkeys are not excluded here.
  bool has_signing_key_at(std::time_t now) const;
  bool has_encryption_key_at(std::time_t now) const;

  // The (sub)key with this fingerprint (primary or subkey), or nullptr.
  // Case-insensitive on the hex digits.
  const SubkeyFacts* find_subkey(std::string_view fingerprint) const;
};

}  // namespace tlpmail::openpgp
