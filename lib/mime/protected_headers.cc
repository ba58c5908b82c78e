// read_protected_headers(): the protected header fields of a signed entity
// (Entity::protected_headers) as the pipeline judges them: From, To and Cc
// as mailboxes, In-Reply-To and References as ids. The fields are parsed
// the way a received message's header is (parse_message over a header
// block made of them), so both readings agree.
#include <gmime/gmime.h>

#include <memory>

#include "mime/address_syntax.h"
#include "mime/gmime_ptr.h"
#include "mime/mime.h"
#include "util/text.h"

namespace tlpmail::mime {
namespace {

// The mailboxes of one address-list value; false when it is not a clean
// address list (strict syntax, no groups inside groups, GMime agreeing).
bool mailboxes_of(const std::string& value, std::vector<Mailbox>& out) {
  const AddressListSyntax syntax = check_address_list(value);
  if (!syntax.valid) return false;
  OptionsPtr options(g_mime_parser_options_new());
  GPtr<InternetAddressList> list(internet_address_list_parse(options.get(), value.c_str()));
  if (!list) return syntax.mailboxes == 0;
  int found = 0;
  auto add = [&](InternetAddress* a) {
    if (!INTERNET_ADDRESS_IS_MAILBOX(a)) return;
    const char* name = internet_address_get_name(a);
    const char* addr = internet_address_mailbox_get_idn_addr(INTERNET_ADDRESS_MAILBOX(a));
    out.push_back({name ? name : "", addr ? addr : ""});
    ++found;
  };
  const int n = internet_address_list_length(list.get());
  for (int i = 0; i < n; ++i) {
    InternetAddress* a = internet_address_list_get_address(list.get(), i);
    if (INTERNET_ADDRESS_IS_GROUP(a)) {
      InternetAddressList* members = internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a));
      const int k = members ? internet_address_list_length(members) : 0;
      for (int j = 0; j < k; ++j) add(internet_address_list_get_address(members, j));
    } else {
      add(a);
    }
  }
  return found == syntax.mailboxes;
}

}  // namespace

ProtectedHeaders read_protected_headers(const Entity& e) {
  ProtectedHeaders out;
  if (!e.has_protected_headers) return out;
  initialize();
  std::string block;
  for (const HeaderField& h : e.protected_headers) {
    if (iequals(h.name, "From") || iequals(h.name, "In-Reply-To") ||
        iequals(h.name, "References")) {
      block += h.name + ": " + h.value + "\r\n";
    }
    if (iequals(h.name, "From")) out.has_from = true;
    if (iequals(h.name, "To") || iequals(h.name, "Cc")) {
      out.has_to_cc = true;
      if (!mailboxes_of(h.value, out.to_cc)) out.to_cc_unparsable = true;
    }
  }
  if (block.empty()) return out;
  block += "\r\n";
  auto m = parse_message(block);
  if (!m) {
    out.from_unparsable = out.has_from;
    return out;
  }
  if (out.has_from) {
    if (auto from = m->single_from()) {
      out.from = *from;
    } else {
      out.from_unparsable = true;
    }
  }
  out.in_reply_to = m->in_reply_to;
  out.references = m->references;
  return out;
}

}  // namespace tlpmail::mime
