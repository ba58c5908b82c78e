// UTF-8 repair, cutting and HTML-to-text for Entity::body_head (see
// text_head.h).
#include "mime/text_head.h"

#include <cctype>
#include <cstdint>

#include "util/text.h"

namespace tlpmail::mime {
namespace {

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the valid UTF-8 sequence at s[i], or 0.
std::size_t valid_sequence(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t len = 0;
  std::uint32_t cp = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return len;
}

bool is_tag_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool breaks_line(std::string_view tag) {
  static constexpr std::string_view kBreaking[] = {
      "br", "p",  "div", "tr", "li", "h1", "h2",         "h3",     "h4",   "h5",
      "h6", "hr", "table", "ul", "ol", "blockquote", "pre", "title", "td", "th"};
  for (std::string_view t : kBreaking) {
    if (tag == t) return true;
  }
  return false;
}

// Decodes the entity at html[i] ('&'); returns the bytes consumed (0: not
// an entity we know, emit '&' literally).
std::size_t decode_entity(std::string_view html, std::size_t i, std::string& out) {
  const std::size_t semi = html.find(';', i);
  if (semi == std::string_view::npos || semi - i > 10) return 0;
  const std::string name = ascii_lower(html.substr(i + 1, semi - i - 1));
  std::uint32_t cp = 0;
  if (name == "amp") {
    cp = '&';
  } else if (name == "lt") {
    cp = '<';
  } else if (name == "gt") {
    cp = '>';
  } else if (name == "quot") {
    cp = '"';
  } else if (name == "apos") {
    cp = '\'';
  } else if (name == "nbsp") {
    cp = ' ';
  } else if (name.size() > 1 && name[0] == '#') {
    const bool hex = name[1] == 'x';
    const std::string digits = name.substr(hex ? 2 : 1);
    if (digits.empty()) return 0;
    for (char c : digits) {
      const bool ok = hex ? std::isxdigit(static_cast<unsigned char>(c)) != 0
                          : (c >= '0' && c <= '9');
      if (!ok) return 0;
      cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(
                                      c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
      if (cp > 0x10FFFF) return 0;
    }
    if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  } else {
    return 0;
  }
  append_utf8(out, cp);
  return semi - i + 1;
}

}  // namespace

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t len = valid_sequence(s, i);
    if (len == 0) {
      out.append(kReplacement);
      ++i;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::string cut_utf8(std::string s, std::size_t max, bool* truncated) {
  if (s.size() <= max) return s;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  if (truncated) *truncated = true;
  return s;
}

std::string html_to_text(std::string_view html, std::size_t max) {
  std::string out;
  std::size_t i = 0;
  while (i < html.size() && out.size() < max) {
    const char c = html[i];
    if (c == '<') {
      if (html.substr(i, 4) == "<!--") {
        const std::size_t e = html.find("-->", i + 4);
        i = e == std::string_view::npos ? html.size() : e + 3;
        continue;
      }
      std::size_t j = i + 1;
      if (j < html.size() && html[j] == '/') ++j;
      const std::size_t name_begin = j;
      while (j < html.size() && is_tag_name_char(html[j])) ++j;
      const std::string tag = ascii_lower(html.substr(name_begin, j - name_begin));
      const std::size_t gt = html.find('>', j);
      if (tag.empty() && name_begin == i + 1 && (i + 1 >= html.size() || html[i + 1] != '!')) {
        out.push_back('<');  // a lone '<' in text
        ++i;
        continue;
      }
      i = gt == std::string_view::npos ? html.size() : gt + 1;
      if ((tag == "script" || tag == "style") && html[name_begin - 1] != '/') {
        const std::string closing = "</" + tag;
        std::size_t k = i;
        for (;;) {
          k = html.find("</", k);
          if (k == std::string_view::npos || iequals(html.substr(k, closing.size()), closing)) break;
          k += 2;
        }
        if (k == std::string_view::npos) {
          i = html.size();
        } else {
          const std::size_t e = html.find('>', k);
          i = e == std::string_view::npos ? html.size() : e + 1;
        }
        continue;
      }
      if (breaks_line(tag)) out.push_back('\n');
      continue;
    }
    if (c == '&') {
      const std::size_t used = decode_entity(html, i, out);
      if (used > 0) {
        i += used;
        continue;
      }
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

}  // namespace tlpmail::mime
