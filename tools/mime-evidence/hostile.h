// Hostile MIME input built deterministically in memory: deep multipart
// nesting and pseudo-random bytes. Shared by the evidence probes
// (corpus.h) and tlpmail's own robustness tests
// (tests/unit/mime/robustness_test.cc), so that the library is tested on
// the bytes it was chosen on. Only input: no parsing here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace mime_evidence {

// `depth` nested multipart/mixed levels around one text/plain part; with
// `closed`, every closing boundary follows.
inline std::string nested_multipart(int depth, bool closed) {
  std::string out =
      "From: a@example.org\r\nSubject: nested\r\nMIME-Version: 1.0\r\n";
  for (int i = 0; i < depth; ++i) {
    out += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) +
           "\"\r\n\r\n--b" + std::to_string(i) + "\r\n";
  }
  out += "Content-Type: text/plain\r\n\r\ninnermost\r\n";
  if (closed) {
    for (int i = depth - 1; i >= 0; --i) {
      out += "--b" + std::to_string(i) + "--\r\n";
    }
  }
  return out;
}

// `n` bytes of xorshift32 output seeded with `seed`.
inline std::string garbage(std::size_t n, std::uint32_t seed) {
  std::string out;
  out.reserve(n);
  std::uint32_t x = seed;
  for (std::size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    out.push_back(static_cast<char>(x & 0xff));
  }
  return out;
}

}  // namespace mime_evidence
