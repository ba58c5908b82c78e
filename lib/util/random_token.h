// Unguessable tokens: 128 bits from the kernel's random source
// (getrandom(2)), written as 26 lower-case base32 letters (a-z, 2-7), so
// they survive case-folding MTAs, fit in an address's local part and in a
// line of text. Used for the VERP tag of every outgoing copy and for the
// token of a communication check. No state, no seeding, no fallback PRNG.
#pragma once

#include <string>
#include <string_view>

#include "util/result.h"

namespace tlpmail {

inline constexpr std::size_t kRandomTokenLength = 26;

// A fresh token. Errors: temporary, when the kernel gives no random bytes
// (then nothing may be sent with a guessable token).
Result<std::string> random_token();

// True when `s` has the form of a token: exactly 26 characters of
// [a-z2-7] (upper-case letters are accepted: compare after ascii_lower).
bool is_random_token(std::string_view s);

}  // namespace tlpmail
