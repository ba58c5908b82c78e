// Header fields shared by copies and notices and the RFC 3156
// multipart/encrypted frame (frame.h). The frame's two control parts are
// written as common clients write them (Thunderbird/Enigmail, GpgOL, mutt).
#include "compose/frame.h"

#include <initializer_list>
#include <string_view>

#include "compose/body_text.h"
#include "compose/header_text.h"
#include "util/text.h"

namespace tlpmail::compose {
namespace {

// Keeps the characters a msg-id may hold (printable ASCII but "<", ">",
// "\", '"', spaces and controls).
std::string msg_id_chars(std::string_view id) {
  std::string out;
  for (char c : id) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x21 || b > 0x7E || c == '<' || c == '>' || c == '\\' || c == '"') continue;
    out.push_back(c);
  }
  return out;
}

// A part of a multipart with boundary `b` up to its body: the delimiter
// line, `fields` (each a whole header field) and the blank line.
std::string part_head(const std::string& b, std::initializer_list<std::string_view> fields) {
  std::string out = "--" + b + "\r\n";
  for (std::string_view field : fields) {
    out += field;
    out += "\r\n";
  }
  return out + "\r\n";
}

}  // namespace

std::string local_part_of(std::string_view address) {
  const std::string a = clean_address(address);
  const std::size_t at = a.rfind('@');
  return at == std::string::npos ? a : a.substr(0, at);
}

std::string domain_of(std::string_view address) {
  const std::string a = clean_address(address);
  const std::size_t at = a.rfind('@');
  return at == std::string::npos ? std::string() : a.substr(at + 1);
}

std::string request_address_of(std::string_view address) {
  return local_part_of(address) + "-request@" + domain_of(address);
}

std::string mailbox_field(std::string_view name, std::string_view display,
                          std::string_view address) {
  std::vector<Token> tokens = phrase_tokens(clean_text(display), /*always_quote=*/true);
  const std::string addr = clean_address(address);
  tokens.push_back(Token{tokens.empty() ? addr : "<" + addr + ">", false});
  return header_field(name, tokens);
}

std::string subject_field(std::string_view subject) {
  return header_field("Subject", unstructured_tokens(clean_text(subject)));
}

std::string message_id_field(std::string_view id) {
  return header_field("Message-ID", "<" + msg_id_chars(id) + ">");
}

std::string list_id_field(const ListFacts& l) {
  std::vector<Token> tokens = phrase_tokens(clean_text(l.description), false);
  tokens.push_back(Token{"<" + local_part_of(l.address) + "." + domain_of(l.address) + ">", false});
  return header_field("List-Id", tokens);
}

std::string list_post_field(const ListFacts& l) {
  return header_field("List-Post", "<mailto:" + clean_address(l.address) + ">");
}

std::string list_help_field(const ListFacts& l) {
  return header_field("List-Help", "<mailto:" + request_address_of(l.address) + ">");
}

Frame encrypted_frame(std::string header_fields) {
  const std::string b = fresh_boundary();
  Frame f;
  f.head = std::move(header_fields);
  f.head += "MIME-Version: 1.0\r\n";
  f.head += header_field(
      "Content-Type",
      std::vector<std::string>{"multipart/encrypted;", "protocol=\"application/pgp-encrypted\";",
                               "boundary=\"" + b + "\""});
  f.head += "\r\n";
  f.head += "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n";
  f.head += part_head(b, {"Content-Type: application/pgp-encrypted",
                          "Content-Description: PGP/MIME version identification"});
  f.head += "Version: 1\r\n";
  f.head += "\r\n";
  f.head += part_head(b, {"Content-Type: application/octet-stream; name=\"encrypted.asc\"",
                          "Content-Description: OpenPGP encrypted message",
                          "Content-Disposition: inline; filename=\"encrypted.asc\""});
  f.tail = "\r\n--" + b + "--\r\n";
  return f;
}

std::string Frame::assemble(std::string_view armored) const {
  std::string out = head;
  out += to_crlf(armored);
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  out += tail;
  return out;
}

}  // namespace tlpmail::compose
