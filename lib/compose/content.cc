// The original content kept inside a copy: the Content-Type and
// Content-Transfer-Encoding fields and the body of a signed (not encrypted)
// message, byte for byte; or decrypted plaintext, as it is (PGP/MIME) or
// wrapped as text/plain (inline PGP). Never parses and re-serialises MIME:
// a multipart/signed must still verify afterwards. Other Content-* fields
// of a signed root (Content-Description, Content-Disposition, ...) are not
// signed, so anybody on the path could have written them: they are dropped.
#include <string>
#include <vector>

#include "compose/body_text.h"
#include "compose/compose.h"
#include "util/text.h"

namespace tlpmail::compose {
namespace {

// One header line of `raw` starting at `begin`: [begin, end) without the
// line break, `next` the first byte after it. False when no LF follows.
bool next_line(std::string_view raw, std::size_t begin, std::size_t* end, std::size_t* next) {
  const std::size_t lf = raw.find('\n', begin);
  if (lf == std::string_view::npos) return false;
  *next = lf + 1;
  *end = (lf > begin && raw[lf - 1] == '\r') ? lf - 1 : lf;
  return true;
}

}  // namespace

Result<std::string> content_of_message(std::string_view raw) {
  struct Field {
    std::string name;                // as written, trailing blanks removed
    std::size_t begin = 0, end = 0;  // the whole field, line breaks included
  };
  std::vector<Field> fields;
  std::size_t pos = 0;
  std::size_t body = std::string_view::npos;
  while (pos <= raw.size()) {
    std::size_t end = 0;
    std::size_t next = 0;
    if (!next_line(raw, pos, &end, &next)) break;
    if (end == pos) {  // the empty line ending the header
      body = next;
      break;
    }
    // cppcheck-suppress stlOutOfBounds ; a line was found at pos and is not empty: pos < end
    const char first = raw[pos];
    if (first == ' ' || first == '\t') {
      if (!fields.empty()) fields.back().end = next;  // continuation line
    } else {
      const std::string_view line = raw.substr(pos, end - pos);
      const std::size_t colon = line.find(':');
      Field f;
      if (colon != std::string_view::npos) f.name = std::string(trim(line.substr(0, colon)));
      f.begin = pos;
      f.end = next;
      fields.push_back(std::move(f));
    }
    pos = next;
  }
  if (body == std::string_view::npos) {
    return Unexpected(Error::refused("the message has no blank line between header and body"));
  }
  for (std::string_view unique : {"Content-Type", "Content-Transfer-Encoding"}) {
    int n = 0;
    for (const Field& f : fields) n += iequals(f.name, unique) ? 1 : 0;
    if (n > 1) {
      return Unexpected(Error::refused("the message has " + std::to_string(n) + " " +
                                       std::string(unique) + " header fields"));
    }
  }
  std::string out;
  for (const Field& f : fields) {
    if (iequals(f.name, "Content-Type") || iequals(f.name, "Content-Transfer-Encoding")) {
      out += to_crlf(raw.substr(f.begin, f.end - f.begin));
    }
  }
  out += "\r\n";
  out += to_crlf(raw.substr(body));
  return out;
}

std::string content_of_plaintext(std::string_view plaintext, bool is_mime) {
  if (is_mime) return to_crlf(plaintext);
  EncodedBody b = encode_text_body(plaintext);
  return "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: " +
         b.transfer_encoding + "\r\n\r\n" + b.body;
}

}  // namespace tlpmail::compose
