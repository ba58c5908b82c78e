// Parsing of the arguments of MAIL FROM: and RCPT TO: (RFC 5321 4.1.2,
// 4.1.1.2-3): the angle-bracketed path, an optional source route (accepted
// and dropped, RFC 5321 4.1.1.3 / C), the mailbox syntax and the ESMTP
// parameters after it. ASCII only: SMTPUTF8 is not offered. Pure functions;
// what the parameters mean is decided by the session, not here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace tlpmail::smtp {

// RFC 5321 4.5.3.1.1-3.
inline constexpr std::size_t kMaxLocalPart = 64;
inline constexpr std::size_t kMaxDomain = 255;
inline constexpr std::size_t kMaxPath = 256;  // including '<' and '>'

enum class PathKind {
  reverse,  // MAIL FROM:<...>; the null path <> is allowed
  forward,  // RCPT TO:<...>; <Postmaster> without a domain is allowed
};

struct EsmtpParam {
  std::string keyword;  // upper-cased, e.g. "SIZE"
  std::string value;    // as sent; empty when there was no '='
  bool has_value = false;
  friend bool operator==(const EsmtpParam&, const EsmtpParam&) = default;
};

struct PathArgument {
  // "local@domain" as sent (case kept, quotes kept), without brackets and
  // without a source route; "" for the null reverse-path; "Postmaster" (as
  // sent) for a bare RCPT TO:<Postmaster>.
  std::string mailbox;
  std::vector<EsmtpParam> params;  // in order; duplicates are not checked here
};

enum class PathError {
  missing_prefix,  // not "FROM:" / "TO:" followed by '<' (spaces after ':' are tolerated)
  bad_address,     // the path or mailbox breaks RFC 5321 syntax
  too_long,        // path over 256, local part over 64 or domain over 255 octets
  bad_parameters,  // the text after '>' is not SP esmtp-param *(SP esmtp-param)
};

// Parses "FROM:<a@b> SIZE=10 BODY=8BITMIME" (kind reverse) or
// "TO:<a@b>" (kind forward); the prefix is case-insensitive.
// Errors: the first problem found, as a PathError.
Result<PathArgument, PathError> parse_path_argument(std::string_view args, PathKind kind);

// True for a syntactically valid RFC 5321 Mailbox (Local-part "@" domain or
// address literal) within the length limits above.
bool is_valid_mailbox(std::string_view mailbox);

// True for an RFC 5321 Domain (dot-separated labels of letters, digits and
// inner hyphens, each at most 63 octets, the whole at most 255) or an
// address literal "[...]".
bool is_valid_domain(std::string_view domain);

}  // namespace tlpmail::smtp
