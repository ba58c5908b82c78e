// Admin notices (withheld members, failed deliveries): a text/plain entity
// with protected headers to sign and encrypt to one admin, and its outer
// frame from the list's -request address. The body is the caller's text;
// nothing of a member's message belongs in it (compose.h).
#include <string>

#include "compose/body_text.h"
#include "compose/compose.h"
#include "compose/frame.h"
#include "compose/header_text.h"

namespace tlpmail::compose {
namespace {

std::string notice_display(const ListFacts& l) { return local_part_of(l.address) + " list"; }

std::string notice_outer_subject(const NoticeFacts& f) {
  if (!f.list.protect_subject) return f.subject;
  const std::string prefix = clean_text(f.list.subject_prefix);
  return prefix.empty() ? "Encrypted message" : prefix + " Encrypted message";
}

}  // namespace

std::string notice_entity(const NoticeFacts& f) {
  const EncodedBody body = encode_text_body(f.body);
  std::string out = header_field(
      "Content-Type",
      std::vector<std::string>{"text/plain;", "charset=utf-8;", "protected-headers=\"v1\""});
  out += "Content-Transfer-Encoding: " + body.transfer_encoding + "\r\n";
  out += subject_field(f.subject);
  out += mailbox_field("From", notice_display(f.list), request_address_of(f.list.address));
  out += header_field("To", clean_address(f.to));
  out += message_id_field(f.message_id);
  out += header_field("Date", rfc5322_date(f.date));
  out += "\r\n";
  out += body.body;
  return out;
}

Frame notice_frame(const NoticeFacts& f) {
  std::string h = mailbox_field("From", notice_display(f.list), request_address_of(f.list.address));
  h += header_field("To", clean_address(f.to));
  h += subject_field(notice_outer_subject(f));
  h += header_field("Date", rfc5322_date(f.date));
  h += message_id_field(f.message_id);
  h += list_id_field(f.list);
  h += "Auto-Submitted: auto-generated\r\n";
  return encrypted_frame(std::move(h));
}

}  // namespace tlpmail::compose
