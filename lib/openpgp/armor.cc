// The framing checks of armor.h: a line scanner over the text, comparing
// armor lines with trailing whitespace removed. Pure; no GPGME.
#include "openpgp/armor.h"

#include <cstdint>
#include <string>
#include <vector>

#include "util/base64.h"

namespace tlpmail::openpgp {

namespace {

constexpr std::string_view kSignedBegin = "-----BEGIN PGP SIGNED MESSAGE-----";
constexpr std::string_view kSignatureBegin = "-----BEGIN PGP SIGNATURE-----";
constexpr std::string_view kSignatureEnd = "-----END PGP SIGNATURE-----";
constexpr std::string_view kMessageBegin = "-----BEGIN PGP MESSAGE-----";
constexpr std::string_view kMessageEnd = "-----END PGP MESSAGE-----";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

std::string_view rstrip(std::string_view s) {
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// The lines of `text`, each without its line ending and trailing blanks.
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    out.push_back(rstrip(text.substr(start, nl - start)));
    start = nl + 1;
  }
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Shared frame: blank lines, `begin`, for cleartext the signed text up to
// `inner_begin`, then the armored part up to `end`, then blank lines.
ArmorFraming check(std::string_view text, std::string_view begin, std::string_view inner_begin,
                   std::string_view end) {
  const std::vector<std::string_view> lines = lines_of(text);
  std::size_t i = 0;
  while (i < lines.size() && lines[i].empty()) ++i;
  if (i == lines.size()) return ArmorFraming::absent;
  if (lines[i] != begin) {
    for (std::size_t j = i; j < lines.size(); ++j) {
      if (lines[j] == begin) return ArmorFraming::text_outside;
    }
    return ArmorFraming::absent;
  }
  ++i;
  if (!inner_begin.empty()) {
    // Cleartext: every line starting with "-----" must be the signature's
    // BEGIN line; dash-escaped lines start with "- ".
    for (; i < lines.size(); ++i) {
      if (lines[i] == inner_begin) break;
      if (starts_with(lines[i], "-----")) return ArmorFraming::malformed;
    }
    if (i == lines.size()) return ArmorFraming::malformed;
    ++i;
  }
  for (; i < lines.size(); ++i) {
    if (lines[i] == end) break;
    if (starts_with(lines[i], "-----")) return ArmorFraming::malformed;
  }
  if (i == lines.size()) return ArmorFraming::malformed;
  for (++i; i < lines.size(); ++i) {
    if (!lines[i].empty()) return ArmorFraming::text_outside;
  }
  return ArmorFraming::alone;
}

}  // namespace

ArmorFraming check_clearsigned_framing(std::string_view text) {
  return check(text, kSignedBegin, kSignatureBegin, kSignatureEnd);
}

ArmorFraming check_message_framing(std::string_view text) {
  return check(text, kMessageBegin, {}, kMessageEnd);
}

bool contains_armor(std::string_view data) {
  return data.find("-----BEGIN PGP ") != std::string_view::npos;
}

namespace {

std::string_view trim_line(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.remove_suffix(1);
  }
  return line;
}

}  // namespace

std::optional<std::string> dearmor_message(std::string_view text, std::size_t max_bytes) {
  const std::size_t begin = text.find(kMessageBegin);
  if (begin == std::string_view::npos) return std::nullopt;
  std::size_t pos = text.find('\n', begin);
  if (pos == std::string_view::npos) return std::nullopt;
  ++pos;
  // Armor headers ("Version: ...") up to the first blank line.
  bool in_headers = true;
  std::string out;
  util::Base64Bits bits;
  while (pos < text.size() && out.size() < max_bytes) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = trim_line(text.substr(pos, nl - pos));
    pos = nl + 1;
    if (in_headers) {
      // A blank line ends the headers; a first line without ':' means
      // there are none and is already base64.
      if (!line.empty() && line.find(':') != std::string_view::npos) continue;
      in_headers = false;
      if (line.empty()) continue;
    }
    if (line.starts_with("-----") || line.starts_with("=")) break;  // END or checksum
    for (char c : line) {
      if (c == '=') break;  // padding
      const int v = util::base64_digit(c);
      if (v < 0) return std::nullopt;
      bits.add(v, out);
    }
  }
  if (out.size() > max_bytes) out.resize(max_bytes);
  return out;
}

}  // namespace tlpmail::openpgp
