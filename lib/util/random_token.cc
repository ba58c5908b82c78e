// random_token() and is_random_token() (see random_token.h).
#include "util/random_token.h"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace tlpmail {
namespace {

constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";

}  // namespace

Result<std::string> random_token() {
  std::array<unsigned char, 17> bytes{};  // 128 bits used, one spare for the last 5-bit group
  std::size_t got = 0;
  while (got < 16) {
    const ssize_t n = ::getrandom(bytes.data() + got, 16 - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Unexpected(
          Error::temporary(std::string("no random bytes from the kernel: ") + std::strerror(errno)));
    }
    got += static_cast<std::size_t>(n);
  }
  // 26 groups of 5 bits read from the 128 bits (the last group has 3 bits
  // and 2 zero bits).
  std::string out;
  out.reserve(kRandomTokenLength);
  unsigned buffer = 0;
  int bits = 0;
  std::size_t i = 0;
  while (out.size() < kRandomTokenLength) {
    if (bits < 5) {
      buffer = (buffer << 8) | bytes[i++];
      bits += 8;
    }
    out += kAlphabet[(buffer >> (bits - 5)) & 31u];
    bits -= 5;
  }
  return out;
}

bool is_random_token(std::string_view s) {
  if (s.size() != kRandomTokenLength) return false;
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (kAlphabet.find(c) == std::string_view::npos) return false;
  }
  return true;
}

}  // namespace tlpmail
