// Line-end conversions for test inputs: LF text written once and sent as
// CRLF, or compared without its CRs. Only plumbing: nothing under test
// lives here.
#pragma once

#include <string>
#include <string_view>

namespace tlpmail::testing {

// "\n" -> "\r\n" (the input must not contain CR).
inline std::string crlf(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 32);
  for (char c : s) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

// Removes every CR.
inline std::string lf_only(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '\r') out.push_back(c);
  }
  return out;
}

}  // namespace tlpmail::testing
