// The base64 encoder, and the digits and bit accumulator that the armor,
// key-file and nested-ciphertext readers share. Each reader keeps its own rules for white
// space, padding and line structure (they differ on purpose: see each one).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tlpmail::util {

// Appends the base64 encoding of `in` (with '=' padding, no line breaks).
void base64_append(std::string& out, std::string_view in);
std::string base64_encode(std::string_view in);

// The value of a base64 digit (RFC 4648 alphabet), or -1 for anything else
// ('=' included).
constexpr int base64_digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Collects six bits per digit and appends each whole byte to `out`.
class Base64Bits {
 public:
  void add(int digit, std::string& out) {
    acc_ = ((acc_ << 6) | static_cast<std::uint32_t>(digit)) & 0xFFFFFFu;
    bits_ += 6;
    if (bits_ >= 8) {
      bits_ -= 8;
      out.push_back(static_cast<char>((acc_ >> bits_) & 0xFF));
    }
  }

 private:
  std::uint32_t acc_ = 0;
  int bits_ = 0;
};

}  // namespace tlpmail::util
