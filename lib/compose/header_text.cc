// Header field text: cleaning, RFC 2047 encoding, phrases, folding, dates
// and Message-ID syntax (header_text.h). Pure, no GMime: the output is
// checked against GMime's decoder in the tests.
#include "compose/header_text.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>

#include "util/base64.h"

namespace tlpmail::compose {
namespace {

constexpr std::size_t kMaxLine = 78;         // RFC 5322 section 2.1.1 "SHOULD"
constexpr std::size_t kMaxEncodedWord = 75;  // RFC 2047 section 2
constexpr std::size_t kMaxPlainWord = 75;    // longer words are encoded, so they can be split
constexpr std::size_t kMaxQuoted = 70;       // longer phrases are encoded, so they can be folded
constexpr std::string_view kQPrefix = "=?UTF-8?Q?";
constexpr std::string_view kBPrefix = "=?UTF-8?B?";
constexpr std::string_view kSuffix = "?=";

// Decodes one UTF-8 character at s[i]. Returns its length (1-4) and sets
// *cp, or returns 0 for a byte that does not start a valid sequence.
std::size_t decode_utf8(std::string_view s, std::size_t i, std::uint32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  std::size_t len = 0;
  std::uint32_t v = 0;
  std::uint32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, v = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, v = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, v = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

// Length of the (valid) UTF-8 character starting with byte b.
std::size_t char_length(unsigned char b) {
  if (b < 0x80) return 1;
  if ((b & 0xE0) == 0xC0) return 2;
  if ((b & 0xF0) == 0xE0) return 3;
  return 4;
}

bool is_bidi_control(std::uint32_t cp) {
  return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

bool is_control(std::uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 5322 atext.
bool is_atext(char c) {
  return is_alnum(c) || std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

// Characters a Q encoded-word may carry literally in any header context
// (RFC 2047 section 5 (3)); '_' stands for a space.
bool is_q_literal(char c) {
  return is_alnum(c) || c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
}

std::string q_encode_char(std::string_view ch) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : ch) {
    if (c == ' ') {
      out.push_back('_');
    } else if (is_q_literal(c)) {
      out.push_back(c);
    } else {
      const auto b = static_cast<unsigned char>(c);
      out.push_back('=');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0x0F]);
    }
  }
  return out;
}

constexpr std::size_t kMinEncodedWord = 20;  // below this, a word starts a new line

// Encoded-words of `text`, Q or B, the first at most `first_max`
// characters long, the others at most kMaxEncodedWord.
std::vector<std::string> make_words(std::string_view text, bool b, std::size_t first_max) {
  const std::string_view prefix = b ? kBPrefix : kQPrefix;
  const std::size_t overhead = prefix.size() + kSuffix.size();
  std::vector<std::string> words;
  std::size_t limit = std::max(first_max, kMinEncodedWord) - overhead;
  auto encoded_size = [&](std::size_t raw_bytes, std::size_t q_chars) {
    return b ? (raw_bytes + 2) / 3 * 4 : q_chars;
  };
  std::size_t begin = 0;  // first byte of the current word's text
  std::string q;          // Q text of the current word
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = char_length(static_cast<unsigned char>(text[i]));
    const std::string enc = b ? std::string() : q_encode_char(text.substr(i, n));
    if (i > begin && encoded_size(i + n - begin, q.size() + enc.size()) > limit) {
      words.push_back(std::string(prefix) +
                      (b ? util::base64_encode(text.substr(begin, i - begin)) : q) +
                      std::string(kSuffix));
      begin = i;
      q.clear();
      limit = kMaxEncodedWord - overhead;
    }
    q += enc;
    i += n;
  }
  if (begin < text.size()) {
    words.push_back(std::string(prefix) + (b ? util::base64_encode(text.substr(begin)) : q) +
                    std::string(kSuffix));
  }
  return words;
}

std::size_t total_size(const std::vector<std::string>& words) {
  std::size_t n = 0;
  for (const std::string& w : words) n += w.size() + 1;
  return n;
}

// Q keeps mostly-ASCII text readable in the raw header; B only when Q
// would be more than 20% longer for the whole text (at standard word sizes).
bool prefer_b(std::string_view text) {
  return total_size(make_words(text, false, kMaxEncodedWord)) * 5 >
         total_size(make_words(text, true, kMaxEncodedWord)) * 6;
}

std::vector<std::string> split_words(std::string_view clean) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < clean.size()) {
    while (i < clean.size() && clean[i] == ' ') ++i;
    std::size_t j = i;
    while (j < clean.size() && clean[j] != ' ') ++j;
    if (j > i) words.emplace_back(clean.substr(i, j - i));
    i = j;
  }
  return words;
}

}  // namespace

std::string base64_encode(std::string_view data) { return util::base64_encode(data); }

