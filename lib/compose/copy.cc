// A member's copy: its subjects, the banner, the entity that is signed and
// encrypted (protected headers, banner part, original content) and the
// outer frame with the list's Autocrypt header. The sender's text reaches
// the header fields only as the cleaned subject and checked thread ids
// (compose.h, docs/outgoing.md).
#include <string>
#include <vector>

#include "compose/body_text.h"
#include "compose/compose.h"
#include "compose/frame.h"
#include "compose/header_text.h"
#include "util/text.h"

namespace tlpmail::compose {
namespace {

// Removes every occurrence of `needle` (ASCII case-insensitive).
std::string remove_all_ci(std::string_view text, std::string_view needle) {
  if (needle.empty()) return std::string(text);
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (i + needle.size() <= text.size() && iequals(text.substr(i, needle.size()), needle)) {
      out.push_back(' ');
      i += needle.size();
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

// The valid ids, at most kMaxThreadIds: the first and the latest ones.
std::vector<std::string> thread_tokens(const std::vector<std::string>& ids) {
  std::vector<std::string> valid;
  for (const std::string& id : ids) {
    if (is_message_id(id)) valid.push_back("<" + id + ">");
  }
  if (valid.size() > kMaxThreadIds) {
    std::vector<std::string> kept{valid.front()};
    kept.insert(kept.end(), valid.end() - static_cast<std::ptrdiff_t>(kMaxThreadIds - 1),
                valid.end());
    valid = std::move(kept);
  }
  return valid;
}

std::string sender_display(const CopyFacts& f) {
  std::string who = clean_text(f.sender.name);
  if (who.empty()) who = clean_text(f.sender.email);
  return who + " via " + local_part_of(f.list.address);
}

std::string prefixed(const std::string& tag, std::string_view prefix, std::string_view rest) {
  std::string out = tag;
  for (std::string_view piece : {prefix, rest}) {
    if (!piece.empty()) {
      out.push_back(' ');
      out += piece;
    }
  }
  return clean_text(out);
}

}  // namespace

// "0123 4567 89AB ...": 40 hex digits in groups of four; anything else as is.
std::string grouped_fingerprint(std::string_view fpr) {
  std::string clean = clean_text(fpr);  // not const: returned, so moved
  if (clean.size() != 40) return clean;
  std::string out;
  for (std::size_t i = 0; i < clean.size(); ++i) {
    const char c = clean[i];
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return clean;
    if (i > 0 && i % 4 == 0) out.push_back(' ');
    out.push_back(c >= 'a' && c <= 'f' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  return out;
}

std::string copy_subject(const CopyFacts& f) {
  const std::string prefix = clean_text(f.list.subject_prefix);
  const std::string subject =
      cut_text(clean_text(remove_all_ci(clean_text(f.subject), prefix)), kMaxSubjectBytes);
  const std::string labelled = policy::labelled_subject(subject, f.label);
  const std::string tag = policy::subject_tag(f.label);
  std::string_view rest = labelled;
  if (rest.substr(0, tag.size()) == tag) rest.remove_prefix(tag.size());
  return prefixed(tag, prefix, trim(rest));
}

std::string outer_subject(const CopyFacts& f) {
  if (!f.list.protect_subject) return copy_subject(f);
  return prefixed(policy::subject_tag(f.label), clean_text(f.list.subject_prefix),
                  "Encrypted message");
}

std::string banner_text(const CopyFacts& f) {
  std::vector<std::string> lines;
  for (const std::string& l : f.banner_lines) {
    std::string c = clean_text(l);
    if (!c.empty()) lines.push_back(std::move(c));
  }
  if (lines.empty()) {
    lines.push_back(policy::label_text(f.label) + ": " +
                    std::string(policy::sharing_rule(f.label)));
  }
  std::string sent = "Sent by";
  for (const std::string& piece :
       {clean_text(f.sender.name),
        f.sender.organization.empty() ? std::string()
                                      : "(" + clean_text(f.sender.organization) + ")",
        clean_address(f.sender.email)}) {
    if (!piece.empty() && piece != "()") sent += " " + piece;
  }
  sent += ", signature verified, key " + grouped_fingerprint(f.sender.fingerprint);
  lines.push_back(clean_text(sent));
  std::string out;
  for (const std::string& l : lines) out += l + "\r\n";
  return out;
}

std::string inner_entity(const CopyFacts& f, std::string_view content) {
  const std::string list = clean_address(f.list.address);
  const EncodedBody banner = encode_text_body(banner_text(f));
  const std::string b = fresh_boundary(content, banner.body);
  std::string out = header_field(
      "Content-Type", std::vector<std::string>{"multipart/mixed;", "boundary=\"" + b + "\";",
                                               "protected-headers=\"v1\""});
  out += subject_field(copy_subject(f));
  out += mailbox_field("From", sender_display(f), list);
  out += header_field("To", list);
  out += header_field("Reply-To", list);
  out += message_id_field(f.message_id);
  out += header_field("Date", rfc5322_date(f.date));
  out += "\r\n";
  out += "--" + b + "\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "Content-Transfer-Encoding: " + banner.transfer_encoding + "\r\n";
  out += "Content-Disposition: inline\r\n";
  out += header_field("Content-Description",
                      unstructured_tokens(clean_text(
                          local_part_of(list) + " list notice: TLP label and verified sender")));
  out += "\r\n";
  out += banner.body;
  out += "\r\n--" + b + "\r\n";
  out += content;
  out += "\r\n--" + b + "--\r\n";
  return out;
}

Frame copy_frame(const CopyFacts& f) {
  const std::string list = clean_address(f.list.address);
  std::string h = mailbox_field("From", sender_display(f), list);
  h += header_field("To", list);
  h += header_field("Reply-To", list);
  h += subject_field(outer_subject(f));
  h += header_field("Date", rfc5322_date(f.date));
  h += message_id_field(f.message_id);
  if (auto t = thread_tokens(f.in_reply_to); !t.empty()) h += header_field("In-Reply-To", t);
  if (auto t = thread_tokens(f.references); !t.empty()) h += header_field("References", t);
  h += list_id_field(f.list);
  h += list_post_field(f.list);
  h += list_help_field(f.list);
  if (!f.autocrypt_key.empty()) h += autocrypt_field(f.list.address, f.autocrypt_key);
  return encrypted_frame(std::move(h));
}

std::string autocrypt_field(std::string_view list_address, std::string_view key) {
  constexpr std::size_t kLine = 76;
  std::string out = "Autocrypt: addr=" + clean_address(list_address) +
                    "; prefer-encrypt=mutual; keydata=";
  const std::string b64 = base64_encode(key);
  for (std::size_t i = 0; i < b64.size(); i += kLine) {
    out += "\r\n " + b64.substr(i, kLine);
  }
  out += "\r\n";
  return out;
}

}  // namespace tlpmail::compose
