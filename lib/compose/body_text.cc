// Body text: CRLF form, 8bit or quoted-printable, random boundaries
// (body_text.h). The random bytes come from getrandom(2); std::random_device
// only when that fails (it reads the same kernel source).
#include "compose/body_text.h"

#include <sys/random.h>

#include <array>
#include <cstdint>
#include <random>

#include "util/text.h"

namespace tlpmail::compose {
namespace {

constexpr std::size_t kMaxBodyLine = 998;  // RFC 5322 section 2.1.1, without CRLF
constexpr std::size_t kMaxQpLine = 76;     // RFC 2045 section 6.7 (5)

void random_bytes(std::uint8_t* out, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::getrandom(out + got, n - got, 0);
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  if (got < n) {
    std::random_device rd;
    for (; got < n; ++got) out[got] = static_cast<std::uint8_t>(rd());
  }
}

}  // namespace

EncodedBody encode_text_body(std::string_view text) {
  std::string crlf = to_crlf(text);
  bool plain = true;
  std::size_t line = 0;
  for (std::size_t i = 0; i < crlf.size() && plain; ++i) {
    const char c = crlf[i];
    if (c == '\r' && i + 1 < crlf.size() && crlf[i + 1] == '\n') {
      line = 0;
      ++i;
    } else if (c == '\r' || c == '\0') {  // NOLINT(bugprone-branch-clone): two reasons, kept apart
      plain = false;
    } else if (++line > kMaxBodyLine) {
      plain = false;
    }
  }
  if (plain) return {"8bit", std::move(crlf)};
  return {"quoted-printable", quoted_printable(crlf)};
}

std::string quoted_printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::size_t col = 0;
  auto put = [&](std::string_view piece) {
    // Room for the piece plus a possible soft break "=" on this line.
    if (col + piece.size() > kMaxQpLine - 1) {
      out += "=\r\n";
      col = 0;
    }
    out += piece;
    col += piece.size();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      out += "\r\n";
      col = 0;
      ++i;
      continue;
    }
    const auto b = static_cast<unsigned char>(c);
    const bool at_line_end =
        i + 1 == text.size() || (text[i + 1] == '\r' && i + 2 < text.size() && text[i + 2] == '\n');
    const bool literal =
        (b >= 33 && b <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_line_end);
    if (literal) {
      const char one[1] = {c};
      put(std::string_view(one, 1));
    } else {
      const char three[3] = {'=', kHex[b >> 4], kHex[b & 0x0F]};
      put(std::string_view(three, 3));
    }
  }
  return out;
}

std::string fresh_boundary(std::string_view avoid1, std::string_view avoid2) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (;;) {
    std::array<std::uint8_t, 16> bytes{};
    random_bytes(bytes.data(), bytes.size());
    std::string b = "=_tlpmail_";
    for (std::uint8_t x : bytes) {
      b.push_back(kHex[x >> 4]);
      b.push_back(kHex[x & 0x0F]);
    }
    if (avoid1.find(b) == std::string_view::npos && avoid2.find(b) == std::string_view::npos) {
      return b;
    }
  }
}

}  // namespace tlpmail::compose
