// The content scanners for nested ciphertext (see nested.h): the armor
// marker matcher over a byte stream, armored blocks of other labels decoded
// and handed to openpgp::scan_for_encryption, and the DER check for S/MIME
// enveloped data. Reads bytes only; no GMime, no charset conversion.
#include "mime/nested.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "openpgp/packets.h"
#include "util/base64.h"

namespace tlpmail::mime {
namespace {

// The marker with the spaces removed, upper case: what a reader sees as
// "-----BEGIN PGP MESSAGE" once spacing and case do not count.
constexpr std::string_view kMarker = "-----BEGINPGPMESSAGE";

// KMP failure function of kMarker: after the five dashes, a further '-'
// keeps four of them matched ("------BEGIN" still matches).
constexpr std::array<std::size_t, kMarker.size()> make_failure() {
  std::array<std::size_t, kMarker.size()> f{};
  std::size_t k = 0;
  for (std::size_t i = 1; i < kMarker.size(); ++i) {
    while (k > 0 && kMarker[i] != kMarker[k]) k = f[k - 1];
    if (kMarker[i] == kMarker[k]) ++k;
    f[i] = k;
  }
  return f;
}
constexpr std::array<std::size_t, kMarker.size()> kFailure = make_failure();

bool is_printable(unsigned char c) { return c > 0x20 && c < 0x7F; }
bool is_letter(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(unsigned char c) { return is_letter(c) || (c >= '0' && c <= '9'); }

char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

// Bytes that can change an idle scanner's state: the marker's first
// character, and in markup mode the start of a tag or reference.
constexpr std::array<bool, 256> make_starts(bool markup) {
  std::array<bool, 256> t{};
  t['-'] = true;
  if (markup) t['<'] = t['&'] = true;
  return t;
}
constexpr std::array<bool, 256> kPlainStarts = make_starts(false);
constexpr std::array<bool, 256> kMarkupStarts = make_starts(true);

}  // namespace

void MarkerScanner::match(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (!is_printable(u)) return;  // spacing, line ends, NUL, non-ASCII: not seen
  c = upper(c);
  while (matched_ > 0 && kMarker[matched_] != c) matched_ = kFailure[matched_ - 1];
  if (kMarker[matched_] == c) ++matched_;
  if (matched_ == kMarker.size()) {
    if (count_ < 2) ++count_;
    matched_ = kFailure[matched_ - 1];
  }
}

// A character reference after '&' ends: `terminated` by ';' or by another
// byte. Numeric ones decode either way (browsers accept "&#45" too); an
// unknown named one is skipped like a space when terminated (&nbsp;,
// &zwnj;: nothing a reader sees as a marker character) and read as the
// literal text otherwise.
void MarkerScanner::entity_done(bool terminated) {
  const std::string_view e(entity_.data(), entity_len_);
  entity_len_ = 0;
  if (!e.empty() && e[0] == '#') {
    const bool hex = e.size() > 1 && (e[1] == 'x' || e[1] == 'X');
    unsigned long v = 0;
    std::size_t digits = 0;
    for (std::size_t i = hex ? 2 : 1; i < e.size(); ++i) {
      const char c = e[i];
      unsigned d = 0;
      if (c >= '0' && c <= '9') {
        d = static_cast<unsigned>(c - '0');
      } else if (hex && c >= 'a' && c <= 'f') {
        d = static_cast<unsigned>(c - 'a' + 10);
      } else if (hex && c >= 'A' && c <= 'F') {
        d = static_cast<unsigned>(c - 'A' + 10);
      } else {
        digits = 0;
        break;
      }
      if (v < 0x110000) v = v * (hex ? 16 : 10) + d;
      ++digits;
    }
    if (digits > 0) {
      if (v < 0x80) match(static_cast<char>(v));
      return;
    }
  } else if (terminated && !e.empty()) {
    if (e == "amp") match('&');
    if (e == "lt") match('<');
    if (e == "gt") match('>');
    if (e == "quot") match('"');
    if (e == "apos") match('\'');
    return;
  }
  match('&');
  for (char c : e) match(c);
  if (terminated) match(';');
}

// Whether `c` extends the reference after '&' read so far: "#" then
// decimal digits, "#x" then hex digits (a numeric reference ends at the
// first other character, as in browsers), or a name of letters and digits.
bool MarkerScanner::continues_entity(char c) const {
  const auto u = static_cast<unsigned char>(c);
  const std::string_view e(entity_.data(), entity_len_);
  const bool digit = c >= '0' && c <= '9';
  const bool hex = digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  if (e.empty()) return c == '#' || is_alnum(u);
  if (e[0] != '#') return is_alnum(u);
  if (e == "#") return digit || c == 'x' || c == 'X';
  if (e[1] == 'x' || e[1] == 'X') return hex;
  return digit;
}

void MarkerScanner::feed(std::string_view bytes) {
  if (!skip_dash_escaped_) {
    // Most of a part is bytes that change nothing while no marker is half
    // matched and no tag or reference is open: skip them in a tight loop.
    const std::array<bool, 256>& starts = markup_ ? kMarkupStarts : kPlainStarts;
    const char* p = bytes.data();
    const char* const end = p + bytes.size();
    while (p < end) {
      if (state_ == State::tag) {
        // Inside a tag only its end matters.
        const void* gt = std::memchr(p, '>', static_cast<std::size_t>(end - p));
        if (!gt) break;
        p = static_cast<const char*>(gt);
      } else if (matched_ == 0 && state_ == State::text && !tag_pending_) {
        while (p < end && !starts[static_cast<unsigned char>(*p)]) ++p;
        if (p == end) break;
      }
      feed_byte(*p++);
    }
    return;
  }
  for (char c : bytes) {
    const bool line_end = c == '\n' || c == '\r';
    if (skipping_line_) {
      if (line_end) {
        skipping_line_ = false;
        line_start_ = true;
      }
      continue;
    }
    if (dash_pending_) {
      dash_pending_ = false;
      if (c == ' ') {
        skipping_line_ = true;
        continue;
      }
      feed_byte('-');
    } else if (line_start_ && c == '-') {
      dash_pending_ = true;
      line_start_ = false;
      continue;
    }
    line_start_ = line_end;
    feed_byte(c);
  }
}

void MarkerScanner::feed_byte(char c) {
  if (!markup_) {
    match(c);
    return;
  }
  const auto u = static_cast<unsigned char>(c);
  if (state_ == State::tag) {
    if (c == '>') state_ = State::text;
    return;
  }
  if (state_ == State::entity) {
    if (c == ';') {
      entity_done(true);
      state_ = State::text;
      return;
    }
    if (entity_len_ < entity_.size() && continues_entity(c)) {
      entity_[entity_len_++] = c;
      return;
    }
    entity_done(false);
    state_ = State::text;
    // and `c` is read as text below
  }
  if (tag_pending_) {
    tag_pending_ = false;
    if (is_letter(u) || c == '/' || c == '!' || c == '?') {
      state_ = State::tag;
      return;
    }
    match('<');
  }
  if (c == '<') {
    tag_pending_ = true;
  } else if (c == '&') {
    state_ = State::entity;
  } else {
    match(c);
  }
}

int count_armor_markers(std::string_view bytes, bool skip_dash_escaped) {
  MarkerScanner plain(false, skip_dash_escaped);
  plain.feed(bytes);
  if (plain.count() >= 2) return plain.count();
  MarkerScanner markup(true, skip_dash_escaped);
  markup.feed(bytes);
  return std::max(plain.count(), markup.count());
}

namespace {

bool is_line_end(char c) { return c == '\r' || c == '\n'; }

// Past the line break at `p` (CRLF, LF or CR alone).
std::size_t after_line_end(std::string_view t, std::size_t p) {
  if (p < t.size() && t[p] == '\r') ++p;
  if (p < t.size() && t[p] == '\n') ++p;
  return p;
}

std::size_t line_end(std::string_view t, std::size_t p) {
  while (p < t.size() && !is_line_end(t[p])) ++p;
  return p;
}

// The armored data that starts after the BEGIN line ending at `p`: armor
// headers (lines with ':') up to a blank line are skipped, then base64 is
// decoded until the checksum line, padding, the END line or any other
// character. `p` moves past what was read.
std::string armor_data(std::string_view t, std::size_t& p) {
  p = after_line_end(t, line_end(t, p));
  for (int headers = 0; headers < 64 && p < t.size(); ++headers) {
    const std::size_t e = line_end(t, p);
    const std::string_view line = t.substr(p, e - p);
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      p = after_line_end(t, e);
      break;
    }
    if (line.find(':') == std::string_view::npos) break;  // no headers, no blank line
    p = after_line_end(t, e);
  }
  std::string out;
  util::Base64Bits bits;
  for (; p < t.size(); ++p) {
    const char c = t[p];
    if (is_line_end(c) || c == ' ' || c == '\t') continue;
    const int v = util::base64_digit(c);
    if (v < 0) break;  // '=' (padding or "=CRC" line), '-' (END), anything else
    bits.add(v, out);
  }
  return out;
}

}  // namespace

bool has_encrypted_armor(std::string_view text) {
  constexpr std::string_view kBegin = "-----BEGIN PGP ";
  constexpr std::string_view kDashes = "-----";
  std::size_t pos = 0;
  while ((pos = text.find(kBegin, pos)) != std::string_view::npos) {
    const std::size_t label_at = pos + kBegin.size();
    const std::size_t dashes = text.find(kDashes, label_at);
    if (dashes == std::string_view::npos) return false;
    const std::string_view label = text.substr(label_at, dashes - label_at);
    pos = dashes + kDashes.size();
    if (label.size() > 64 || label.find_first_of("\r\n") != std::string_view::npos) {
      pos = label_at;
      continue;
    }
    // A MESSAGE is ciphertext by its marker already; a SIGNED MESSAGE is
    // text followed by its own SIGNATURE block, which this loop meets next.
    if (label == "MESSAGE" || label.substr(0, 8) == "MESSAGE," || label == "SIGNED MESSAGE") {
      continue;
    }
    const std::string data = armor_data(text, pos);
    if (openpgp::scan_for_encryption(data).is_encrypted()) return true;
  }
  return false;
}

bool looks_like_smime_enveloped(std::string_view data) {
  // ContentInfo ::= SEQUENCE { contentType OBJECT IDENTIFIER, ... }
  const auto at = [&](std::size_t i) { return static_cast<unsigned char>(data[i]); };
  if (data.size() < 4 || at(0) != 0x30) return false;
  std::size_t i = 2;
  const unsigned char len = at(1);
  if (len > 0x80) {
    const std::size_t n = len & 0x7F;
    if (n > 4) return false;
    i += n;
  }
  if (data.size() < i + 2 || at(i) != 0x06) return false;
  const std::string_view oid = data.substr(i + 2, at(i + 1));
  if (oid.size() != at(i + 1)) return false;
  // 1.2.840.113549.1.7.3 enveloped-data, 1.2.840.113549.1.7.6 encrypted-data,
  // 1.2.840.113549.1.9.16.1.23 authEnveloped-data (RFC 5083).
  static constexpr std::string_view kEnveloped("\x2A\x86\x48\x86\xF7\x0D\x01\x07\x03", 9);
  static constexpr std::string_view kEncrypted("\x2A\x86\x48\x86\xF7\x0D\x01\x07\x06", 9);
  static constexpr std::string_view kAuthEnveloped(
      "\x2A\x86\x48\x86\xF7\x0D\x01\x09\x10\x01\x17", 11);
  return oid == kEnveloped || oid == kEncrypted || oid == kAuthEnveloped;
}

}  // namespace tlpmail::mime