std::string clean_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  auto put = [&](std::string_view bytes) {
    if (pending_space && !out.empty()) out.push_back(' ');
    pending_space = false;
    out.append(bytes);
  };
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = 0;
    const std::size_t n = decode_utf8(s, i, &cp);
    if (n == 0) {
      put("\xEF\xBF\xBD");  // U+FFFD
      ++i;
      continue;
    }
    if (cp == ' ' || is_control(cp)) {
      pending_space = true;
    } else if (!is_bidi_control(cp)) {
      put(s.substr(i, n));
    }
    i += n;
  }
  return out;
}

std::string cut_text(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return std::string(s.substr(0, end)) + "...";
}

bool needs_encoding(std::string_view word) {
  for (char c : word) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x21 || b > 0x7E) return true;
  }
  return word.find("=?") != std::string_view::npos;
}

std::vector<std::string> encoded_words(std::string_view text, std::size_t first_max) {
  if (text.empty()) return {};
  return make_words(text, prefer_b(text), std::min(first_max, kMaxEncodedWord));
}

std::vector<Token> unstructured_tokens(std::string_view clean) {
  std::vector<Token> tokens;
  Token run{std::string(), true};  // words waiting to be encoded together
  auto flush = [&] {
    if (run.text.empty()) return;
    tokens.push_back(std::move(run));
    run = Token{std::string(), true};
  };
  for (std::string& w : split_words(clean)) {
    if (needs_encoding(w) || w.size() > kMaxPlainWord) {
      if (!run.text.empty()) run.text.push_back(' ');
      run.text += w;
    } else {
      flush();
      tokens.push_back(Token{std::move(w), false});
    }
  }
  flush();
  return tokens;
}

std::vector<Token> phrase_tokens(std::string_view clean, bool always_quote) {
  if (clean.empty()) return {};
  bool encode = false;
  bool atoms_only = true;
  for (char c : clean) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b > 0x7E) encode = true;
    if (c != ' ' && !is_atext(c)) atoms_only = false;
  }
  if (clean.find("=?") != std::string_view::npos) encode = true;
  std::vector<Token> tokens;
  if (!encode && atoms_only && !always_quote) {
    for (std::string& w : split_words(clean)) tokens.push_back(Token{std::move(w), false});
    return tokens;
  }
  std::string quoted = "\"";
  for (char c : clean) {
    if (c == '"' || c == '\\') quoted.push_back('\\');
    quoted.push_back(c);
  }
  quoted.push_back('"');
  if (!encode && quoted.size() <= kMaxQuoted) return {Token{std::move(quoted), false}};
  return {Token{std::string(clean), true}};
}

std::string header_field(std::string_view name, const std::vector<Token>& tokens) {
  std::string out(name);
  out.push_back(':');
  std::size_t line = out.size();
  bool first = true;
  auto put = [&](const std::string& t) {
    if (!first && line + 1 + t.size() > kMaxLine) {
      out += "\r\n ";
      line = 1;
    } else {
      out.push_back(' ');
      ++line;
    }
    out += t;
    line += t.size();
    first = false;
  };
  for (const Token& t : tokens) {
    if (!t.encode) {
      put(t.text);
      continue;
    }
    if (t.text.empty()) continue;
    // The first word fills the room left on this line, or starts a new one.
    const bool b = prefer_b(t.text);
    std::size_t room = kMaxLine > line + 1 ? kMaxLine - line - 1 : 0;
    if (room < kMinEncodedWord && !first) room = kMaxEncodedWord;
    for (const std::string& w : make_words(t.text, b, std::min(room, kMaxEncodedWord))) put(w);
  }
  out += "\r\n";
  return out;
}

std::string header_field(std::string_view name, const std::vector<std::string>& plain) {
  std::vector<Token> tokens;
  tokens.reserve(plain.size());
  for (const std::string& p : plain) tokens.push_back(Token{p, false});
  return header_field(name, tokens);
}

std::string header_field(std::string_view name, std::string_view value) {
  return header_field(name, std::vector<Token>{Token{std::string(value), false}});
}

std::string rfc5322_date(std::time_t t) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  (void)std::snprintf(buf, sizeof buf, "%s, %d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday % 7],
                      tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                      tm.tm_sec);
  return buf;
}

bool is_message_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxMessageIdLength) return false;
  const std::size_t at = id.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == id.size()) return false;
  const std::string_view left = id.substr(0, at);
  const std::string_view right = id.substr(at + 1);
  for (char c : left) {
    if (!is_atext(c) && c != '.') return false;
  }
  if (right.front() == '[') {
    if (right.size() < 2 || right.back() != ']') return false;
    for (char c : right.substr(1, right.size() - 2)) {
      const auto b = static_cast<unsigned char>(c);
      if (b < 0x21 || b > 0x7E || c == '[' || c == ']' || c == '\\') return false;
    }
    return true;
  }
  for (char c : right) {
    if (!is_atext(c) && c != '.') return false;
  }
  return true;
}

std::string clean_address(std::string_view address) {
  std::string out;
  for (char c : address) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b == 0x7F || c == '<' || c == '>' || c == ',' || c == ';') continue;
    out.push_back(c);
  }
  return out;
}

}  // namespace tlpmail::compose
