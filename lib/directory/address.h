// E-mail address and OpenPGP fingerprint forms as tlpmail accepts them in
// its configuration. Pure syntax checks: nothing here looks up DNS, keys or
// the directory. The rules are written down in docs/configuration.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace tlpmail::directory {

// A pragmatic RFC 5321/5322 addr-spec check: "local@domain" with a
// dot-atom local part (at most 64 characters) and a domain of two or more
// dot-separated labels (letters, digits, inner hyphens; 63 characters per
// label, 253 in all; a single-label domain such as "localhost" is refused:
// in a configuration it is almost always a typo). No display names, angle brackets, quoted local
// parts, comments, domain literals or non-ASCII. Returns nullopt when the address is acceptable,
// otherwise the reason, e.g. "the domain needs at least one dot" (safe to show; it never repeats
// the address).
std::optional<std::string> address_problem(std::string_view address);
inline bool is_valid_address(std::string_view address) {
  return !address_problem(address).has_value();
}

// The domain half of the address check above, also used for host names:
// two or more labels of letters, digits and inner hyphens. nullopt when
// acceptable, otherwise the reason.
std::optional<std::string> domain_problem(std::string_view domain);

// An OpenPGP v4 primary-key fingerprint as written by people: spaces
// anywhere and lower case are accepted ("0123 4567 89ab ..."). Returns the
// 40 upper-case hex digits, or an error (ErrorClass::permanent) whose
// message reads "fingerprint must be 40 hex digits, got 39" or
// "fingerprint must be 40 hex digits, got 'x' at position 2".
Result<std::string> normalize_fingerprint(std::string_view text);

}  // namespace tlpmail::directory
