// A strict RFC 5322 section 3.4 syntax check of an address-list header value
// (From): mailboxes as addr-spec or [phrase] <addr-spec>, groups, comments
// and folding whitespace; no obsolete routes, no stray brackets, no
// unterminated quotes or comments. GMime 3.2.13 reads From in loose mode
// only (its strict mode leaks memory on bad input, see docs/mime.md), so
// this check decides whether a From value is a clean address list. Pure.
#pragma once

#include <string_view>

namespace tlpmail::mime {

struct AddressListSyntax {
  bool valid = false;  // the whole value is a well-formed address-list
  int mailboxes = 0;   // mailboxes, group members included (when valid)
  int groups = 0;      // group constructs (when valid)
};

// Checks a header value (without the field name; folding allowed). UTF-8
// in phrases, quoted strings and addresses is accepted (RFC 6532).
AddressListSyntax check_address_list(std::string_view value);

}  // namespace tlpmail::mime
