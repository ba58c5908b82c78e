// Messages from the list's -request address to one person: admin notices
// (withheld members, failed deliveries, digests) and replies to requests.
// The entity to sign and encrypt (a text, or a multipart/mixed with
// attachments such as a key), its outer frame, and the unencrypted form
// for the list key sent to a non-member. The body is the caller's text;
// nothing of a member's message belongs in it (compose.h).
#include <algorithm>
#include <cstdint>
#include <string>

#include "compose/body_text.h"
#include "compose/compose.h"
#include "compose/frame.h"
#include "compose/header_text.h"
#include "util/base64.h"
#include "util/text.h"

namespace tlpmail::compose {
namespace {

std::string notice_display(const ListFacts& l) { return local_part_of(l.address) + " list"; }

std::string notice_outer_subject(const NoticeFacts& f) {
  if (!f.list.protect_subject) return f.subject;
  const std::string prefix = clean_text(f.list.subject_prefix);
  return prefix.empty() ? "Encrypted message" : prefix + " Encrypted message";
}

std::string from_field(const NoticeFacts& f) {
  return mailbox_field("From", notice_display(f.list), request_address_of(f.list.address));
}

std::vector<std::string> thread_ids(const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  for (const std::string& id : ids) {
    if (is_message_id(id) && out.size() < kMaxThreadIds) out.push_back("<" + id + ">");
  }
  return out;
}

// Header fields of the frame (and of the plain message) before MIME-Version.
std::string frame_fields(const NoticeFacts& f, std::string_view subject) {
  std::string h = from_field(f);
  h += header_field("To", clean_address(f.to));
  h += subject_field(subject);
  h += header_field("Date", rfc5322_date(f.date));
  h += message_id_field(f.message_id);
  if (auto ids = thread_ids(f.in_reply_to); !ids.empty()) {
    h += header_field("In-Reply-To", ids);
    h += header_field("References", ids);
  }
  h += list_id_field(f.list);
  const bool replied = f.auto_submitted == "auto-replied";
  h += std::string("Auto-Submitted: ") + (replied ? "auto-replied" : "auto-generated") + "\r\n";
  return h;
}

bool is_short_ascii_text(std::string_view data) {
  std::size_t line = 0;
  for (char c : data) {
    const auto u = static_cast<unsigned char>(c);
    if (u == '\n') {
      line = 0;
      continue;
    }
    if (u == 0 || u > 0x7e || (u < 0x20 && u != '\r' && u != '\t') || ++line > 998) return false;
  }
  return true;
}

// Base64 in lines of 76 characters, each ending in CRLF (RFC 2045).
std::string base64_lines(std::string_view data) {
  const std::string b64 = util::base64_encode(data);
  std::string out;
  out.reserve(b64.size() + b64.size() / 76 * 2 + 2);
  for (std::size_t i = 0; i < b64.size(); i += 76) out += b64.substr(i, 76) + "\r\n";
  return out;
}

std::string attachment_part(const Attachment& a) {
  const std::string name = clean_text(a.filename);
  std::string out = header_field("Content-Type", std::vector<std::string>{
                                                     clean_text(a.content_type) + ";",
                                                     "name=\"" + name + "\""});
  out += header_field("Content-Disposition",
                      std::vector<std::string>{"attachment;", "filename=\"" + name + "\""});
  if (is_short_ascii_text(a.data)) {
    out += "Content-Transfer-Encoding: 7bit\r\n\r\n" + to_crlf(a.data);
    if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  } else {
    out += "Content-Transfer-Encoding: base64\r\n\r\n" + base64_lines(a.data);
  }
  return out;
}

// The MIME structure: `fields` (protected header fields, or none) go on
// the root, after its Content-Type.
std::string body_entity(const NoticeFacts& f, const std::string& fields) {
  const EncodedBody body = encode_text_body(f.body);
  const std::string text_type = "text/plain;";
  const std::string protected_param = fields.empty() ? "" : "protected-headers=\"v1\"";
  if (f.attachments.empty()) {
    std::vector<std::string> type{text_type, "charset=utf-8" + std::string(fields.empty() ? "" : ";")};
    if (!protected_param.empty()) type.push_back(protected_param);
    std::string out = header_field("Content-Type", type);
    out += "Content-Transfer-Encoding: " + body.transfer_encoding + "\r\n";
    return out + fields + "\r\n" + body.body;
  }
  std::vector<std::string> parts;
  parts.push_back("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: " +
                  body.transfer_encoding + "\r\n\r\n" + body.body);
  for (const Attachment& a : f.attachments) parts.push_back(attachment_part(a));
  std::string all;
  for (const std::string& p : parts) all += p;
  const std::string boundary = fresh_boundary(all);
  std::vector<std::string> type{"multipart/mixed;", "boundary=\"" + boundary + "\"" +
                                                        (protected_param.empty() ? "" : ";")};
  if (!protected_param.empty()) type.push_back(protected_param);
  std::string out = header_field("Content-Type", type) + fields + "\r\n";
  for (const std::string& p : parts) {
    out.append("--").append(boundary).append("\r\n").append(p);
    if (out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  }
  out += "--" + boundary + "--\r\n";
  return out;
}

}  // namespace

std::string notice_entity(const NoticeFacts& f) {
  std::string fields = subject_field(f.subject);
  fields += from_field(f);
  fields += header_field("To", clean_address(f.to));
  fields += message_id_field(f.message_id);
  fields += header_field("Date", rfc5322_date(f.date));
  return body_entity(f, fields);
}

Frame notice_frame(const NoticeFacts& f) {
  return encrypted_frame(frame_fields(f, notice_outer_subject(f)));
}

std::string plain_message(const NoticeFacts& f) {
  return frame_fields(f, f.subject) + "MIME-Version: 1.0\r\n" + body_entity(f, "");
}

}  // namespace tlpmail::compose
