// Hand-made key facts (openpgp::SubkeyFacts) for the tests of what is
// judged from them without gpg: keyring::assess_key and the keylife texts.
// Test-only; keys that gpg really made are in gpg_test_keys.h.
#pragma once

#include <ctime>
#include <string>
#include <utility>

#include "openpgp/key_facts.h"

namespace tlpmail::testkeys {

// A key or subkey `fpr` of algorithm `algo` (`family`, `bits`) that can
// sign and/or encrypt, expiring at `expires` (0: never).
inline openpgp::SubkeyFacts subkey_facts(std::string fpr, std::string algo,
                                         openpgp::AlgoFamily family, unsigned bits, bool sign,
                                         bool encrypt, std::time_t expires = 0) {
  openpgp::SubkeyFacts s;
  s.fingerprint = std::move(fpr);
  s.algorithm = std::move(algo);
  s.family = family;
  s.bits = bits;
  s.can_sign = sign;
  s.can_encrypt = encrypt;
  s.expires = expires;
  return s;
}

}  // namespace tlpmail::testkeys
